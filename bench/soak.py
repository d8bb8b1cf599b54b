"""`make soak`: the mock under a few minutes of mixed reads from 64 connections, on loopback.

    python -m bench.soak [--seconds 180] [--warmup 15] [--connections 64] [--contacts 1000]
                         [--max-requests 20000000] [--engine auto|wrk|python] [--json PATH]

1. Starts the real command (``python -m mock_server serve --port 0``) in a
   session of its own, and reads the world's ids from ``/__mock__/world``.
2. Builds mixed reads over all 20 operations (`soak_paths`) and sends each once:
   the mock is deterministic, so each must get that same status under load.
   Three lanes share the connections: 200s, 404s (ids that exist nowhere), and
   400/422s (malformed parameters).
3. Loads every lane at once for a short warm-up (caches fill to their bounds),
   then for the soak itself; wrk when installed, else an asyncio client
   (`soak_client`). Every load is bounded in time and in number of requests.
4. Samples the server's resident memory (VmRSS) throughout.
5. Stops the server with SIGTERM and checks it exits 0, with no traceback or
   error in its log.

The run passes when there were no errors (a socket error, a time-out, or an
answer with another status than its lane's) and the resident memory at the end
is less than 10% above what it was after the warm-up. Exit status 0 then, 1
otherwise. Nothing leaves the loopback interface.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import soak_client, soak_wrk
from bench.soak_lanes import Lane, LaneResult, split_connections
from bench.soak_paths import candidate_paths, classify, world_of

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "xkeysib-loyalty-mock-local-key"
MAX_RSS_GROWTH = 0.10
LANE_WEIGHTS = {"ok": 56, "not-found": 4, "invalid": 4}  # of 64 connections
RSS_SAMPLE_SECONDS = 2.0


# --- the server ----------------------------------------------------------------------------------

@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    log: list[str] = field(default_factory=list)

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if found is None:
            raise RuntimeError("no VmRSS for the server")
        return int(found.group(1))


def start_server(contacts: int) -> Server:
    command = [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--contacts", str(contacts),
               "--no-access-log"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("BREVO_MOCK_")}
    process = subprocess.Popen(command, cwd=ROOT, env=env, text=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, 0)
    assert process.stdout is not None
    threading.Thread(target=lambda: server.log.extend(iter(process.stdout.readline, "")), daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"base URL\s+http://127\.0\.0\.1:(\d+)/v3", "".join(server.log))
        if found:
            server.port = int(found.group(1))
            return server
        if process.poll() is not None:
            raise RuntimeError(f"the mock exited ({process.returncode}):\n{''.join(server.log)}")
        time.sleep(0.05)
    stop_server(server)
    raise RuntimeError("the mock did not print its base URL within 120 s")


def stop_server(server: Server) -> int:
    """SIGTERM, then SIGKILL of its process group if it lingers; its exit status."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(10)
    return server.process.returncode


