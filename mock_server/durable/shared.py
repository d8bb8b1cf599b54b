"""Several worker processes, one state: the state file as the log every worker applies (`serve --workers N`).

Each worker keeps its own in-memory backends, as one process does, and the state file is the order
of every change: a worker that makes a change takes the file's write lock (`flock` on a lock file in
the run's shared directory), applies what other workers appended since it last looked, makes its
change, appends it (fsync'd) and unlocks, then answers. Before any request a worker compares the
file's size with the end of what it applied (one `fstat`), and applies what is new first: a read
through any worker sees every write acknowledged before it was sent (read-your-writes), and ids,
which come from each organisation's counter, never collide because every worker counts the same
changes in the same order. A reset is a record like a write, so every worker applies it in turn.
docs/durability.md, "Several workers".
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from mock_server.backend import Backend, Backends
from mock_server.durable.logfile import Scan, records_in, scan
from mock_server.durable.recorder import DurableRecorder, _live

LOCK_FILE = "writes.lock"  # in the shared directory: serialises the workers' changes


class SharedBackends(Backends):
    """Backends that catch up with the shared state file before they are used (reads included)."""

    catch_up: Callable[[], None] = staticmethod(lambda: None)  # set by `SharedRecorder`

    def __getitem__(self, organisation: str) -> Backend:
        self.catch_up()
        return super().__getitem__(organisation)


class SharedRecorder(DurableRecorder):
    """A `DurableRecorder` that shares its file with the other workers of one `serve --workers N`."""

    def __init__(self, *args: object, shared_dir: Path, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock_fd = os.open(shared_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        self._exclusive = False
        if isinstance(self.backends, SharedBackends):
            self.backends.catch_up = self.catch_up

    def scan(self) -> Scan:
        """Every record of the file; under the shared lock, so no append is half-way while it is read."""
        with self.lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
            try:
                return scan(self.log.path, self.log.read())
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def start(self, found: Scan) -> int:
        """Apply every change of a scan (the parent checked the file and cut any torn tail); how many."""
        with self.lock:
            applied = self.apply_records(_live(found.records[1:]))
            self.applied_end = found.end
        return applied

    def catch_up(self) -> None:
        """Apply what the other workers appended since this one last looked (nothing: one `fstat`)."""
        if self.log.size() == self.applied_end:
            return
        with self.lock:
            if self._exclusive:
                self._apply_new()
                return
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
            try:
                self._apply_new()
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _apply_new(self) -> None:
        data = self.log.read_from(self.applied_end)
        for record in records_in(self.log.path, data, self.applied_end):
            self._apply(record)
            self.applied_end = record.end

    def _before_change(self) -> None:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._exclusive = True
        try:
            self._apply_new()
        except BaseException:
            self._after_change()
            raise

    def _after_change(self) -> None:
        self._exclusive = False
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        super().close()
        os.close(self._lock_fd)
