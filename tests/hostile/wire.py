"""Send a corpus case as raw bytes: over a socket (what httpx would refuse to send), or in-process.

`over_socket` writes the request exactly as given and reads one HTTP/1.1 answer.
`in_process` builds the ASGI scope uvicorn's httptools protocol would build from
the same bytes (`httptools.parse_url`, percent-decoded `path`, untouched
`raw_path` and `query_string`) and calls the app directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httptools

from mock_server.settings import DEFAULT_API_KEY
from tests.hostile.corpus import Case

API_KEY = DEFAULT_API_KEY.encode()
TRACEBACK_MARKERS = (b"Traceback", b'File "', b".py\", line", b"site-packages")


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    closed: bool = False  # the server closed the connection after answering

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    def json(self) -> Any:
        return json.loads(self.body)


def request_headers(case: Case) -> list[tuple[bytes, bytes]]:
    headers = [(b"api-key", API_KEY)] if case.api_key else []
    return [*headers, *case.headers]


def request_bytes(case: Case, ids: dict[str, str]) -> bytes:
    lines = [case.method.encode() + b" " + case.request_target(ids) + b" HTTP/1.1", b"host: 127.0.0.1",
             b"connection: close"]
    lines += [name + b": " + value for name, value in request_headers(case)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + case.body


# --- over a socket -------------------------------------------------------------------------------

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})[^\r\n]*")


def over_socket(port: int, data: bytes, timeout: float = 10.0) -> Answer:
    """Send `data` on a new loopback connection and read one answer (the whole body, by its length)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # refused while still sending: the answer may be there to read all the same
        buffer = b""
        closed = False
        while b"\r\n\r\n" not in buffer:
            chunk = _recv(sock, deadline)
            if not chunk:
                raise AssertionError(f"connection closed before a complete answer head: {buffer[:200]!r}")
            buffer += chunk
        head, _, body = buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.split(b"\r\n")
        match = _STATUS_LINE.fullmatch(status_line)
        if match is None:
            raise AssertionError(f"not an HTTP/1.1 status line: {status_line!r}")
        headers = [tuple(part.strip() for part in line.split(b":", 1)) for line in header_lines]
        answer = Answer(int(match.group(1)), headers, b"")  # type: ignore[arg-type]
        length = answer.header(b"content-length")
        if length is None:
            raise AssertionError(f"answer without content-length: {head!r}")
        while len(body) < int(length):
            chunk = _recv(sock, deadline)
            if not chunk:
                raise AssertionError(f"body cut at {len(body)} of {int(length)} bytes")
            body += chunk
        answer.body = body[: int(length)]
        try:
            closed = _recv(sock, deadline) == b""
        except TimeoutError:
            closed = False
        answer.closed = closed
        return answer


def _recv(sock: socket.socket, deadline: float) -> bytes:
    sock.settimeout(max(0.05, deadline - time.monotonic()))
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


# --- in-process ----------------------------------------------------------------------------------

def scope_for(case: Case, ids: dict[str, str], client: tuple[str, int] = ("127.0.0.1", 50000)) -> dict[str, Any]:
    """The ASGI scope uvicorn's httptools protocol builds for the case's request."""
    target = case.request_target(ids)
    parsed = httptools.parse_url(target)
    raw_path = parsed.path
    path = raw_path.decode("ascii")
    if "%" in path:
        path = unquote(path)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8080),
        "client": client,
        "scheme": "http",
        "method": case.method,
        "root_path": "",
        "path": path,
        "raw_path": raw_path,
        "query_string": parsed.query or b"",
        "headers": [(b"host", b"127.0.0.1"), *((name.lower(), value) for name, value in request_headers(case))],
        "state": {},
    }


def in_process(app: Any, scope: dict[str, Any], body: bytes = b"") -> Answer:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(message for message in messages if message["type"] == "http.response.start")
    payload = b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body")
    return Answer(start["status"], list(start.get("headers", [])), payload)


# --- what every answer to a hostile request must be -------------------------------------------

def assert_error_answer(answer: Answer, case: Case) -> dict[str, str]:
    """Brevo's error body, the expected status and code, the problem named, nothing of the mock's insides."""
    label = f"{case.name}: {answer.status} {answer.body[:300]!r}"
    assert 400 <= answer.status < 500, label
    for marker in TRACEBACK_MARKERS:
        assert marker not in answer.body, label
    assert answer.status == case.status, label
    assert answer.header(b"content-type") == b"application/json", label
    document = answer.json()
    assert isinstance(document, dict) and set(document) == {"code", "message"}, label
    assert isinstance(document["code"], str) and isinstance(document["message"], str), label
    assert document["code"] == case.code, label
    for fragment in case.names:
        assert fragment in document["message"], f"{label}: the message does not name {fragment!r}"
    assert len(document["message"]) < 2000, f"{label}: the message quotes too much of the request"
    return document
