"""The time an organisation's backend lives in.

Every timestamp a write sets (createdAt, completedAt, a voucher's validity ...) is
read from the backend's clock, never from the wall clock, so that the same seed and
the same request sequence give the same bytes.

- ``fixed`` (the default): a logical clock. It starts at the world's reference time
  and moves on by one `TICK` for each accepted write, so two writes never share a
  moment and their order shows in their timestamps.
- ``real``: the wall clock (milliseconds), for a mock left running as a long-lived
  sandbox. Never earlier than the reference time, and never backwards.
"""

from __future__ import annotations

import time
from typing import Literal

from mock_server.store.models import SECOND

ClockMode = Literal["fixed", "real"]
CLOCK_MODES: tuple[ClockMode, ...] = ("fixed", "real")
TICK = SECOND  # how far the logical clock moves per accepted write


class Clock:
    __slots__ = ("_now", "mode", "start")

    def __init__(self, start: int, mode: ClockMode = "fixed") -> None:
        if mode not in CLOCK_MODES:
            raise ValueError(f"clock mode must be one of {', '.join(CLOCK_MODES)}, got {mode!r}")
        self.start = start
        self.mode = mode
        self._now = start

    def now(self) -> int:
        """The current moment, in epoch milliseconds."""
        if self.mode == "real":
            self._now = max(self._now, int(time.time() * 1000))
        return self._now

    def tick(self) -> int:
        """The moment of a write being accepted now: the clock moves on first (by `TICK` when logical)."""
        if self.mode == "fixed":
            self._now += TICK
            return self._now
        return self.now()

    def reset(self) -> None:
        self._now = self.start

    def rewind(self, moment: int) -> None:
        """Undo the ticks of a write that was refused after it took its moment."""
        self._now = moment
