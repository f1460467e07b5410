"""Event-loop stall benchmark (issue 13): how long one hostile input keeps the controller's loop busy.

The controller's one asyncio loop also renews the leader Lease, so what matters
is not how long a hostile input takes to be refused but how long it blocks the
loop. This runs the product's own entry points for each adversarial input on a
loop watched by a monitor task that wakes every `--tick` ms and records how
late it woke (the stall): analysis conditions (compiled cold, evaluated as
`verdict` evaluates them), Kubernetes answers (a list page holding an object
nested beyond the JSON parser's limit, a 20 MiB page, a watch event) through
`rollouts.kube.decode`, and repository YAML (an alias bomb, a 16 MiB file)
through the Git sync's manifest parser. Each case runs `--repeat` times; the
same monitor over an idle loop in the same invocation gives the floor the
machine itself adds (the machine is shared and noisy), so read each stall
against it. Goal: the worst stall below 100 ms. Known limit: orjson holds the
GIL, so a huge list page (tens of MiB, e.g. 500 objects of 40 KiB) still stalls
the loop in proportion to its size even though it is decoded in a thread.

Run: `.venv/bin/python bench/loop_stall.py [--repeat 5] [--tick 2]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from rollouts.analysis.expr import ExprError, compile_expression, evaluate_condition
from rollouts.gitsync.renderers.base import RenderError, parse_manifests
from rollouts.kube.decode import decode_async, decode_event_async, decode_list_async

Case = Callable[[], Awaitable[str]]


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(levels):
        value = {"a": value}
    return value


def _rollout(name: str, plugins: Any = None) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": "team-a", "resourceVersion": "7"},
        "spec": {"strategy": {"canary": {"trafficRouting": {"plugins": plugins or {}}}}},
    }


def _deep_json(levels: int) -> bytes:
    # Built as text: the encoder refuses this depth too, which is the point.
    prefix = b'{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"deep","namespace":"team-a"},'
    return prefix + b'"spec":' + b'{"a":' * levels + b"1" + b"}" * levels + b"}"


def _list_page(items: list[bytes]) -> bytes:
    return b'{"kind":"RolloutList","metadata":{"resourceVersion":"9"},"items":[' + b",".join(items) + b"]}"


def _condition(source: str, result: Any) -> Case:
    async def run() -> str:
        compile_expression.cache_clear()
        try:
            return repr(evaluate_condition(source, result))
        except ExprError as error:
            return f"ExprError: {str(error)[:60]}"

    return run


def _decoded(function: Callable[[bytes], Awaitable[Any]], data: bytes) -> Case:
    async def run() -> str:
        value = await function(data)
        if isinstance(value, tuple):
            page, skipped = value
            return f"{len(page.get('items') or [])} items, {len(skipped)} skipped"
        return f"{value.get('type', 'object')}"

    return run


def _manifests(text: str) -> Case:
    async def run() -> str:
        try:
            return f"{len(await parse_manifests(text, 'bench.yaml'))} objects"
        except RenderError as error:
            return f"RenderError: {str(error)[:60]}"

    return run


def cases() -> list[tuple[str, Case]]:
    normal = [orjson.dumps(_rollout(f"r{i}")) for i in range(1000)]
    sized = [orjson.dumps(_rollout(f"s{i}", {"pad": "p" * 5000})) for i in range(500)]
    deep = _deep_json(1100)
    alias_bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    big_yaml = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{k: '{'x' * 2000}'}}\n"
        for i in range(8000)
    )
    return [
        ("condition: regex (a+)+$ on 100k chars", _condition("result matches '(a+)+$'", "a" * 100_000 + "!")),
        ("condition: squaring in reduce", _condition("reduce(1..64, #acc * #acc, 3) > 0", None)),
        ("condition: range 0..10**7", _condition("len(0..10**7) > 0", None)),
        ("condition: nested loops 10k x 10k", _condition("all(0..9999, {all(0..9999, {# >= 0})})", None)),
        ("condition: 490 nested (1+", _condition("(1+" * 490 + "1" + ")" * 490 + " > 0", None)),
        ("kube: list page, one object 1100 deep", _decoded(decode_list_async, _list_page([*normal, deep]))),
        ("kube: list page of 500 5-KiB Rollouts", _decoded(decode_list_async, _list_page(sized[:500]))),
        # orjson holds the GIL, so decoding in a thread does not free the loop: the stall grows with page bytes.
        ("kube: 20 MiB list page", _decoded(decode_list_async, _list_page(normal * 20))),
        ("kube: watch event 1100 deep", _decoded(decode_event_async, b'{"type":"MODIFIED","object":' + deep + b"}")),
        ("kube: 5 MiB object", _decoded(decode_async, orjson.dumps(_rollout("big", {"x": "y" * (5 << 20)})))),
        ("gitsync: YAML alias bomb", _manifests(alias_bomb)),
        ("gitsync: 16 MiB of YAML", _manifests(big_yaml)),
    ]


class StallMonitor:
    """Wakes every `tick` seconds and keeps the worst lateness since the last reset."""

    def __init__(self, tick: float) -> None:
        self.tick = tick
        self.worst = 0.0

    async def run(self) -> None:
        while True:
            expected = time.perf_counter() + self.tick
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - expected)

    async def measure(self, work: Callable[[], Awaitable[str]]) -> tuple[float, str]:
        await asyncio.sleep(self.tick * 2)  # let the monitor wake once, so it is waiting when the work starts
        self.worst = 0.0
        outcome = await work()
        await asyncio.sleep(self.tick * 2)  # the monitor's first wake after the work records the stall
        return self.worst, outcome


async def idle() -> str:
    await asyncio.sleep(0.05)
    return "idle"


async def main_async(repeat: int, tick: float) -> None:
    compile_expression("1")  # build the parser once, as a running controller has
    monitor = StallMonitor(tick)
    task = asyncio.create_task(monitor.run())
    try:
        floors = [(await monitor.measure(idle))[0] for _ in range(repeat * 4)]
        floor = max(floors)
        print(f"idle floor (monitor tick {tick * 1e3:.0f} ms): worst {floor * 1e3:.1f} ms over {len(floors)} runs")
        print(f"{'input':40} {'stall p50':>10} {'stall max':>10}  outcome")
        worst = 0.0
        for label, case in cases():
            stalls: list[float] = []
            outcome = ""
            for _ in range(repeat):
                stall, outcome = await monitor.measure(case)
                stalls.append(stall)
            worst = max(worst, *stalls)
            print(f"{label:40} {statistics.median(stalls) * 1e3:10.1f} {max(stalls) * 1e3:10.1f}  {outcome[:70]}")
        print(f"worst stall: {worst * 1e3:.1f} ms (idle floor {floor * 1e3:.1f} ms); goal below 100 ms")
    finally:
        task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per input")
    parser.add_argument("--tick", type=float, default=2.0, help="monitor period in ms")
    args = parser.parse_args()
    asyncio.run(main_async(args.repeat, args.tick / 1e3))


if __name__ == "__main__":
    main()
