"""Run a mock server on a free loopback port inside the current process.

Used by this project's tests, and the base of the ``brevo_mock`` pytest
fixture offered to users. The server runs uvicorn in a background thread, on
a socket bound to 127.0.0.1 port 0 before start-up (so the port is known and
free), and stops when the context exits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import uvicorn

from mock_server import ast_guard
from mock_server.app import build_worlds, create_app
from mock_server.durable import StateError
from mock_server.fixtures import fixture_file
from mock_server.journal import JournalEntry
from mock_server.server import listen, uvicorn_options
from mock_server.settings import Settings
from mock_server.state import MockState
from mock_server.testclock import MockClock
from mock_server.webhooks.endpoints import make_endpoint
from mock_server.webhooks.receiver import Receiver

START_TIMEOUT_SECONDS = 30.0


@dataclass
class RunningMock:
    """A live mock: where it listens, its key, and handles on its state."""

    base_url: str  # ends in /v3: what an official client takes as base_url
    root_url: str  # scheme://host:port, for /__mock__/ endpoints
    api_key: str
    state: MockState
    # Where `load_fixture` reads a relative path from (the pytest plugin sets the root directory); None: the cwd.
    fixture_root: Path | None = None
    # The pytest plugin's webhook receiver, registered as an endpoint of every organisation (None: no receiver).
    receiver: Receiver | None = None

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        """The webhook payloads delivered to the plugin's receiver during this test, oldest first."""
        return self._receiver().events

    def wait_for_event(self, name: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """Wait for a webhook `name` whose payload fields equal `match` (e.g. ``contact_id=42``); its payload.

        Raises TimeoutError, listing what arrived, if none does within `timeout` seconds.
        """
        return self._receiver().wait_for(name, timeout=timeout, **match)

    def receive_webhooks(self) -> Receiver:
        """Start an in-process receiver on 127.0.0.1 and make it an endpoint of every organisation; stop it
        with `.stop()`. `webhooks` and `wait_for_event` read it."""
        receiver = Receiver(path="/brevo-mock-plugin").start()
        for organisation in self.state.settings.organisations:
            self.state.webhooks.add(organisation, make_endpoint(receiver.url))
        self.receiver = receiver
        return receiver

    def _receiver(self) -> Receiver:
        if self.receiver is None:
            raise RuntimeError("this mock has no webhook receiver (the brevo_mock fixture starts one unless "
                               "brevo_mock_webhooks = false)")
        return self.receiver

    @property
    def world(self) -> dict[str, Any]:
        """The seeded ids of the default organisation (what GET /__mock__/world answers)."""
        organisation = self.state.settings.api_keys[0].organisation
        return self.state.worlds[organisation].summary()

    @property
    def requests(self) -> list[JournalEntry]:
        """Every request received so far, oldest first, with its contract violations."""
        return self.state.journal.entries()

    @property
    def violations(self) -> list[str]:
        return [violation for entry in self.requests for violation in entry.violations]

    @property
    def clock(self) -> MockClock:
        """The default organisation's clock (``.now()``, ``.advance(days=30)``, ``.set(datetime)``; ``.of(key)``
        for another organisation's), moved through ``/__mock__/clock`` like any client would."""
        return MockClock(self.root_url, self.api_key)

    def reset(self) -> None:
        """Back to the seeded world (every organisation), with an empty journal and fresh rate-limit counts."""
        self.state.reset()

    def load_fixture(self, path: str | Path) -> None:
        """Rebuild the world with one more fixture layered on it (same seed); changes made so far are dropped.

        `path` is a fixture file (relative: from `fixture_root`, the pytest root directory under the
        ``brevo_mock`` fixture), or the name of a fixture shipped with the mock (``widget-member``).
        The new worlds replace the old ones in one step, so a request the server is answering
        meanwhile sees either the old world or the new one, never a half-built one.
        """
        if self.state.recorder.durable:  # the log's writes were made on the worlds a restart seeds, not these
            raise StateError("load_fixture cannot be combined with a state file (--state): start a mock with the "
                             "fixture instead")
        found = fixture_file(path, base=self.fixture_root)
        settings = replace(self.state.settings, fixtures=(*self.state.settings.fixtures, found))
        worlds = build_worlds(settings)
        self.state.settings = settings
        self.state.backends.replace_worlds(worlds)


@contextmanager
def running_mock(settings: Settings | None = None) -> Iterator[RunningMock]:
    settings = settings or Settings(access_log=False)
    sock = listen("127.0.0.1", 0)  # TCP_NODELAY-friendly, see server.listen
    port = sock.getsockname()[1]
    settings = replace(settings, host="127.0.0.1", port=port)
    app = create_app(settings)
    # The server `serve` runs (protocol, limits, headers), without access log lines in the tests' output.
    config = uvicorn.Config(app, **uvicorn_options(replace(settings, access_log=False)))
    server = uvicorn.Server(config)
    ast_guard.install()  # the server thread and the test may both parse (cpython#106905)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"brevo-loyalty-mock:{port}")
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the mock server did not start")
        time.sleep(0.01)
    root = f"http://127.0.0.1:{port}"
    try:
        yield RunningMock(f"{root}/v3", root, settings.default_key, app.state.mock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
