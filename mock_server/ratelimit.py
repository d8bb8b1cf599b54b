"""Brevo's rate-limit headers, and the optional 429 past the limit.

Brevo counts Loyalty requests per hour and per account (api-limits). The mock
counts per API key in fixed one-hour windows that start at a key's first
request. With no limit set (the default) it still counts and sends the
headers against Brevo's smallest plan (600/hour), but never refuses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

from mock_server.settings import DEFAULT_RATE_LIMIT_PER_HOUR

WINDOW_SECONDS = 3600.0


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
    def __init__(self, per_hour: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.enforced = per_hour is not None
        self.limit = per_hour if per_hour is not None else DEFAULT_RATE_LIMIT_PER_HOUR
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, requests)

    def hit(self, key: str) -> RateState:
        """Count one request for `key` and say where it stands."""
        now = self._clock()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= WINDOW_SECONDS:
            start, used = now, 0
        used += 1
        self._windows[key] = (start, used)
        reset = max(1, math.ceil(start + WINDOW_SECONDS - now))
        return RateState(self.limit, max(0, self.limit - used), reset, self.enforced and used > self.limit)

    def peek(self) -> RateState:
        """Headers for a request that is not counted (no valid key)."""
        return RateState(self.limit, self.limit, int(WINDOW_SECONDS), False)

    def reset(self) -> None:
        self._windows.clear()
