"""A write's raw request body, turned into a JSON value or refused in Brevo's error shape.

Independent of ASGI, so that the pipeline (and the proxy) can call it on bytes
however they were received; `read_body` is the ASGI side, reading no more
than the limit. What is refused, and how (docs/limits.md lists it too):

| what                                                  | answer                    |
| ----------------------------------------------------- | ------------------------- |
| more than MAX_BODY_BYTES (1 MiB)                      | 413 `payload_too_large`   |
| a body without `Content-Type`, or not a JSON type     | 400 `bad_request`         |
| a charset other than UTF-8 (JSON is UTF-8, RFC 8259)  | 400 `bad_request`         |
| malformed JSON, NaN or Infinity, invalid UTF-8        | 400 `bad_request`         |
| nesting deeper than MAX_BODY_DEPTH (32) levels        | 400 `bad_request`         |

JSON types are ``application/json`` and ``application/<anything>+json``, with
or without parameters. An empty body (or one of only whitespace) is not
refused here: it comes back as `NO_BODY`, and the operation decides
(`Operation.validate_body`): where the contract requires a body, that is a 422
`missing_parameter` ("The request body is required"), as any other missing
part of a request; where the body is optional, it is checked as ``{}``.
"""

from __future__ import annotations

from typing import Any

import orjson

from mock_server.contract.bodies import NO_BODY
from mock_server.errors import BadRequest, PayloadTooLarge

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_DEPTH", "NO_BODY", "ClientDisconnected", "parse_json_body", "read_body"]

MAX_BODY_BYTES = 1024 * 1024  # Brevo's Loyalty bodies are a few hundred bytes; 1 MiB is far past any real one
MAX_BODY_DEPTH = 32  # objects and arrays nested in each other; the deepest documented body has 4
SHOWN_CHARS = 60  # how much of a bad Content-Type a message quotes
_WHITESPACE = b" \t\r\n"


class ClientDisconnected(Exception):
    """The client went away before sending its whole body: there is nobody to answer."""


def too_large(limit: int = MAX_BODY_BYTES) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body too large: more than {limit} bytes (the mock's limit, see docs/limits.md)")


def parse_json_body(content_type: bytes | None, raw: bytes) -> Any:
    """The JSON value of a request body, or `NO_BODY` when it is empty; raises `ApiError`s (400, 413)."""
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    if not raw.strip(_WHITESPACE):
        return NO_BODY
    _check_content_type(content_type)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BadRequest(_malformed(raw, error)) from None
    # Depth is at most the number of brackets: only a body with many of them is walked.
    if raw.count(b"[") + raw.count(b"{") > MAX_BODY_DEPTH and _deeper_than(value, MAX_BODY_DEPTH):
        raise BadRequest(_too_deep())
    return value


# Content-Type values accepted before: a client sends one or two, so a write's check is a set look-up.
_ACCEPTED_TYPES: set[bytes] = set()
_ACCEPTED_TYPES_KEPT = 64


def _check_content_type(content_type: bytes | None) -> None:
    if content_type in _ACCEPTED_TYPES:
        return
    _parse_content_type(content_type)
    if content_type is not None and len(_ACCEPTED_TYPES) < _ACCEPTED_TYPES_KEPT:
        _ACCEPTED_TYPES.add(content_type)


def _parse_content_type(content_type: bytes | None) -> None:
    hint = "send the body as JSON with 'Content-Type: application/json'"
    if content_type is None or not content_type.strip():
        raise BadRequest(f"Missing Content-Type header for a request body: {hint}")
    media, _, parameters = content_type.partition(b";")
    media = media.strip().lower()
    if not (media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))):
        shown = content_type.decode("latin-1")
        shown = shown if len(shown) <= SHOWN_CHARS else shown[:SHOWN_CHARS] + "…"
        raise BadRequest(f"Unsupported Content-Type {shown!r} for a request body: {hint}")
    for parameter in parameters.split(b";"):
        name, _, value = parameter.partition(b"=")
        if name.strip().lower() == b"charset" and value.strip(b" \"'").lower() not in (b"utf-8", b"utf8"):
            shown = value.strip().decode("latin-1")[:SHOWN_CHARS]
            raise BadRequest(f"Unsupported charset {shown!r} in Content-Type: JSON bodies are UTF-8")


def _malformed(raw: bytes, error: orjson.JSONDecodeError) -> str:
    if "depth" in error.msg:  # orjson's own limit (1024), far past ours
        return _too_deep()
    text = error.doc if isinstance(error.doc, str) else raw.decode("utf-8", "replace")
    position = error.pos
    rest = text[position:position + 9]
    if rest.startswith(("NaN", "Infinity")) or text[max(position - 1, 0):position + 8] == "-Infinity":
        reason = "NaN and Infinity are not JSON numbers"
    else:
        reason = error.msg
    at_byte = len(text[:position].encode("utf-8", "replace"))
    return (f"Malformed JSON in the request body at byte {at_byte} (line {error.lineno}, column {error.colno}): "
            f"{reason}")


def _too_deep() -> str:
    return f"Request body nested too deeply: more than {MAX_BODY_DEPTH} levels of objects and arrays"


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels (a top-level object is level 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


async def read_body(receive: Any, limit: int = MAX_BODY_BYTES) -> bytes:
    """An ASGI request's whole body; raises `PayloadTooLarge` as soon as it passes `limit` (reading stops).

    Raises `ClientDisconnected` if the client leaves first.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
