"""Hypothesis over the hostile corpus's generators (`make fuzz`; not in `make test`).

The corpus (tests/hostile/corpus.py) sends each bad value of each parameter
once, on an otherwise valid request. Here hypothesis combines them: several
bad and random values at once, on any operation, with random headers and
methods, in-process; and random bytes in the request line and headers over a
socket to a server run with the CLI's options. The properties are those of the
corpus: never a 5xx, every error in Brevo's shape without a trace of the
mock's insides, every bad parameter named, and the server still up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.app import create_app
from mock_server.server import listen, uvicorn_options
from mock_server.settings import Settings
from tests.hostile.corpus import Case, baseline, contract, fill, ids_from_summary, kind_of, mutations_for, target_of
from tests.hostile.wire import TRACEBACK_MARKERS, Answer, in_process, over_socket, scope_for
from tests.support.operations import read_operations
from tests.support.serving import serving

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
FUZZ = settings(max_examples=EXAMPLES * 4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SOCKET_FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))

APP = create_app(Settings(seed=1, contacts=50, access_log=False))
IDS = ids_from_summary(APP.state.mock.worlds["default"].summary())
# The corpus is about reads (tests/hostile/corpus.py); writes' parameters and bodies are fuzzed with their handlers.
OPERATIONS = sorted(read_operations(contract()).values(), key=lambda operation: operation.operation_id)
# Per path, the methods that are no operation of it: a hostile method must not carry out a write on APP.
NOT_OPERATIONS = {
    operation.path: [method for method in ("POST", "DELETE", "PATCH", "OPTIONS")
                     if method not in {other.method for other in contract().operations.values()
                                       if other.path == operation.path}]
    for operation in OPERATIONS
}


def assert_sound(answer: Answer, label: str) -> dict[str, str] | None:
    """No 5xx; an error is Brevo's body with no trace of the mock's insides; a success is JSON."""
    shown = f"{label}: {answer.status} {answer.body[:300]!r}"
    assert answer.status < 500, shown
    for marker in TRACEBACK_MARKERS:
        assert marker not in answer.body, shown
    if answer.status < 400:
        if answer.status != 204 and answer.body:
            answer.json()
        return None
    document = answer.json()
    assert set(document) == {"code", "message"}, shown
    assert isinstance(document["code"], str) and isinstance(document["message"], str) and document["message"], shown
    return document


# --- strategies --------------------------------------------------------------------------------

any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
raw_value = st.one_of(
    any_text.map(lambda text: quote(text, safe="")),  # any text, as a client would encode it
    st.binary(max_size=20).map(lambda data: quote(data, safe="")),  # any bytes, percent-encoded
    st.from_regex(r"[A-Za-z0-9%+\-_.~:{}]{0,30}", fullmatch=True),  # what a sloppy client leaves unencoded
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@st.composite
def hostile_request(draw: st.DrawFn) -> tuple[Case, list[str]]:
    """A baseline request with some parameters replaced by corpus values or random ones.

    Returns the case and the names of the parameters given a corpus value that the
    mock must refuse (the error must name at least one of them).
    """
    operation = draw(st.sampled_from(OPERATIONS))
    path, query = baseline(operation)
    query_pairs = list(query.items())
    params = [*operation.path_params, *operation.query_params.values()]
    chosen = draw(st.lists(st.sampled_from(params), min_size=1, max_size=4, unique_by=lambda param: param.name))
    refused: list[str] = []
    for param in chosen:
        values = [mutation for mutation in mutations_for(operation, param) if mutation.outcome == "invalid"]
        use_corpus = bool(values) and draw(st.booleans())
        value = draw(st.sampled_from(values)).raw if use_corpus else draw(raw_value)
        if use_corpus:
            refused.append(param.name)
        if param.location == "path":
            path = path.replace("{" + param.name + "}", value or "x", 1)
        else:
            query_pairs = [(name, raw) for name, raw in query_pairs if name != param.name] + [(param.name, value)]
    if draw(st.booleans()):  # unknown and repeated parameters too
        query_pairs.append((draw(st.from_regex(r"[a-zA-Z_]{1,12}", fullmatch=True)), draw(raw_value)))
    headers: list[tuple[bytes, bytes]] = []
    if draw(st.integers(0, 9)) == 0:
        value = draw(st.binary(max_size=6)).replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
        headers.append((b"prefer", b"code=" + value))
    method = draw(st.sampled_from(["GET"] * 8 + NOT_OPERATIONS[operation.path]))
    case = Case("fuzz", "fuzz", target_of(path, query_pairs), 0, "", method=method, headers=tuple(headers),
                operation=operation.operation_id)
    return case, refused if method == "GET" and not headers else []


@given(hostile_request())
@FUZZ
def test_hostile_parameters_in_process(request: tuple[Case, list[str]]) -> None:
    case, refused = request
    answer = in_process(APP, scope_for(case, IDS))
    document = assert_sound(answer, fill(case.target, IDS))
    if refused:
        assert document is not None, f"{fill(case.target, IDS)} was accepted"
        named = any(f"'{name}'" in document["message"] for name in refused) or "UTF-8" in document["message"]
        assert named, (fill(case.target, IDS), document)


@given(st.sampled_from(OPERATIONS), st.data())
@FUZZ
def test_every_corpus_value_on_every_parameter_alone(operation: Any, data: st.DataObject) -> None:
    """One corpus value at a time (as the corpus does), picked at random, with random valid neighbours."""
    params = [*operation.path_params, *operation.query_params.values()]
    param = data.draw(st.sampled_from(params))
    mutations = mutations_for(operation, param)
    if not mutations:
        return
    mutation = data.draw(st.sampled_from(mutations))
    path, query = baseline(operation)
    if param.location == "path":
        target = target_of(path.replace("{" + param.name + "}", mutation.raw, 1), query)
    else:
        target = target_of(path, {**query, param.name: mutation.raw})
    answer = in_process(APP, scope_for(Case("fuzz", "fuzz", target, 0, ""), IDS))
    document = assert_sound(answer, fill(target, IDS))
    assert document is not None and f"'{param.name}'" in document["message"], (fill(target, IDS), document)
    if mutation.outcome == "invalid":
        assert answer.status == param.invalid_status, (fill(target, IDS), answer.status)
    assert kind_of(param)  # every parameter kind has generators


# --- raw bytes over a socket -------------------------------------------------------------------

@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    settings_ = Settings(seed=1, contacts=20, access_log=False)
    sock = listen("127.0.0.1", 0)
    app = create_app(replace(settings_, port=sock.getsockname()[1]))
    with serving(app, sock, **uvicorn_options(settings_)) as port:
        yield port


line_bytes = st.binary(min_size=0, max_size=60).map(lambda data: data.replace(b"\r\n", b""))
methods = st.one_of(st.sampled_from([b"GET", b"POST", b"HEAD", b"OPTIONS", b"DELETE", b"PUT", b"get", b"G ET"]),
                    st.binary(min_size=1, max_size=10))
targets = st.one_of(
    st.sampled_from(["/v3/loyalty/config/programs", "/v3/loyalty/config/programs/{pid}",
                     "/v3/loyalty/balance/programs/{pid}/subscriptions/{cid}/tier", "/__mock__/health"])
    .map(lambda template: fill(template, IDS).encode())
    .flatmap(lambda target: line_bytes.map(lambda tail: target + tail)),
    line_bytes,
)


@given(methods, targets, st.lists(st.tuples(line_bytes, line_bytes), max_size=6), st.binary(max_size=64))
@SOCKET_FUZZ
def test_random_bytes_in_the_request_head_over_a_socket(port: int, method: bytes, target: bytes,
                                                       headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    head = [method + b" " + target + b" HTTP/1.1", b"host: 127.0.0.1", b"connection: close",
            b"api-key: xkeysib-loyalty-mock-local-key", *(name + b": " + value for name, value in headers)]
    data = b"\r\n".join(head) + b"\r\n\r\n" + body
    try:
        answer = over_socket(port, data, timeout=15)
    except AssertionError:
        if method == b"HEAD":  # an answer to HEAD announces a body it does not carry
            return
        raise
    if method == b"HEAD":
        assert answer.status < 500
        return
    assert_sound(answer, repr(data[:200]))
    # and the server is still up
    health = over_socket(port, b"GET /__mock__/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    assert health.status == 200
