"""In-process cost of the benchmark's write (a transaction begun with `autoComplete`), without HTTP.

    python -m bench.write_profile [--writes N] [--contacts N] [--evict-mib N] [--profile]

Builds the default world's app, chooses the write as `make bench` does (bench.write_scenarios), and
times `LoyaltyApi.response` for N writes round-robin over the members (the first pass over a member
generates it, as on a served mock), then a program read for scale. With `--evict-mib N`, an N MiB
buffer is copied before each write, untimed, so that each write starts with the processor's caches
cold, as it does served between the kernel's and the event loop's work (docs/performance.md). With
`--profile`, cProfile's table of the timed writes, by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from typing import Any

import orjson
from starlette.testclient import TestClient

from bench.scenarios import Ids, choose_ids, world_path
from bench.write_runner import ALL_MEMBERS
from bench.write_scenarios import Write, choose_write
from mock_server.app import create_app
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_CONTACTS, Settings

HEADERS = [(b"api-key", DEFAULT_API_KEY.encode()), (b"content-type", b"application/json")]


def app_and_write(settings: Settings) -> tuple[Any, Ids, Write]:
    """An app of `settings`, the seeded ids the bench uses, and its write (as `make bench` chooses them)."""
    app = create_app(settings)
    client = TestClient(app, base_url="http://127.0.0.1", headers={"api-key": DEFAULT_API_KEY})

    def fetch(path: str) -> tuple[int, bytes]:
        response = client.get(path)
        return response.status_code, response.content

    world = orjson.loads(fetch(world_path(ALL_MEMBERS))[1])
    ids = choose_ids(world, fetch)
    return app, ids, choose_write(world, fetch, ids.pid, ids.bdid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=DEFAULT_CONTACTS)
    parser.add_argument("--evict-mib", type=int, default=0, metavar="N",
                        help="copy an N MiB buffer before each write, untimed: the write with cold caches")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    app, ids, write = app_and_write(Settings(contacts=args.contacts, access_log=False))
    api: Any = app._api  # type: ignore[attr-defined]
    path = write.path.encode()
    bodies = write.bodies

    def one(index: int) -> None:
        answer, _ = api.response("POST", path, b"", HEADERS, body=bodies[index % len(bodies)])
        if answer.status != 200:
            raise SystemExit(f"write {index} answered {answer.status}: {answer.body[:300]!r}")

    started = time.perf_counter()
    for index in range(len(bodies)):  # the first pass generates each member
        one(index)
    first = (time.perf_counter() - started) / len(bodies)
    profiler = cProfile.Profile() if args.profile else None
    evicting = bytearray(args.evict_mib << 20)
    timed = 0.0
    if profiler:
        profiler.enable()
    for index in range(args.writes):
        if evicting:
            bytes(evicting)  # read and written again: more than the L2 cache, for a few MiB
        started = time.perf_counter()
        one(index)
        timed += time.perf_counter() - started
    if profiler:
        profiler.disable()
    steady = timed / args.writes
    read = f"/v3/loyalty/config/programs/{ids.pid}".encode()
    started = time.perf_counter()
    for _ in range(args.writes):
        api.response("GET", read, b"", HEADERS)
    reading = (time.perf_counter() - started) / args.writes
    print(f"{len(bodies):,} members; first write of a member {first * 1e6:,.0f} µs; "
          f"then {steady * 1e6:,.1f} µs a write ({args.writes:,} writes"
          f"{f', {args.evict_mib} MiB copied before each' if args.evict_mib else ''}); "
          f"program read {reading * 1e6:,.1f} µs")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
