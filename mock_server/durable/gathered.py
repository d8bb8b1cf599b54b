"""Rows each worker of `serve --workers N` keeps in its own memory, gathered from every worker when read.

Recording stays what it is in one process: nothing is shared on a request's path. Reading bumps a
generation number in a small shared file (`<name>.ctl`, with the wall-clock time of the last clear);
a thread in each worker looks at it every `POLL_SECONDS` and, when it moved, writes its rows to a file
of its own (`<name>-<pid>.json`, replaced whole). The reader waits for every live worker's file of
that generation (at most `WAIT_SECONDS`) and returns all the rows. Used by the request journal
(`shared_journal.py`) and the webhook delivery journal (`mock_server/webhooks/journal.py`).
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from mock_server.orphans import process_alive

CONTROL = struct.Struct("<Qd")  # generation asked for, time of the last clear
POLL_SECONDS = 0.01
WAIT_SECONDS = 1.0  # a worker that does not answer in this time (busy, stopped) is read as last published

Rows = Callable[[float], list[Any]]  # this worker's rows to publish, given the time of the last clear


class Gathered:
    def __init__(self, shared_dir: Path, name: str, rows: Rows) -> None:
        self._dir = shared_dir
        self._name = name
        self._rows = rows
        self._fd = os.open(shared_dir / f"{name}.ctl", os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < CONTROL.size:
            os.ftruncate(self._fd, CONTROL.size)
        self._control = mmap.mmap(self._fd, CONTROL.size)
        self._own = shared_dir / f"{name}-{os.getpid()}.json"
        self._published = -1
        # A reader publishes its own rows as the publisher thread may: one at a time, or the second `replace` finds
        # the temporary file gone (a reader then answered 500).
        self._publishing = threading.Lock()
        self._publish(self.control()[0])  # a file from the start: readers wait for live workers only
        thread = threading.Thread(target=self._publisher, name=f"{name}-publisher", daemon=True)
        thread.start()

    def gather(self) -> tuple[list[tuple[Any, ...]], float]:
        """(every live worker's rows, the time of the last clear), once each published them (or the wait ran out)."""
        with self.locked():
            generation, cleared = self.control()
            generation += 1
            CONTROL.pack_into(self._control, 0, generation, cleared)
        self._publish(generation)
        return self._gather(generation, time.monotonic() + WAIT_SECONDS), cleared

    def mark_cleared(self) -> None:
        """Now is the time of the last clear: every worker's rows from before it are dropped (by the row callback)."""
        with self.locked():
            generation, _ = self.control()
            # wall: compared with the wall-clock times the journals give their entries
            CONTROL.pack_into(self._control, 0, generation, time.time())

    def control(self) -> tuple[int, float]:
        generation, cleared = CONTROL.unpack_from(self._control)
        return generation, cleared

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The shared control's lock (also for the callers' own shared files)."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    # ----------------------------------------------------------------- the workers' side

    def _publisher(self) -> None:
        while True:
            time.sleep(POLL_SECONDS)
            generation, _ = self.control()
            if generation != self._published:
                with contextlib.suppress(OSError):  # the run's directory removed at exit
                    self._publish(generation)

    def _publish(self, generation: int) -> None:
        with self._publishing:
            if self._published >= generation:
                return  # the other thread published this generation (or a later one) meanwhile
            rows = self._rows(self.control()[1])
            temporary = self._own.with_suffix(".tmp")
            temporary.write_bytes(orjson.dumps({"generation": generation, "rows": rows}))
            temporary.replace(self._own)  # whole or not at all, for a reader
            self._published = generation

    # ----------------------------------------------------------------- the reader's side

    def _gather(self, generation: int, deadline: float) -> list[tuple[Any, ...]]:
        prefix = f"{self._name}-"
        while True:
            found, waiting = [], False
            for path in self._dir.glob(f"{prefix}*.json"):
                pid = int(path.stem.removeprefix(prefix))
                if pid != os.getpid() and not process_alive(pid):
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
                return found
            time.sleep(POLL_SECONDS / 2)
