"""SIGTERM and SIGINT: stop accepting, finish the requests in flight, print the client-check summary, exit 0.

The requests in flight are pipelined pages of contact balances that the client
does not read yet: the server answers them one after another and, once the
socket buffers are full, the answer being sent waits for the client. That one
is in flight when the signal arrives: the server must neither cut it nor exit
before it is sent.
"""

from __future__ import annotations

import re
import signal
import socket
import time

import pytest

from mock_server.settings import DEFAULT_API_KEY
from tests.cli.proc import serving

CONTACTS = 5_000
PIPELINED = 60  # contact-balance pages of 500 (~75 KB each): far more than the socket buffers hold


def _pipelined_pages(port: int, pid: str, bdid: str) -> socket.socket:
    """A client that sends PIPELINED requests at once and does not read yet (and reads slowly: small window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    one = (f"GET /v3/loyalty/balance/programs/{pid}/contact-balances?balanceDefinitionId={bdid}&limit=500 "
           f"HTTP/1.1\r\nhost: 127.0.0.1\r\napi-key: {DEFAULT_API_KEY}\r\n\r\n").encode()
    sock.sendall(one * PIPELINED)
    return sock


def _read_answers(sock: socket.socket, timeout: float = 30) -> list[tuple[int, bool]]:
    """(status, complete) of each answer on the connection, read until the server closes it."""
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(1 << 20):
        data += chunk
    answers = []
    while data:
        head, separator, rest = data.partition(b"\r\n\r\n")
        if not separator:
            answers.append((0, False))  # a head cut short
            break
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?im)^content-length: *(\d+)", head)
        size = int(length.group(1)) if length else 0
        answers.append((status, len(rest) >= size))
        data = rest[size:]
    return answers


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
            probe.sendall(b"GET /__mock__/health HTTP/1.1\r\nhost: x\r\n\r\n")
            return probe.recv(100) == b""
    except OSError:
        return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_lets_the_request_in_flight_finish_then_prints_the_summary_and_exits_0(sig: int) -> None:
    """Pipelined requests whose answers the client does not read: one is in flight, blocked on sending.

    After the signal the server stops accepting, waits for the client to read that
    answer (and those of the requests it had already received) to the end, closes
    the connection, prints the summary and exits 0.
    """
    with serving("--contacts", str(CONTACTS), "--no-access-log", "--check-client") as server:
        world = server.get_json("/__mock__/world?sample=0")
        program = world["programs"][0]
        slow = _pipelined_pages(server.port, program["id"], program["balanceDefinitions"][0]["id"])
        time.sleep(0.5)  # the first answers fill the buffers; the next one waits to be sent
        server.process.send_signal(sig)
        time.sleep(1.0)
        assert server.process.poll() is None, "the server exited with an answer still in flight"
        assert _refused(server.port), "the server still accepts connections after the signal"
        with slow:
            answers = _read_answers(slow)
        assert answers and all(status == 200 and complete for status, complete in answers), answers
        assert len(answers) == PIPELINED  # every request received before the signal is answered in full
        assert server.stop(None) == 0  # no second signal: a second Ctrl+C would skip the graceful part
    stdout, stderr = server.stdout.text, server.stderr.text
    assert re.search(r"client check: \d+ request\(s\), 0 contract violation\(s\)", stdout), stdout[-500:]
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr[-2000:]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_plain_serve_with_exit_0(sig: int) -> None:
    with serving("--contacts", "20", "--no-access-log") as server:
        time.sleep(0.3)
        assert server.stop(sig) == 0
    assert "Traceback" not in server.stderr.text, server.stderr.text[-2000:]
    assert server.stderr.text.count("\n") < 10  # uvicorn's few shutdown lines, nothing else


def test_a_signal_stops_serve_with_workers_with_exit_0() -> None:
    with serving("--contacts", "20", "--workers", "2", "--read-only") as server:
        server.wait_for(r"Application startup complete", stream="stderr")
        assert server.stop(signal.SIGTERM) == 0
    assert "Traceback" not in server.stderr.text, server.stderr.text[-2000:]


def test_the_banner_is_printed_once_a_signal_would_stop_the_server(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A user (or a test) reads the banner and stops the server at once: the signal must not meet Python's default
    handler, whose KeyboardInterrupt can land in a callback of the collector that ignores it (the server then
    served on). Run in this process, the server's own run replaced by a look at what a signal would do."""
    import uvicorn

    from mock_server import cli

    seen: dict[str, object] = {}
    printed = print

    def print_and_look(*args: object, **kwargs: object) -> None:
        if args and "all ids" in str(args[0]):
            seen["handler"] = signal.getsignal(signal.SIGINT)
        printed(*args, **kwargs)  # type: ignore[call-overload]

    def run(server: uvicorn.Server, sockets: object = None) -> None:
        signal.raise_signal(signal.SIGINT)  # as if it came between the banner and uvicorn's handlers
        seen["should_exit"] = server.should_exit

    monkeypatch.setattr("builtins.print", print_and_look)
    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(cli, "settle_collector", lambda: None)  # this test process's collector is left alone
    before = signal.getsignal(signal.SIGINT)
    status = cli.main(["serve", "--port", "0", "--contacts", "5", "--no-access-log"])
    assert status == 0
    assert seen["handler"] not in (signal.default_int_handler, signal.SIG_DFL)
    assert seen["should_exit"] is True
    assert signal.getsignal(signal.SIGINT) is before
    assert "all ids" in capsys.readouterr().out
