"""The time an organisation's backend lives in.

Every timestamp a write sets (createdAt, completedAt, a voucher's validity ...) is
read from the backend's clock, never from the wall clock, so that the same seed and
the same request sequence give the same bytes.

- ``fixed`` (the default): a logical clock. It starts at the world's reference time
  and moves on by one `TICK` for each accepted write, so two writes never share a
  moment and their order shows in their timestamps.
- ``real``: the wall clock (milliseconds), for a mock left running as a long-lived
  sandbox. Never earlier than the reference time, and never backwards.

Either clock is moved on by `move_to` (``POST /__mock__/clock``, through
`Backend.advance_clock`): the logical clock jumps there; the real one keeps running
from there, the wall clock plus an offset.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from mock_server.store.models import SECOND

ClockMode = Literal["fixed", "real"]
CLOCK_MODES: tuple[ClockMode, ...] = ("fixed", "real")
TICK = SECOND  # how far the logical clock moves per accepted write


class Clock:
    __slots__ = ("_held", "_now", "mode", "offset", "start")

    def __init__(self, start: int, mode: ClockMode = "fixed") -> None:
        if mode not in CLOCK_MODES:
            raise ValueError(f"clock mode must be one of {', '.join(CLOCK_MODES)}, got {mode!r}")
        self.start = start
        self.mode = mode
        self._now = start
        self.offset = 0  # real mode: how far the clock was moved ahead of the wall clock (ms)
        self._held = False  # inside `held()`: the wall clock is not read

    def now(self) -> int:
        """The current moment, in epoch milliseconds."""
        if self.mode == "real" and not self._held:
            self._now = max(self._now, int(time.time() * 1000) + self.offset)
        return self._now

    def tick(self) -> int:
        """The moment of a write being accepted now: the clock moves on first (by `TICK` when logical)."""
        if self.mode == "fixed":
            self._now += TICK
            return self._now
        return self.now()

    def move_to(self, moment: int) -> None:
        """Jump ahead to `moment` (never back: a ValueError); a real clock keeps running from there."""
        current = self.now()
        if moment < current:
            raise ValueError(f"the clock never goes back: {moment} is before {current}")
        if self.mode == "real":
            self.offset = moment - int(time.time() * 1000)
        self._now = moment

    def reach(self, moment: int) -> None:
        """Make the clock at least `moment`: a move ahead, or nothing when it is there already.

        One reading of the clock: a real clock that ran past `moment` while the caller worked (a
        millisecond is enough) is not a move back, as `move_to` would judge a second reading.
        """
        if moment <= self.now():
            return
        if self.mode == "real":
            self.offset = moment - int(time.time() * 1000)
        self._now = moment

    def reset(self) -> None:
        self._now = self.start
        self.offset = 0

    def snapshot(self) -> tuple[int, int]:
        """What `restore` needs to undo the moves of a refused write."""
        return self._now, self.offset

    def restore(self, snapshot: tuple[int, int]) -> None:
        self._now, self.offset = snapshot

    def rewind(self, moment: int) -> None:
        """Undo the ticks of a write that was refused after it took its moment."""
        self._now = moment

    @contextmanager
    def held(self, moment: int) -> Iterator[None]:
        """The real clock stands at `moment` (or later, never backwards) for one write.

        With ``--state`` a write on the real clock is recorded with its moment and replayed under
        it, so that the timestamps it set come back the same (mock_server/durable/).
        """
        self._now = max(self._now, moment)
        self._held = True
        try:
            yield
        finally:
            self._held = False
