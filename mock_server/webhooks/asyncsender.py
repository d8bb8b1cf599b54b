"""One delivery attempt on the server's event loop: the mock's own deliveries (`Dispatcher`).

The same wire format and verdicts as `sender.Sender` (which `conformance-webhooks` uses from a plain
thread), as an asyncio protocol on a kept-alive connection. Every microsecond here is taken from the
API (the benchmark's webhook row), so an attempt is driven by callbacks, not a coroutine: the answer
is parsed as its bytes arrive and its verdict goes straight to the caller's callback, inside the same
turn of the loop, where the lane's next post is written (no future, no task step, no extra turn). One
timer per sender bounds the attempts: armed at the deadline of an attempt and, when it fires while a
later attempt is under way, moved to that one's deadline (an attempt costs a clock read, not a timer).
A receiver that hangs only keeps its own lane waiting, at most the endpoint's timeout.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable

from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.sender import RETRY, Outcome, failure_reason, request_head, verdict_of

MAX_HEAD = 65536
CLOCK_SLACK = 0.001  # s: a loop's timer may fire up to a millisecond early (uvloop counts whole ms)

Done = Callable[[Outcome], None]


class _Answer(asyncio.Protocol):
    """Reads one HTTP/1.1 answer at a time and hands its status to the sender's attempt under way."""

    def __init__(self, sender: AsyncSender) -> None:
        self.sender = sender
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.expecting = False  # an attempt under way waits for this connection's answer
        self.status = 0
        self.remaining: int | None = None  # body bytes still to come; None: reading the head
        self.to_close = False  # the body ends with the connection (no length), or the receiver closes it
        self.chunked = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.expecting:
            self.expecting = False
            if self.to_close and self.remaining is not None:  # the body ran to the end of the connection
                self.sender._answered(self, self.status)
            else:
                self.sender._broken(exc or ConnectionResetError("the receiver closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer = self.buffer + data if self.buffer else data
        try:
            status = self._parse()
        except ValueError as error:
            self._fail(error)
            return
        if status is not None and self.expecting:  # outside the try: what the sender does next is its own
            self.expecting = False
            self.sender._answered(self, status)

    def _parse(self) -> int | None:
        """The status once the answer is whole, else None (more bytes to come)."""
        if self.remaining is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise ValueError("answer head too large")
                return None
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
                return None
            self.remaining = length
        if self.chunked:
            return self._chunks()
        if self.remaining >= 0 and len(self.buffer) >= self.remaining:
            self.buffer = self.buffer[self.remaining:]
            self.remaining = None
            return self.status
        if self.remaining < 0:
            self.buffer = b""
        return None

    def _chunks(self) -> int | None:
        """Skip the chunks of a chunked body as they come; the answer is whole after the last one."""
        while True:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return None
            size = int(self.buffer[:end].split(b";")[0] or b"x", 16)
            if len(self.buffer) < end + 2 + size + 2:
                return None
            self.buffer = self.buffer[end + 2 + size + 2:]
            if size == 0:
                self.remaining, self.chunked = None, False
                return self.status

    def _fail(self, error: Exception) -> None:
        if self.expecting:
            self.expecting = False
            self.sender._broken(error)
        if self.transport is not None:
            self.transport.close()


class AsyncSender:
    """Posts to one endpoint over a kept-alive connection, one attempt at a time (its lane's).

    `send(body, done)` starts an attempt on the running loop; `done(outcome)` is called once, on the
    loop, when it ends, never from inside `send`. `post(body)` is the same as a coroutine.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._https, self._host, self._port, self._head = request_head(endpoint)
        self._timeout = endpoint.timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._protocol: _Answer | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        # The attempt under way: its callback (None: no attempt), request, start and deadline (loop time).
        self._done: Done | None = None
        self._request = b""
        self._started = 0.0
        self._deadline = 0.0
        self._reused = False  # it went on a kept connection (which the receiver may have closed meanwhile)
        self._attempt = 0  # attempts started: tells a late report of an earlier attempt from the current one
        self._expired = False

    def send(self, body: bytes, done: Done) -> None:
        started = time.perf_counter()
        loop = self._loop
        if loop is None or loop.is_closed():  # the first post, or the server restarted (`stop`): the running loop
            self._abandon()
            loop = self._loop = asyncio.get_running_loop()  # (it asks the kernel for the pid: not every time)
        self._attempt += 1
        self._done = done
        self._started = started
        self._deadline = loop.time() + self._timeout
        self._expired = False
        if self._timer is None:
            self._timer = loop.call_at(self._deadline, self._check_deadline)
        self._request = self._head + str(len(body)).encode() + b"\r\n\r\n" + body
        protocol = self._protocol
        if protocol is not None and not protocol.closed and not protocol.transport.is_closing():  # type: ignore
            self._reused = True
            self._write(protocol)
        else:
            self._reused = False
            self._connect()

    async def post(self, body: bytes) -> Outcome:
        """One attempt, awaited (tests, and any caller that is a coroutine)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.send(body, lambda outcome: future.done() or future.set_result(outcome))
        try:
            return await future
        except asyncio.CancelledError:
            self.stop()
            raise

    def close(self) -> None:
        """Close the kept connection (an attempt waiting on it sees the connection closed)."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()

    def stop(self) -> None:
        """Abandon the attempt under way (its callback is never called) and close the connection."""
        self._abandon()

    # ------------------------------------------------------------------ the attempt under way

    def _write(self, protocol: _Answer) -> None:
        protocol.expecting = True
        try:
            protocol.transport.write(self._request)  # type: ignore[union-attr]
        except RuntimeError:  # uvloop: the connection was closed under the transport, not yet told
            protocol.expecting = False
            assert self._loop is not None
            self._loop.call_soon(self._broken_in, self._attempt, ConnectionResetError("the connection was closed"))

    def _broken_in(self, attempt: int, error: Exception) -> None:
        if attempt == self._attempt and self._done is not None:
            self._broken(error)

    def _connect(self) -> None:
        assert self._loop is not None
        self._connecting = self._loop.create_task(self._open())

    async def _open(self) -> None:
        assert self._loop is not None
        context = ssl.create_default_context() if self._https else None
        try:
            _, protocol = await self._loop.create_connection(
                lambda: _Answer(self), self._host, self._port, ssl=context,
                server_hostname=self._host if context else None)
        except asyncio.CancelledError:
            if not self._expired:
                raise  # abandoned (stop)
            self._connecting = None
            self._failed(TimeoutError())
            return
        except (OSError, ValueError) as error:  # TimeoutError and ConnectionRefusedError are OSErrors
            self._connecting = None
            self._failed(error)
            return
        self._connecting = None
        self._protocol = protocol  # type: ignore[assignment]
        self._write(protocol)  # type: ignore[arg-type]

    def _answered(self, protocol: _Answer, status: int) -> None:
        if protocol.to_close:
            self.close()
        self._finish(Outcome(verdict_of(status), status, None, self._latency()))

    def _broken(self, error: Exception) -> None:
        if isinstance(error, ConnectionResetError | BrokenPipeError) and self._reused:
            self.close()
            self._reused = False
            self._connect()  # the kept connection was closed by the receiver: a fresh one, once
            return
        self._failed(error)

    def _failed(self, error: Exception) -> None:
        protocol = self._protocol
        if protocol is not None:
            protocol.expecting = False  # its answer, if it ever comes, is no longer waited for
        self.close()
        self._finish(Outcome(RETRY, None, failure_reason(error), self._latency()))

    def _latency(self) -> float:
        return round((time.perf_counter() - self._started) * 1000, 3)

    def _finish(self, outcome: Outcome) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(outcome)

    def _check_deadline(self) -> None:
        """The timer: fail the attempt under way if its time is up, else wait for its deadline."""
        loop = self._loop
        self._timer = None
        if self._done is None or loop is None:
            return  # no attempt under way: the next one arms the timer again
        if loop.time() + CLOCK_SLACK < self._deadline:
            self._timer = loop.call_at(self._deadline, self._check_deadline)
            return
        self._expired = True
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()  # fails the attempt as a timeout once the cancellation lands
        else:
            self._failed(TimeoutError())

    def _abandon(self) -> None:
        self._done = None
        self._loop = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        connecting, self._connecting = self._connecting, None
        if connecting is not None and not connecting.done():
            connecting.cancel()
        protocol = self._protocol
        if protocol is not None:
            protocol.expecting = False
        self.close()
