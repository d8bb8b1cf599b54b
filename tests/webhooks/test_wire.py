"""The mock's HTTP client for deliveries (`AsyncSender`), against a receiver that answers in every way HTTP allows:
the exact bytes each post puts on the wire, the kept-alive connection, and the verdict of every kind of answer."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_server.webhooks.asyncsender import AsyncSender
from mock_server.webhooks.endpoints import make_endpoint
from mock_server.webhooks.sender import DELIVERED, DISCARDED, RETRY, Outcome

HANG = b""  # a reply that never comes
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


class Scripted:
    """A receiver on 127.0.0.1 answering each request with the next reply: (bytes, then close the connection?)."""

    def __init__(self, replies: list[tuple[bytes, bool]], pause: float = 0.0) -> None:
        self.replies = list(replies)
        self.pause = pause  # between the bytes of a reply: an answer that arrives in pieces
        self.requests: list[tuple[int, bytes]] = []  # (connection number, the request's bytes)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        number = 0
        while not self.stopped.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.sockets.append(connection)
            threading.Thread(target=self._serve, args=(connection, number), daemon=True).start()
            number += 1

    def _serve(self, connection: socket.socket, number: int) -> None:
        buffer = b""
        with connection:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = connection.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length:")))
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                with self.lock:
                    self.requests.append((number, head + b"\r\n\r\n" + body))
                    reply, close = self.replies.pop(0)
                if reply == HANG:
                    self.stopped.wait(5)
                    return
                if self.pause:
                    for index in range(0, len(reply), 7):
                        connection.sendall(reply[index:index + 7])
                        time.sleep(self.pause)
                else:
                    connection.sendall(reply)
                if close:
                    return

    def close(self) -> None:
        self.stopped.set()
        self.server.close()


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    made: list[Scripted] = []

    def make(replies: list[tuple[bytes, bool]], pause: float = 0.0) -> Scripted:
        made.append(Scripted(replies, pause))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def loops() -> list[Any]:
    factories: list[Any] = [asyncio.new_event_loop]
    try:
        import uvloop
    except ImportError:
        return factories
    return [*factories, uvloop.new_event_loop]  # the server's loop under uvicorn


@pytest.fixture(params=loops(), ids=lambda factory: factory.__module__.split(".")[0])
def run(request: pytest.FixtureRequest) -> Callable[[AsyncSender, list[bytes]], list[Outcome]]:
    def posts(sender: AsyncSender, bodies: list[bytes]) -> list[Outcome]:
        async def main() -> list[Outcome]:
            try:
                return [await sender.post(body) for body in bodies]
            finally:
                sender.close()

        with asyncio.Runner(loop_factory=request.param) as runner:
            return runner.run(main())

    return posts


def sender(port: int, timeout: float = 2.0, **options: Any) -> AsyncSender:
    return AsyncSender(make_endpoint(f"http://127.0.0.1:{port}/hooks?x=1", timeout=timeout, **options))


def expected(port: int, body: bytes, extra: bytes = b"") -> bytes:
    head = (b"POST /hooks?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"User-Agent: brevo-loyalty-mock-webhooks\r\n%sContent-Length: %d\r\n\r\n")
    return head % (port, extra, len(body)) + body


def verdicts(outcomes: list[Outcome]) -> list[tuple[str, int | None, str | None]]:
    return [(outcome.verdict, outcome.status, outcome.error) for outcome in outcomes]


def test_posts_go_one_after_another_on_one_kept_connection_with_exact_bytes(scripted, run) -> None:
    chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
    receiver = scripted([(OK, False), (chunked, False), (b"HTTP/1.1 204 No Content\r\n\r\n", False),
                         (b"HTTP/1.1 429 Too Many\r\nContent-Length: 0\r\n\r\n", False),
                         (b"HTTP/1.1 500 Oops\r\ncontent-length: 3\r\n\r\nbad", False)])
    bodies = [b'{"n":1}', b'{"n":2}', b'{"n":3}', b'{"n":4}', b'{"n":5}']
    outcomes = run(sender(receiver.port, headers=[("X-Env", "test")], bearer="TOKEN"), bodies)
    assert verdicts(outcomes) == [(DELIVERED, 200, None), (DELIVERED, 201, None), (DELIVERED, 204, None),
                                  (RETRY, 429, None), (DISCARDED, 500, None)]
    auth = b"X-Env: test\r\nAuthorization: Bearer TOKEN\r\n"
    assert receiver.requests == [(0, expected(receiver.port, body, auth)) for body in bodies]
    assert all(outcome.latency_ms >= 0 for outcome in outcomes)


def test_an_answer_in_pieces_is_read_whole(scripted, run) -> None:
    receiver = scripted([(OK, False), (OK, False)], pause=0.002)
    outcomes = run(sender(receiver.port), [b"{}", b"[]"])
    assert verdicts(outcomes) == [(DELIVERED, 200, None)] * 2
    assert [number for number, _ in receiver.requests] == [0, 0]


def test_a_connection_the_receiver_closes_is_replaced(scripted, run) -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    to_end = b"HTTP/1.0 202 Accepted\r\n\r\nthe body runs to the end of the connection"
    # 1: says close; 2: HTTP/1.0, body to the end; 3: closes without saying so; 4: on a fresh connection.
    receiver = scripted([(closing, True), (to_end, True), (OK, True), (OK, False)])
    outcomes = run(sender(receiver.port), [b"1", b"2", b"3", b"4"])
    assert verdicts(outcomes) == [(DELIVERED, 200, None), (DELIVERED, 202, None), (DELIVERED, 200, None),
                                  (DELIVERED, 200, None)]
    assert receiver.requests == [(n, expected(receiver.port, str(n + 1).encode())) for n in range(4)]


def test_a_kept_connection_closed_while_idle_is_replaced_once(scripted, run) -> None:
    receiver = scripted([(OK, True), (OK, False), (OK, False)])

    class Pausing(AsyncSender):
        async def post(self, body: bytes) -> Outcome:
            await asyncio.sleep(0.05)  # the receiver's close has arrived by now
            return await super().post(body)

    outcomes = run(Pausing(make_endpoint(f"http://127.0.0.1:{receiver.port}/hooks?x=1")), [b"1", b"2", b"3"])
    assert verdicts(outcomes) == [(DELIVERED, 200, None)] * 3
    assert [number for number, _ in receiver.requests] == [0, 1, 1]  # each post once, the 2nd on a new connection


def test_a_receiver_that_hangs_times_out_and_the_next_post_gets_a_new_connection(scripted, run) -> None:
    receiver = scripted([(HANG, False), (OK, False)])
    started = time.perf_counter()
    outcomes = run(sender(receiver.port, timeout=0.2), [b"1", b"2"])
    assert verdicts(outcomes) == [(RETRY, None, "timeout"), (DELIVERED, 200, None)]
    # uvloop's timers count whole milliseconds: the timeout may fire a fraction of one early
    assert 190 <= outcomes[0].latency_ms < 1500 and time.perf_counter() - started < 2
    assert [number for number, _ in receiver.requests] == [0, 1]


def test_a_refused_connection_and_a_garbled_answer_are_failures(scripted, run) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening
        assert verdicts(run(sender(closed.getsockname()[1]), [b"1"])) == [(RETRY, None, "connection refused")]
    receiver = scripted([(b"HELLO\r\n\r\n", False), (OK, False)])
    outcomes = run(sender(receiver.port), [b"1", b"2"])
    assert verdicts(outcomes) == [(RETRY, None, "connection failed: ValueError"), (DELIVERED, 200, None)]
    assert [number for number, _ in receiver.requests] == [0, 1]


def test_each_attempt_gets_the_whole_timeout_from_its_own_start(scripted, run) -> None:
    receiver = scripted([(OK, False), (HANG, False), (OK, False)])

    class Spaced(AsyncSender):
        async def post(self, body: bytes) -> Outcome:
            if body == b"2":
                await asyncio.sleep(0.15)  # the 2nd starts half-way through the 1st's time
            return await super().post(body)

    outcomes = run(Spaced(make_endpoint(f"http://127.0.0.1:{receiver.port}/hooks", timeout=0.3)), [b"1", b"2", b"3"])
    assert verdicts(outcomes) == [(DELIVERED, 200, None), (RETRY, None, "timeout"), (DELIVERED, 200, None)]
    assert 290 <= outcomes[1].latency_ms < 1500  # not cut short at the 1st attempt's deadline
