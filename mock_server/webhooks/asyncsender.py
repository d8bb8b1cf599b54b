"""One delivery attempt on the server's event loop: the mock's own deliveries (`Dispatcher`).

The same wire format and verdicts as `sender.Sender` (which `conformance-webhooks` uses from a plain
thread), as an asyncio protocol on a kept-alive connection: the answer is parsed as its bytes arrive
and one future per attempt wakes the lane. Streams (`open_connection`) cost twice the CPU per post in
futures and wake-ups, and every microsecond here is taken from the API (the benchmark's webhook row).
A receiver that hangs only keeps its own lane waiting, at most the endpoint's timeout.
"""

from __future__ import annotations

import asyncio
import ssl
import time

from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.sender import RETRY, Outcome, failure_reason, request_head, verdict_of

MAX_HEAD = 65536


class _Answer(asyncio.Protocol):
    """Reads one HTTP/1.1 answer at a time and hands its status to the waiting attempt."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[int] | None = None
        self.status = 0
        self.remaining: int | None = None  # body bytes still to come; None: reading the head
        self.to_close = False  # the body ends with the connection (no length), or the receiver closes it
        self.chunked = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if self.to_close and self.remaining is not None:  # the body ran to the end of the connection
                waiter.set_result(self.status)
            else:
                waiter.set_exception(exc or ConnectionResetError("the receiver closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            self._parse()
        except ValueError as error:
            self._fail(error)

    def _parse(self) -> None:
        if self.remaining is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise ValueError("answer head too large")
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            status_line, _, header_text = head.partition(b"\r\n")
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                raise ValueError("not an HTTP answer")
            self.status = int(parts[1])
            length = None
            keep = parts[0] == b"HTTP/1.1"
            self.chunked = False
            for line in header_text.split(b"\r\n"):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    keep = False
                elif name == b"transfer-encoding" and value.strip().lower().endswith(b"chunked"):
                    self.chunked = True
            self.to_close = not keep
            if self.chunked:
                self.remaining = 0
                return self._chunks()
            if length is None and (self.status in (204, 304) or 100 <= self.status < 200):
                length = 0
            if length is None:
                self.to_close = True
                self.remaining = -1  # until the connection closes
                self.buffer = b""
                return
            self.remaining = length
        if self.chunked:
            return self._chunks()
        if self.remaining >= 0 and len(self.buffer) >= self.remaining:
            self.buffer = self.buffer[self.remaining:]
            self.remaining = None
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(self.status)
        elif self.remaining < 0:
            self.buffer = b""

    def _chunks(self) -> None:
        """Skip the chunks of a chunked body as they come; the answer is whole after the last one."""
        while True:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            size = int(self.buffer[:end].split(b";")[0] or b"x", 16)
            if len(self.buffer) < end + 2 + size + 2:
                return
            self.buffer = self.buffer[end + 2 + size + 2:]
            if size == 0:
                self.remaining, self.chunked = None, False
                waiter = self.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(self.status)
                return

    def _fail(self, error: Exception) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class AsyncSender:
    """Posts to one endpoint over a kept-alive connection (one lane at a time uses it)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._https, self._host, self._port, self._head = request_head(endpoint)
        self._protocol: _Answer | None = None

    async def post(self, body: bytes) -> Outcome:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.endpoint.timeout, self._expire)
        try:
            status = await self._exchange(loop, body)
        except (OSError, ValueError) as error:  # TimeoutError and ConnectionRefusedError are OSErrors
            return self._failed(failure_reason(error), started)
        finally:
            timer.cancel()
        return Outcome(verdict_of(status), status, None, round((time.perf_counter() - started) * 1000, 3))

    def close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()

    def _expire(self) -> None:
        protocol = self._protocol
        if protocol is not None and protocol.waiter is not None and not protocol.waiter.done():
            protocol.waiter.set_exception(TimeoutError())
        elif self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()

    _connecting: asyncio.Task[object] | None = None

    async def _exchange(self, loop: asyncio.AbstractEventLoop, body: bytes) -> int:
        reused = self._protocol is not None and not self._protocol.closed
        try:
            return await self._send(loop, body)
        except (ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
            return await self._send(loop, body)  # the kept connection was closed by the receiver: a fresh one, once

    async def _send(self, loop: asyncio.AbstractEventLoop, body: bytes) -> int:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            context = ssl.create_default_context() if self._https else None
            self._connecting = loop.create_task(loop.create_connection(
                lambda: _Answer(loop), self._host, self._port, ssl=context,
                server_hostname=self._host if context else None))
            try:
                _, protocol = await self._connecting  # type: ignore[misc]
            except asyncio.CancelledError:
                raise TimeoutError() from None
            finally:
                self._connecting = None
            self._protocol = protocol
        assert protocol is not None and protocol.transport is not None
        protocol.waiter = loop.create_future()
        protocol.transport.write(self._head + str(len(body)).encode() + b"\r\n\r\n" + body)
        status = await protocol.waiter
        protocol.waiter = None
        if protocol.to_close:
            self.close()
        return status

    def _failed(self, error: str, started: float) -> Outcome:
        self.close()
        return Outcome(RETRY, None, error, round((time.perf_counter() - started) * 1000, 3))
