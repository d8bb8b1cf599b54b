"""Per-organisation state and every transition of it (see docs/writes.md).

    Backends  organisation -> Backend, created on first use
    Backend   one organisation's world (a copy-on-write fork of the seeded one), clock, ids, reset
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from mock_server.backend.clock import ClockMode
from mock_server.backend.events import ClockListener, Event, Listener
from mock_server.backend.state import Backend
from mock_server.store.world import World

__all__ = ["Backend", "Backends", "ClockListener", "Event", "Listener"]


class Backends(Mapping[str, Backend]):
    """The organisations' backends, each made from its seeded world the first time it is asked for.

    `replace_worlds` swaps every seeded world at once (a fixture loaded in a test): a
    request being answered meanwhile finishes on the backend it started with, and the
    next one sees the new worlds; no reader ever sees a half-filled mapping.
    """

    def __init__(self, worlds: Mapping[str, World], clock_mode: ClockMode = "fixed") -> None:
        self.clock_mode: ClockMode = clock_mode
        self._worlds = dict(worlds)
        self._backends: dict[str, Backend] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []  # shared by every backend, made now or later
        self._clock_listeners: list[ClockListener] = []

    def on_events(self, listener: Listener) -> None:
        """Call `listener(organisation, events)` with the events of every accepted write, in any organisation."""
        self._listeners.append(listener)

    def on_clock(self, listener: ClockListener) -> None:
        """Call `listener(organisation, now)` whenever an organisation's clock is moved (`Backend.clock_moved`)."""
        self._clock_listeners.append(listener)

    def __getitem__(self, organisation: str) -> Backend:
        found = self._backends.get(organisation)
        if found is not None:
            return found
        with self._lock:
            found = self._backends.get(organisation)
            if found is None:
                # Read under the lock, so a backend is never made from worlds being replaced.
                world = self._worlds[organisation]  # KeyError for an unknown organisation, as a Mapping should
                found = Backend(world, self.clock_mode, self._listeners, self._clock_listeners)
                self._backends = {**self._backends, organisation: found}
            return found

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

    def reset(self, organisation: str | None = None) -> None:
        """Drop the changes of one organisation, or of all."""
        for name in (self._worlds if organisation is None else (organisation,)):
            backend = self._backends.get(name)
            if backend is not None:
                backend.reset()
