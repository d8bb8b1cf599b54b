"""The soak's load without wrk: keep-alive HTTP/1.1 connections from asyncio, bounded in time and count.

Each connection sends one request at a time, round-robin over its lane's paths,
reads the whole answer (by its content-length), and checks its status. A
socket error or a time-out closes the connection, counts as an error, and a
new connection takes its place. Used when wrk is not installed (and by the
soak's smoke test, which must not depend on wrk).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

from bench.soak_lanes import Lane, LaneResult

READ_TIMEOUT_SECONDS = 10.0
LATENCY_SAMPLE = 200_000  # latencies kept for percentiles (reservoir)
_LENGTH = re.compile(rb"(?im)^content-length: *(\d+)")


@dataclass
class _Tally:
    answered: int = 0
    mismatches: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    first_mismatch: str = ""
    latencies: list[float] = field(default_factory=list)

    def latency(self, seconds: float, rng: random.Random) -> None:
        if len(self.latencies) < LATENCY_SAMPLE:
            self.latencies.append(seconds)
        else:
            slot = rng.randrange(self.answered)
            if slot < LATENCY_SAMPLE:
                self.latencies[slot] = seconds


async def _connection(port: int, lane: Lane, api_key: str, deadline: float, budget: list[int], tally: _Tally,
                      seed: int) -> None:
    rng = random.Random(seed)
    index = rng.randrange(len(lane.paths))
    requests = [f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\napi-key: {api_key}\r\n\r\n".encode()
                for path in lane.paths]
    reader = writer = None
    while time.monotonic() < deadline and budget[0] > 0:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(requests[index])
            index = (index + 1) % len(requests)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_SECONDS)
            length = _LENGTH.search(head)
            if length:
                body = await asyncio.wait_for(reader.readexactly(int(length.group(1))), READ_TIMEOUT_SECONDS)
            else:
                body = b""
            tally.answered += 1
            tally.latency(time.perf_counter() - started, rng)
            status = int(head[9:12])
            if status != lane.status:
                tally.mismatches += 1
                tally.first_mismatch = tally.first_mismatch or f"{status} {body[:120]!r}"
        except TimeoutError:
            tally.timeouts += 1
            writer = _close(writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            tally.socket_errors += 1
            writer = _close(writer)
    _close(writer)


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


def run_lanes(port: int, lanes: list[Lane], api_key: str, seconds: float, max_requests: int) -> list[LaneResult]:
    """Load every lane at once for `seconds` (and at most `max_requests` requests in all)."""
    return asyncio.run(_run(port, lanes, api_key, seconds, max_requests))


async def _run(port: int, lanes: list[Lane], api_key: str, seconds: float, max_requests: int) -> list[LaneResult]:
    started = time.monotonic()
    deadline = started + seconds
    budget = [max_requests]
    tallies = [_Tally() for _ in lanes]
    tasks = [asyncio.create_task(_connection(port, lane, api_key, deadline, budget, tally, seed=1000 * i + c))
             for i, (lane, tally) in enumerate(zip(lanes, tallies, strict=True)) for c in range(lane.connections)]
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    results = []
    for lane, tally in zip(lanes, tallies, strict=True):
        latencies = sorted(tally.latencies) or [0.0]
        results.append(LaneResult(
            lane=lane, answered=tally.answered, mismatches=tally.mismatches,
            socket_errors=tally.socket_errors, timeouts=tally.timeouts, seconds=elapsed,
            p50_ms=1000 * latencies[len(latencies) // 2], p99_ms=1000 * latencies[int(len(latencies) * 0.99)],
            max_ms=1000 * latencies[-1], first_mismatch=tally.first_mismatch, engine="python",
        ))
    return results
