"""The events an organisation's transitions cause, in the order they happened.

A write (or a clock tick) that changes the world calls `Backend.emit(...)` for each
documented Loyalty event it causes (`balance_value_updated`, `tier_association_updated`
...). Events are held back until the write is accepted: a refused write emits nothing,
like it changes nothing. Once accepted, the batch gets its sequence numbers and goes to
every listener (webhook delivery, the test plugin's receiver), which must not block: the
backend's lock is held while they run.

An event carries the records it is about (`objects`: e.g. `program`, `definition`,
`transaction`, `tier`, `member`), not a rendered payload: rendering a payload is the
webhook layer's job (mock_server/webhooks/), so that one event can be shown in several ways.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    seq: int  # 1, 2, 3 ... per organisation, since start or the last reset
    name: str  # a documented Loyalty webhook event name
    at: int  # the organisation's clock, epoch milliseconds
    organisation: str
    program_id: str | None
    contact_id: int | None
    objects: Mapping[str, Any]


Listener = Callable[[str, Sequence[Event]], None]  # (organisation, events of one accepted write)
ClockListener = Callable[[str, int], None]  # (organisation, its clock's new time in epoch ms)


class EventLog:
    """One organisation's events: those of the write under way, then the accepted ones, numbered."""

    __slots__ = ("_listeners", "_pending", "organisation", "seq")

    def __init__(self, organisation: str, listeners: Sequence[Listener] = ()) -> None:
        self.organisation = organisation
        self.seq = 0
        self._pending: list[tuple[str, int, str | None, int | None, dict[str, Any]]] = []
        self._listeners = listeners

    def emit(self, name: str, at: int, program_id: str | None, contact_id: int | None, **objects: Any) -> None:
        self._pending.append((name, at, program_id, contact_id, objects))

    def discard(self) -> None:
        """The write was refused: its events never happened."""
        self._pending.clear()

    def commit(self) -> list[Event]:
        """The write was accepted: number its events and hand them to the listeners."""
        if not self._pending:
            return []
        batch = []
        for name, at, program_id, contact_id, objects in self._pending:
            self.seq += 1
            batch.append(Event(self.seq, name, at, self.organisation, program_id, contact_id, objects))
        self._pending.clear()
        for listener in self._listeners:
            listener(self.organisation, batch)
        return batch

    def reset(self) -> None:
        self.seq = 0
        self._pending.clear()

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Events numbered as usual but handed to no listener (a change replayed: they went out the first time)."""
        listeners, self._listeners = self._listeners, ()
        try:
            yield
        finally:
            self._listeners = listeners
