"""The HTTP-level limits of docs/limits.md, at their boundaries, on a server run with the CLI's options.

The server runs in a thread with `mock_server.server.uvicorn_options` (the very
protocol and limits of `serve`), except for shorter timeouts so that the slow
cases take a second, not ten.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.direct import DirectHttpToolsProtocol
from mock_server.limits import MAX_HEAD_BYTES, MAX_HEADERS, MAX_TARGET_BYTES
from mock_server.server import listen, uvicorn_options
from mock_server.settings import DEFAULT_API_KEY, Settings
from tests.hostile.wire import Answer, over_socket
from tests.support.serving import serving

HEAD_TIMEOUT = 0.6
IDLE_TIMEOUT = 1
PROGRAMS = "/v3/loyalty/config/programs"


class QuickProtocol(DirectHttpToolsProtocol):
    head_timeout = HEAD_TIMEOUT


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    settings = Settings(seed=1, contacts=20, access_log=False)
    sock = listen("127.0.0.1", 0)
    options: dict[str, Any] = {**uvicorn_options(settings), "http": QuickProtocol, "timeout_keep_alive": IDLE_TIMEOUT}
    assert uvicorn_options(settings)["http"] is DirectHttpToolsProtocol  # what `serve` runs
    with serving(create_app(replace(settings, port=sock.getsockname()[1])), sock, **options) as port:
        yield port


def get(target: str, *headers: bytes) -> bytes:
    lines = [b"GET " + target.encode() + b" HTTP/1.1", b"host: 127.0.0.1", b"connection: close",
             b"api-key: " + DEFAULT_API_KEY.encode(), *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def send(port: int, data: bytes) -> Answer:
    return over_socket(port, data)


def padded_target(length: int) -> str:
    target = PROGRAMS + "?pad="
    return target + "x" * (length - len(target))


def test_a_target_of_exactly_the_limit_reaches_the_app(port: int) -> None:
    assert send(port, get(padded_target(MAX_TARGET_BYTES))).status == 200


def test_one_byte_past_the_target_limit_is_refused_with_414(port: int) -> None:
    answer = send(port, get(padded_target(MAX_TARGET_BYTES + 1)))
    assert answer.status == 414 and answer.json()["code"] == "bad_request" and answer.closed
    assert str(MAX_TARGET_BYTES) in answer.json()["message"]


def head_size(data: bytes) -> int:
    """What the limit counts: the target, and each header's name and value plus 4 bytes."""
    head = data.split(b"\r\n\r\n")[0].split(b"\r\n")
    target = head[0].split(b" ")[1]
    return len(target) + sum(len(line) - 2 + 4 for line in head[1:])


def with_head_of(size: int) -> bytes:
    base = get(PROGRAMS, b"x-pad: ")
    return get(PROGRAMS, b"x-pad: " + b"p" * (size - head_size(base)))


def test_a_head_of_exactly_the_limit_reaches_the_app(port: int) -> None:
    data = with_head_of(MAX_HEAD_BYTES)
    assert head_size(data) == MAX_HEAD_BYTES
    assert send(port, data).status == 200


def test_one_byte_past_the_head_limit_is_refused_with_431(port: int) -> None:
    answer = send(port, with_head_of(MAX_HEAD_BYTES + 1))
    assert answer.status == 431 and "Request headers too large" in answer.json()["message"] and answer.closed


def test_the_header_count_limit(port: int) -> None:
    # get() sends 3 headers of its own
    ok = get(PROGRAMS, *(b"x-h%d: 1" % i for i in range(MAX_HEADERS - 3)))
    assert send(port, ok).status == 200
    answer = send(port, get(PROGRAMS, *(b"x-h%d: 1" % i for i in range(MAX_HEADERS - 2))))
    assert answer.status == 431 and str(MAX_HEADERS) in answer.json()["message"]


def test_a_head_sent_in_many_small_pieces_is_still_bounded(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET " + PROGRAMS.encode() + b" HTTP/1.1\r\nhost: x\r\nx-slow: ")
        refused = b""
        for _ in range(200):
            try:
                sock.sendall(b"a" * 1000)
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.001)
        sock.settimeout(5)
        while chunk := sock.recv(65536):
            refused += chunk
    assert refused.startswith(b"HTTP/1.1 431 "), refused[:200]


def test_a_slow_head_is_refused_with_408(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET " + PROGRAMS.encode() + b" HTTP/1.1\r\n")
        sock.sendall(b"x-a: 1\r\n")
        answer = sock.recv(65536)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"code":"bad_request"' in answer and b"not received within" in answer
    assert HEAD_TIMEOUT * 0.8 < elapsed < HEAD_TIMEOUT + 2


def test_a_silent_connection_is_closed_after_the_idle_timeout(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed, with nothing said
        assert IDLE_TIMEOUT * 0.8 < time.monotonic() - started < IDLE_TIMEOUT + 2


def test_pipelined_requests_past_the_head_limit_in_one_write_are_all_answered(port: int) -> None:
    one = get(PROGRAMS + "?limit=1").replace(b"connection: close\r\n", b"")
    count = 2 * MAX_HEAD_BYTES // len(one) + 1
    data = one * (count - 1) + get(PROGRAMS + "?limit=1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == count


def test_a_refused_head_leaves_the_answer_readable_while_the_client_still_sends(port: int) -> None:
    """The server reads and drops what follows a refusal for a while, so the client gets the 431, not a reset."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(get(PROGRAMS, b"x-big: " + b"z" * (MAX_HEAD_BYTES + 10))[:-4] + b"\r\n")
        for _ in range(20):  # more header lines, after the refusal
            sock.sendall(b"x-more: " + b"m" * 1000 + b"\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_refusal_shows_in_the_log_as_one_warning_line(port: int, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="uvicorn.error"):
        send(port, get(padded_target(MAX_TARGET_BYTES + 1)))
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    [record] = [r for r in caplog.records if "Refused" in r.getMessage()]
    assert "414" in record.getMessage() and "\n" not in record.getMessage()
