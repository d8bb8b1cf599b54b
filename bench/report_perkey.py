"""The `--world-per-key` targets and section of BENCHMARKS.md (bench/perkey.py measures them)."""

from __future__ import annotations

from statistics import median

from bench.figures import Run, Target
from bench.perkey import FIRST_ANSWER_MS, PREFIX, WORLDS_RSS_MB


def per_key_targets(run: Run) -> list[Target]:
    figures = run.per_key
    if figures is None:
        return [Target("1,000 per-key worlds, extra memory in all", f"<= {WORLDS_RSS_MB:.0f} MB",
                       "not measured (--per-key-keys 0)", None),
                Target("a new per-key world's first answer", f"<= {FIRST_ANSWER_MS:.0f} ms",
                       "not measured (--per-key-keys 0)", None)]
    scaled = "" if figures.keys == 1000 else f" (+{figures.extra_mb:.0f} MiB for {figures.keys:,} keys, scaled)"
    return [
        Target("1,000 per-key worlds, extra memory in all", f"<= {WORLDS_RSS_MB:.0f} MB",
               f"{figures.extra_for_1000_mb:.0f} MiB{scaled}", figures.extra_for_1000_mb <= WORLDS_RSS_MB),
        Target("a new per-key world's first answer", f"<= {FIRST_ANSWER_MS:.0f} ms",
               f"p50 {figures.first_p50_ms:.2f} ms, p99 {figures.first_p99_ms:.2f} ms",
               figures.first_p99_ms <= FIRST_ANSWER_MS),
    ]


def per_key_section(run: Run) -> list[str]:
    figures = run.per_key
    if figures is None:
        return []
    return [
        "## A world per key",
        "",
        f"`serve --world-per-key {PREFIX}` ({figures.contacts:,} contacts per program): after warm-up, "
        f"{figures.keys:,} new keys each send a member's balances read (the request that makes the key's world, "
        "timed by the client on loopback, HTTP included) and one credit to that member (which copies the "
        "program's member table into the key's world), on one keep-alive connection. Memory is the server "
        "process's, from /proc, before the first of these keys and after the last. Each round on a fresh mock; "
        "the round shown has the median p99 (p99 per round: "
        + ", ".join(f"{ms:.2f}" for ms in figures.round_p99_ms) + " ms).",
        "",
        "| keys | VmRSS before | VmRSS after | VmHWM before | VmHWM after | extra | first request p50 | p99 | max "
        f"| over {FIRST_ANSWER_MS:g} ms | first write p50 | all keys |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {figures.keys:,} | {figures.rss_before_mb:.0f} MiB | {figures.rss_after_mb:.0f} MiB | "
        f"{figures.hwm_before_mb:.0f} MiB | {figures.hwm_after_mb:.0f} MiB | {figures.extra_mb:.0f} MiB | "
        f"{figures.first_p50_ms:.2f} ms | {figures.first_p99_ms:.2f} ms | {max(figures.first_ms):.2f} ms | "
        f"{figures.first_slow:,} | {median(figures.write_ms):.2f} ms | {figures.seconds:.1f} s |",
        "",
        "The first-request target is judged on the p99. A request that meets one of the interpreter's full "
        "garbage collections (a few per thousand keys, as the worlds add objects) shows in the max; on a "
        "machine shared with other work, so does the scheduler.",
        "",
    ]
