"""Limits on what a client may send, enforced before a request reaches the app.

uvicorn's C parser (httptools, picked because it is installed) takes request
heads of any size: a 10 MB header is buffered and handed to the app, and a
connection that sends half a request line is kept forever. The mock runs in
CI next to buggy clients, so it bounds both, and answers what it refuses with
Brevo's error body (``{"code", "message"}``), then closes the connection:

| what                                   | limit          | answer |
| -------------------------------------- | -------------- | ------ |
| request target (path and query string) | 8,192 bytes    | 414    |
| request line and headers together      | 16,384 bytes   | 431    |
| header fields                          | 100            | 431    |
| time to receive a request's head       | 10 s           | 408    |
| a head that is not HTTP/1.x            | (parser)       | 400    |

A connection that sends nothing is closed after uvicorn's keep-alive timeout
(5 s), as an idle keep-alive connection is. Request bodies are never read by
the API (it has no operation that takes one): uvicorn buffers at most 64 KiB
of one before it stops reading, and discards the rest once the answer is sent.

`LimitedHttpToolsProtocol` is uvicorn's httptools protocol with these checks
(`mock_server.direct` extends it); `mock_server.fence.http_protocol` picks the
one to pass as ``http=`` once the uvicorn members both use are known to exist.
docs/limits.md lists every limit of the mock, these and the app's own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_TARGET_BYTES = 8 * 1024
MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100
HEAD_TIMEOUT_SECONDS = 10.0
# After a refusal the answer is sent and our side of the connection shut; what the client
# still sends is read and dropped for a while (at most this long, this much), so that a
# client busy sending an oversized head gets to read the answer instead of a reset.
LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the refusal is kept on the protocol."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing oversized or slow request heads with Brevo's error body."""

    head_timeout: float = HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False  # a request head has begun and is not complete yet
        self._head_bytes = 0
        self._head_in_one_chunk = True  # the current head began in the chunk being parsed
        self._chunk_bytes = 0  # bytes of the chunk being parsed
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None
        self._lingering: asyncio.TimerHandle | None = None
        self._dropped = 0
        self._dropping = False

    # -- connection ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A connection that never sends a byte is closed like an idle keep-alive one.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if self._lingering is not None:
            self._lingering.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own data_received, with the parser's reason kept in the 400 and the limits checked.
        if self._dropping:
            return
        if self._lingering is not None:  # refused: drop what comes, up to a point
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        self._unset_keepalive_if_required()
        continuing = self._in_head
        self._chunk_bytes = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserCallbackError as error:
            refusal = self._refusal or (400, f"Malformed HTTP request: {error.__context__ or error}")
            self._refuse(*refusal)
            return
        except httptools.HttpParserError as error:
            self._refuse(400, f"Malformed HTTP request: {error}")
            return
        if self._in_head:  # the head goes on in the next chunk: bound what is buffered meanwhile
            self._head_in_one_chunk = False
            if self._head_timer is None:
                # Armed here rather than when the head begins: a head that comes whole in one chunk,
                # as nearly all do, never needs it (a timer per request costs throughput).
                self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)
            if continuing:
                self._head_bytes += len(data)
            else:  # the head began in this chunk: count what was parsed of it
                self._head_bytes = self._parsed_head_bytes()
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, _head_too_large())
            elif len(self.headers) > MAX_HEADERS:
                self._refuse(431, _too_many_headers())

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_in_one_chunk = True
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            self._refusal = (414, f"Request target too long: more than {MAX_TARGET_BYTES} bytes of path and "
                                  "query string (the mock's limit, see docs/limits.md)")
            raise _Refused()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        if len(self.headers) > MAX_HEADERS:
            self._refusal = (431, _too_many_headers())
            raise _Refused()
        # A head that came whole in one chunk is no longer than the chunk: count it only past that.
        if (not self._head_in_one_chunk or self._chunk_bytes > MAX_HEAD_BYTES) and (
                self._parsed_head_bytes() > MAX_HEAD_BYTES):
            self._refusal = (431, _head_too_large())
            raise _Refused()
        self.start_request()

    def start_request(self) -> None:
        """Hand a complete, accepted head on: uvicorn's own step, which starts the ASGI app."""
        super().on_headers_complete()

    # -- refusing ------------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:  # uvicorn's plain-text 400, as Brevo's error body
        self._refuse(400, f"Malformed HTTP request: {msg}")

    def _parsed_head_bytes(self) -> int:
        # The request line and header lines as sent, give or take the method and version.
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, f"Request head not received within {self.head_timeout:g} s")

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` with Brevo's error body and close the connection (after a short linger)."""
        self._in_head = False
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        self.logger.warning("Refused a request from %s: %d %s", _client(self.client), status, message)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:
                # An answer is on its way (to an earlier request, or this one's head): let it finish,
                # then close; whatever the client sends meanwhile is dropped.
                cycle.keep_alive = False
                self._dropping = True
                return
            cycle.disconnected = True  # the app has not answered yet: its answer is dropped, ours goes out
        body = orjson.dumps({"code": "bad_request", "message": message})
        # Looked up here, not imported: the module must import on any uvicorn (see mock_server.fence).
        content = [httptools_impl.STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            body,
        ])
        self.transport.write(b"".join(content))
        self._unset_keepalive_if_required()
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self._lingering = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def _head_too_large() -> str:
    return (f"Request headers too large: more than {MAX_HEAD_BYTES} bytes of request line and headers "
            "(the mock's limit, see docs/limits.md)")


def _too_many_headers() -> str:
    return f"Too many request headers: more than {MAX_HEADERS} (the mock's limit, see docs/limits.md)"


def _client(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "a client"
