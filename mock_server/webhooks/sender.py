"""One delivery attempt: an HTTP POST of JSON to an endpoint, with the standard library's client.

A worker keeps one connection per endpoint open between attempts (loopback receivers answer in
microseconds; a new connection per event would cost more than the event). What comes back decides
what happens next, as Brevo's retry rules say (docs/webhooks.md):

    2xx                                  delivered
    429, a timeout, no connection        retried on the schedule
    any other status (3xx, 4xx, 5xx)     discarded, no retry
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from mock_server.webhooks.endpoints import Endpoint

DELIVERED, RETRY, DISCARDED = "delivered", "retry", "discarded"


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: str  # DELIVERED | RETRY | DISCARDED
    status: int | None  # the receiver's HTTP status, None when it gave none
    error: str | None  # "timeout", "connection refused" ... when there was no status
    latency_ms: float


def verdict_of(status: int) -> str:
    if 200 <= status < 300:
        return DELIVERED
    return RETRY if status == 429 else DISCARDED


class Sender:
    """Posts to one endpoint over a kept-alive connection (one thread uses it)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        parts = urlsplit(endpoint.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> Outcome:
        started = time.perf_counter()
        try:
            status = self._exchange(body)
        except TimeoutError:
            return self._failed("timeout", started)
        except ConnectionRefusedError:
            return self._failed("connection refused", started)
        except (OSError, http.client.HTTPException) as error:
            return self._failed(f"connection failed: {type(error).__name__}", started)
        return Outcome(verdict_of(status), status, None, _ms(started))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _exchange(self, body: bytes) -> int:
        reused = self._connection is not None
        try:
            return self._send(body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
            return self._send(body)  # the kept connection was closed by the receiver: a fresh one, once

    def _send(self, body: bytes) -> int:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self.endpoint.timeout)
        connection = self._connection
        try:
            connection.putrequest("POST", self._target, skip_accept_encoding=True)
            for name, value in self.endpoint.request_headers:
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            response.read()  # drain, so the connection can carry the next event
            if response.will_close:
                self.close()
            return response.status
        except BaseException:
            self.close()
            raise

    def _failed(self, error: str, started: float) -> Outcome:
        self.close()
        return Outcome(RETRY, None, error, _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


__all__ = ["DELIVERED", "DISCARDED", "RETRY", "Outcome", "Sender"]
