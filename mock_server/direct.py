"""API reads answered by the HTTP protocol itself, without ASGI.

For every request uvicorn builds an ASGI scope, a request-response cycle, an
asyncio task, two `send` messages and their checks. For a read the mock answers
from memory, that machinery costs more than the answer: it is most of the time
a program read takes (docs/performance.md). `DirectHttpToolsProtocol` is the
server's httptools protocol (with the limits of `mock_server.limits`); for a
plain API read it calls the mock's pipeline synchronously, as soon as the
request is complete, and writes the answer to the socket in one piece.

A request is answered directly only when nothing that ASGI would do differently
can apply to it; everything else goes through uvicorn and Starlette as before:

- the app is the mock (`_MockApp`), reached through nothing but uvicorn's
  proxy-headers middleware, and a concurrency limit and a root path are off;
- the request is under the API's base path without an Origin header
  (`_MockApp.takes_directly`, the rule its own shortcut uses), without an
  `Expect`, a chunked body or an upgrade, and without the `X-Forwarded-*`
  headers that the proxy-headers middleware would read;
- a GET or HEAD comes without a body; a write (POST, PUT, PATCH, DELETE) comes
  with a `Content-Length` of at most `DIRECT_BODY_BYTES`, and a non-empty body
  only when the pipeline reads it (`_MockApp.reads_body`: an accepted key, an
  operation that takes a body). The body is gathered as the parser hands it
  over and the request answered once it is whole, as `read_body` would have
  it; a larger body (and the 413 past `MAX_BODY_BYTES`), or one the API answers
  without reading, goes through ASGI, which answers as soon as it can. A client
  that leaves before its body is whole gets nothing and changes nothing, as on
  the ASGI path;
- no earlier request of the connection is still being answered (pipelined
  requests keep their order) and the socket is not applying back-pressure.

The answer is the one the ASGI path gives, byte for byte: the same status
line, uvicorn's default headers (date), the pipeline's headers, and
`connection: close` when the connection is not kept alive; the access log
line, when uvicorn's access logger has somewhere to write, is uvicorn's too
(with ``--log-format json`` the app writes its JSON line, as for ASGI requests).
tests/hostile/test_direct_protocol.py compares the two paths on the whole
hostile-request corpus.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Protocol

import httptools
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import STATUS_LINE
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from mock_server.limits import LimitedHttpToolsProtocol

# Request headers that send the request the ASGI way: a chunked body, a 100-continue, or what uvicorn's
# proxy-headers middleware would read to change the client address. (CORS's Origin is the app's
# own rule: `_MockApp.takes_directly`.)
_NOT_DIRECT_HEADERS = frozenset({b"transfer-encoding", b"expect", b"x-forwarded-for", b"x-forwarded-proto"})
_READS = (b"GET", b"HEAD")
_WRITES = (b"POST", b"PUT", b"PATCH", b"DELETE")
# The largest body a write answered directly may have: uvicorn's own buffer before it pauses reading
# (a Loyalty body is a few hundred bytes). Larger ones go through ASGI, which reads at most MAX_BODY_BYTES.
DIRECT_BODY_BYTES = 64 * 1024

# A request to answer directly: method, raw path, path (percent-decoded), query string, HTTP version,
# and whether the connection is kept alive after it.
_Request = tuple[str, bytes, str, bytes, str, bool]


class DirectAnswers(Protocol):
    """What the protocol needs of the app: `_MockApp` has it."""

    def takes_directly(self, path: str, headers: list[tuple[bytes, bytes]]) -> bool: ...

    def reads_body(self, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]]) -> bool: ...

    def answer_directly(
        self, method: str, raw_path: bytes, path: str, query_string: bytes, headers: list[tuple[bytes, bytes]],
        client: tuple[str, int] | None = None, body: bytes = b"",
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]: ...


def direct_app(app: Any) -> DirectAnswers | None:
    """The mock under uvicorn's wrappers, or None when the app is another one or wrapped otherwise."""
    while isinstance(app, ProxyHeadersMiddleware):
        app = app.app
    return app if hasattr(app, "answer_directly") and hasattr(app, "takes_directly") else None


