"""`Backend`: one organisation's state, and the only way to change it.

A backend owns a fork of the organisation's seeded world (see `World.fork`), the
clock its writes read, the source of the ids they create, and the lock that
serialises them. The area services (`programs`, `balances`, `tiers`, `rewards`)
hold the rules of each part of the API and change the world only through the
helpers here, so that copy-on-write and atomicity are kept in one place.

Writing rule, for every write method of every service: check everything first
(raising the documented `ApiError`), then take the moment (`stamp()`), then build
the new records and commit them (`put_program`, `put_member` ...). A refused
write therefore leaves nothing behind, not even a clock tick or an id.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mock_server.backend.balances import Balances
from mock_server.backend.clock import Clock, ClockMode
from mock_server.backend.events import ClockListener, EventLog, Listener
from mock_server.backend.ids import IdSource
from mock_server.backend.programs import Programs
from mock_server.backend.rewards import Rewards
from mock_server.backend.tiers import Tiers
from mock_server.backend.timeline import Timeline
from mock_server.errors import UnknownResource
from mock_server.store.models import Member, iso
from mock_server.store.queries import norm_id
from mock_server.store.world import MemberTable, ProgramData, World


class Backend:
    """One organisation: its world as writes left it, its clock, its ids."""

    def __init__(self, base: World, clock_mode: ClockMode = "fixed", listeners: Sequence[Listener] = (),
                 clock_listeners: Sequence[ClockListener] = ()) -> None:
        self.organisation = base.organisation
        self.base = base
        self.world = base.fork()
        self.clock = Clock(base.reference_now, clock_mode)
        self.ids = IdSource(base.seed, base.organisation)
        self.lock = threading.RLock()
        self.events = EventLog(base.organisation, listeners)
        self._clock_listeners = clock_listeners
        self.writes = 0  # accepted writes since start or the last reset
        self._write = _Write(self)  # what `writing()` enters: one per backend, re-entered by each write
        # The member tables this fork copied and may change (by identity: never the base's).
        self._owned_tables: set[MemberTable] = set()
        self.balances = Balances(self)
        self.programs = Programs(self)
        self.tiers = Tiers(self)
        self.rewards = Rewards(self)
        self.timeline = Timeline(self)  # what the clock drives when moved on (advance_clock)

    def reset(self) -> None:
        """Back to the seeded world (with its fixtures): drops every change, reseeds nothing."""
        with self.lock:
            self.world = self.base.fork()
            self.clock.reset()
            self.ids.reset()
            self.writes = 0
            self.events.reset()
            self._owned_tables.clear()

    # ----------------------------------------------------------------- writing

    def writing(self) -> _Write:
        """One write, serialised with the others; the clock and ids roll back if it is refused."""
        return self._write

    def stamp(self) -> int:
        """The moment of the write being accepted (call once, after every check passed)."""
        return self.clock.tick()

    @property
    def listening(self) -> bool:
        """Whether events go anywhere: when not, emitters skip working out what to emit."""
        return self.events.listening

    def emit(self, name: str, program_id: str | None, contact_id: int | None = None, **objects: Any) -> None:
        """An event this write causes, at the write's moment (delivered only if the write is accepted)."""
        if self.events.listening:  # nobody listens: an event costs this check and nothing more
            self.events.emit(name, self.clock.now(), program_id, contact_id, **objects)

    def emit_refusal(self, name: str, program_id: str | None, contact_id: int | None = None, **objects: Any) -> None:
        """An event reporting that this write is refused (delivered although the write changes nothing)."""
        if self.events.listening:
            self.events.emit_refusal(name, self.clock.now(), program_id, contact_id, **objects)

    def clock_moved(self) -> None:
        """Tell the clock listeners (e.g. webhook retries due at a moment) the organisation's time moved on."""
        now = self.clock.now()
        for listener in self._clock_listeners:
            listener(self.organisation, now)

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Changes that tell no listener: replaying the durable log, whose events went out when first made."""
        with self.lock, self.events.muted():
            clock_listeners, self._clock_listeners = self._clock_listeners, ()
            try:
                yield
            finally:
                self._clock_listeners = clock_listeners

    def advance_clock(self, to: int) -> int:
        """Move the clock on to `to` (epoch ms), running everything due meanwhile in time order (one write:
        refused, or failing, it changes nothing); returns how many due items ran.

        Every move of an organisation's time goes through here (``POST /__mock__/clock``), so that a log
        of accepted writes can replay it. Moving back is a ValueError (on the real clock, a moment the wall
        clock has passed since is a move to now).
        """
        with self.writing():
            now = self.clock.now()
            if to < now and self.clock.mode == "real":
                to = now  # the wall clock ran past it since it was asked for: a move to now
            if to < now:
                raise ValueError(f"the clock never goes back: {iso(to)} is before {iso(now)}")
            ran = self.timeline.run_until(to)
            self.clock.reach(to)  # checked above; a real clock may have run past `to` meanwhile
            # Reads judge what is usable now (e.g. a member's vouchers) on the world's clock.
            self.world.reference_now = max(self.world.reference_now, to)
        self.clock_moved()
        return ran

    def new_id(self) -> str:
        return self.ids.uuid()

    # ----------------------------------------------------------------- lookups

    def program(self, raw_id: str, param: str = "pid") -> ProgramData:
        """The program named by a path or body value, or the 404 naming `param`."""
        data = self.world.program(norm_id(str(raw_id)))
        if data is None:
            raise UnknownResource("Loyalty program", param, raw_id)
        return data

    def member(self, data: ProgramData, contact_id: int, param: str = "cid") -> Member:
        member = self.world.member(data, contact_id)
        if member is None:
            raise UnknownResource("Subscription of contact", param, contact_id)
        return member

    # ----------------------------------------------------------------- committing

    def put_program(self, data: ProgramData) -> None:
        """A new program, or a new revision of one (configuration changed)."""
        self.world.put_program(data)

    def edit_config(self, data: ProgramData, now: int, **parts: Any) -> ProgramData:
        """Commit a configuration change (definitions, limits, tiers, rewards ...) of a program.

        Brevo applies configuration at the next publish: a published program with a
        change pending is in state `draft` until it is published again.
        """
        changed = data.replace(program=data.program.after_config_change(now), **parts)
        self.world.put_program(changed)
        return changed

    def drop_program(self, program_id: str) -> None:
        self.world.drop_program(program_id)

    def writable(self, data: ProgramData) -> ProgramData:
        """The program with a member table this fork may change (copied from the base on first use)."""
        if data.members in self._owned_tables:
            return data
        table = data.members.copy()
        self._owned_tables.add(table)
        owned = data.replace(members=table)
        self.world.put_program(owned)
        return owned

    def put_member(self, data: ProgramData, member: Member) -> None:
        """A member as the write left it (`data` must come from `writable`)."""
        self.world.put_member(self._checked_writable(data), member)

    def add_member(self, data: ProgramData, member: Member) -> ProgramData:
        """A newly subscribed member; returns the program's new revision.

        A new row shifts every later position, so the member table is copied, changed and swapped
        in whole rather than changed in place: a read under way keeps the revision it started with
        and never sees a half-shifted table.
        """
        table = data.members.copy()
        subscription = member.subscription
        table.insert(subscription.contact_id, subscription.loyalty_subscription_id, subscription.created_at)
        changed = self._with_table(data, table)
        self.world.put_member(changed, member)
        return changed

    def remove_member(self, data: ProgramData, contact_id: int) -> ProgramData:
        """A member leaves; returns the program's new revision (the table is swapped, as in `add_member`)."""
        position = data.members.position(contact_id)
        if position is None:
            raise KeyError(f"contact {contact_id} is not a member of program {data.id}")
        table = data.members.copy()
        table.remove(position)
        changed = self._with_table(data, table)
        self.world.drop_member(changed, contact_id)
        return changed

    def _with_table(self, data: ProgramData, table: MemberTable) -> ProgramData:
        """`data` with `table` (owned from now on) in place of its member table, which is no longer changed."""
        self._owned_tables.discard(data.members)
        self._owned_tables.add(table)
        changed = data.replace(members=table)
        self.world.put_program(changed)
        return changed

    def _checked_writable(self, data: ProgramData) -> ProgramData:
        if data.members not in self._owned_tables:
            raise RuntimeError("change members through backend.writable(program) first")
        return data


