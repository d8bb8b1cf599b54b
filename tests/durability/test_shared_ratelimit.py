"""The rate-limit counts of `serve --workers N`: every worker's requests count against one limit per key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.durable import shared_ratelimit
from mock_server.durable.shared_ratelimit import SharedRateLimiter
from mock_server.settings import RateLimit


def _workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rate: RateLimit) -> list[SharedRateLimiter]:
    """Two limiters on one directory, as two worker processes (each names its table by its pid)."""
    made = []
    for pid in (4001, 4002):
        monkeypatch.setattr(shared_ratelimit.os, "getpid", lambda pid=pid: pid)
        made.append(SharedRateLimiter(rate, tmp_path))
    return made


def test_requests_through_either_worker_count_against_one_limit(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_ratelimit.time, "monotonic", lambda: 5000.0)  # a machine-independent moment
    first, second = _workers(tmp_path, monkeypatch, RateLimit(5, "minute"))
    states = [(first if n % 2 else second).hit("key-a") for n in range(7)]
    assert [state.remaining for state in states] == [4, 3, 2, 1, 0, 0, 0]
    assert [state.exceeded for state in states] == [False] * 5 + [True] * 2
    assert first.hit("key-b").remaining == 4  # counted per key
    assert {state.reset_seconds for state in states} == {60}  # one window, opened by the first request


def test_a_reset_through_one_worker_gives_every_worker_fresh_counts(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _workers(tmp_path, monkeypatch, RateLimit(3, "hour"))
    for limiter in (first, second, first):
        limiter.hit("key-a")
    assert second.hit("key-a").exceeded
    first.reset()
    assert second.hit("key-a").remaining == 2
    assert first.hit("key-a").remaining == 1


def test_a_window_over_is_over_for_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(shared_ratelimit.time, "monotonic", lambda: now[0])
    first, second = _workers(tmp_path, monkeypatch, RateLimit(2, "second"))
    first.hit("key-a")
    assert second.hit("key-a").remaining == 0
    now[0] += 1.5
    assert second.hit("key-a").remaining == 1
    assert first.hit("key-a").remaining == 0


def test_an_entry_taken_by_another_key_is_not_counted_as_the_first_keys(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Tables of two entries, so that a third key takes the entry whose window started first.
    monkeypatch.setattr(shared_ratelimit, "SLOTS", 2)
    monkeypatch.setattr(shared_ratelimit, "PROBES", 2)
    now = [1000.0]
    monkeypatch.setattr(shared_ratelimit.time, "monotonic", lambda: now[0])
    first, second = _workers(tmp_path, monkeypatch, RateLimit(100, "hour"))
    first.hit("key-a")
    assert second.hit("key-a").remaining == 98  # the second worker has found key-a's entry in the first's table
    for key in ("key-b", "key-c"):
        now[0] += 1
        first.hit(key)
    first.hit("key-c")  # key-c now holds the entry that was key-a's, with two requests
    # key-a's count on the first worker restarted (never a refusal too soon); key-c's requests are not key-a's.
    assert second.hit("key-a").remaining == 98
