"""Condition-language stall benchmark (issue 13): the worst loop stall under adversarial conditions.

The controller evaluates every tenant's analysis conditions on the asyncio loop
that also renews the leader Lease, so the figure that matters is the longest
one evaluation keeps that loop busy. For each adversarial condition found by
the review (catastrophic regular expression, repeated squaring, a huge range,
deep nesting, nested loops, shared-array blow-ups) and a few realistic ones,
this compiles the condition cold (cache cleared) and evaluates it --repeat
times, and prints the CPU time of the compile and the p50 / max wall time per
evaluation, the max CPU time of this thread per evaluation (the machine is
shared and noisy: wall time includes waiting for a core, CPU time does not),
and the outcome (a value, or the ExprError naming the budget). The goal is a
worst stall below 100 ms.

Run: `.venv/bin/python bench/expr_stall.py [--repeat 5]`
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from rollouts.analysis.expr import ExprError, compile_expression

SAMPLES = [0.5] * 10_000
BIG = list(range(10_000))

# (label, source, result)
CASES: list[tuple[str, str, Any]] = [
    ("regex (a+)+$", "result matches '(a+)+$'", "a" * 30 + "!"),
    ("regex (a+)+$ 100k chars", "result matches '(a+)+$'", "a" * 100_000 + "!"),
    ("regex x{1,1000}x{1,1000}z 1 MiB", "result matches 'x{1,1000}x{1,1000}z'", "x" * (1 << 20)),
    ("regex: 100k-char pattern", "result matches result", "x" * 100_000),
    ("squaring in reduce", "reduce(1..64, #acc * #acc, 3) > 0", None),
    ("range 0..10**7", "len(0..10**7) > 0", None),
    ("repeat 10M chars", "len(repeat('ab', 10000000)) > 0", None),
    ("string doubling", "len(reduce(1..40, #acc + #acc, 'ab')) > 0", None),
    ("nested loops 10k x 10k", "all(0..9999, {all(0..9999, {# >= 0})})", None),
    ("nested reduce", "reduce(0..9999, reduce(0..9999, #acc + #, 0), 0) > 0", None),
    ("`in` over 10k in a 10k loop", "all(0..9999, {# in result})", BIG),
    ("toJSON of shared arrays", "len(toJSON(map(0..9999, {result}))) > 0", BIG),
    ("uniq of 10k arrays", "len(uniq(map(0..9999, {[#]}))) > 0", None),
    ("30k-character duration", "duration(result) > duration('1s')", "1" * 30000 + "x"),
    ("100k-character date layout", "date('2024', result) != nil", "2006" * 25000),
    ("deep runtime value", "len(toJSON(reduce(1..5000, [#acc], 0))) > 0", None),
    ("490 nested (1+", "(1+" * 490 + "1" + ")" * 490 + " > 0", None),
    ("246 nested [", "[" * 246 + "1" + "]" * 246 + " != nil", None),
    ("1+1+... 1000 terms", "+".join(["1"] * 1000) + " > 0", None),
    ("over 2 KiB of `or` clauses", " || ".join(["result > 1"] * 200), 0.5),
    ("just under 2 KiB: [1,1,...]", "len([" + ",".join(["1"] * 1018) + "]) > 0", None),
    ("90 `or` clauses", " || ".join(["result > 1"] * 90), 0.5),
    ("realistic: result[0] >= 0.95", "result[0] >= 0.95", [0.97]),
    ("realistic: all over 10k samples", "all(result, {# < 1})", SAMPLES),
    ("realistic: mean over 10k samples", "mean(result) < 0.9", SAMPLES),
]


def _run(source: str, result: Any, repeat: int) -> tuple[float, list[float], float, str]:
    compile_expression.cache_clear()
    cpu_started = time.thread_time()
    try:
        compiled = compile_expression(source)
    except ExprError as err:
        return time.thread_time() - cpu_started, [], 0.0, f"ExprSyntaxError: {err}"
    compile_seconds = time.thread_time() - cpu_started
    times: list[float] = []
    cpu = 0.0
    outcome = ""
    for _ in range(repeat):
        started = time.perf_counter()
        cpu_started = time.thread_time()
        try:
            outcome = repr(compiled.evaluate({"result": result}))
        except ExprError as err:
            outcome = f"ExprError: {err}"
        times.append(time.perf_counter() - started)
        cpu = max(cpu, time.thread_time() - cpu_started)
    return compile_seconds, times, cpu, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="evaluations per condition")
    args = parser.parse_args()
    compile_expression("1")  # build the parser once, as a running controller has
    print(f"{'condition':34} {'compile cpu':>11} {'eval p50':>9} {'eval max':>9} {'cpu max':>8}  outcome")
    worst_eval = worst_compile = worst_cpu = 0.0
    for label, source, result in CASES:
        compile_seconds, times, cpu, outcome = _run(source, result, args.repeat)
        p50 = statistics.median(times) if times else 0.0
        peak = max(times) if times else 0.0
        worst_eval = max(worst_eval, peak)
        worst_compile = max(worst_compile, compile_seconds)
        worst_cpu = max(worst_cpu, cpu)
        print(
            f"{label:34} {compile_seconds * 1e3:11.1f} {p50 * 1e3:9.1f} {peak * 1e3:9.1f} {cpu * 1e3:8.1f}"
            f"  {outcome[:80]}"
        )
    print(
        f"\nworst evaluation: {worst_eval * 1e3:.1f} ms wall, {worst_cpu * 1e3:.1f} ms CPU;"
        f" worst cold compile: {worst_compile * 1e3:.1f} ms CPU"
    )


if __name__ == "__main__":
    main()
