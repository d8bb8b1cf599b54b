"""`--state` figures: writes acknowledged per second with the log's fsync, and the start-up replay of N writes.

    python -m bench.durable [--writes 100000] [--dir PATH]

Writes go through the pipeline in process (`LoyaltyApi.response`, no HTTP: the figure is the cost
the log adds to a write, not the network's), as `bench/write_scenarios.py`'s credits: a transaction
begun with `autoComplete`, round-robin over every member. A first run on a mock without `--state`
gives the baseline; a second appends to a state file in `--dir` (fsync per write: the disk's
speed shows here); the replay is a third mock opening that file. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from mock_server.app import build_worlds, create_app
from mock_server.settings import DEFAULT_API_KEY, Settings

SEED_CONTACTS = 1000
TIMED_FSYNC_WRITES = 2000  # writes timed against the disk of --dir; the rest of the file is made on tmpfs


def _writes(app: Any, count: int) -> float:
    """`count` credits through the pipeline; seconds taken. Every answer must be a completed transaction."""
    state = app.state.mock
    program = next(p for p in state.worlds["default"].summary(sample=SEED_CONTACTS)["programs"]
                   if p["state"] == "active" and p["members"])
    definition = next(d for d in program["balanceDefinitions"] if d["published"] and not d["internal"])
    members = [m["loyaltySubscriptionId"] for m in program["members"] if m.get("loyaltySubscriptionId")]
    path = f"/v3/loyalty/balance/programs/{program['id']}/transactions".encode()
    headers = [(b"api-key", DEFAULT_API_KEY.encode()), (b"content-type", b"application/json")]
    api = app.state.api if hasattr(app.state, "api") else _api_of(app)
    started = time.perf_counter()
    for n in range(count):
        body = orjson.dumps({"LoyaltySubscriptionId": members[n % len(members)],
                             "balanceDefinitionId": definition["id"], "amount": 10, "autoComplete": True,
                             "meta": {"source": "order", "orderId": f"R-{n:06d}"}})
        answer, _ = api.response("POST", path, b"", headers, (), body)
        if answer.status != 200 or b'"completed"' not in answer.body:
            raise SystemExit(f"write {n} answered {answer.status}: {answer.body[:200]!r}")
    return time.perf_counter() - started


def _api_of(app: Any) -> Any:
    return app._api  # the pipeline the app answers /v3 with (app._MockApp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.durable", description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=100_000, help="writes in the replayed file (default 100000)")
    parser.add_argument("--dir", type=Path, default=None, help="where the fsync'd writes go (default: a temporary "
                        "directory under the current one, i.e. a real disk)")
    args = parser.parse_args(argv)
    settings = Settings(contacts=SEED_CONTACTS, access_log=False)
    worlds = build_worlds(settings)
    figures: dict[str, Any] = {"writes": args.writes}

    plain = _writes(create_app(settings, worlds=worlds), TIMED_FSYNC_WRITES)
    figures["writes_per_s_without_state"] = round(TIMED_FSYNC_WRITES / plain)
    with tempfile.TemporaryDirectory(dir=args.dir or Path.cwd()) as disk:
        app = create_app(Settings(contacts=SEED_CONTACTS, access_log=False, state=Path(disk) / "state.log"),
                         worlds=build_worlds(settings))
        timed = _writes(app, TIMED_FSYNC_WRITES)
        app.state.mock.recorder.close()
        figures["writes_per_s_with_state"] = round(TIMED_FSYNC_WRITES / timed)
        figures["fsync_dir"] = str(args.dir or Path.cwd())
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as fast:
        path = Path(fast) / "state.log"
        app = create_app(Settings(contacts=SEED_CONTACTS, access_log=False, state=path), worlds=build_worlds(settings))
        _writes(app, args.writes)
        app.state.mock.recorder.close()
        figures["state_file_mb"] = round(path.stat().st_size / 1e6, 1)
        started = time.perf_counter()
        app = create_app(Settings(contacts=SEED_CONTACTS, access_log=False, state=path), worlds=build_worlds(settings))
        figures["replay_s"] = round(time.perf_counter() - started, 2)
        app.state.mock.recorder.close()
        figures["replayed_writes_per_s"] = round(args.writes / figures["replay_s"])
    sys.stdout.write(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
