"""Per-organisation state and every transition of it (see docs/writes.md).

    Backends  organisation -> Backend, created on first use
    Backend   one organisation's world (a copy-on-write fork of the seeded one), clock, ids, reset
    KeyWorlds the worlds of `--world-per-key`, one per key, forked from the default organisation's
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping

from mock_server.backend.clock import ClockMode
from mock_server.backend.events import ClockListener, Event, Listener
from mock_server.backend.keyworlds import KeyWorld, KeyWorlds, WallClock
from mock_server.backend.state import Backend
from mock_server.keynames import PER_KEY_ORGANISATION
from mock_server.store.world import World

__all__ = ["Backend", "Backends", "ClockListener", "Event", "KeyWorld", "KeyWorlds", "Listener"]


class Backends(Mapping[str, Backend]):
    """The organisations' backends, each made from its seeded world the first time it is asked for.

    `replace_worlds` swaps every seeded world at once (a fixture loaded in a test): a
    request being answered meanwhile finishes on the backend it started with, and the
    next one sees the new worlds; no reader ever sees a half-filled mapping.

    With `per_key_base` (``--world-per-key``), an organisation named like a per-key world
    (``key-`` and 16 hex digits, `mock_server.keynames.key_organisation`) is made on first use
    as a fork of `per_key_base`'s seeded world (`key_worlds`); such organisations are not
    listed by iteration, which names the configured ones.
    """

    def __init__(self, worlds: Mapping[str, World], clock_mode: ClockMode = "fixed", *,
                 per_key_base: str | None = None, idle_timeout: float | None = None,
                 wall_clock: WallClock = time.time) -> None:
        self.clock_mode: ClockMode = clock_mode
        self._worlds = dict(worlds)
        self._backends: dict[str, Backend] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []  # shared by every backend, made now or later
        self._clock_listeners: list[ClockListener] = []
        self._reset_listeners: list[Callable[[str | None], None]] = []
        if per_key_base is not None and per_key_base not in self._worlds:
            raise ValueError(f"per-key worlds fork organisation {per_key_base!r}, which has no world")
        self.key_worlds = (None if per_key_base is None
                           else KeyWorlds(per_key_base, self._lock, idle_timeout, wall_clock))

    def on_events(self, listener: Listener) -> None:
        """Call `listener(organisation, events)` with the events of every accepted write, in any organisation."""
        self._listeners.append(listener)

    def on_clock(self, listener: ClockListener) -> None:
        """Call `listener(organisation, now)` whenever an organisation's clock is moved (`Backend.clock_moved`)."""
        self._clock_listeners.append(listener)

    def on_reset(self, listener: Callable[[str | None], None]) -> None:
        """Call `listener(organisation)` after every reset (None: of every organisation), however it came: an
        admin call, a replayed log, another worker's reset read from the shared log."""
        self._reset_listeners.append(listener)

    def catch_up(self) -> None:
        """Apply the changes other processes made since this one last looked (`serve --workers N`: the shared log,
        which a request applies first anyway); one process has none. For work that waits on the loop without a
        request (webhook retries due on a clock another worker moves)."""

    def __getitem__(self, organisation: str) -> Backend:
        found = self._backends.get(organisation)
        if found is not None:
            return found
        if self.key_worlds is not None and organisation not in self._worlds:
            return self._key_backend(organisation)
        with self._lock:
            found = self._backends.get(organisation)
            if found is None:
                # Read under the lock, so a backend is never made from worlds being replaced.
                world = self._worlds[organisation]  # KeyError for an unknown organisation, as a Mapping should
                found = Backend(world, self.clock_mode, self._listeners, self._clock_listeners)
                self._backends = {**self._backends, organisation: found}
            return found

    def _key_backend(self, organisation: str) -> Backend:
        assert self.key_worlds is not None
        found = self.key_worlds.get(organisation)
        if found is not None:
            return found
        if not PER_KEY_ORGANISATION.fullmatch(organisation):
            raise KeyError(organisation)
        with self._lock:  # the base read under the lock, as for a seeded backend
            return self.key_worlds.make(organisation, self._fork_for_key)

    def _fork_for_key(self, organisation: str) -> Backend:
        assert self.key_worlds is not None
        base = self._worlds[self.key_worlds.base_organisation].fork(organisation=organisation)
        return Backend(base, self.clock_mode, self._listeners, self._clock_listeners)

    def __contains__(self, organisation: object) -> bool:
        """A configured organisation, or a live per-key world (asking never makes one, unlike `[]`)."""
        if organisation in self._worlds:
            return True
        return (self.key_worlds is not None and isinstance(organisation, str)
                and self.key_worlds.find(organisation) is not None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._worlds)

    def __len__(self) -> int:
        return len(self._worlds)

    @property
    def worlds(self) -> Mapping[str, World]:
        """The seeded worlds (what a reset returns to)."""
        return self._worlds

    def replace_worlds(self, worlds: Mapping[str, World]) -> None:
        """New seeded worlds for every organisation; their changes start from nothing."""
        with self._lock:
            self._backends, self._worlds = {}, dict(worlds)
            if self.key_worlds is not None:
                self.key_worlds.clear()  # they forked the old base: each key starts again from the new one

    def reset(self, organisation: str | None = None) -> None:
        """Drop the changes of one organisation, or of all (every per-key world is dropped then)."""
        if organisation is None and self.key_worlds is not None:
            with self._lock:
                self.key_worlds.clear()
        if organisation is not None and self.key_worlds is not None and organisation not in self._worlds:
            self.key_worlds.reset(organisation)
        else:
            for name in (self._worlds if organisation is None else (organisation,)):
                backend = self._backends.get(name)
                if backend is not None:
                    backend.reset()
        for listener in self._reset_listeners:
            listener(organisation)
