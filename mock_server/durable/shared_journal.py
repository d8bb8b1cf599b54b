"""The request journal of `serve --workers N`: every worker's entries, gathered when someone reads them.

Recording stays what it is in one process (a tuple appended to a bounded deque); reading
(`GET /__mock__/requests`) gathers every worker's entries (`gathered.py`) and merges them by time. A
clear (reset) writes its wall-clock time in the shared control: entries older than it are dropped by
every worker, and by every reader meanwhile. One organisation's clear (a per-key reset) writes its time
under its name in `CLEARS_FILE`, which readers of that organisation's view apply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from mock_server.durable.gathered import Gathered
from mock_server.journal import ORGANISATION, Journal, JournalEntry

CLEARS_FILE = "journal.clears"  # organisation -> wall-clock time of its last own clear


class SharedJournal(Journal):
    def __init__(self, size: int, shared_dir: Path,
                 on_violation: Callable[[JournalEntry], None] | None = None) -> None:
        super().__init__(size, on_violation)
        self._size = max(1, size)
        self._dir = shared_dir
        self._gathered = Gathered(shared_dir, "journal", self._rows)

    def entries(self, organisation: str | None = None) -> list[JournalEntry]:
        with self._gathered.locked():
            since = self._own_clears().get(organisation, 0.0) if organisation is not None else 0.0
        found, cleared = self._gathered.gather()
        rows = [(*row[:7], tuple(row[7]), *row[8:]) for row in found]
        rows = sorted((row for row in rows if row[1] >= cleared), key=lambda row: row[1])[-self._size:]
        if organisation is not None:
            rows = [row for row in rows if row[ORGANISATION] == organisation and row[1] >= since]
        return [JournalEntry(seq, *row[1:]) for seq, row in enumerate(rows, start=1)]

    def clear(self, organisation: str | None = None) -> None:
        if organisation is not None:
            with self._gathered.locked():  # wall: compared with the entries' wall-clock times
                (self._dir / CLEARS_FILE).write_bytes(orjson.dumps({**self._own_clears(), organisation: time.time()}))
            return
        self._gathered.mark_cleared()
        with self._gathered.locked():
            (self._dir / CLEARS_FILE).unlink(missing_ok=True)
        super().clear()

    def _own_clears(self) -> dict[str, float]:
        """The organisations' own clears (per-key resets); read and written under the lock."""
        try:
            return dict(orjson.loads((self._dir / CLEARS_FILE).read_bytes()))
        except FileNotFoundError:
            return {}

    def _rows(self, cleared: float) -> list[Any]:
        """This worker's entries to publish, those of before the last clear dropped (a reset elsewhere)."""
        while self._entries and self._entries[0][1] < cleared:
            self._entries.popleft()
        return [list(row) for row in list(self._entries)]
