"""The protocol's direct answers are the ASGI path's answers, byte for byte, on the whole corpus.

`serve` answers plain API reads from its HTTP protocol (mock_server/direct.py)
instead of going through uvicorn's ASGI machinery. Two servers run here over
the same world: one with the protocol `serve` uses, one with the same protocol
minus the direct answers (every request through ASGI and Starlette). Every
corpus case, and a set of valid reads, goes to both as the same raw bytes; the
raw answers must be identical but for the clock readings (`date`, and the seconds
left in the rate-limit window), and so must the two
request journals. The connection rules are part of the comparison (`connection_rules`:
HTTP/1.0 with and without keep-alive, `Connection` tokens, `Upgrade: h2c`), and
pipelining and ordering against an answer still on its way through ASGI are tested too.

`make test-uvicorn-window` runs this file on the oldest and the newest uvicorn
that pyproject.toml allows: the ASGI path's rules are uvicorn's, and the direct
path must follow them on every release of the window.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import pytest

from mock_server.app import build_worlds, create_app
from mock_server.bodyread import MAX_BODY_BYTES
from mock_server.direct import DirectHttpToolsProtocol
from mock_server.limits import LimitedHttpToolsProtocol
from mock_server.logs import ACCESS_LOGGER
from mock_server.server import uvicorn_options
from mock_server.settings import DEFAULT_API_KEY, Settings
from tests.hostile.corpus import corpus, ids_from_summary
from tests.hostile.wire import request_bytes
from tests.support.serving import serving

SETTINGS = Settings(seed=1, contacts=50, access_log=False)
KEY = DEFAULT_API_KEY.encode()
CASES = corpus()


class CountingDirectProtocol(DirectHttpToolsProtocol):
    """The protocol `serve` runs, counting the requests it answered without ASGI."""

    answered_directly = 0

    def _answer(self, *args: Any) -> None:
        type(self).answered_directly += 1
        super()._answer(*args)


@dataclass
class Running:
    port: int
    app: Any


def _serve(app: Any, protocol: type) -> Iterator[Running]:
    with serving(app, **{**uvicorn_options(SETTINGS), "http": protocol, "timeout_keep_alive": 2}) as port:
        yield Running(port, app)


@pytest.fixture(scope="module")
def worlds() -> Any:
    return build_worlds(SETTINGS)


@pytest.fixture(scope="module")
def direct(worlds: Any) -> Iterator[Running]:
    yield from _serve(create_app(SETTINGS, worlds=worlds), CountingDirectProtocol)


@pytest.fixture(scope="module")
def through_asgi(worlds: Any) -> Iterator[Running]:
    yield from _serve(create_app(SETTINGS, worlds=worlds), LimitedHttpToolsProtocol)


@pytest.fixture(scope="module")
def ids(worlds: Any) -> dict[str, str]:
    return ids_from_summary(worlds["default"].summary())


def exchange(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send `data`, then read until the server closes the connection."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            received += chunk
    return received


def read_answers(sock: socket.socket, count: int) -> list[bytes]:
    """`count` whole answers (head and body, by content-length) from a kept-alive connection."""
    buffer, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(answers)} of {count} answers"
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = int(_header(head, b"content-length") or 0)
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside a body"
            rest += chunk
        answers.append(head + b"\r\n\r\n" + rest[:length])
        buffer = rest[length:]
    return answers


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


# Clock readings: when the answer was sent, and the seconds left in the key's rate-limit window.
CLOCK_HEADERS = (b"date:", b"x-sib-ratelimit-reset:")


def without_clock(answers: bytes) -> bytes:
    """The answers received on one connection (one or more, by content-length), without their clock readings."""
    kept = []
    while answers:
        head, sep, rest = answers.partition(b"\r\n\r\n")
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(CLOCK_HEADERS)]
        length = int(_header(head, b"content-length") or 0) if sep else len(rest)
        kept.append(b"\r\n".join(lines) + sep + rest[:length])
        answers = rest[length:]
    return b"".join(kept)


def get(target: str, *headers: bytes, version: bytes = b"HTTP/1.1", method: bytes = b"GET") -> bytes:
    lines = [method + b" " + target.encode() + b" " + version, b"host: 127.0.0.1", b"api-key: " + KEY, *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def head(target: str, *headers: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return get(target, *headers, version=version, method=b"HEAD")


def connection_rules(ids: dict[str, str]) -> list[bytes]:
    """Requests whose answer and connection depend on the keep-alive and upgrade rules.

    Each goes out twice in one write, then a `connection: close` read: the second copy is
    answered only if the connection was kept open after the first, and the last request ends
    the exchange when it was, so whether a connection is kept shows in the bytes received.
    """
    program = f"/v3/loyalty/config/programs/{ids['pid']}"
    rules = [
        get(program, version=b"HTTP/1.0"),
        get(program, b"connection: keep-alive", version=b"HTTP/1.0"),  # uvicorn closes HTTP/1.0 all the same
        get(program, b"Connection: Keep-Alive", version=b"HTTP/1.0"),
        get(program),
        get(program, b"connection: keep-alive"),
        get(program, b"connection: Close"),
        get(program, b"connection: keep-alive, close"),
        get(program, b"upgrade: h2c"),  # without `Connection: upgrade`, not an upgrade request
        get(program, b"connection: close, upgrade", b"upgrade: h2c", b"http2-settings: AAMAAABkAARAAAAAAAIAAAAA"),
    ]
    closing = get("/v3/loyalty/config/programs", b"connection: close")
    return [rule + rule + closing for rule in rules]


# What curl --http2 sends to an http:// URL: uvicorn declines the upgrade and answers in HTTP/1.1.
def h2c_upgrade(target: str) -> bytes:
    return get(target, b"connection: Upgrade, HTTP2-Settings", b"upgrade: h2c",
               b"http2-settings: AAMAAABkAARAAAAAAAIAAAAA")


def valid_reads(ids: dict[str, str]) -> list[str]:
    pid, contact, bdid = ids["pid"], ids["cid"], ids["bdid"]
    balance = f"/v3/loyalty/balance/programs/{pid}"
    return [
        "/v3/loyalty/config/programs",
        f"/v3/loyalty/config/programs/{pid}",
        f"/v3/loyalty/config/programs/{pid}?unknown=1",
        f"{balance}/balance-definitions",
        f"{balance}/balance-definitions/{bdid}",
        f"{balance}/contact-balances?balanceDefinitionId={bdid}&limit=50",
        f"{balance}/transaction-history?contactId={contact}&balanceDefinitionId={bdid}&status=completed"
        "&sortField=createdAt&sort=desc&limit=50",
        f"{balance}/subscriptions/{contact}/tier",
        f"/v3/loyalty/tier/programs/{pid}/tier-groups",
    ]


def test_the_corpus_and_valid_reads_get_the_same_bytes_both_ways(direct: Running, through_asgi: Running,
                                                                  ids: dict[str, str]) -> None:
    requests = [request_bytes(case, ids) for case in CASES]
    requests += [get(target, b"connection: close") for target in valid_reads(ids)]
    # The same requests again: answers of a second pass come from remembered checks and renders.
    requests += requests
    requests += connection_rules(ids)
    before = CountingDirectProtocol.answered_directly
    differences = []
    for data in requests:
        ours, theirs = exchange(direct.port, data), exchange(through_asgi.port, data)
        assert theirs, f"the ASGI server sent nothing for {data[:120]!r}"
        if without_clock(ours) != without_clock(theirs):
            differences.append((data[:160], ours[:400], theirs[:400]))
    assert not differences, differences[:3]
    # Most requests qualify for a direct answer; the comparison is worth nothing if none took it.
    assert CountingDirectProtocol.answered_directly - before >= len(requests) // 2

    def journal(app: Any) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(entry).items() if k != "at"} for entry in app.state.mock.journal.entries()]

    assert journal(direct.app) == journal(through_asgi.app)


def test_an_h2c_upgrade_is_declined_and_the_request_answered(direct: Running, through_asgi: Running,
                                                             ids: dict[str, str],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    target = f"/v3/loyalty/config/programs/{ids['pid']}"
    answers = []
    for running in (direct, through_asgi):
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock, \
                caplog.at_level("WARNING", logger="uvicorn.error"):
            caplog.clear()
            sock.sendall(h2c_upgrade(target))
            [answer] = read_answers(sock, 1)
            # uvicorn's own warning, from the call mock_server/limits.py makes on an upgrade it does not take
            assert "Unsupported upgrade request." in caplog.messages
        answers.append(without_clock(answer))
    assert answers[0].startswith(b"HTTP/1.1 200") and ids["pid"].encode() in answers[0]
    assert answers[0] == answers[1]


def test_a_kept_alive_connection_answers_in_order_across_both_paths(direct: Running, ids: dict[str, str]) -> None:
    program = f"/v3/loyalty/config/programs/{ids['pid']}"
    # One write: a direct read, a cross-origin read (through ASGI and CORS), a direct read again.
    pipelined = get(program) + get(program, b"origin: http://localhost:3000") + get("/v3/loyalty/config/programs")
    with socket.create_connection(("127.0.0.1", direct.port), timeout=10) as sock:
        sock.sendall(pipelined)
        first, second, third = read_answers(sock, 3)
        assert first.startswith(b"HTTP/1.1 200") and ids["pid"].encode() in first
        assert _header(second.partition(b"\r\n\r\n")[0], b"access-control-allow-origin") == b"*"
        assert b'"items"' in third
        # Still open: another request on the same connection is answered.
        sock.sendall(get(program))
        [fourth] = read_answers(sock, 1)
        assert without_clock(fourth) == without_clock(first).replace(
            _remaining(first), _remaining(fourth))


def _remaining(answer: bytes) -> bytes:
    return b"x-sib-ratelimit-remaining: " + (_header(answer.partition(b"\r\n\r\n")[0],
                                                    b"x-sib-ratelimit-remaining") or b"")


@pytest.mark.parametrize(("version", "headers"), [
    (b"HTTP/1.0", ()),
    (b"HTTP/1.1", (b"connection: close",)),
])
def test_a_connection_not_kept_alive_is_closed_after_a_direct_answer(direct: Running, ids: dict[str, str],
                                                                    version: bytes, headers: tuple[bytes, ...]
                                                                    ) -> None:
    answer = exchange(direct.port, get(f"/v3/loyalty/config/programs/{ids['pid']}", *headers, version=version))
    head = answer.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 200")
    assert _header(head, b"connection") == b"close"


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(direct: Running, ids: dict[str, str]) -> None:
    with socket.create_connection(("127.0.0.1", direct.port), timeout=10) as sock:
        sock.sendall(get(f"/v3/loyalty/config/programs/{ids['pid']}"))
        read_answers(sock, 1)
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server, not by our 10 s timeout
        assert time.monotonic() - started < 5


def test_the_access_log_line_is_uvicorns_own(direct: Running, through_asgi: Running, ids: dict[str, str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    targets = [f"/v3/loyalty/config/programs/{ids['pid']}?limit=1&x=%20y", "/v3/loyalty/config/programs/nope"]
    lines = {}
    before = CountingDirectProtocol.answered_directly
    for running in (direct, through_asgi):
        with caplog.at_level("INFO", logger="uvicorn.access"):
            caplog.clear()
            for target in targets:
                exchange(running.port, get(target, b"connection: close"))
                exchange(running.port, get(target, b"connection: close", version=b"HTTP/1.0"))
            # The client's port differs from one connection to the next; the rest must not.
            lines[running.port] = [record.getMessage().split(" - ", 1)[1] for record in caplog.records
                                   if record.name == "uvicorn.access"]
    assert CountingDirectProtocol.answered_directly - before == 4  # logged by the direct path
    assert lines[direct.port] == lines[through_asgi.port]
    assert len(lines[direct.port]) == 4 and '"GET /v3/loyalty/config/programs/nope HTTP/1.0" 422' in \
        lines[direct.port][3], lines


def test_the_json_access_line_is_the_same_both_ways(worlds: Any, ids: dict[str, str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    settings = replace(SETTINGS, access_log=True, log_format="json")
    targets = [f"/v3/loyalty/config/programs/{ids['pid']}?limit=1&x=%20y", "/v3/loyalty/config/programs/nope"]
    lines = {}
    for protocol in (CountingDirectProtocol, LimitedHttpToolsProtocol):
        before = CountingDirectProtocol.answered_directly
        options = {**uvicorn_options(settings), "http": protocol, "log_config": None}  # caplog reads the records
        with serving(create_app(settings, worlds=worlds), **options) as port, \
                caplog.at_level("INFO", logger=ACCESS_LOGGER):
            caplog.clear()
            for target in targets:
                exchange(port, get(target, b"connection: close"))
                exchange(port, head(target, b"connection: close"))
            records = [json.loads(record.getMessage()) for record in caplog.records if record.name == ACCESS_LOGGER]
        # The clock and the client's port differ from one request to the next; the rest must not.
        lines[protocol] = [{k: v for k, v in line.items() if k not in ("time", "latency_ms", "client")}
                           for line in records]
        assert all(line["client"].startswith("127.0.0.1:") for line in records)
        answered = CountingDirectProtocol.answered_directly - before
        assert answered == (4 if protocol is CountingDirectProtocol else 0)
    assert lines[CountingDirectProtocol] == lines[LimitedHttpToolsProtocol]
    assert [(line["method"], line["status"], line["operation"]) for line in lines[LimitedHttpToolsProtocol]] == [
        ("GET", 200, "getLoyaltyProgramInfo"), ("HEAD", 200, "getLoyaltyProgramInfo"),
        ("GET", 422, "getLoyaltyProgramInfo"), ("HEAD", 422, "getLoyaltyProgramInfo")]
    assert "Unknown query parameter 'x' for getLoyaltyProgramInfo" in lines[CountingDirectProtocol][0]["violations"]


# --------------------------------------------------------------------------- HEAD


def head_targets(ids: dict[str, str]) -> list[str]:
    """Valid reads, and reads answered with an error (unknown id, bad parameter, unknown path)."""
    return [*valid_reads(ids), f"/v3/loyalty/config/programs/{UNKNOWN}",
            "/v3/loyalty/config/programs?limit=oops", "/v3/loyalty/nothing-here"]


UNKNOWN = "00000000-0000-4000-8000-000000000000"
# Also left out when HEAD is compared with GET: each request spends one of the key's requests.
COUNTED_HEADERS = (*CLOCK_HEADERS, b"x-sib-ratelimit-remaining:")


def _head_lines(answer: bytes) -> list[bytes]:
    lines = answer.partition(b"\r\n\r\n")[0].split(b"\r\n")
    return [line for line in lines if not line.lower().startswith(COUNTED_HEADERS)]


def test_head_gets_the_same_bytes_both_ways_and_is_journaled_alike(direct: Running, through_asgi: Running,
                                                                   ids: dict[str, str]) -> None:
    def last_seq(running: Running) -> int:
        entries = running.app.state.mock.journal.entries()
        return entries[-1].seq if entries else 0

    journaled = {running.port: last_seq(running) for running in (direct, through_asgi)}
    before = CountingDirectProtocol.answered_directly
    for target in head_targets(ids):
        ours = exchange(direct.port, head(target, b"connection: close"))
        theirs = exchange(through_asgi.port, head(target, b"connection: close"))
        assert without_clock(ours) == without_clock(theirs), (target, ours, theirs)
    assert CountingDirectProtocol.answered_directly - before == len(head_targets(ids))  # HEAD takes the direct path

    def heads(running: Running) -> list[tuple[str, str, int]]:
        entries = [entry for entry in running.app.state.mock.journal.entries() if entry.seq > journaled[running.port]]
        return [(entry.method, entry.path, entry.status) for entry in entries]

    assert heads(direct) == heads(through_asgi)
    assert {method for method, _, _ in heads(direct)} == {"HEAD"}


@pytest.mark.parametrize("path", ["direct", "through_asgi"])
def test_head_answers_as_get_without_the_body(path: str, request: pytest.FixtureRequest, ids: dict[str, str]
                                              ) -> None:
    running: Running = request.getfixturevalue(path)
    for target in head_targets(ids):
        got = exchange(running.port, get(target, b"connection: close"))
        headed = exchange(running.port, head(target, b"connection: close"))
        assert _head_lines(headed) == _head_lines(got), target  # status, content-length and every header
        assert headed.endswith(b"\r\n\r\n") and headed.count(b"\r\n\r\n") == 1, headed  # no body
        body = got.partition(b"\r\n\r\n")[2]
        assert int(_header(headed.partition(b"\r\n\r\n")[0], b"content-length") or -1) == len(body) > 0


def test_a_kept_alive_connection_goes_on_after_a_head(direct: Running, ids: dict[str, str]) -> None:
    program = f"/v3/loyalty/config/programs/{ids['pid']}"
    with socket.create_connection(("127.0.0.1", direct.port), timeout=10) as sock:
        sock.sendall(head(program) + get(program))
        received = b""
        while received.count(b"\r\n\r\n") < 2 or not received.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        headed, _, rest = received.partition(b"\r\n\r\n")
        assert headed.startswith(b"HTTP/1.1 200") and rest.startswith(b"HTTP/1.1 200")  # no body in between
        assert ids["pid"].encode() in rest


# --------------------------------------------------------------------------- writes


def send(method: bytes, target: str, body: bytes = b"", *headers: bytes, version: bytes = b"HTTP/1.1",
         content_type: bytes | None = b"application/json", length: bool = True) -> bytes:
    """A request with a body: `Content-Length` as sent unless `length` is False (then none, or chunked)."""
    lines = [method + b" " + target.encode() + b" " + version, b"host: 127.0.0.1", b"api-key: " + KEY]
    if content_type is not None:
        lines.append(b"content-type: " + content_type)
    if length:
        lines.append(b"content-length: " + str(len(body)).encode())
    return b"\r\n".join([*lines, *headers]) + b"\r\n\r\n" + body


def transaction(ids: dict[str, str], amount: float = 5, **extra: Any) -> bytes:
    return json.dumps({"contactId": int(ids["cid"]), "balanceDefinitionId": ids["bdid"], "amount": amount,
                       "autoComplete": True, **extra}).encode()


def write_requests(ids: dict[str, str]) -> list[bytes]:
    """Writes accepted and refused, with every body rule, each ending its connection (`connection: close`)."""
    pid = ids["pid"]
    begin = f"/v3/loyalty/balance/programs/{pid}/transactions"
    program = f"/v3/loyalty/config/programs/{pid}"
    close = b"connection: close"
    padded = transaction(ids)[:-1] + b', "meta": {"note": "' + b"x" * 70_000 + b'"}}'  # past DIRECT_BODY_BYTES
    return [
        send(b"POST", begin, transaction(ids), close),
        send(b"POST", begin, transaction(ids, 7, meta={"orderId": "A-1"}), close),
        send(b"POST", begin, transaction(ids, 0), close),  # 422: a zero amount
        send(b"POST", begin, transaction(ids, "ten"), close),  # 422: the contract's type
        send(b"POST", begin, b'{"amount": ', close),  # 400: malformed JSON
        send(b"POST", begin, b'{"amount": NaN}', close),
        send(b"POST", begin, transaction(ids), close, content_type=None),  # 400: no Content-Type
        send(b"POST", begin, transaction(ids), close, content_type=b"text/plain"),
        send(b"POST", begin, transaction(ids), close, content_type=b"application/json; charset=latin-1"),
        send(b"POST", begin, b"", close),  # 422: the body is required
        send(b"POST", begin, b"   ", close),
        send(b"POST", begin, transaction(ids), close, version=b"HTTP/1.0"),
        send(b"POST", begin + "?unknown=1", transaction(ids), close),
        send(b"POST", begin, transaction(ids), close, b"prefer: code=422"),
        send(b"POST", begin.replace(pid, UNKNOWN), transaction(ids), close),  # 404, after reading the body
        send(b"POST", begin, transaction(ids), close, b"api-key: " + KEY),  # 401: two keys, not read
        send(b"POST", f"{program}/publish", b"", close),
        send(b"POST", f"{program}/publish", b'{"ignored": true}', close),  # a body where none is taken
        send(b"PUT", program, b'{"name": "Renamed by a test"}', close),
        send(b"PATCH", program, b'{"description": "patched"}', close),
        send(b"DELETE", f"{program}/contact/{UNKNOWN_CONTACT}", b"", close, content_type=None),
        send(b"DELETE", f"{program}/contact/{UNKNOWN_CONTACT}", b"", close, content_type=None, length=False),
        send(b"POST", begin, padded, close),  # over DIRECT_BODY_BYTES: through ASGI on both
        send(b"POST", begin, b"x" * (MAX_BODY_BYTES + 10), close),  # 413
        send(b"POST", begin, b"5\r\nhello\r\n0\r\n\r\n", close, b"transfer-encoding: chunked", length=False),
        send(b"POST", begin, transaction(ids), close, b"expect: 100-continue"),
    ]


UNKNOWN_CONTACT = 999_999_999


def test_writes_get_the_same_bytes_both_ways_and_are_journaled_alike(direct: Running, through_asgi: Running,
                                                                      ids: dict[str, str]) -> None:
    def last_seq(running: Running) -> int:
        entries = running.app.state.mock.journal.entries()
        return entries[-1].seq if entries else 0

    journaled = {running.port: last_seq(running) for running in (direct, through_asgi)}
    requests = write_requests(ids)
    before = CountingDirectProtocol.answered_directly
    differences, answers = [], []
    for data in requests:
        ours, theirs = exchange(direct.port, data), exchange(through_asgi.port, data)
        assert theirs, f"the ASGI server sent nothing for {data[:120]!r}"
        answers.append(ours)
        if without_clock(ours) != without_clock(theirs):
            differences.append((data[:200], ours[:400], theirs[:400]))
    assert not differences, differences[:3]
    # The comparison is worth something: a write was accepted, and most requests took the direct path.
    assert answers[0].startswith(b"HTTP/1.1 200") and b'"status":"completed"' in answers[0], answers[0][:400]
    assert CountingDirectProtocol.answered_directly - before >= len(requests) * 2 // 3

    def writes(running: Running) -> list[dict[str, Any]]:
        entries = [entry for entry in running.app.state.mock.journal.entries() if entry.seq > journaled[running.port]]
        return [{k: v for k, v in asdict(entry).items() if k not in ("at", "seq")} for entry in entries]

    assert writes(direct) == writes(through_asgi)
    assert any(entry["body"] for entry in writes(direct))  # write bodies are journaled on the direct path too


def test_pipelined_writes_and_reads_answer_in_order_both_ways(direct: Running, through_asgi: Running,
                                                              ids: dict[str, str]) -> None:
    begin = f"/v3/loyalty/balance/programs/{ids['pid']}/transactions"
    history = (f"/v3/loyalty/balance/programs/{ids['pid']}/transaction-history?contactId={ids['cid']}"
               f"&balanceDefinitionId={ids['bdid']}&sortField=createdAt&sort=desc&limit=3")
    pipelined = (send(b"POST", begin, transaction(ids, 3)) + get(history) + send(b"POST", begin, b'{"amount": ')
                 + send(b"POST", begin, transaction(ids, 4)) + get(history, b"connection: close"))
    ours, theirs = exchange(direct.port, pipelined), exchange(through_asgi.port, pipelined)
    assert without_clock(ours) == without_clock(theirs)
    assert ours.count(b"HTTP/1.1 200") == 4 and ours.count(b"HTTP/1.1 400") == 1
    # The read after a write shows it: the newest transaction of the history is the credit of 3.
    second = ours.split(b"HTTP/1.1 ")[2]
    assert b'"amount":3,' in second.partition(b"\r\n\r\n")[2][:400]


def test_a_client_that_leaves_mid_body_changes_nothing(direct: Running, ids: dict[str, str]) -> None:
    begin = f"/v3/loyalty/balance/programs/{ids['pid']}/transactions"
    journal = direct.app.state.mock.journal
    before = [entry.seq for entry in journal.entries()]
    writes = direct.app.state.mock.backends["default"].writes
    whole = send(b"POST", begin, transaction(ids))
    with socket.create_connection(("127.0.0.1", direct.port), timeout=10) as sock:
        sock.sendall(whole[:-10])  # the head and all but the last 10 bytes of the body
        time.sleep(0.2)
    time.sleep(0.2)
    assert [entry.seq for entry in journal.entries()] == before  # not journaled: nobody was answered
    assert direct.app.state.mock.backends["default"].writes == writes  # and nothing written
