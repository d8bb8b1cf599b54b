"""One delivery attempt: an HTTP POST of JSON to an endpoint, with the standard library's client.

A worker keeps one connection per endpoint open between attempts (loopback receivers answer in
microseconds; a new connection per event would cost more than the event). What comes back decides
what happens next, as Brevo's retry rules say (docs/webhooks.md):

    2xx                                  delivered
    429, a timeout, no connection        retried on the schedule
    any other status (3xx, 4xx, 5xx)     discarded, no retry
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import NamedTuple
from urllib.parse import urlsplit

from mock_server.webhooks.endpoints import Endpoint

DELIVERED, RETRY, DISCARDED = "delivered", "retry", "discarded"


class Outcome(NamedTuple):  # made once per attempt on the server: a tuple is the cheapest record to build
    verdict: str  # DELIVERED | RETRY | DISCARDED
    status: int | None  # the receiver's HTTP status, None when it gave none
    error: str | None  # "timeout", "connection refused" ... when there was no status
    latency_ms: float


def verdict_of(status: int) -> str:
    if 200 <= status < 300:
        return DELIVERED
    return RETRY if status == 429 else DISCARDED


def failure_reason(error: Exception) -> str:
    """How an attempt that got no answer is journaled (a timeout and a refused connection are retried)."""
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return f"connection failed: {type(error).__name__}"


def request_head(endpoint: Endpoint) -> tuple[bool, str, int, bytes]:
    """(https, host, port, the request's head up to its Content-Length value) of a POST to `endpoint`."""
    parts = urlsplit(endpoint.url)
    https = parts.scheme == "https"
    hostname = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = port == (443 if https else 80)
    host = hostname if ":" not in hostname else f"[{hostname}]"
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}" + ("" if default_port else f":{port}"),
             *(f"{name}: {value}" for name, value in endpoint.request_headers)]
    return https, hostname, port, ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")


class Sender:
    """Posts to one endpoint over a kept-alive connection (one thread uses it).

    A small HTTP/1.1 client on a socket rather than `http.client`: the request head is built once, and
    reading an answer costs a few string operations instead of an email-header parser. A delivery runs
    in the mock's own process, so its cost is taken from the API's (docs/webhooks.md, the benchmark row).
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._https, self._host, self._port, self._head = request_head(endpoint)
        self._socket: socket.socket | None = None
        self._buffer = b""

    def post(self, body: bytes) -> Outcome:
        started = time.perf_counter()
        try:
            status = self._exchange(body, started + self.endpoint.timeout)
        except (OSError, ValueError) as error:  # TimeoutError and ConnectionRefusedError are OSErrors
            return self._failed(failure_reason(error), started)
        return Outcome(verdict_of(status), status, None, _ms(started))

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._buffer = b""

    def _exchange(self, body: bytes, deadline: float) -> int:
        reused = self._socket is not None
        try:
            return self._send(body, deadline)
        except (_Closed, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise ConnectionResetError("the receiver closed the connection without an answer") from None
            return self._send(body, deadline)  # the kept connection was closed by the receiver: a fresh one, once

    def _connect(self, deadline: float) -> socket.socket:
        sock = socket.create_connection((self._host, self._port), timeout=_left(deadline))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._https:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._host)
        return sock

    def _send(self, body: bytes, deadline: float) -> int:
        if self._socket is None:
            self._socket = self._connect(deadline)
        sock = self._socket
        sock.settimeout(_left(deadline))
        sock.sendall(self._head + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = self._read_until(b"\r\n\r\n", deadline)
        status_line, _, header_text = head.partition(b"\r\n")
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ValueError("not an HTTP answer")
        status = int(parts[1])
        headers = {}
        for line in header_text.split(b"\r\n"):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        keep = parts[0] == b"HTTP/1.1" and headers.get(b"connection") != b"close"
        if b"content-length" in headers:
            self._read_exactly(int(headers[b"content-length"]), deadline)
        elif headers.get(b"transfer-encoding", b"").endswith(b"chunked"):
            self._read_chunked(deadline)
        elif status not in (204, 304) and not 100 <= status < 200:
            self._read_to_end(deadline)  # the body ends with the connection
            keep = False
        if not keep:
            self.close()
        return status

    def _fill(self, deadline: float) -> None:
        assert self._socket is not None
        self._socket.settimeout(_left(deadline))
        data = self._socket.recv(65536)
        if not data:
            raise _Closed()
        self._buffer += data

    def _read_until(self, marker: bytes, deadline: float) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > 65536:
                raise ValueError("answer head too large")
            self._fill(deadline)
        found, self._buffer = self._buffer[:end], self._buffer[end + len(marker):]
        return found

    def _read_exactly(self, size: int, deadline: float) -> None:
        while len(self._buffer) < size:
            self._fill(deadline)
        self._buffer = self._buffer[size:]

    def _read_chunked(self, deadline: float) -> None:
        while True:
            size = int(self._read_until(b"\r\n", deadline).split(b";")[0], 16)
            self._read_exactly(size, deadline)
            self._read_until(b"\r\n", deadline)
            if size == 0:
                return

    def _read_to_end(self, deadline: float) -> None:
        try:
            while True:
                self._fill(deadline)
                self._buffer = b""
        except _Closed:
            pass

    def _failed(self, error: str, started: float) -> Outcome:
        self.close()
        return Outcome(RETRY, None, error, _ms(started))


class _Closed(ConnectionError):
    """The receiver closed the connection."""


def _left(deadline: float) -> float:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise TimeoutError()
    return left


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


__all__ = ["DELIVERED", "DISCARDED", "RETRY", "Outcome", "Sender"]