class _Write:
    """`Backend.writing()`: a write, serialised by the backend's lock, that rolls the clock, the ids and its events
    back if it is refused. A write inside a write (e.g. a clock tick's own steps) is one unit with it.

    A class with `__enter__`/`__exit__` rather than a generator-based context manager: every write enters one,
    and this costs two plain calls. One object per backend serves every write: only the outermost write (depth 1,
    under the lock) saves and restores.
    """

    __slots__ = ("_backend", "_depth", "_issued", "_moment")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._depth = 0
        self._moment: tuple[int, int] | None = None
        self._issued = 0

    def __enter__(self) -> None:
        backend = self._backend
        backend.lock.acquire()
        if not self._depth:
            try:
                self._moment, self._issued = backend.clock.snapshot(), backend.ids.issued
            except BaseException:
                backend.lock.release()
                raise
        self._depth += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        backend = self._backend
        try:
            if self._depth > 1:
                return
            if kind is not None:
                assert self._moment is not None
                backend.clock.restore(self._moment)
                backend.ids.issued = self._issued
                backend.events.discard()
                return
            self._depth = 0  # the write is over: what its events' listeners do is a write of their own
            backend.writes += 1
            backend.events.commit()
        finally:
            if self._depth:  # 0 already after an accepted write (above)
                self._depth -= 1
            backend.lock.release()