class RssSampler:
    """The server's VmRSS every few seconds, in a thread, until stopped."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic() - started, self.server.rss_kib()))
            except (OSError, RuntimeError):
                return
            self._stop.wait(RSS_SAMPLE_SECONDS)


# --- a run ---------------------------------------------------------------------------------------

@dataclass
class Report:
    engine: str
    seconds: float
    connections: int
    contacts: int
    paths: dict[str, int]
    lanes: list[dict[str, Any]]
    answered: int
    errors: int
    rss_start_kib: int
    rss_warm_kib: int
    rss_peak_kib: int
    rss_end_kib: int
    rss_growth: float  # end against warm
    exit_status: int
    log_problems: list[str]

    @property
    def passed(self) -> bool:
        return (self.errors == 0 and self.rss_growth < MAX_RSS_GROWTH and self.exit_status == 0
                and not self.log_problems)


def run(seconds: float, warmup: float, connections: int, contacts: int, max_requests: int, engine: str,
        say: Any = print) -> Report:
    load = soak_wrk.run_lanes if engine == "wrk" else soak_client.run_lanes
    server = start_server(contacts)
    try:
        world = world_of(server.port, sample=60)
        by_status = classify(server.port, candidate_paths(world, members_per_program=60), API_KEY)
        if max(by_status) >= 500 or any(status < 200 for status in by_status):
            raise RuntimeError(f"the mock answered {sorted(by_status)} before any load: {by_status}")
        left_out = sum(len(paths) for status, paths in by_status.items() if status not in (200, 400, 404, 422))
        if left_out:  # e.g. the 204 of an empty definition list: a lane of one path is not worth it
            say(f"soak: {left_out} path(s) answered with statuses outside the lanes are left out")
        share = split_connections(connections, LANE_WEIGHTS)
        lanes = [Lane("ok", 200, tuple(by_status[200]), share["ok"]),
                 Lane("not-found", 404, tuple(by_status[404]), share["not-found"]),
                 Lane("invalid", 422, tuple(by_status.get(422, ())), share["invalid"])]
        if 400 in by_status:  # the two parameters the docs answer with 400 get a lane of their own
            lanes[-1] = Lane("invalid", 422, lanes[-1].paths, max(1, share["invalid"] // 2))
            lanes.append(Lane("bad-request", 400, tuple(by_status[400]), share["invalid"] - lanes[-1].connections))
        lanes = [lane for lane in lanes if lane.paths and lane.connections]
        say(f"soak: mock on 127.0.0.1:{server.port}, {contacts} contacts per program; "
            + ", ".join(f"{lane.name} {lane.connections} conn x {len(lane.paths)} paths" for lane in lanes))
        rss_start = server.rss_kib()
        say(f"soak: warm-up {warmup:g} s ({engine})")
        warm = load(server.port, lanes, API_KEY, warmup, max_requests)
        rss_warm = server.rss_kib()
        say(f"soak: {seconds:g} s, {sum(lane.connections for lane in lanes)} connections ({engine})")
        with RssSampler(server) as sampler:
            results = load(server.port, lanes, API_KEY, seconds, max_requests)
        rss_end = server.rss_kib()
        healthy = world_of(server.port, sample=0)["organisation"] == "default"
    finally:
        exit_status = stop_server(server)
    log = "".join(server.log)
    problems = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line]
    if not healthy:
        problems.append("the mock did not answer /__mock__/world after the load")
    warm_errors = sum(result.errors for result in warm)
    return Report(
        engine=engine, seconds=seconds, connections=sum(lane.connections for lane in lanes), contacts=contacts,
        paths={lane.name: len(lane.paths) for lane in lanes},
        lanes=[_lane_dict(result) for result in results],
        answered=sum(result.answered for result in results),
        errors=sum(result.errors for result in results) + warm_errors,
        rss_start_kib=rss_start, rss_warm_kib=rss_warm,
        rss_peak_kib=max([rss for _, rss in sampler.samples] + [rss_end]), rss_end_kib=rss_end,
        rss_growth=(rss_end - rss_warm) / rss_warm, exit_status=exit_status, log_problems=problems[:20],
    )


def _lane_dict(result: LaneResult) -> dict[str, Any]:
    data = asdict(result)
    data["lane"] = {"name": result.lane.name, "status": result.lane.status, "connections": result.lane.connections,
                    "paths": len(result.lane.paths)}
    data["errors"] = result.errors
    data["per_second"] = round(result.per_second, 1)
    return data


def render(report: Report) -> str:
    lines = [f"soak: {report.engine}, {report.seconds:g} s, {report.connections} connections, "
             f"{report.contacts} contacts per program",
             f"{'lane':<12} {'status':>6} {'conn':>5} {'answered':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
             f"{'max ms':>8} {'errors':>7}"]
    for lane in report.lanes:
        lines.append(f"{lane['lane']['name']:<12} {lane['lane']['status']:>6} {lane['lane']['connections']:>5} "
                     f"{lane['answered']:>10,} {lane['per_second']:>8,.0f} {lane['p50_ms']:>8.2f} "
                     f"{lane['p99_ms']:>8.2f} {lane['max_ms']:>8.1f} {lane['errors']:>7}")
        if lane["first_mismatch"]:
            lines.append(f"  first unexpected answer: {lane['first_mismatch']}")
    lines += [
        f"answered {report.answered:,}; errors {report.errors} (socket errors, time-outs, unexpected statuses)",
        f"RSS: start {report.rss_start_kib / 1024:.1f} MiB, after warm-up {report.rss_warm_kib / 1024:.1f} MiB, "
        f"peak {report.rss_peak_kib / 1024:.1f} MiB, end {report.rss_end_kib / 1024:.1f} MiB "
        f"(growth {100 * report.rss_growth:+.1f}% since warm-up; limit {100 * MAX_RSS_GROWTH:.0f}%)",
        f"server exit status {report.exit_status}; log problems: {len(report.log_problems)}",
    ]
    lines += [f"  {problem}" for problem in report.log_problems]
    lines.append("soak: PASS" if report.passed else "soak: FAIL")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 180)),
                        help="length of the soak (default 180, or SOAK_SECONDS)")
    parser.add_argument("--warmup", type=float, default=15, help="warm-up before the RSS baseline (default 15)")
    parser.add_argument("--connections", type=int, default=64, help="connections in all lanes (default 64)")
    parser.add_argument("--contacts", type=int, default=1000, help="seeded contacts per program (default 1000)")
    parser.add_argument("--max-requests", type=int, default=20_000_000,
                        help="at most this many requests per phase (default 20,000,000)")
    parser.add_argument("--engine", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk when installed (auto), or the asyncio client")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3600 or not 0 <= args.warmup <= 600 or not 4 <= args.connections <= 1024:
        parser.error("--seconds 1..3600, --warmup 0..600 and --connections 4..1024")
    engine = args.engine
    if engine == "auto":
        engine = "wrk" if soak_wrk.available() else "python"
    elif engine == "wrk" and not soak_wrk.available():
        parser.error("--engine wrk: wrk is not installed")
    report = run(args.seconds, args.warmup, args.connections, args.contacts, args.max_requests, engine)
    print(render(report), flush=True)
    if args.json:
        args.json.write_text(json.dumps({**asdict(report), "passed": report.passed}, indent=2) + "\n")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