class DirectHttpToolsProtocol(LimitedHttpToolsProtocol):
    """uvicorn's httptools protocol (with the mock's limits), answering plain API reads itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        usable = self.limit_concurrency is None and not self.root_path
        self._mock = direct_app(self.app) if usable else None
        self._pending: _Request | None = None  # a direct request being received
        self._body: list[bytes] = []  # the pending request's body, as received so far
        self._answered = False  # a request of the chunk being parsed was answered directly

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._answered:
            self._answered = False
            self._wait_for_next_request()

    def start_request(self) -> None:
        request = self._direct_request() if self._mock is not None else None
        if request is None:
            super().start_request()
        else:
            self._pending = request

    def on_body(self, body: bytes) -> None:
        if self._pending is None:
            super().on_body(body)
        else:  # at most DIRECT_BODY_BYTES: the parser stops at the Content-Length the head declared
            self._body.append(body)

    def on_message_complete(self) -> None:
        request = self._pending
        if request is None:
            super().on_message_complete()
            return
        self._pending = None
        body = b"".join(self._body) if self._body else b""
        self._body = []
        if not self.transport.is_closing():  # sent behind a request that closed the connection: uvicorn runs none
            self._answer(*request, body)

    def _direct_request(self) -> _Request | None:
        """The request to answer directly, or None to hand it to uvicorn."""
        cycle = self.cycle
        if (cycle is not None and not cycle.response_complete) or self.pipeline or self.flow.write_paused:
            return None
        parser = self.parser
        method = parser.get_method()
        if (method not in _READS and method not in _WRITES) or parser.should_upgrade():
            return None
        headers = self.headers
        length = None
        for name, value in headers:
            if name in _NOT_DIRECT_HEADERS:
                return None
            if name == b"content-length":
                if length is not None or method in _READS or not value.isdigit():
                    return None  # a read with a body, or a length sent twice or unreadable: uvicorn's rules
                length = int(value)
                if length > DIRECT_BODY_BYTES:
                    return None
        parsed = httptools.parse_url(self.url)
        raw_path: bytes = parsed.path
        try:
            path = raw_path.decode("ascii")
        except UnicodeDecodeError:  # uvicorn refuses such a path: let it
            return None
        if "%" in path:
            path = urllib.parse.unquote(path)
        assert self._mock is not None
        if not self._mock.takes_directly(path, headers):
            return None
        if length and not self._mock.reads_body(method.decode(), raw_path, headers):
            return None  # answered from the head alone: through ASGI, which does not wait for the body
        query_string: bytes = parsed.query or b""
        if self.access_log and not query_string.isascii():
            return None  # uvicorn's access log line fails on such a query: let it handle that
        version = parser.get_http_version()
        keep_alive = version != "1.0" and parser.should_keep_alive()
        return method.decode(), raw_path, path, query_string, version, keep_alive

    def _answer(self, method: str, raw_path: bytes, path: str, query_string: bytes, version: str,
                keep_alive: bool, received: bytes = b"") -> None:
        assert self._mock is not None
        status, headers, body = self._mock.answer_directly(method, raw_path, path, query_string, self.headers,
                                                           self.client, received)
        if self.access_log:  # uvicorn's line, from uvicorn's helpers
            scope = {"client": self.client, "path": path, "query_string": query_string}
            self.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), method,  # type: ignore[arg-type]
                                    get_path_with_query_string(scope), version, status)  # type: ignore[arg-type]
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        for name, value in headers:
            content.extend([name, b": ", value, b"\r\n"])
        if not keep_alive:
            content.append(b"connection: close\r\n")
        content.append(b"\r\n")
        content.append(body)
        transport = self.transport
        if transport.is_closing():
            return
        transport.write(b"".join(content))
        self.server_state.total_requests += 1
        if keep_alive:
            self._answered = True
        else:
            transport.close()

    def _wait_for_next_request(self) -> None:
        """What uvicorn does once an answer is complete: arm the keep-alive timeout.

        Once per chunk rather than once per answer: several pipelined requests in
        one chunk need one timer, which the next chunk cancels anyway.
        """
        cycle = self.cycle
        if self.transport.is_closing() or (cycle is not None and not cycle.response_complete):
            return  # closed, or an ASGI answer is on its way: uvicorn arms the timer when it is done
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)
