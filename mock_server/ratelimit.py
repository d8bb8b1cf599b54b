"""Brevo's rate-limit headers, and the optional 429 past the limit.

Brevo counts Loyalty requests per hour and per account (api-limits). The mock
counts per API key in fixed windows that start at a key's first request: an
hour by default, or a minute or a second (``--rate-limit 10/minute``), so that
a test can watch a client back off without waiting an hour. The headers are
the same whatever the window; ``x-sib-ratelimit-reset`` is the seconds left in
the key's current window. With no limit set (the default) it still counts and
sends the headers against Brevo's smallest plan (600/hour), but never refuses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

from mock_server.settings import DEFAULT_RATE_LIMIT_PER_HOUR, RateLimit

DEFAULT_RATE = RateLimit(DEFAULT_RATE_LIMIT_PER_HOUR, "hour")


class RateState(NamedTuple):  # a NamedTuple, not a frozen dataclass: one per request, cheaper to make
    limit: int
    remaining: int
    reset_seconds: int
    exceeded: bool

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-sib-ratelimit-limit", str(self.limit).encode()),
            (b"x-sib-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-sib-ratelimit-reset", str(self.reset_seconds).encode()),
        ]


class RateLimiter:
    def __init__(self, rate: RateLimit | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.enforced = rate is not None
        self.rate = rate if rate is not None else DEFAULT_RATE
        self.limit = self.rate.requests
        self.window = self.rate.window  # "hour", "minute" or "second": what a 429's message names
        self._seconds = float(self.rate.seconds)
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, requests)

    def hit(self, key: str) -> RateState:
        """Count one request for `key` and say where it stands."""
        now = self._clock()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self._seconds:
            start, used = now, 0
        used += 1
        self._windows[key] = (start, used)
        reset = max(1, math.ceil(start + self._seconds - now))
        return RateState(self.limit, max(0, self.limit - used), reset, self.enforced and used > self.limit)

    def peek(self) -> RateState:
        """Headers for a request that is not counted (no valid key)."""
        return RateState(self.limit, self.limit, int(self._seconds), False)

    def reset(self, key: str | None = None) -> None:
        """Fresh counts for one key, or for every key."""
        if key is None:
            self._windows.clear()
        else:
            self._windows.pop(key, None)
