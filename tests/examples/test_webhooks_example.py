"""examples/webhooks/receiver.py, run as a user runs it: a purchase through the mock ends in "Welcome to Gold"."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.testing import running_mock
from tests.api.support import widget_settings

ROOT = Path(__file__).resolve().parents[2]
RECEIVER = ROOT / "examples" / "webhooks" / "receiver.py"
PURCHASE = ROOT / "examples" / "python" / "purchase_flow.py"


class Lines:
    """The receiver's output, line by line, as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(process,), daemon=True).start()

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.put(line.rstrip("\n"))

    def until(self, wanted: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no line with {wanted!r} within {timeout} s; got {self.seen}") from None
            self.seen.append(line)
            if wanted in line:
                return line


@pytest.fixture
def receiver() -> Iterator[tuple[str, Lines]]:
    process = subprocess.Popen([sys.executable, str(RECEIVER), "--port", "0"], stdout=subprocess.PIPE, text=True,
                               encoding="utf-8")
    try:
        lines = Lines(process)
        url = lines.until("listening on ").split("listening on ")[1]
        yield url, lines
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_purchase_through_the_mock_welcomes_the_member_to_gold(receiver: tuple[str, Lines]) -> None:
    url, lines = receiver
    with running_mock(widget_settings(webhooks=(url,))) as mock:
        done = subprocess.run([sys.executable, str(PURCHASE), "--base-url", mock.base_url], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert lines.until("Welcome to Gold") == "Welcome to Gold, contact 67890!"
    names = [line.split()[0] for line in lines.seen[1:-1]]  # after "listening on", before the welcome
    assert names[0] == "subscription_created"
    assert names.count("balance_value_updated") == 2  # the two orders
    assert names[-1] == "tier_association_updated"  # Silver -> Gold, right after the second order's balance
