"""The benchmark run: start-ups, then interleaved rounds of mock and baseline under wrk, then the extras.

Order of a run (every server is stopped at the end, whatever happens):

1. start-up: the default world launched several times, then the big world; the
   last launch of each stays up for the loads;
2. the measured requests are resolved against each world, and their answers
   handed to the baseline, which then serves the same bytes;
3. rounds: in each round every row is loaded on the mock, then on the baseline;
4. Prism on the program read (when installed), `serve --workers N`, and the
   in-process conformance run.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from bench.baseline_app import baseline_path
from bench.figures import Row, Run, Startup
from bench.launch import (
    CONTRACT,
    HEADERS,
    LOAD_CPU,
    PRISM,
    RESULTS,
    ROOT,
    SERVER_CPU,
    launch_baseline,
    launch_mock,
    log,
    with_seconds,
)
from bench.machine import describe
from bench.perkey import KEYS, ROUNDS, measure_per_key
from bench.perkey import summary as per_key_summary
from bench.procs import Server, ServerError, ServerSet, free_port
from bench.report import write
from bench.report_webhooks import webhook_rounds_text
from bench.scenarios import (
    Fetch,
    Scenario,
    ScenarioError,
    choose_ids,
    main_scenarios,
    scaling_scenarios,
    world_path,
)
from bench.webhook_runner import measure_webhooks
from bench.write_runner import (
    WritePlan,
    WritesUnavailable,
    check_write_errors,
    load_write,
    measure_after_writes,
    measure_writes,
    start_writes,
)
from bench.wrk import Load, LoadShape, WrkError, run_wrk
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_CONTACTS, WEBHOOK_DELIVERIES


@dataclass(frozen=True)
class Options:
    rounds: int
    seconds: float
    warmup: float
    connections: int
    small: int
    big: int
    startup_rounds: int
    big_startup_rounds: int
    workers: int
    prism: bool
    conformance: bool
    output: Path
    writes: bool = True
    webhooks: bool = True
    seeded_writes: int = 100_000
    reset_writes: int = 1_000
    per_key_keys: int = KEYS  # serve --world-per-key: new keys, each a world (0 skips the stage)
    writes_only: bool = False
    webhooks_only: bool = False
    webhook_delivery: str = "process"  # serve --webhook-delivery of the webhook rows' mock


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9, help="rounds per figure; figures are medians (9)")
    parser.add_argument("--duration", type=float, default=1.0, help="seconds of load per round (1)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--big-contacts", type=int, default=100_000, help="contacts of the big world (100000)")
    parser.add_argument("--startup-rounds", type=int, default=5, help="launches of the default world (5)")
    parser.add_argument("--big-startup-rounds", type=int, default=3, help="launches of the big world (3)")
    parser.add_argument("--workers", type=int, default=2, help="serve --workers N to measure; 1 skips it (2)")
    parser.add_argument("--no-prism", dest="prism", action="store_false", help="skip Prism even if installed")
    parser.add_argument("--no-conformance", dest="conformance", action="store_false",
                        help="skip timing pytest tests/conformance")
    parser.add_argument("--no-writes", dest="writes", action="store_false",
                        help="skip the write figures (transaction begin, reads after writes, reset)")
    parser.add_argument("--no-webhooks", dest="webhooks", action="store_false",
                        help="skip the webhook figures (throughput with one webhook endpoint vs none)")
    parser.add_argument("--seeded-writes", type=int, default=100_000,
                        help="writes before the reads-after-writes figures (100000)")
    parser.add_argument("--reset-writes", type=int, default=1_000, help="writes before each timed reset (1000)")
    parser.add_argument("--per-key-keys", type=int, default=KEYS,
                        help=f"keys of the --world-per-key figures, each a world of its own; 0 skips them ({KEYS})")
    parser.add_argument("--writes-only", action="store_true",
                        help="only the transaction begin against the baseline POST (and Prism unless --no-prism); "
                             "prints the figures, leaves BENCHMARKS.md as it is")
    parser.add_argument("--webhooks-only", action="store_true",
                        help="only the webhook rows (program read and transaction begin, with one webhook endpoint "
                             "vs none); prints the figures, leaves BENCHMARKS.md as it is")
    parser.add_argument("--webhook-delivery", choices=WEBHOOK_DELIVERIES, default="process",
                        help="where the webhook rows' mock posts its webhooks (serve --webhook-delivery; process)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 round of 1 s, 10,000 contacts, 10,000 seeded writes")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.big_contacts, args.seeded_writes = 1, 1.0, 10_000, 10_000
        args.startup_rounds = args.big_startup_rounds = 1
    return Options(
        rounds=max(1, args.rounds),
        seconds=max(1.0, args.duration),
        warmup=1.0,
        connections=max(1, args.connections),
        small=DEFAULT_CONTACTS,
        big=args.big_contacts,
        startup_rounds=max(1, args.startup_rounds),
        big_startup_rounds=max(1, args.big_startup_rounds),
        workers=args.workers,
        prism=args.prism,
        conformance=args.conformance,
        output=args.output,
        writes=args.writes,
        webhooks=args.webhooks,
        seeded_writes=max(1, args.seeded_writes),
        reset_writes=max(1, args.reset_writes),
        per_key_keys=max(0, args.per_key_keys),
        writes_only=args.writes_only,
        webhooks_only=args.webhooks_only,
        webhook_delivery=args.webhook_delivery,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    run = Run(
        command=" ".join(["python -m bench", shlex.join(sys.argv[1:] if argv is None else argv)]).strip(),
        started_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=describe(ROOT),
        settings={"wrk threads": "1", "connections": str(options.connections),
                  "round": f"{options.seconds:.0f} s", "rounds": str(options.rounds),
                  "pinning": f"server on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU}"},
    )
    signal.signal(signal.SIGTERM, _interrupt)
    started, load_before = time.monotonic(), _load_average()
    try:
        with ServerSet(RESULTS / "logs") as servers:
            if options.writes_only:
                print(measure_writes_only(run, servers, options))
                return 0
            if options.webhooks_only:
                print(measure_webhooks_only(servers, options))
                return 0
            measure(run, servers, options)
    except (ServerError, WrkError, ScenarioError) as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; every server was stopped", file=sys.stderr)
        return 130
    run.notes.append(f"The whole run took {time.monotonic() - started:.0f} s; load average {load_before} before it, "
                     f"{_load_average()} at its end (1, 5, 15 min; the machine has {os.cpu_count()} cores: a load "
                     "well above the benchmark's own 2 means other work shared the cores, and the figures are noisy).")
    print(write(run, options.output))
    print(f"\nwritten to {options.output}", file=sys.stderr)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


# --------------------------------------------------------------------- stages


def measure(run: Run, servers: ServerSet, options: Options) -> None:
    shape = LoadShape(options.seconds, options.connections, cpu=LOAD_CPU)
    small, small_startup = _startups(servers, options.small, options.startup_rounds)
    big, big_startup = _startups(servers, options.big, options.big_startup_rounds)
    run.startups = [small_startup, big_startup]
    log(f"start-up: {small_startup.median_seconds:.2f} s at {options.small:,} contacts, "
        f"{big_startup.median_seconds:.2f} s at {options.big:,}")

    small_ids = choose_ids(_world(small, small_startup), _fetcher(small))
    big_ids = choose_ids(_world(big, big_startup), _fetcher(big), like=small_ids.history_page)
    rows = [_row(small, scenario, options.small) for scenario in main_scenarios(small_ids)]
    by_key = {row.key: row for row in rows}
    scaling = [
        (by_key.get(s.key) or _row(small, s, options.small), _row(big, b, options.big))
        for s, b in zip(scaling_scenarios(small_ids), scaling_scenarios(big_ids), strict=True)
    ]
    run.rows, run.scaling = rows, scaling
    every_row = [*rows, *(row for pair in scaling for row in pair if row not in rows)]
    server_of = {row.name: (small if row.contacts == options.small else big) for row in every_row}
    baseline = _baseline(servers, every_row)
    _rounds(every_row, server_of, baseline, shape, options)
    small_startup.peak_rss_mb.append(small.peak_rss_mb())
    big_startup.peak_rss_mb.append(big.peak_rss_mb())
    servers.stop(big)
    servers.stop(baseline)

    program = rows[0]
    writes_mock: Server | None = None
    run.write_note = "skipped with --no-writes"
    if options.writes:
        plan = WritePlan(options.rounds, shape, options.warmup, options.small, options.seeded_writes,
                         options.reset_writes)
        try:
            writes_mock, write, run.write = start_writes(servers, plan, small_ids)
        except WritesUnavailable as error:
            run.write_note = str(error)
            log(f"write figures not measured: {error}")
        else:
            run.write_note = write.spread
            run.write_ceiling = measure_writes(servers, plan, writes_mock, run.write)
    if options.prism:
        run.prism, run.prism_write, run.prism_note = _prism(servers, program, small, shape, options.rounds,
                                                            writes_mock, run.write)
    else:
        run.prism_note = "skipped with --no-prism"
    if writes_mock is not None and run.write is not None and options.webhooks:
        run.webhooks, run.webhook_rounds = measure_webhooks(servers, plan, program, run.write,
                                                            options.webhook_delivery)
    else:
        run.webhooks_note = "skipped with --no-webhooks" if not options.webhooks else "needs the write figures"
    if writes_mock is not None:
        servers.stop(writes_mock)
        run.after_writes, run.resets, run.after_writes_rss_mb = measure_after_writes(servers, plan, small,
                                                                                     small_ids, write)
        run.seeded_writes = options.seeded_writes
    if options.workers > 1:
        run.workers, run.workers_write = _workers(servers, program, small, options, run.write)
        run.workers_count = options.workers
    if options.per_key_keys:
        run.per_key = measure_per_key(servers, options.per_key_keys, options.small, min(options.rounds, ROUNDS))
        log(f"per-key worlds: {per_key_summary(run.per_key)}")
    if options.conformance:
        run.conformance_seconds, run.conformance_note = _conformance()
    else:
        run.conformance_note = "skipped with --no-conformance"


def measure_writes_only(run: Run, servers: ServerSet, options: Options) -> str:
    """The transaction begin against the baseline POST (and Prism), as in a full run; its figures as text."""
    shape = LoadShape(options.seconds, options.connections, cpu=LOAD_CPU)
    small, startup = _startups(servers, options.small, 1)
    ids = choose_ids(_world(small, startup), _fetcher(small))
    servers.stop(small)
    plan = WritePlan(options.rounds, shape, options.warmup, options.small, options.seeded_writes,
                     options.reset_writes)
    mock, _, row = start_writes(servers, plan, ids)
    ceiling = measure_writes(servers, plan, mock, row)
    lines = [f"transaction begin: mock {row.mock.rps:,.0f} req/s (rounds: "
             f"{', '.join(f'{load.rps:,.0f}' for load in row.mock.loads)}), baseline POST {row.baseline.rps:,.0f} "
             f"req/s: {row.rps_ratio:.2f}x; p50 {row.mock.p50_ms:.2f} ms against {row.baseline.p50_ms:.2f} ms",
             f"the ceiling (its domain step done once): {ceiling.rps:,.0f} req/s (rounds: "
             f"{', '.join(f'{load.rps:,.0f}' for load in ceiling.loads)}): {ceiling.rps / row.baseline.rps:.2f}x the "
             f"baseline POST"]
    if options.prism and PRISM.exists():
        prism_row = _prism_write_only(servers, mock, row, shape, options.rounds)
        if prism_row is not None:
            lines.append(f"Prism: {prism_row.baseline.rps:,.0f} req/s, the mock {prism_row.mock.rps:,.0f}: "
                         f"{prism_row.rps_ratio:.1f}x")
    servers.stop(mock)
    return "\n".join(lines)


def measure_webhooks_only(servers: ServerSet, options: Options) -> str:
    """The webhook rows (with one endpoint against none), as in a full run; their figures as text."""
    shape = LoadShape(options.seconds, options.connections, cpu=LOAD_CPU)
    small, startup = _startups(servers, options.small, 1)
    ids = choose_ids(_world(small, startup), _fetcher(small))
    program = _row(small, main_scenarios(ids)[0], options.small)  # the program read, as `measure` has it
    servers.stop(small)
    plan = WritePlan(options.rounds, shape, options.warmup, options.small, options.seeded_writes,
                     options.reset_writes)
    mock, _, write = start_writes(servers, plan, ids)  # resolves the write and its answer on a mock of its own
    servers.stop(mock)
    rows, rounds = measure_webhooks(servers, plan, program, write, options.webhook_delivery)
    return webhook_rounds_text(rounds) + "\n" + "\n".join(
        f"{row.title} with one webhook endpoint vs none: {row.mock.rps:,.0f} req/s against {row.baseline.rps:,.0f}: "
        f"{row.rps_ratio:.2f}x (rounds with: {', '.join(f'{load.rps:,.0f}' for load in row.mock.loads)}; "
        f"without: {', '.join(f'{load.rps:,.0f}' for load in row.baseline.loads)}); "
        f"p50 {row.mock.p50_ms:.2f} ms against {row.baseline.p50_ms:.2f} ms" for row in rows)


def _prism_write_only(servers: ServerSet, mock: Server, write: Row, shape: LoadShape, rounds: int) -> Row | None:
    port = free_port()
    command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--verboseLevel", "warn", str(CONTRACT)]
    try:
        prism = servers.launch("prism", command, port, "/loyalty/config/programs", HEADERS, timeout=120,
                               cpu=SERVER_CPU)
    except ServerError as error:
        log(f"Prism did not start: {error}")
        return None
    try:
        return _prism_write(prism, mock, write, shape, rounds)
    finally:
        servers.stop(prism)


def _rounds(rows: list[Row], server_of: dict[str, Server], baseline: Server, shape: LoadShape,
            options: Options) -> None:
    """A warm-up of every pair, then rounds: in each, every row on the mock, then on the baseline."""
    log(f"loading {len(rows)} reads x 2 servers x {options.rounds} round(s) of {options.seconds:.0f} s")
    for row in rows:  # not recorded
        _load(server_of[row.name], row, with_seconds(shape, options.warmup))
        _load(baseline, row, with_seconds(shape, options.warmup), baseline=True)
    for round_number in range(options.rounds):
        for row in rows:
            row.mock.loads.append(_load(server_of[row.name], row, shape))
            row.baseline.loads.append(_load(baseline, row, shape, baseline=True))
        log(f"round {round_number + 1}/{options.rounds}: program read {rows[0].mock.loads[-1].rps:,.0f} req/s, "
            f"baseline {rows[0].baseline.loads[-1].rps:,.0f} req/s")
    _check_errors(rows)


def _startups(servers: ServerSet, contacts: int, rounds: int) -> tuple[Server, Startup]:
    """Launch a world `rounds` times; keep the last launch running."""
    startup = Startup(contacts)
    server: Server | None = None
    for index in range(rounds):
        if server is not None:
            startup.peak_rss_mb.append(server.peak_rss_mb())
            servers.stop(server)
        server = launch_mock(servers, f"mock-{contacts}-{index}", contacts)
        startup.seconds.append(server.started_seconds)
    assert server is not None
    return server, startup


def _fetcher(server: Server) -> Fetch:
    return lambda path: server.get(path, HEADERS)


def _world(server: Server, startup: Startup) -> dict[str, Any]:
    status, body = server.get(world_path(500))
    if status != 200:
        raise ScenarioError(f"GET {world_path(500)} answered {status}")
    world = orjson.loads(body)
    startup.transactions = world.get("stats", {}).get("transactions")
    return world


def _row(server: Server, scenario: Scenario, contacts: int) -> Row:
    paths = scenario.rotation or (scenario.path,)
    bodies = []
    for path in paths:  # for a round-robin, this also warms the member cache
        status, body = server.get(path, {**HEADERS, **dict(scenario.headers)})
        if status != 200:
            raise ScenarioError(f"{scenario.title}: GET {path} answered {status}: {body[:300]!r}")
        bodies.append(body)
    return Row(scenario, contacts, sorted(bodies, key=len)[len(bodies) // 2])


def _baseline(servers: ServerSet, rows: list[Row]) -> Server:
    return launch_baseline(servers, "baseline", {row.name: row.body for row in rows})


def _load(server: Server, row: Row, shape: LoadShape, *, baseline: bool = False) -> Load:
    if baseline:  # the same request, headers and all (the bare app has no CORS to act on them)
        return run_wrk(server.root + baseline_path(row.name), DEFAULT_API_KEY, shape, headers=row.scenario.headers)
    paths_file = None
    if row.scenario.rotation:
        paths_file = RESULTS / f"paths-{row.name}.txt"
        paths_file.write_text("\n".join(row.scenario.rotation) + "\n")
    return run_wrk(server.root + row.scenario.path, DEFAULT_API_KEY, shape, paths_file, row.scenario.headers)


def _check_errors(rows: list[Row]) -> None:
    for row in rows:
        for who, series in (("mock", row.mock), ("baseline", row.baseline)):
            if series.errors:
                raise WrkError(f"{row.title} at {row.contacts:,} contacts: the {who} answered {series.errors} "
                               "errors under load (see bench/results/logs)")


def _prism(servers: ServerSet, program: Row, mock: Server, shape: LoadShape, rounds: int,
           writes_mock: Server | None = None, write: Row | None = None) -> tuple[Row | None, Row | None, str]:
    """The program read, then the write, on Prism and on the mock, round after round (Prism as the baseline)."""
    scenario = program.scenario
    assert isinstance(scenario, Scenario)
    if not PRISM.exists():
        return None, None, "Prism is not installed (make bench installs it with npm when npm is present)"
    port = free_port()
    command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--verboseLevel", "warn", str(CONTRACT)]
    try:
        prism = servers.launch("prism", command, port, scenario.operation_path, HEADERS, timeout=120,
                               cpu=SERVER_CPU)
    except ServerError as error:
        return None, None, f"Prism did not start: {error}"
    version = subprocess.run([str(PRISM), "--version"], capture_output=True, text=True, timeout=60,
                             check=False).stdout.strip()
    row = Row(scenario, program.contacts, program.body)
    try:
        run_wrk(prism.root + scenario.operation_path, DEFAULT_API_KEY, with_seconds(shape, 1.0))
        for _ in range(rounds):
            row.baseline.loads.append(run_wrk(prism.root + scenario.operation_path, DEFAULT_API_KEY, shape))
            row.mock.loads.append(_load(mock, row, shape))
        log(f"Prism {version}: {row.baseline.rps:,.0f} req/s on the program read, the mock {row.mock.rps:,.0f}")
        write_row = _prism_write(prism, writes_mock, write, shape, rounds)
    finally:
        servers.stop(prism)
    return row, write_row, (f"Prism {version}, `prism mock --verboseLevel warn`, same contract, same wrk load "
                            "and warm-up, same core, rounds interleaved with the mock's")


def _prism_write(prism: Server, mock: Server | None, write: Row | None, shape: LoadShape,
                 rounds: int) -> Row | None:
    """The transaction begin on Prism (any 2xx answer) and on the mock, rounds interleaved."""
    if mock is None or write is None:
        return None
    row = Row(write.scenario, write.contacts, write.body)
    load_write(prism, row, with_seconds(shape, 1.0), operation_path=True, expect=False)
    for _ in range(rounds):
        row.baseline.loads.append(load_write(prism, row, shape, operation_path=True, expect=False))
        row.mock.loads.append(load_write(mock, row, shape))
    check_write_errors(row, "Prism")
    log(f"Prism: {row.baseline.rps:,.0f} req/s on the transaction begin, the mock {row.mock.rps:,.0f}")
    return row


def _workers(servers: ServerSet, program: Row, single: Server, options: Options,
             write: Row | None = None) -> tuple[Row, Row | None]:
    """The program read on `serve --workers N` against one process, rounds interleaved; and the write, if any.

    wrk is not pinned here: the workers and wrk share the cores (the single process stays on its one).
    The write (`write`: the transaction begin's row) runs on the same workers against a single-process
    mock of its own, after the reads.
    """
    server = launch_mock(servers, f"mock-workers-{options.workers}", options.small, workers=options.workers)
    server.wait_workers(options.workers, timeout=120)
    shape = LoadShape(options.seconds, options.connections * options.workers)
    row = Row(program.scenario, program.contacts, program.body)  # mock: N workers; baseline: one process
    writes: Row | None = None
    try:
        _load(server, row, with_seconds(shape, options.warmup))
        for _ in range(options.rounds):
            row.mock.loads.append(_load(server, row, shape))
            row.baseline.loads.append(_load(single, row, shape))
        if write is not None:
            writes = _workers_writes(servers, server, write, shape, options)
    finally:
        servers.stop(server)
    _check_errors([row])
    log(f"--workers {options.workers}: {row.mock.rps:,.0f} req/s on the program read, one process "
        f"{row.baseline.rps:,.0f}")
    return row, writes


def _workers_writes(servers: ServerSet, workers: Server, write: Row, shape: LoadShape, options: Options) -> Row:
    """The transaction begin on the workers against one process (a mock of its own), rounds interleaved."""
    single = launch_mock(servers, "mock-workers-writes-single", options.small)
    row = Row(write.scenario, write.contacts, write.body)
    try:
        load_write(workers, row, with_seconds(shape, options.warmup))
        load_write(single, row, with_seconds(shape, options.warmup))
        for _ in range(options.rounds):
            row.mock.loads.append(load_write(workers, row, shape))
            row.baseline.loads.append(load_write(single, row, shape))
    finally:
        servers.stop(single)
    check_write_errors(row, "one process")
    log(f"--workers {options.workers}: {row.mock.rps:,.0f} transaction begins/s, one process {row.baseline.rps:,.0f}")
    return row


def _conformance() -> tuple[float | None, str]:
    suite = ROOT / "tests" / "conformance"
    if not suite.is_dir():
        return None, "tests/conformance does not exist yet"
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
                              cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return None, "did not finish within 600 s"
    seconds = time.perf_counter() - started
    tail = (done.stdout.strip().splitlines() or ["no output"])[-1]
    return seconds, f"wall clock, one run; pytest: {tail}"
