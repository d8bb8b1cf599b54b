"""The write side of the report: its targets and its section of BENCHMARKS.md."""

from __future__ import annotations

from statistics import median

from bench.figures import Run, Target, paired, ratio

WRITE_VS_BASELINE = 0.75
WRITE_VS_PRISM = 15.0
AFTER_WRITES_FLOOR = 0.90  # reads after the writes within 10% of a fresh world's throughput
RESET_MS = 5.0


def write_targets(run: Run) -> list[Target]:
    found: list[Target] = []
    write = run.write
    if write is None:
        return [Target("transaction begin (autoComplete) throughput vs bare Starlette POST",
                       f">= {WRITE_VS_BASELINE}x", f"not measured: {run.write_note}", None)]
    found.append(Target("transaction begin (autoComplete) throughput vs bare Starlette POST",
                        f">= {WRITE_VS_BASELINE}x", f"{write.rps_ratio:.2f}x", write.rps_ratio >= WRITE_VS_BASELINE))
    prism = run.prism_write
    if prism is not None and prism.baseline.rps:
        best = ratio(prism.mock.rps, max(load.rps for load in prism.baseline.loads))
        found.append(Target("transaction begin throughput vs Prism", f">= {WRITE_VS_PRISM:.0f}x",
                            f"{prism.rps_ratio:.1f}x (median; {best:.1f}x against Prism's best round)",
                            prism.rps_ratio >= WRITE_VS_PRISM))
    else:
        found.append(Target("transaction begin throughput vs Prism", f">= {WRITE_VS_PRISM:.0f}x",
                            f"not measured: {run.prism_note}", None))
    for row in run.after_writes:
        found.append(Target(f"{row.title} after {run.seeded_writes:,} writes vs a fresh world (throughput)",
                            f">= {AFTER_WRITES_FLOOR:.2f}x", f"{row.rps_ratio:.2f}x",
                            row.rps_ratio >= AFTER_WRITES_FLOOR))
    resets = run.resets
    if resets is not None:
        found.append(Target(f"reset of the default world after {resets.writes_per_round:,} writes (median)",
                            f"<= {RESET_MS:.0f} ms", f"{resets.median_ms:.2f} ms", resets.median_ms <= RESET_MS))
    return found


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def _median(values: list[float]) -> str:
    return f"{median(values):.2f} ms" if values else "n/a"


def _budget(run: Run) -> list[str]:
    """What the two write targets leave for the write's domain step, in µs of the server's core, from this run.

    The pinned server's core is busy through a round (16 connections keep it fed), so 1 / throughput is its
    time per request. The ceiling (bench.write_ceiling) pays everything the write pays but its domain step:
    the difference is that step's cost, served.
    """
    write, ceiling = run.write, run.write_ceiling
    if write is None or ceiling is None or not (write.mock.rps and write.baseline.rps and ceiling.rps):
        return []
    reference = 1e6 / ceiling.rps
    allowed = [(f"at {WRITE_VS_BASELINE}x the bare POST's rate ({write.baseline.rps:,.0f} req/s)",
                1e6 / (WRITE_VS_BASELINE * write.baseline.rps))]
    prism = run.prism_write
    if prism is not None and prism.baseline.rps:
        allowed.append((f"at {WRITE_VS_PRISM:.0f}x Prism's ({prism.baseline.rps:,.0f} req/s)",
                        1e6 / (WRITE_VS_PRISM * prism.baseline.rps)))
    taken = 1e6 / write.mock.rps - reference
    return [
        "### What the targets leave for the write",
        "",
        "The server is pinned and kept busy, so 1 / throughput is its core's time per request.",
        "The ceiling, the same mock answering each write with its first answer (`bench/write_ceiling.py`: the",
        f"domain step done once), ran {ceiling.rps:,.0f} req/s in the same rounds "
        f"({ceiling.rps / write.baseline.rps:.2f}x the bare POST): {reference:.0f} µs for all a write pays "
        "around its domain step (socket, protocol, key check, rate limit, the body's parse and contract "
        "check, journal, the answer). What a write costs beyond it is the domain step: the rules, the new "
        "records and caches, and what they cost the rest through the processor's caches.",
        "",
        "| | µs a write may cost | left for the domain step |",
        "| --- | ---: | ---: |",
        *(f"| {name} | {micros:.0f} | {micros - reference:.0f} |" for name, micros in allowed),
        f"| the mock in this run ({write.mock.rps:,.0f} req/s) | {1e6 / write.mock.rps:.0f} | **{taken:.0f}** |",
        "",
    ]


