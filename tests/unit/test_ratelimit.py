"""Rate-limit accounting, on a fake clock."""

import pytest

from mock_server.ratelimit import RateLimiter
from mock_server.settings import RateLimit


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_counts_per_key_and_refuses_past_the_limit():
    clock = Clock()
    limiter = RateLimiter(RateLimit(2), clock=clock)
    assert [limiter.hit("a").remaining for _ in range(2)] == [1, 0]
    assert limiter.hit("a").exceeded
    assert not limiter.hit("b").exceeded  # another key has its own budget


def test_window_resets_after_an_hour():
    clock = Clock()
    limiter = RateLimiter(RateLimit(1), clock=clock)
    limiter.hit("a")
    clock.now += 1800
    state = limiter.hit("a")
    assert state.exceeded and state.reset_seconds == 1800
    clock.now += 1800
    assert not limiter.hit("a").exceeded


@pytest.mark.parametrize(("window", "seconds"), [("minute", 60), ("second", 1)])
def test_a_minute_or_second_window_refuses_and_resets_on_its_own_scale(window: str, seconds: int):
    # A test of a client's back-off: refused within the window, told when to retry, served after it.
    clock = Clock()
    limiter = RateLimiter(RateLimit(2, window), clock=clock)
    first = limiter.hit("a")
    assert (first.limit, first.remaining, first.reset_seconds) == (2, 1, seconds)
    clock.now += seconds / 4
    limiter.hit("a")
    refused = limiter.hit("a")
    assert refused.exceeded and refused.remaining == 0
    assert refused.reset_seconds == max(1, round(seconds * 3 / 4))  # whole seconds left, at least 1
    clock.now += seconds * 3 / 4
    again = limiter.hit("a")
    assert not again.exceeded and again.remaining == 1 and again.reset_seconds == seconds
    assert limiter.peek().reset_seconds == seconds  # an uncounted request reports a whole window


def test_without_a_limit_headers_are_sent_but_nothing_is_refused():
    limiter = RateLimiter(None)
    states = [limiter.hit("a") for _ in range(700)]
    assert states[-1].limit == 600 and states[-1].remaining == 0
    assert not any(state.exceeded for state in states)
