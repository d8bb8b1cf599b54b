"""`Clock.reach`: at least a moment, read once (a real clock that ran past it meanwhile is no move back)."""

from __future__ import annotations

import time

import pytest

from mock_server.backend.clock import Clock


def test_a_real_clock_that_ran_past_the_moment_is_left_running() -> None:
    clock = Clock(0, "real")
    moment = clock.now()
    time.sleep(0.003)  # the wall clock runs on, as it does while a move's timeline works
    with pytest.raises(ValueError, match="never goes back"):
        clock.move_to(moment)  # the strict move judges it a move back
    clock.reach(moment)  # the timeline's "at least": no error, no jump back
    assert clock.now() >= moment + 3


def test_reach_moves_a_clock_ahead_and_never_back() -> None:
    clock = Clock(1_000, "fixed")
    clock.reach(5_000)
    assert clock.now() == 5_000
    clock.reach(2_000)
    assert clock.now() == 5_000
    real = Clock(0, "real")
    ahead = real.now() + 86_400_000
    real.reach(ahead)
    assert ahead <= real.now() < ahead + 1_000  # and it keeps running from there
