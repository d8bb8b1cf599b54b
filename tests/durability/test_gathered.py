"""The gathering of the workers' rows (journals): a process publishes from a reader and its publisher thread."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from mock_server.durable.gathered import Gathered


def test_readers_and_the_publisher_thread_publish_one_at_a_time(tmp_path: Path) -> None:
    """Each read publishes this process's rows while its publisher thread may be doing the same: both used to write
    one temporary file, and the second rename failed (the request journal answered 500 with workers)."""
    rows = [["row", 1]]
    gathered = Gathered(tmp_path, "rows", lambda cleared: rows)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(100):
                found, _ = gathered.gather()
                assert found == [("row", 1)]
        except BaseException as error:  # any failure of a reader is the test's finding
            errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert errors == []
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"rows-{os.getpid()}.json", "rows.ctl"]
