"""In-process cost of a program read in one process and in a worker of `serve --workers 2`, without HTTP.

    python -m bench.worker_read [--reads N] [--repeats N] [--contacts N]

Builds the default world's app twice: as one process, and as a worker of `serve --workers N` (a
temporary shared directory and state file, prepared as `serve` prepares them, and a second worker's
rate-limit table holding a live window of the key, so that the count across workers does its whole
work). Times `answer_directly` (the server's direct protocol path, without the socket) on the program
read in many short repeats, the two apps alternating, and prints the best and the median µs of CPU time
a read took (the best is the least disturbed by other work on the machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from starlette.testclient import TestClient

from bench.scenarios import choose_ids, world_path
from bench.write_runner import ALL_MEMBERS
from mock_server.app import create_app
from mock_server.durable.shared_ratelimit import SharedRateLimiter
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_CONTACTS, Settings

HEADERS = [(b"host", b"127.0.0.1"), (b"api-key", DEFAULT_API_KEY.encode())]


def worker_app(settings: Settings, shared_dir: Path) -> Any:
    """A worker's app, on a state file its "parent" wrote first, as `serve --workers N` does."""
    parent = replace(settings, state=shared_dir / "state.log")
    create_app(parent).state.mock.recorder.close()
    other = SharedRateLimiter(settings.rate_limit, shared_dir)  # another worker's table, with a request
    other._own_path.rename(shared_dir / f"ratelimit-{os.getpid() + 1}.bin")  # named as another pid's
    other.hit(DEFAULT_API_KEY)
    return create_app(replace(parent, shared_dir=shared_dir, workers=2))  # its own table made afresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_read", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument("--contacts", type=int, default=DEFAULT_CONTACTS)
    args = parser.parse_args(argv)

    settings = Settings(contacts=args.contacts, access_log=False)
    shared_dir = Path(tempfile.mkdtemp(prefix="bench-worker-read-"))
    try:
        apps = {"one process": create_app(settings), "worker": worker_app(settings, shared_dir)}
        client = TestClient(apps["one process"], base_url="http://127.0.0.1", headers={"api-key": DEFAULT_API_KEY})

        def fetch(path: str) -> tuple[int, bytes]:
            response = client.get(path)
            return response.status_code, response.content

        ids = choose_ids(orjson.loads(fetch(world_path(ALL_MEMBERS))[1]), fetch)
        path = f"/v3/loyalty/config/programs/{ids.pid}"
        raw = path.encode()
        timings: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(args.repeats):
            for name, app in apps.items():
                answer = app.answer_directly
                status = answer("GET", raw, path, b"", HEADERS)[0]
                if status != 200:
                    raise SystemExit(f"{name}: the program read answered {status}")
                started = time.process_time()  # CPU time: what other work on the machine takes is not counted
                for _ in range(args.reads):
                    answer("GET", raw, path, b"", HEADERS)
                timings[name].append((time.process_time() - started) / args.reads * 1e6)
        for name, values in timings.items():
            print(f"{name:12} {min(values):.2f} µs of CPU a read at best, median {statistics.median(values):.2f}")
        best = min(timings["worker"]) - min(timings["one process"])
        typical = statistics.median(w - o for w, o in zip(timings["worker"], timings["one process"], strict=True))
        print(f"a worker's read costs {best:+.2f} µs more at best, {typical:+.2f} in the median repeat")
    finally:
        shutil.rmtree(shared_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
