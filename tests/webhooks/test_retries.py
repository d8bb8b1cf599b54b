"""Brevo's retry rules, on the organisation's clock: 429, timeouts and refused connections are retried
10 min, 1 h, 2 h and 8 h after the previous attempt (5 attempts in all); any other 4xx or 5xx is not."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from mock_server.store.models import HOUR, MINUTE
from mock_server.testing import RunningMock
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import add_endpoint, advance, deliveries, enrol

SETTLE = 0.3  # seconds given to a delivery that must NOT happen


def held_until(release: threading.Event, seconds: float):
    """A receiver's answer that hangs until `release` is set (at most `seconds`), then says 200."""
    def answer(payload: dict) -> int:
        release.wait(seconds)
        return 200

    return answer


def attempts_after(api: httpx.Client, expected: int, settle: bool = False) -> list[dict]:
    """The journal with exactly `expected` attempts (`settle`: and still so a moment later)."""
    found = deliveries(api, expected)
    if settle:
        time.sleep(SETTLE)
        found = api.get("/__mock__/webhooks/deliveries").json()["deliveries"]
    assert len(found) == expected, [(entry["attempt"], entry["outcome"]) for entry in found]
    return found


def test_a_429_is_retried_exactly_on_the_schedule(mock: RunningMock, api: httpx.Client) -> None:
    with Receiver(answer=lambda payload: 429) as receiver:
        add_endpoint(api, receiver.url, events=["subscription_created"])
        enrol(api, 801)
        first = attempts_after(api, 1)[0]
        assert (first["attempt"], first["status"], first["outcome"]) == (1, 429, "retry_scheduled")
        # Brevo's table: 10:00, 10:10, 11:10, 13:10, 21:10 (each increment after the previous attempt).
        for step, (wait, attempt) in enumerate([(10 * MINUTE, 2), (HOUR, 3), (2 * HOUR, 4), (8 * HOUR, 5)]):
            advance(mock, wait - MINUTE)
            attempts_after(api, attempt - 1, settle=True)  # a minute early: nothing
            advance(mock, MINUTE)
            entry = attempts_after(api, attempt)[-1]
            assert entry["attempt"] == attempt, step
            assert entry["due_at"] == attempts_after(api, attempt)[-2]["next_attempt_at"]
        assert attempts_after(api, 5)[-1]["outcome"] == "gave_up"
        assert attempts_after(api, 5)[-1]["next_attempt_at"] is None
        advance(mock, 48 * HOUR)
        attempts_after(api, 5, settle=True)  # nothing more
        payloads = receiver.events
        assert len(payloads) == 5 and len({p["event_id"] for p in payloads}) == 1  # the same event each time


def test_the_schedule_counts_from_the_original_attempt(mock: RunningMock, api: httpx.Client) -> None:
    with Receiver(answer=lambda payload: 429) as receiver:
        add_endpoint(api, receiver.url, events=["subscription_created"])
        enrol(api, 802)
        first = attempts_after(api, 1)[0]
        advance(mock, 24 * HOUR)  # past every retry at once: they all go, in order
        found = attempts_after(api, 5)
        assert [entry["attempt"] for entry in found] == [1, 2, 3, 4, 5]
        offsets = ["00:10:01", "01:10:01", "03:10:01", "11:10:01"]  # enrolment at 00:00:01 on the fixed clock
        assert first["due_at"].endswith("T00:00:01.000Z")
        assert [entry["due_at"][11:19] for entry in found[1:]] == offsets
        assert len(receiver.events) == 5


def test_a_timeout_is_retried(mock: RunningMock, api: httpx.Client) -> None:
    release = threading.Event()
    with Receiver(answer=held_until(release, 2)) as receiver:
        add_endpoint(api, receiver.url, events=["subscription_created"], timeout=0.2)
        enrol(api, 803)
        first = attempts_after(api, 1)[0]
        assert (first["status"], first["error"], first["outcome"]) == (None, "timeout", "retry_scheduled")
        release.set()
        advance(mock, 10 * MINUTE)
        second = attempts_after(api, 2)[-1]
        assert (second["attempt"], second["status"], second["outcome"]) == (2, 200, "delivered")
        assert receiver.events[-1]["event_id"] == receiver.events[0]["event_id"]


