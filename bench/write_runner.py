"""The write figures of a run, each a ratio or a median measured in the same run.

1. **Transaction begin** (`autoComplete`) on a mock of the default world of its
   own, against the bare Starlette POST route (`baseline_app`), rounds
   interleaved; in the same rounds, the ceiling (`bench.write_ceiling`: the
   mock answering every write with its first answer, its domain step done
   once); Prism on the same POST is loaded by the runner's Prism stage, with
   `load_write`, while this mock still runs.
2. **Reads after writes**: a third mock takes exactly `seeded_writes` accepted
   transactions (`post_client`), then the program read, a
   credited member's transaction-history page and the contact-balances page are
   loaded on it and on the fresh world of the read rounds, rounds interleaved.
3. **Reset**: that mock's reset is timed once (after the seeded writes), then
   checked (its reads answer the fresh world's bytes again), then timed in
   rounds, each after `reset_writes` more writes; the first write after each
   reset is timed too (work a reset defers shows there).
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import orjson

from bench import post_client
from bench.baseline_app import baseline_path
from bench.figures import Resets, Row, Series
from bench.launch import HEADERS, RESULTS, launch_baseline, launch_mock, log, with_seconds
from bench.procs import Server, ServerSet
from bench.scenarios import Ids, Scenario, ScenarioError, after_writes_scenarios, world_path
from bench.write_scenarios import Write, choose_write
from bench.wrk import Load, LoadShape, WrkError, run_wrk, run_wrk_post
from mock_server.settings import DEFAULT_API_KEY

RESET_PATH = "/__mock__/reset"
ALL_MEMBERS = 1_000_000  # the world's sample size that lists every member
SEED_RATE_FLOOR = 200  # writes per second below which seeding is given up as stuck (bounds its time)


class WritesUnavailable(ScenarioError):
    """The mock does not take the write (405: not implemented yet, or a read-only mock)."""


@dataclass(frozen=True)
class WritePlan:
    rounds: int
    shape: LoadShape  # wrk pinned away from the server
    warmup: float
    contacts: int  # the default world's
    seeded_writes: int  # before the reads-after-writes figures (100,000)
    reset_writes: int  # before each timed reset


# ----------------------------------------------------------------- 1. transaction begin


def start_writes(servers: ServerSet, plan: WritePlan, ids: Ids) -> tuple[Server, Write, Row]:
    """A mock for the writes, the write resolved on it, and its row (body: the mock's answer to one POST)."""
    mock = launch_mock(servers, "mock-writes", plan.contacts)
    status, body = mock.get(world_path(ALL_MEMBERS))
    if status != 200:
        raise ScenarioError(f"GET {world_path(ALL_MEMBERS)} answered {status}")
    write = choose_write(orjson.loads(body), lambda path: mock.get(path, HEADERS), ids.pid, ids.bdid)
    status, answer = mock.post(write.path, write.bodies[0], {**HEADERS, "content-type": "application/json"})
    if status == 405:
        servers.stop(mock)
        raise WritesUnavailable(f"the mock answers 405 to POST {write.path}: {answer[:200].decode(errors='replace')}")
    if status != 200 or write.expect.encode() not in answer:
        raise ScenarioError(f"{write.title}: POST {write.path} answered {status}: {answer[:300]!r}")
    return mock, write, Row(write, plan.contacts, answer)


def measure_writes(servers: ServerSet, plan: WritePlan, mock: Server, row: Row) -> Series:
    """The transaction begin on the mock, the baseline POST and the ceiling, a warm-up then rounds, interleaved;
    returns the ceiling's rounds."""
    baseline = launch_baseline(servers, "baseline-writes", {}, {row.name: row.body})
    ceiling = launch_mock(servers, "mock-write-ceiling", plan.contacts, module="bench.write_ceiling")
    series = Series()
    try:
        log(f"loading the transaction begin x 3 servers (mock, baseline POST, ceiling) x {plan.rounds} round(s) "
            f"({write_of(row).spread})")
        load_write(mock, row, with_seconds(plan.shape, plan.warmup))
        _load_baseline(baseline, row, with_seconds(plan.shape, plan.warmup))
        load_write(ceiling, row, with_seconds(plan.shape, plan.warmup))
        for round_number in range(plan.rounds):
            row.mock.loads.append(load_write(mock, row, plan.shape))
            row.baseline.loads.append(_load_baseline(baseline, row, plan.shape))
            series.loads.append(load_write(ceiling, row, plan.shape))
            log(f"round {round_number + 1}/{plan.rounds}: transaction begin {row.mock.loads[-1].rps:,.0f} req/s, "
                f"baseline POST {row.baseline.loads[-1].rps:,.0f} req/s, ceiling {series.loads[-1].rps:,.0f} req/s")
    finally:
        servers.stop(ceiling)
        servers.stop(baseline)
    check_write_errors(row, "baseline POST", ("ceiling", series))
    return series


def write_of(row: Row) -> Write:
    assert isinstance(row.scenario, Write)
    return row.scenario


def bodies_file(write: Write) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bodies-{write.key}.txt"
    path.write_bytes(b"\n".join(write.bodies) + b"\n")
    return path


def load_write(server: Server, row: Row, shape: LoadShape, *, operation_path: bool = False,
               expect: bool = True) -> Load:
    """The write's POSTs on `server` (at the contract's path, without /v3, for Prism)."""
    write = write_of(row)
    path = write.operation_path if operation_path else write.path
    return run_wrk_post(server.root + path, DEFAULT_API_KEY, shape, bodies_file(write),
                        write.expect if expect else "")


def _load_baseline(baseline: Server, row: Row, shape: LoadShape) -> Load:
    write = write_of(row)
    return run_wrk_post(baseline.root + baseline_path(row.name), DEFAULT_API_KEY, shape, bodies_file(write),
                        write.expect)


def check_write_errors(row: Row, other: str, *more: tuple[str, Series]) -> None:
    """Fail the run if the mock, the other server (`row.baseline`) or any of `more` answered an error or
    anything but a completed transaction."""
    for who, series in (("mock", row.mock), (other, row.baseline), *more):
        if series.errors or series.unexpected:
            raise WrkError(f"{row.title}: the {who} answered {series.errors} errors and {series.unexpected} "
                           f"answers other than a completed transaction under load; first: "
                           f"{series.first_unexpected or 'n/a'} (see bench/results/logs)")


# ----------------------------------------------------------------- 2. and 3. after writes, reset


def post_exactly(server: Server, write: Write, count: int, connections: int) -> float:
    """Exactly `count` accepted writes on `server` (each a completed transaction); the seconds they took."""
    try:
        posted = post_client.post_exactly(server.port, write.path, HEADERS, write.bodies, count,
                                          write.expect.encode(), connections,
                                          timeout=max(30.0, count / SEED_RATE_FLOOR))
    except post_client.PostError as error:
        raise WrkError(f"seeding {count:,} writes: {error}") from None
    return posted.seconds


def measure_after_writes(servers: ServerSet, plan: WritePlan, fresh: Server, ids: Ids,
                         write: Write) -> tuple[list[Row], Resets, tuple[float, float]]:
    """The reads on a world that took `seeded_writes` writes against the fresh world; then its resets.

    Also the peak RSS (MiB) of the written mock and of the fresh one, once both were loaded.
    """
    written = launch_mock(servers, "mock-written", plan.contacts)
    try:
        log(f"seeding {plan.seeded_writes:,} writes ({write.spread})")
        seconds = post_exactly(written, write, plan.seeded_writes, plan.shape.connections)
        log(f"{plan.seeded_writes:,} writes took {seconds:.1f} s")
        rows = [_after_row(written, fresh, scenario, plan.contacts) for scenario in after_writes_scenarios(ids)]
        _after_rounds(rows, written, fresh, plan)
        rss = written.peak_rss_mb(), fresh.peak_rss_mb()
        resets = _resets(written, fresh, rows, write, plan)
    finally:
        servers.stop(written)
    return rows, resets, rss


def _after_row(written: Server, fresh: Server, scenario: Scenario, contacts: int) -> Row:
    bodies = []
    for server in (written, fresh):
        status, body = server.get(scenario.path, HEADERS)
        if status != 200:
            raise ScenarioError(f"{scenario.title}: GET {scenario.path} answered {status}: {body[:300]!r}")
        bodies.append(body)
    return Row(scenario, contacts, bodies[0], reference_bytes=len(bodies[1]))


def _after_rounds(rows: list[Row], written: Server, fresh: Server, plan: WritePlan) -> None:
    log(f"loading {len(rows)} reads x (written, fresh) x {plan.rounds} round(s)")
    for row in rows:
        for server in (written, fresh):
            run_wrk(server.root + row.scenario.path, DEFAULT_API_KEY, with_seconds(plan.shape, plan.warmup))
    for round_number in range(plan.rounds):
        for row in rows:
            # Each round pairs the two worlds; which goes first alternates, so that neither always
            # runs right after the other's load.
            pair = [(written, row.mock), (fresh, row.baseline)]
            for server, series in pair if round_number % 2 == 0 else reversed(pair):
                series.loads.append(run_wrk(server.root + row.scenario.path, DEFAULT_API_KEY, plan.shape))
        log(f"round {round_number + 1}/{plan.rounds}: program read after writes {rows[0].mock.loads[-1].rps:,.0f} "
            f"req/s, fresh {rows[0].baseline.loads[-1].rps:,.0f} req/s")
    for row in rows:
        for who, series in (("written", row.mock), ("fresh", row.baseline)):
            if series.errors:
                raise WrkError(f"{row.title}: the {who} world answered {series.errors} errors under load")


def _resets(written: Server, fresh: Server, rows: list[Row], write: Write, plan: WritePlan) -> Resets:
    resets = Resets(plan.reset_writes, seeded_writes=plan.seeded_writes)
    resets.after_seeded_ms = time_reset(written)
    for row in rows:  # a reset restores the seeded world: the written mock answers the fresh one's bytes
        mine, theirs = written.get(row.scenario.path, HEADERS), fresh.get(row.scenario.path, HEADERS)
        if mine != theirs:
            raise ScenarioError(f"after POST {RESET_PATH}, {row.title} differs from a fresh world's: "
                                f"{mine[1][:200]!r} against {theirs[1][:200]!r}")
    resets.first_write_after_seeded_ms = time_write(written, write)
    for _ in range(plan.rounds):
        # The first write after the previous reset counts among this round's writes.
        if plan.reset_writes > 1:
            post_exactly(written, write, plan.reset_writes - 1, plan.shape.connections)
        resets.ms.append(time_reset(written))
        resets.first_write_ms.append(time_write(written, write))
    log(f"reset: {resets.after_seeded_ms:.2f} ms after {plan.seeded_writes:,} writes; median "
        f"{resets.median_ms:.2f} ms after {plan.reset_writes:,} ({', '.join(f'{ms:.2f}' for ms in resets.ms)}); "
        f"first write after a reset: median {median(resets.first_write_ms):.2f} ms")
    return resets


def time_reset(server: Server) -> float:
    """Milliseconds from sending `POST /__mock__/reset` (the default organisation's key) to its whole answer."""
    status, body, ms = _timed_post(server, RESET_PATH, None)
    if status != 200:
        raise ScenarioError(f"POST {RESET_PATH} answered {status}: {body[:300]!r}")
    return ms


def time_write(server: Server, write: Write) -> float:
    """Milliseconds of one write (the first after a reset: what the reset left to do shows there)."""
    status, body, ms = _timed_post(server, write.path, write.bodies[0])
    if status != 200 or write.expect.encode() not in body:
        raise ScenarioError(f"{write.title}: POST {write.path} answered {status}: {body[:300]!r}")
    return ms


def _timed_post(server: Server, path: str, body: bytes | None) -> tuple[int, bytes, float]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.connect()  # connecting is not part of the figure
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers={**HEADERS, "content-type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    return response.status, answer, elapsed * 1000
