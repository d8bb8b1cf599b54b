"""Interim: replaced by the `bodies` branch (request bodies read and parsed as JSON)."""

from __future__ import annotations

from typing import Any

import orjson

from mock_server.errors import BadRequest

MAX_BODY_BYTES = 1024 * 1024


async def read_body(receive: Any, limit: int, headers: Any = ()) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def parse_json_body(content_type: bytes | None, raw: bytes | None) -> Any:
    if raw is None:
        raise BadRequest("body too large")
    try:
        return orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"The request body is not JSON: {error}") from None