def write_section(run: Run) -> list[str]:
    if run.write is None:
        return ["## Writes", "", f"Not measured: {run.write_note}.", ""]
    write = run.write
    lines = [
        "## Writes",
        "",
        f"Each write is a `POST {write.scenario.path}` with `autoComplete: true` naming the member by its",
        f"`LoyaltySubscriptionId`: {run.write_note} ({write.body_bytes:,}-byte answer), so the members'",
        "histories and balances grow through the run. The baseline POST route parses the same JSON body, checks",
        "that it names a member and answers the mock's answer to one such write; every answer of the mock must",
        "be a completed transaction, or the run fails.",
        "",
        "| write | bytes | mock req/s | baseline req/s | ratio | mock p50 ms | baseline p50 ms | ratio "
        "| mock p99 ms | baseline p99 ms | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {write.title} | {write.body_bytes:,} | {write.mock.rps:,.0f} | {write.baseline.rps:,.0f} | "
        f"{write.rps_ratio:.2f}x | {write.mock.p50_ms:.2f} | {write.baseline.p50_ms:.2f} | {write.p50_ratio:.2f}x | "
        f"{write.mock.p99_ms:.2f} | {write.baseline.p99_ms:.2f} | {write.p99_ratio:.2f}x |",
        "",
    ]
    prism = run.prism_write
    if prism is not None and prism.baseline.rps:
        lines += [f"- **Prism** on the same POST: {prism.baseline.rps:,.0f} req/s, p50 {prism.baseline.p50_ms:.2f} ms; "
                  f"the mock in the same rounds: {prism.mock.rps:,.0f} req/s, p50 {prism.mock.p50_ms:.2f} ms: "
                  f"**{prism.rps_ratio:.1f}x**; Prism's rounds, in order: "
                  f"{', '.join(f'{load.rps:,.0f}' for load in prism.baseline.loads)} req/s", ""]
    lines += _budget(run)
    if run.after_writes:
        lines += [
            f"### Reads after {run.seeded_writes:,} writes",
            "",
            f"A mock of the default world took {run.seeded_writes:,} accepted transactions (the same writes), then",
            "each read was loaded on it and on a fresh world (the read rounds' mock), rounds interleaved.",
            "",
            "| read | bytes fresh / written | fresh req/s | written req/s | ratio | fresh p50 ms | written p50 ms "
            "| ratio |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *(f"| {row.title} | {row.reference_bytes or 0:,} / {row.body_bytes:,} | {row.baseline.rps:,.0f} | "
              f"{row.mock.rps:,.0f} | **{row.rps_ratio:.2f}x** | {row.baseline.p50_ms:.2f} | {row.mock.p50_ms:.2f} | "
              f"{paired(row.mock.loads, row.baseline.loads, 'p50_ms'):.2f}x |" for row in run.after_writes),
            "",
        ]
        if run.after_writes_rss_mb is not None:
            written, fresh = run.after_writes_rss_mb
            lines += [f"Peak RSS: {written:,.0f} MiB for the written world, {fresh:,.0f} MiB for the fresh one.", ""]
    resets = run.resets
    if resets is not None:
        after = _ms(resets.after_seeded_ms)
        lines += [
            "### Reset",
            "",
            f"- **`POST /__mock__/reset`** (default organisation), timed by the client on loopback, HTTP included: "
            f"median **{resets.median_ms:.2f} ms** over {len(resets.ms)} round(s), each after "
            f"{resets.writes_per_round:,} writes (rounds: {', '.join(f'{ms:.2f}' for ms in resets.ms)} ms); "
            f"{after} for the one reset after {resets.seeded_writes:,} writes. After that reset, every read above "
            "answered the fresh world's bytes again.",
            f"- **The first write after each reset** (one request, timed the same way): median "
            f"{_median(resets.first_write_ms)} (rounds: {', '.join(f'{ms:.2f}' for ms in resets.first_write_ms)} "
            f"ms), and {_ms(resets.first_write_after_seeded_ms)} after the reset of the {resets.seeded_writes:,} "
            "writes: work a reset leaves for later (such as freeing the discarded changes) shows here.",
            "",
        ]
    return lines
