"""`python -m bench.worker_read` measures a real worker: its reads count across workers and see the shared state."""

from __future__ import annotations

from pathlib import Path

from bench.worker_read import HEADERS, worker_app
from mock_server.settings import Settings


def test_the_measured_worker_counts_the_other_workers_requests(tmp_path: Path) -> None:
    worker = worker_app(Settings(contacts=20, access_log=False), tmp_path)
    path = "/v3/loyalty/config/programs"
    status, headers, _ = worker.answer_directly("GET", path.encode(), path, b"", HEADERS)
    assert status == 200
    limit = int(dict(headers)[b"x-sib-ratelimit-limit"])
    # The other worker's table already holds one request of the key: this one is the second.
    assert int(dict(headers)[b"x-sib-ratelimit-remaining"]) == limit - 2
    assert worker.state.mock.recorder.applied_end > 0  # on the state file its "parent" wrote, read through
