"""Every delivery attempt, newest last: what `GET /__mock__/webhooks/deliveries` and the browser page show."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

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
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, organisation: str | None = None) -> list[Attempt]:
        with self._lock:
            kept = [entry for entry in self._entries if organisation is None or entry[0] == organisation]
        return [_attempt(*entry) for entry in kept]

    def clear(self, organisation: str | None = None) -> None:
        with self._lock:
            if organisation is None:
                self._entries.clear()
            else:
                kept = [entry for entry in self._entries if entry[0] != organisation]
                self._entries.clear()
                self._entries.extend(kept)


def _attempt(organisation: str, event: str, event_id: str, seq: int, endpoint: Endpoint, attempt: int, due: int,
             status: int | None, error: str | None, latency_ms: float, outcome: str, next_at: int | None) -> Attempt:
    return Attempt(organisation=organisation, event=event, event_id=event_id, seq=seq, endpoint=endpoint.id,
                   url=endpoint.shown_url, attempt=attempt, due_at=iso(due), status=status, error=error,
                   latency_ms=latency_ms, outcome=outcome,
                   next_attempt_at=iso(next_at) if next_at is not None else None)
