"""A small webhook receiver on 127.0.0.1, in the current process: the pytest plugin's, and the tests'.

It records every JSON payload posted to it (with the request's headers) and answers what
`answer(payload)` says (default 200). `wait_for(name, timeout=..., **match)` blocks until an event
of that name whose payload fields equal `match` (``contact_id=42``, ``loyalty_program={"id": ...}``
compares the sub-fields given) has arrived, and returns its payload.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

Answer = Callable[[dict[str, Any]], int]


@dataclass(frozen=True)
class Received:
    payload: dict[str, Any]
    headers: dict[str, str]
    path: str


def matches(payload: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
    """Every field of `match` equals the payload's (a mapping compares only the keys it names)."""
    for key, wanted in match.items():
        got = payload.get(key)
        if isinstance(wanted, Mapping):
            if not isinstance(got, Mapping) or not matches(got, wanted):
                return False
        elif got != wanted:
            return False
    return True


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A sender that goes away (the mock stopping, its delivery process ended) resets its kept-alive
        # connection: not worth a traceback in the user's test output. Anything else still prints one.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Receiver:
    """``with Receiver() as receiver: ... receiver.url ...``"""

    def __init__(self, answer: Answer | None = None, path: str = "/webhooks") -> None:
        self.answer: Answer = answer or (lambda payload: 200)
        self.path = path
        self._received: list[Received] = []
        self._changed = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the mock's sender expects

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    payload = {"_invalid_json": raw.decode("utf-8", "replace")}
                # Recorded as it arrives, before the answer is chosen: an answer that holds the request
                # (a slow endpoint) must not let a later post, on another connection, be recorded first.
                owner._record(Received(payload, dict(self.headers.items()), self.path))
                status = owner.answer(payload) if isinstance(payload, dict) else 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests read `received`, not stderr

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="brevo-mock-webhook-receiver")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()

    @property
    def received(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every payload received, oldest first."""
        return [item.payload for item in self.received]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    def wait_for(self, name: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The first payload of event `name` matching `match`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self._received:
                    if item.payload.get("event_name") == name and matches(item.payload, match):
                        return item.payload
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [item.payload.get("event_name") for item in self._received]
                    raise TimeoutError(f"no {name} event matching {match or '{}'} within {timeout} s; "
                                       f"received: {seen or 'nothing'}")
                self._changed.wait(left)

    def wait_count(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least `count` payloads arrived; returns them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._received)} webhook(s) within {timeout} s, expected {count}")
                self._changed.wait(left)
            return [item.payload for item in self._received]
