"""A served mock's delivery process (`--webhook-delivery process`): none before the first delivery, one once
webhooks are posted, and gone with the server, whether it is stopped (Ctrl-C) or killed (`kill -9`)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from mock_server.webhooks.receiver import Receiver
from tests.api.support import API_KEY
from tests.cli.proc import Served, serving
from tests.webhooks.conftest import PID


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def delivering(server: Served, receiver: Receiver) -> int:
    """Make the server deliver one event; the delivery process's pid."""
    assert children(server.process.pid) == []  # no second interpreter before there is something to post
    answer = httpx.post(f"{server.root}/v3/loyalty/config/programs/{PID}/subscriptions",
                        headers={"api-key": API_KEY}, json={"contactId": 4242})
    assert answer.status_code == 200, answer.text
    assert receiver.wait_for("subscription_created", contact_id=4242)
    (courier,) = children(server.process.pid)
    assert "courier_main" in Path(f"/proc/{courier}/cmdline").read_text()
    return courier


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_the_delivery_process_goes_with_the_server(stop: signal.Signals) -> None:
    with Receiver() as receiver, serving("--contacts", "20", "--fixture", "widget-member",
                                         "--webhook", receiver.url) as server:
        courier = delivering(server, receiver)
        code = server.stop(stop)
        assert code == (0 if stop == signal.SIGINT else -signal.SIGKILL)
        try:
            assert gone_within(courier, 10), f"the delivery process {courier} outlived its server"
        finally:
            if alive(courier):
                os.kill(courier, signal.SIGKILL)
