"""The in-process receiver (the pytest plugin's `brevo_mock.webhooks`): what it records, and in which order."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from mock_server.webhooks.receiver import Receiver


def test_posts_are_recorded_as_they_arrive_even_while_an_answer_holds_one() -> None:
    arrived, release = threading.Event(), threading.Event()

    def answer(payload: dict[str, Any]) -> int:
        if payload["n"] == 1:  # a slow handler on the first post only
            arrived.set()
            release.wait(10)
        return 200

    with Receiver(answer=answer) as receiver:
        first = threading.Thread(target=httpx.post, args=(receiver.url,), kwargs={"json": {"n": 1}, "timeout": 10})
        first.start()
        try:
            assert arrived.wait(10)
            # A second connection, as after a lane is dropped: answered at once while the first is held.
            assert httpx.post(receiver.url, json={"n": 2}, timeout=10).status_code == 200
            assert [payload["n"] for payload in receiver.events] == [1, 2]
        finally:
            release.set()
            first.join(10)
        assert [payload["n"] for payload in receiver.events] == [1, 2]
