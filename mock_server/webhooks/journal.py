"""Every delivery attempt, newest last: what `GET /__mock__/webhooks/deliveries` and the browser page show."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


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


class DeliveryJournal:
    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[Attempt] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, attempt: Attempt) -> None:
        with self._lock:
            self._entries.append(attempt)

    def entries(self, organisation: str | None = None) -> list[Attempt]:
        with self._lock:
            return [entry for entry in self._entries if organisation is None or entry.organisation == organisation]

    def clear(self, organisation: str | None = None) -> None:
        with self._lock:
            if organisation is None:
                self._entries.clear()
            else:
                kept = [entry for entry in self._entries if entry.organisation != organisation]
                self._entries.clear()
                self._entries.extend(kept)
