"""Run an external tool (git, helm, kustomize, a plugin) with a time and output limit.

Every child runs in its own session so a timeout kills the whole process group
(helm and plugins may spawn children), its output is capped so a hostile
repository cannot exhaust memory, and its environment is explicit: callers
pass what the tool needs instead of inheriting the controller's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUTPUT_LIMIT = 32 * 1024 * 1024
MESSAGE_LIMIT = 4000


class ToolError(Exception):
    """The tool failed, timed out, or wrote too much; the message is safe to show once redacted."""


@dataclass(frozen=True)
class ToolResult:
    stdout: bytes
    stderr: bytes


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: PATH, HOME, locale, and what the caller adds."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(extra or {})
    return env


async def _read_capped(stream: asyncio.StreamReader, limit: int, name: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise ToolError(f"{name}: output larger than {limit} bytes")
        chunks.append(chunk)


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Kill the process group, then read both pipes to EOF and wait.

    Without the draining, a pipe whose reader stopped mid-way stays paused
    (its buffer is full), asyncio never sees its EOF, and wait() hangs forever.
    """
    _kill(process)

    async def drain(stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        with contextlib.suppress(Exception):
            while await stream.read(65536):
                pass

    # Bounded: a grandchild that left the process group could hold a pipe open.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await asyncio.gather(drain(process.stdout), drain(process.stderr))
    await process.wait()


async def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    stdin: bytes | None = None,
    check: bool = True,
) -> ToolResult:
    """Run argv; raise ToolError on timeout, output over the limit, or (with check) a non-zero exit."""
    name = Path(argv[0]).name
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env) if env is not None else base_env(),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        raise ToolError(f"{name}: cannot run: {error.strerror or error}") from error
    assert process.stdout is not None and process.stderr is not None
    try:
        async with asyncio.timeout(timeout):
            if stdin is not None and process.stdin is not None:
                process.stdin.write(stdin)
                await process.stdin.drain()
                process.stdin.close()
            # A TaskGroup, not gather: when one stream goes over its limit the other reader is cancelled,
            # so _reap() can drain both without two readers on one stream.
            async with asyncio.TaskGroup() as group:
                out_task = group.create_task(_read_capped(process.stdout, output_limit, name))
                err_task = group.create_task(_read_capped(process.stderr, 1024 * 1024, name))
            stdout, stderr = out_task.result(), err_task.result()
            code = await process.wait()
    except TimeoutError:
        await _reap(process)
        raise ToolError(f"{name}: timed out after {timeout:g}s") from None
    except BaseException as error:
        await _reap(process)
        if isinstance(error, BaseExceptionGroup):
            tool_errors = error.subgroup(ToolError)
            if tool_errors is not None:
                raise tool_errors.exceptions[0] from None
        raise
    if check and code != 0:
        message = stderr.decode(errors="replace").strip() or f"exit status {code}"
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + " ... (truncated)"
        raise ToolError(f"{name}: {message}")
    return ToolResult(stdout=stdout, stderr=stderr)
