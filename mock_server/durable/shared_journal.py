"""The request journal of `serve --workers N`: every worker's entries, gathered when someone reads them.

Recording stays what it is in one process (a tuple appended to a bounded deque): nothing is shared on
a request's path. Reading (`GET /__mock__/requests`) asks every worker for its entries: the reader
bumps a generation number in a small shared file; a thread in each worker looks at it every
`POLL_SECONDS` and, when it moved, writes its entries to a file of its own (`journal-<pid>.json`,
replaced whole). The reader waits for every live worker's file of that generation (at most
`WAIT_SECONDS`), then merges them by time. A clear (reset) writes its wall-clock time in the shared
file: entries older than it are dropped by every worker, and by every reader meanwhile. One
organisation's clear (a per-key reset) writes its time under its name in `CLEARS_FILE`, which readers of
that organisation's view apply.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from mock_server.journal import ORGANISATION, Journal, JournalEntry

CONTROL = struct.Struct("<Qd")  # generation asked for, time of the last clear
CONTROL_FILE = "journal.ctl"
CLEARS_FILE = "journal.clears"  # organisation -> wall-clock time of its last own clear
POLL_SECONDS = 0.01
WAIT_SECONDS = 1.0  # a worker that does not answer in this time (busy, stopped) is read as last published


class SharedJournal(Journal):
    def __init__(self, size: int, shared_dir: Path,
                 on_violation: Callable[[JournalEntry], None] | None = None) -> None:
        super().__init__(size, on_violation)
        self._size = max(1, size)
        self._dir = shared_dir
        self._fd = os.open(shared_dir / CONTROL_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < CONTROL.size:
            os.ftruncate(self._fd, CONTROL.size)
        self._control = mmap.mmap(self._fd, CONTROL.size)
        self._own = shared_dir / f"journal-{os.getpid()}.json"
        self._published = -1
        self._publish(self._control_values()[0])  # a file from the start: readers wait for live workers only
        thread = threading.Thread(target=self._publisher, name="journal-publisher", daemon=True)
        thread.start()

    def entries(self, organisation: str | None = None) -> list[JournalEntry]:
        with self._locked():
            generation, cleared = CONTROL.unpack_from(self._control)
            generation += 1
            CONTROL.pack_into(self._control, 0, generation, cleared)
            since = self._own_clears().get(organisation, 0.0) if organisation is not None else 0.0
        self._publish(generation)
        rows = self._gather(generation, time.monotonic() + WAIT_SECONDS)
        rows = sorted((row for row in rows if row[1] >= cleared), key=lambda row: row[1])[-self._size:]
        if organisation is not None:
            rows = [row for row in rows if row[ORGANISATION] == organisation and row[1] >= since]
        return [JournalEntry(seq, *row[1:]) for seq, row in enumerate(rows, start=1)]

    def clear(self, organisation: str | None = None) -> None:
        with self._locked():
            if organisation is not None:
                (self._dir / CLEARS_FILE).write_bytes(orjson.dumps({**self._own_clears(), organisation: time.time()}))
                return
            generation, _ = CONTROL.unpack_from(self._control)
            CONTROL.pack_into(self._control, 0, generation, time.time())
            (self._dir / CLEARS_FILE).unlink(missing_ok=True)
        super().clear()

    def _own_clears(self) -> dict[str, float]:
        """The organisations' own clears (per-key resets); read and written under the lock."""
        try:
            return dict(orjson.loads((self._dir / CLEARS_FILE).read_bytes()))
        except FileNotFoundError:
            return {}

    # ----------------------------------------------------------------- the workers' side

    def _publisher(self) -> None:
        while True:
            time.sleep(POLL_SECONDS)
            generation, _ = self._control_values()
            if generation != self._published:
                with contextlib.suppress(OSError):  # the run's directory removed at exit
                    self._publish(generation)

    def _publish(self, generation: int) -> None:
        _, cleared = self._control_values()
        while self._entries and self._entries[0][1] < cleared:  # a reset elsewhere: these went with it
            self._entries.popleft()
        rows = [list(row) for row in list(self._entries)]
        temporary = self._own.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({"generation": generation, "rows": rows}))
        temporary.replace(self._own)  # whole or not at all, for a reader
        self._published = generation

    # ----------------------------------------------------------------- the reader's side

    def _gather(self, generation: int, deadline: float) -> list[tuple[Any, ...]]:
        """Every live worker's rows, once each has published `generation` (or the deadline passed)."""
        while True:
            found, waiting = [], False
            for path in self._dir.glob("journal-*.json"):
                pid = int(path.stem.removeprefix("journal-"))
                if pid != os.getpid() and not _alive(pid):
                    with contextlib.suppress(OSError):
                        path.unlink()  # a worker that stopped; uvicorn started another in its place
                    continue
                try:
                    published = orjson.loads(path.read_bytes())
                except (OSError, orjson.JSONDecodeError):
                    waiting = True
                    continue
                waiting = waiting or published["generation"] < generation
                found.extend(tuple(row) for row in published["rows"])
            if not waiting or time.monotonic() > deadline:
                return [(*row[:7], tuple(row[7]), *row[8:]) for row in found]
            time.sleep(POLL_SECONDS / 2)

    def _control_values(self) -> tuple[int, float]:
        generation, cleared = CONTROL.unpack_from(self._control)
        return generation, cleared

    @contextlib.contextmanager
    def _locked(self) -> Any:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
