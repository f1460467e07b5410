"""One bounded HTTP exchange for the providers that call a server (web, Prometheus).

The server is chosen by the tenant, so it may be slow on purpose, drip its
answer a byte at a time, redirect in circles or send gigabytes. An httpx
timeout applies to each socket operation, not to the exchange, so the whole
exchange (connect, TLS, redirects, headers, body) runs under one
`asyncio.timeout` deadline; the body is streamed and refused beyond
MAX_BODY_BYTES rather than read whole. The client is asynchronous, so a
deadline cancels the work itself: no thread keeps running after a time-out
in a pool shared by every tenant.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

MAX_BODY_BYTES = 1 << 20


class BodyTooLargeError(ValueError):
    """The answer is larger than a measurement may read."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    encoding: str

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding, errors="replace")


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"response body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"response body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def exchange(
    method: str,
    url: str,
    *,
    seconds: float,
    verify: bool = True,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
    auth: tuple[str, str] | None = None,
    limit: int = MAX_BODY_BYTES,
) -> Answer:
    """The status and (capped) body of one request, all of it within `seconds`.

    Raises TimeoutError when the deadline passes, BodyTooLargeError beyond
    `limit`, httpx.HTTPError for transport failures and ValueError for a URL
    httpx refuses.
    """
    try:
        async with asyncio.timeout(seconds):
            async with (
                httpx.AsyncClient(verify=verify, timeout=seconds, follow_redirects=True, auth=auth) as client,
                client.stream(method, url, headers=headers, params=params, content=content) as response,
            ):
                body = await _read_capped(response, limit)
                return Answer(response.status_code, body, response.encoding or "utf-8")
    except httpx.TimeoutException as err:
        raise TimeoutError(str(err)) from err
