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

    __slots__ = ("_listeners", "_muted", "_pending", "organisation", "seq")

    def __init__(self, organisation: str, listeners: Sequence[Listener] = ()) -> None:
        self.organisation = organisation
        self.seq = 0
        # (name, at, program id, contact id, objects, kept even if the write is refused)
        self._pending: list[tuple[str, int, str | None, int | None, dict[str, Any], bool]] = []
        self._listeners = listeners
        self._muted = False

    @property
    def listening(self) -> bool:
        """Whether anyone listens (no listener: emitters may skip building an event at all)."""
        return bool(self._listeners)

    def emit(self, name: str, at: int, program_id: str | None, contact_id: int | None, **objects: Any) -> None:
        self._pending.append((name, at, program_id, contact_id, objects, False))

    def emit_refusal(self, name: str, at: int, program_id: str | None, contact_id: int | None,
                     **objects: Any) -> None:
        """An event about the refusal itself (voucher_redeem_unauthorized): delivered when the write is refused."""
        self._pending.append((name, at, program_id, contact_id, objects, True))

    def discard(self) -> None:
        """The write was refused: its events never happened, except those that report the refusal."""
        kept = [pending for pending in self._pending if pending[5]]
        self._pending.clear()
        if kept:
            self._pending.extend(kept)
            self.commit()

    def commit(self) -> list[Event]:
        """The write was accepted: number its events and hand them to the listeners."""
        if not self._pending:
            return []
        batch = []
        for name, at, program_id, contact_id, objects, _kept in self._pending:
            self.seq += 1
            batch.append(Event(self.seq, name, at, self.organisation, program_id, contact_id, objects))
        self._pending.clear()
        if not self._muted:
            for listener in self._listeners:
                listener(self.organisation, batch)
        return batch

    def reset(self) -> None:
        self.seq = 0
        self._pending.clear()

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Events built and numbered as usual but handed to no listener (a change replayed: they went out the
        first time). `listening` stays as it is, so a replay numbers the events as the first run did and the
        events that follow it get the numbers (and webhook `event_id`s) they would have had."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False
