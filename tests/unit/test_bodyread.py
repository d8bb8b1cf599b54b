"""Raw request bodies: parsed to JSON, or refused in Brevo's error shape with a message naming the problem."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.bodyread import (
    MAX_BODY_BYTES,
    MAX_BODY_DEPTH,
    NO_BODY,
    ClientDisconnected,
    parse_json_body,
    read_body,
)
from mock_server.errors import ApiError, render_error

JSON = b"application/json"


def refusal(content_type, raw):
    with pytest.raises(ApiError) as caught:
        parse_json_body(content_type, raw)
    error = caught.value
    body = orjson.loads(render_error(error))
    assert set(body) == {"code", "message"}  # Brevo's error shape, always
    return error.status, body["code"], body["message"]


@pytest.mark.parametrize("content_type", [b"application/json", b"application/json; charset=utf-8",
                                          b"Application/JSON;charset=\"UTF-8\"", b"application/merge-patch+json"])
def test_json_content_types_are_accepted(content_type):
    assert parse_json_body(content_type, b'{"amount": 1}') == {"amount": 1}


@pytest.mark.parametrize("content_type, said", [
    (None, "Missing Content-Type header"),
    (b"", "Missing Content-Type header"),
    (b"text/plain", "Unsupported Content-Type 'text/plain'"),
    (b"application/x-www-form-urlencoded", "Unsupported Content-Type"),
    (b"application/json; charset=latin-1", "Unsupported charset 'latin-1'"),
])
def test_other_content_types_are_a_400_naming_what_was_received(content_type, said):
    status, code, message = refusal(content_type, b'{"a": 1}')
    assert (status, code) == (400, "bad_request")
    assert said in message
    assert "'Content-Type: application/json'" in message or "JSON bodies are UTF-8" in message


def test_an_empty_body_is_no_body_whatever_its_type():
    assert parse_json_body(None, b"") is NO_BODY
    assert parse_json_body(JSON, b" \r\n\t") is NO_BODY


@pytest.mark.parametrize("raw, said", [
    (b'{"amount": 1', "at byte 12 (line 1, column 13): unexpected end of data"),
    (b'{"\xc3\xa9": x}', "at byte 7 "),  # bytes, not characters: the key is 2 bytes of UTF-8
    (b'{"a": NaN}', "NaN and Infinity are not JSON numbers"),
    (b'[Infinity]', "NaN and Infinity are not JSON numbers"),
    (b'{"a": -Infinity}', "NaN and Infinity are not JSON numbers"),
    (b'[1,]', "trailing comma"),
    (b'"\xff"', "UTF-8"),
    (b'{"a": 1} {"b": 2}', "unexpected content after document"),
])
def test_malformed_json_is_a_400_naming_the_position(raw, said):
    status, code, message = refusal(JSON, raw)
    assert (status, code) == (400, "bad_request")
    assert message.startswith("Malformed JSON in the request body") and said in message


def test_nesting_is_bounded():
    assert parse_json_body(JSON, b"[" * MAX_BODY_DEPTH + b"]" * MAX_BODY_DEPTH) is not None
    for depth in (MAX_BODY_DEPTH + 1, 5000):
        status, code, message = refusal(JSON, b"[" * depth + b"]" * depth)
        assert (status, code) == (400, "bad_request") and f"more than {MAX_BODY_DEPTH} levels" in message
    wide = orjson.dumps({"a": [[1]] * 1000, "s": "[[[[" * 100})  # many brackets, shallow
    assert parse_json_body(JSON, wide)["a"][0] == [1]


def test_a_body_over_the_limit_is_a_413():
    raw = b'"' + b"x" * MAX_BODY_BYTES + b'"'
    assert refusal(JSON, raw)[:2] == (413, "payload_too_large")


def receiver(chunks, disconnect=False):
    messages = [{"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
                for index, chunk in enumerate(chunks)]
    if disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})
    read = []

    async def receive():
        read.append(1)
        return messages[len(read) - 1]

    return receive, read


def test_read_body_joins_chunks():
    receive, _ = receiver([b'{"a"', b": 1}"])
    assert asyncio.run(read_body(receive)) == b'{"a": 1}'


def test_read_body_stops_reading_past_the_limit():
    receive, read = receiver([b"x" * 600, b"x" * 600, b"x" * 600, b"x"])
    with pytest.raises(ApiError) as caught:
        asyncio.run(read_body(receive, limit=1000))
    assert caught.value.status == 413 and "more than 1000 bytes" in caught.value.message
    assert len(read) == 2  # the third chunk was never asked for


def test_read_body_reports_a_client_that_left():
    receive, _ = receiver([b"{"], disconnect=True)
    with pytest.raises(ClientDisconnected):
        asyncio.run(read_body(receive))


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode),
       content_type=st.sampled_from([None, JSON, b"text/plain", b"application/problem+json"]))
def test_any_bytes_are_parsed_or_refused_in_brevos_shape(raw, content_type):
    try:
        parse_json_body(content_type, raw)
    except ApiError as error:
        assert error.status in (400, 413)
        assert set(orjson.loads(render_error(error))) == {"code", "message"}
