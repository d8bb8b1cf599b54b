"""Every delivery attempt, newest last: what `GET /__mock__/webhooks/deliveries` and the browser page show."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mock_server.durable.gathered import Gathered
from mock_server.store.models import iso
from mock_server.webhooks.endpoints import Endpoint


@dataclass(frozen=True, slots=True)
class Attempt:
    organisation: str
    event: str
    event_id: str
    seq: int  # the event's sequence number in its organisation
    endpoint: str  # the endpoint's id
    url: str  # credentials masked
    attempt: int  # 1 = the original, 2..5 = the retries
    due_at: str  # when the attempt was due, on the organisation's clock
    status: int | None
    error: str | None
    latency_ms: float
    outcome: str  # delivered | retry_scheduled | discarded | gave_up
    next_attempt_at: str | None  # when the next retry is due (organisation's clock)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# An attempt as journaled: (organisation, event, event_id, seq, endpoint, attempt, due_at ms, status, error,
# latency_ms, outcome, next_attempt_at ms or None). Every delivery writes one and reads are rare: the `Attempt`,
# with its URL masked and its dates rendered, is made when the journal is read.
Entry = tuple[str, str, str, int, Endpoint, int, int, int | None, str | None, float, str, int | None]


class DeliveryJournal:
    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[tuple[Entry, Any]] = deque(maxlen=size)  # (entry, its `_stamp`)
        self._lock = threading.Lock()

    def record(self, entry: Entry) -> None:
        stamp = self._stamp(entry)
        with self._lock:
            self._entries.append((entry, stamp))

    def entries(self, organisation: str | None = None) -> list[Attempt]:
        with self._lock:
            kept = [entry for entry, _ in self._entries if organisation is None or entry[0] == organisation]
        return [_attempt(*entry) for entry in kept]

    def clear(self, organisation: str | None = None) -> None:
        with self._lock:
            if organisation is None:
                self._entries.clear()
            else:
                kept = [item for item in self._entries if item[0][0] != organisation]
                self._entries.clear()
                self._entries.extend(kept)

    def _stamp(self, entry: Entry) -> Any:
        """What the journal keeps beside an entry (one process: nothing)."""
        return None


class SharedDeliveryJournal(DeliveryJournal):
    """The delivery journal of `serve --workers N`: every worker's attempts, gathered when read.

    A worker journals the attempts it makes (an event is posted by the worker that took its write, a retry by
    the one that made the attempt before), each with its wall-clock time and the organisation's reset count
    then; reading gathers every worker's (`mock_server/durable/gathered.py`), keeps those of the reset count
    the reader has (a worker that has not applied a reset yet still holds the attempts it dropped) and merges
    them by time.
    """

    def __init__(self, size: int, shared_dir: Path, resets: Callable[[str], int], catch_up: Callable[[], None]
                 ) -> None:
        super().__init__(size)
        self._size = max(1, size)
        self._resets = resets  # organisation -> how many of its resets this worker applied
        self._catch_up = catch_up  # apply the changes the other workers made (their resets)
        self._gathered = Gathered(shared_dir, "deliveries", self._rows)

    def entries(self, organisation: str | None = None) -> list[Attempt]:
        self._catch_up()
        wanted = {} if organisation is None else {organisation: self._resets(organisation)}
        found, _ = self._gathered.gather()
        rows = sorted((row for row in found if organisation is None or (row[2] == organisation
                                                                          and row[1] == wanted[organisation])),
                      key=lambda row: row[0])[-self._size:]
        return [Attempt(**row[3]) for row in rows]

    def _stamp(self, entry: Entry) -> tuple[float, int]:
        """(wall-clock time, the organisation's reset count) of the attempt."""
        return time.time(), self._resets(entry[0])  # wall: merges the workers' attempts in the order they were made

    def _rows(self, cleared: float) -> list[Any]:
        with self._lock:
            held = list(self._entries)
        return [[at, resets, entry[0], _attempt(*entry).as_dict()] for entry, (at, resets) in held]


def _attempt(organisation: str, event: str, event_id: str, seq: int, endpoint: Endpoint, attempt: int, due: int,
             status: int | None, error: str | None, latency_ms: float, outcome: str, next_at: int | None) -> Attempt:
    return Attempt(organisation=organisation, event=event, event_id=event_id, seq=seq, endpoint=endpoint.id,
                   url=endpoint.shown_url, attempt=attempt, due_at=iso(due), status=status, error=error,
                   latency_ms=latency_ms, outcome=outcome,
                   next_attempt_at=iso(next_at) if next_at is not None else None)
