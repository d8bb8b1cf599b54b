"""A request budget for servers with a quota: count, pace, honour 429 and x-sib-ratelimit-*.

Brevo's smallest Loyalty plan allows 600 requests per hour per account. A
conformance run against the real API must stay inside it, whatever
schemathesis and hypothesis decide to send, so the budget sits at the one
place every request goes through: a `requests` transport adapter mounted on
each session of the run. It

- refuses anything but GET and HEAD when read-only (the real API must never see a write), except
  the writes its `write_guard` lets through (the write sequences' sandbox program, `writes.WriteScope`);
- stops the run once `max_requests` have been sent;
- spaces requests at least `min_interval` seconds apart;
- reads `x-sib-ratelimit-remaining` / `-reset` on every answer, and (when honouring them)
  waits for the window to reset once `remaining` falls to the reserve;
- on a 429, waits `x-sib-ratelimit-reset` (or `Retry-After`) seconds and retries, a few times.

The clock and sleep are injectable, so the logic is unit-tested without waiting.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter

READ_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_429_WAIT_SECONDS = 60.0  # a 429 that says nothing about when to come back
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


class BudgetExhausted(RuntimeError):
    """The run may not send another request (count spent, or the quota window is too far away)."""


class WriteRefused(RuntimeError):
    """A read-only run was about to send a write; it never leaves the process."""


def parse_rate(text: str) -> float:
    """``N/second``, ``N/minute`` or ``N/hour`` -> the minimum interval between requests, in seconds."""
    match = _RATE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"rate {text!r} is not of the form N/second, N/minute or N/hour (e.g. 600/hour)")
    return _UNIT_SECONDS[match.group(2)] / float(match.group(1))


@dataclass
class RequestBudget:
    max_requests: int | None = None  # None: no limit on the count
    min_interval: float = 0.0  # seconds between two requests
    # Wait for the window to reset once x-sib-ratelimit-remaining falls to `reserve`.
    # Off by default: our mock sends the headers without enforcing them.
    honour_remaining: bool = False
    reserve: int = 0  # leave this many requests of the server's window unused
    max_wait: float = 3600.0  # longest wait for a quota window before giving up
    max_retries: int = 3  # retries of one request answered 429
    read_only: bool = False
    # While set, decides every write instead of `read_only`: (method, url) -> why it is refused, or None.
    write_guard: Callable[[str, str], str | None] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    notify: Callable[[str], None] | None = None  # told of a wait for the server's window (the run's progress)

    sent: int = 0
    rate_limited: int = 0  # 429 answers received
    waited_seconds: float = 0.0
    stopped: str | None = None  # why no further request may go out
    _next_at: float = 0.0
    _blocked_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def remaining(self) -> int | None:
        return None if self.max_requests is None else max(0, self.max_requests - self.sent)

    def acquire(self, method: str, url: str = "") -> None:
        """Wait until one more request may be sent, and count it; raise if none may."""
        if method.upper() not in READ_METHODS:
            guard = self.write_guard
            if guard is not None:
                reason = guard(method.upper(), url)
                if reason is not None:
                    raise WriteRefused(f"{method.upper()} {url} refused: {reason}")
            elif self.read_only:
                raise WriteRefused(f"{method.upper()} refused: this run is read-only (GET and HEAD only)")
        with self._lock:
            if self.stopped:
                raise BudgetExhausted(self.stopped)
            if self.max_requests is not None and self.sent >= self.max_requests:
                self.stopped = f"request budget of {self.max_requests} spent"
                raise BudgetExhausted(self.stopped)
            now = self.clock()
            ready_at = max(self._next_at, self._blocked_until)
            if ready_at > now:
                delay = ready_at - now
                if delay > self.max_wait:
                    self.stopped = (f"the server's rate-limit window resets in {delay:.0f} s, "
                                    f"more than --max-wait {self.max_wait:.0f} s")
                    raise BudgetExhausted(self.stopped)
                if self.notify is not None and self._blocked_until > now and delay >= 1:
                    self.notify(f"waiting {delay:.0f} s for the server's rate-limit window "
                                f"(x-sib-ratelimit-reset; --reserve {self.reserve}, at most --max-wait "
                                f"{self.max_wait:.0f} s)")
                self.sleep(delay)
                self.waited_seconds += delay
                now = ready_at
            self._next_at = now + self.min_interval
            self.sent += 1

    def observe(self, status: int, headers: Mapping[str, str]) -> float | None:
        """Learn from an answer; for a 429, the seconds to wait before retrying it."""
        remaining = _int_header(headers, "x-sib-ratelimit-remaining")
        reset = _int_header(headers, "x-sib-ratelimit-reset")
        with self._lock:
            if status == 429:
                self.rate_limited += 1
                wait = reset if reset is not None else _retry_after(headers)
                wait = DEFAULT_429_WAIT_SECONDS if wait is None else float(wait)
                self._blocked_until = max(self._blocked_until, self.clock() + wait)
                return wait
            if self.honour_remaining and remaining is not None and reset is not None and remaining <= self.reserve:
                # Wait out the window rather than spend the account's last requests.
                self._blocked_until = max(self._blocked_until, self.clock() + reset)
        return None

    def summary(self) -> str:
        parts = [f"{self.sent} request(s) sent"]
        if self.max_requests is not None:
            parts.append(f"budget {self.max_requests}")
        if self.rate_limited:
            parts.append(f"{self.rate_limited} answered 429 and retried")
        if self.waited_seconds:
            parts.append(f"{self.waited_seconds:.0f} s spent waiting for the rate limit")
        return ", ".join(parts)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return max(0, int(str(value).strip()))
    except ValueError:
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the default wait


class BudgetAdapter(HTTPAdapter):
    """A transport adapter that sends through a `RequestBudget`, retrying 429s."""

    def __init__(self, budget: RequestBudget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        retries = 0
        while True:
            self.budget.acquire(request.method or "GET", request.url or "")
            response = super().send(request, *args, **kwargs)
            wait = self.budget.observe(response.status_code, response.headers)
            if wait is None or retries >= self.budget.max_retries or wait > self.budget.max_wait:
                return response
            retries += 1
            response.close()


def mount(session: requests.Session, budget: RequestBudget) -> requests.Session:
    adapter = BudgetAdapter(budget)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def budgeted_session(budget: RequestBudget) -> requests.Session:
    return mount(requests.Session(), budget)


@contextmanager
def budget_schemathesis(budget: RequestBudget) -> Iterator[None]:
    """Route every request of a schemathesis run through `budget`.

    The engine builds its `requests` sessions in one function; wrapping it is
    the only place that sees every request, including the extra ones checks
    send (auth probes). A schemathesis upgrade that moves it fails loudly here
    rather than running unbounded against a real quota.
    """
    from schemathesis.engine import context as engine_context

    original = getattr(engine_context, "make_session", None)
    if original is None:  # pragma: no cover - depends on the schemathesis version
        raise RuntimeError("this schemathesis version cannot be bounded by a request budget; pin schemathesis<5")

    def make_session(*args: Any, **kwargs: Any) -> requests.Session:
        return mount(original(*args, **kwargs), budget)

    engine_context.make_session = make_session
    try:
        yield
    finally:
        engine_context.make_session = original
