"""The worlds of ``--world-per-key``: one per key, made on first use, dropped when idle.

Each is a `Backend` whose seeded world is a fork of the default organisation's
(`World.fork`): the programs, members and fixtures are shared with it, and only
what the key's writes change is its own. That is what keeps a thousand of them
cheap, and a new one quick to make (no seeding).

Last use and eviction are measured on the wall clock. That is resource management,
not API data: no answer depends on it, so the determinism rule (never the wall
clock in an answer) is kept. The clock is a parameter, so that tests move it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mock_server.backend.state import Backend

WallClock = Callable[[], float]
SWEEP_EVERY_SECONDS = 1.0  # at most how often a request looks for idle worlds (a sweep visits every world)


@dataclass(slots=True)
class KeyWorld:
    organisation: str
    backend: Backend
    created_at: float  # wall-clock seconds
    last_used: float  # wall-clock seconds: the start of the key's latest request


class KeyWorlds:
    """The live per-key worlds, by organisation name (`mock_server.keynames.key_organisation`).

    Lookups take no lock (a dict read); making, dropping and resetting worlds
    happen under the lock given (the one `Backends` makes seeded backends under).
    """

    def __init__(self, base_organisation: str, lock: threading.Lock, idle_timeout: float | None = None,
                 clock: WallClock = time.time) -> None:
        self.base_organisation = base_organisation  # whose seeded world every per-key world is forked from
        self.idle_timeout = idle_timeout  # seconds; None: never dropped
        self.clock = clock
        self.evicted = 0  # worlds dropped for idleness since start
        self._lock = lock
        self._live: dict[str, KeyWorld] = {}
        self._next_sweep = 0.0

    def get(self, organisation: str) -> Backend | None:
        """The key's live backend, now marked as used; None if it has none (never made, evicted or reset)."""
        found = self._live.get(organisation)
        if found is None:
            return None
        found.last_used = now = self.clock()
        if self.idle_timeout is not None and now >= self._next_sweep:
            with self._lock:
                self._sweep(now)
        return found.backend

    def make(self, organisation: str, factory: Callable[[str], Backend]) -> Backend:
        """The key's backend, made by `factory(organisation)` if it has none (call under the lock)."""
        now = self.clock()
        found = self._live.get(organisation)
        if found is None:
            found = KeyWorld(organisation, factory(organisation), now, now)
            self._live[organisation] = found
        found.last_used = now
        if self.idle_timeout is not None and now >= self._next_sweep:
            self._sweep(now)
        return found.backend

    def live(self) -> list[KeyWorld]:
        """The worlds not dropped yet, by organisation name (idle ones are dropped first)."""
        with self._lock:
            if self.idle_timeout is not None:
                self._sweep(self.clock())
            return sorted(self._live.values(), key=lambda world: world.organisation)

    def find(self, organisation: str) -> KeyWorld | None:
        """A live world, without marking it used (for the admin pages)."""
        return self._live.get(organisation)

    def reset(self, organisation: str) -> None:
        """The key's world back to the seeded one (nothing to do if it has none yet)."""
        found = self._live.get(organisation)
        if found is not None:
            found.backend.reset()

    def clear(self) -> None:
        """Drop every per-key world (call under the lock): each key starts again from the seeded world."""
        self._live = {}

    def __len__(self) -> int:
        return len(self._live)

    def _sweep(self, now: float) -> None:
        assert self.idle_timeout is not None
        self._next_sweep = now + min(SWEEP_EVERY_SECONDS, self.idle_timeout / 2)
        idle = {name for name, world in self._live.items() if now - world.last_used > self.idle_timeout}
        if idle:
            # A new dict rather than deletions: a lookup meanwhile reads the old one or the new one, whole.
            self._live = {name: world for name, world in self._live.items() if name not in idle}
            self.evicted += len(idle)
