"""Rate-limit accounting, on a fake clock."""

from mock_server.ratelimit import RateLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_counts_per_key_and_refuses_past_the_limit():
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert [limiter.hit("a").remaining for _ in range(2)] == [1, 0]
    assert limiter.hit("a").exceeded
    assert not limiter.hit("b").exceeded  # another key has its own budget


def test_window_resets_after_an_hour():
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)
    limiter.hit("a")
    clock.now += 1800
    state = limiter.hit("a")
    assert state.exceeded and state.reset_seconds == 1800
    clock.now += 1800
    assert not limiter.hit("a").exceeded


def test_without_a_limit_headers_are_sent_but_nothing_is_refused():
    limiter = RateLimiter(None)
    states = [limiter.hit("a") for _ in range(700)]
    assert states[-1].limit == 600 and states[-1].remaining == 0
    assert not any(state.exceeded for state in states)