def test_a_refused_connection_is_retried(mock: RunningMock, api: httpx.Client) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        add_endpoint(api, f"http://127.0.0.1:{port}/hooks", events=["subscription_created"])
        enrol(api, 804)
        first = attempts_after(api, 1)[0]
        assert (first["error"], first["outcome"]) == ("connection refused", "retry_scheduled")


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_another_4xx_or_a_5xx_gets_one_attempt(mock: RunningMock, api: httpx.Client, status: int) -> None:
    with Receiver(answer=lambda payload: status) as receiver:
        add_endpoint(api, receiver.url, events=["subscription_created"])
        enrol(api, 805)
        first = attempts_after(api, 1)[0]
        assert (first["status"], first["outcome"], first["next_attempt_at"]) == (status, "discarded", None)
        advance(mock, 24 * HOUR)
        attempts_after(api, 1, settle=True)
        assert len(receiver.events) == 1


def test_a_hanging_receiver_does_not_slow_the_api(mock: RunningMock, api: httpx.Client) -> None:
    release = threading.Event()
    with Receiver(answer=held_until(release, 10)) as receiver:
        add_endpoint(api, receiver.url)  # every event, each held for up to the 5 s timeout
        started = time.perf_counter()
        for contact in range(810, 840):
            enrol(api, contact)
        elapsed = time.perf_counter() - started
        release.set()
        assert elapsed < 2.0, f"30 enrolments took {elapsed:.2f} s with a receiver that hangs"
        receiver.wait_count(1)


def test_a_reset_drops_pending_retries(mock: RunningMock, api: httpx.Client) -> None:
    with Receiver(answer=lambda payload: 429) as receiver:
        add_endpoint(api, receiver.url, events=["subscription_created"])
        enrol(api, 806)
        attempts_after(api, 1)
        api.post("/__mock__/reset", headers={"X-Brevo-Mock": "1"})
        advance(mock, 24 * HOUR)
        attempts_after(api, 0, settle=True)
        assert len(receiver.events) == 1


def test_a_reset_from_the_log_drops_pending_retries_too(mock: RunningMock, api: httpx.Client) -> None:
    """With workers, another worker's reset reaches this one as a record of the shared log, not as an admin call."""
    with Receiver(answer=lambda payload: 429) as receiver:
        add_endpoint(api, receiver.url, events=["subscription_created"])
        enrol(api, 807)
        attempts_after(api, 1)
        assert api.get("/__mock__/webhooks").json()["pending"]["retries"] == 1
        mock.state.backends.reset("default")  # what applying a reset record does
        assert api.get("/__mock__/webhooks").json()["pending"]["retries"] == 0
        attempts_after(api, 0)
        advance(mock, 24 * HOUR)
        time.sleep(SETTLE)
        assert len(receiver.events) == 1


def test_a_full_backlog_drops_events_and_says_so_in_the_log(mock: RunningMock, api: httpx.Client,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("mock_server.webhooks.dispatcher.MAX_BACKLOG", 4)
    release = threading.Event()
    with caplog.at_level("WARNING", logger="brevo_loyalty_mock"), Receiver(answer=held_until(release, 10)) as receiver:
        hook = add_endpoint(api, receiver.url, events=["subscription_created"])["id"]
        for contact in range(850, 860):  # 10 events: 4 wait (one of them under way), 6 are dropped
            enrol(api, contact)
        deadline = time.monotonic() + 5
        while (pending := api.get("/__mock__/webhooks").json()["pending"])["dropped"] < 6:
            assert time.monotonic() < deadline, pending  # events are queued after their write's answer
            time.sleep(0.02)
        assert (pending["queued"], pending["dropped"]) == (4, 6)
        full = [record.getMessage() for record in caplog.records if "are dropped" in record.getMessage()]
        assert full == [f"webhooks: 4 deliveries wait for endpoint {hook} (organisation default): later events are "
                        "dropped until it catches up, counted in pending.dropped at GET /__mock__/webhooks"]
        release.set()
        receiver.wait_count(4)
        deadline = time.monotonic() + 5
        while not any("catching up" in record.getMessage() for record in caplog.records):
            assert time.monotonic() < deadline, "no catching-up line in the log"
            time.sleep(0.02)
        assert [record.getMessage() for record in caplog.records if "catching up" in record.getMessage()] == [
            f"webhooks: endpoint {hook} (organisation default) is catching up; 6 events were dropped"]
