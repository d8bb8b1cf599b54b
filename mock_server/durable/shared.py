"""Several worker processes, one state: the state file as the log every worker applies (`serve --workers N`).

Each worker keeps its own in-memory backends, as one process does, and the state file is the order
of every change: a worker that makes a change takes the file's write lock (`flock` on a lock file in
the run's shared directory), applies what other workers appended since it last looked, makes its
change, appends it (fsync'd), publishes the file's new end in a shared memory-mapped counter and
unlocks, then answers. Before any request a worker compares that counter with the end of what it
applied (a read of shared memory, no system call), and applies what is new first: a read
through any worker sees every write acknowledged before it was sent (read-your-writes), and ids,
which come from each organisation's counter, never collide because every worker counts the same
changes in the same order. A reset is a record like a write, so every worker applies it in turn.
docs/durability.md, "Several workers".
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from pathlib import Path

from mock_server.backend import Backend, Backends
from mock_server.durable.logfile import Scan, records_in, scan
from mock_server.durable.recorder import DurableRecorder, _live

LOCK_FILE = "writes.lock"  # in the shared directory: serialises the workers' changes
HEAD_FILE = "state.head"  # in the shared directory: where the state file's last complete record ends
HEAD = struct.Struct("=Q")  # native order: read and written as one word through `head_end`


class SharedBackends(Backends):
    """Backends that catch up with the shared state file before they are used (reads included)."""

    recorder: SharedRecorder | None = None  # set by the recorder, once it has replayed the file

    def __getitem__(self, organisation: str) -> Backend:
        recorder = self.recorder
        if recorder is not None and recorder.head_end[0] != recorder.applied_end:  # one word of shared memory
            recorder.catch_up()
        found = self._backends.get(organisation)  # Backends' own first look, without a second call
        return found if found is not None else super().__getitem__(organisation)

    def catch_up(self) -> None:
        recorder = self.recorder
        if recorder is not None and recorder.head_end[0] != recorder.applied_end:
            recorder.catch_up()


class SharedRecorder(DurableRecorder):
    """A `DurableRecorder` that shares its file with the other workers of one `serve --workers N`."""

    truncates_on_full_reset = False  # the other workers read on from their place in the file: a reset is a record

    def __init__(self, *args: object, shared_dir: Path, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock_fd = os.open(shared_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        self._exclusive = False
        head_fd = os.open(shared_dir / HEAD_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(head_fd).st_size < HEAD.size:
                os.ftruncate(head_fd, HEAD.size)
            self.head = mmap.mmap(head_fd, HEAD.size)
        finally:
            os.close(head_fd)
        self.head_end = memoryview(self.head).cast("Q")  # the published end, read per request as one word

    def scan(self) -> Scan:
        """Every record of the file, under the workers' lock (no append is half-way); the head set to its end."""
        with self.lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                found = scan(self.log.path, self.log.read())
                self.head_end[0] = found.end  # the parent wrote the file before any worker ran
                return found
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def start(self, found: Scan) -> int:
        """Apply every change of a scan (the parent checked the file and cut any torn tail); how many."""
        with self.lock:
            applied = self.apply_records(_live(found.records[1:]))
            self.applied_end = found.end
        if isinstance(self.backends, SharedBackends):
            self.backends.recorder = self  # from now on, each use of a backend first catches up
        return applied

    def catch_up(self) -> None:
        """Apply what the other workers appended since this one last looked."""
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
            head = self.head_end[0]
            if self.log.size() > head:  # a worker killed in the middle of an append: that write never answered
                self.log.truncate(head)
            self._apply_new()
        except BaseException:
            self._after_change()
            raise

    def _append(self, record: dict[str, object]) -> None:
        super()._append(record)
        self.head_end[0] = self.applied_end  # under the workers' lock: the others see it whole

    def _after_change(self) -> None:
        self._exclusive = False
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        super().close()
        os.close(self._lock_fd)
        self.head_end.release()
        self.head.close()
