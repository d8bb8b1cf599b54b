"""The messages between the server and its delivery process (`ProcessCourier` <-> `courier_main`).

A frame is a fixed head, then `size` bytes of payload:

    kind (1 byte) | lane (u32) | token (u64) | size (u32) | payload

server -> delivery process
    ENDPOINT  lane, payload: the endpoint as JSON (url, request headers, timeout), before its lane's first post
    POST      lane, token, payload: the body to post (the lane's posts go in the order they came)
    DROP      lane: forget the lane's queued posts and close its connection (a reset, a removed endpoint)
delivery process -> server
    READY     once, when it has started (a process that dies before saying so could not run)
    OUTCOME   token, payload: the attempt's outcome: verdict (1 byte), status (i16, -1: none), latency (f64, ms),
              then the error text (UTF-8), if any

Both ends write whatever frames one turn of their loop produced in one write, and read them in chunks.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.sender import DELIVERED, DISCARDED, RETRY, Outcome

ENDPOINT, POST, DROP, READY, OUTCOME = b"E", b"P", b"D", b"R", b"O"
HEAD = struct.Struct("!cIQI")
READ_SIZE = 1 << 18
_OUTCOME = struct.Struct("!Bhd")
_VERDICTS = (DELIVERED, RETRY, DISCARDED)
_VERDICT_CODES = {verdict: code for code, verdict in enumerate(_VERDICTS)}


def frame(kind: bytes, lane: int, token: int, payload: bytes = b"") -> bytes:
    return HEAD.pack(kind, lane, token, len(payload)) + payload


def endpoint_payload(endpoint: Endpoint) -> bytes:
    return orjson.dumps({"url": endpoint.url, "headers": endpoint.request_headers, "timeout": endpoint.timeout,
                         "id": endpoint.id})


def endpoint_of(payload: bytes) -> Endpoint:
    """The endpoint as the delivery process needs it (the server checked it when it was configured)."""
    data: dict[str, Any] = orjson.loads(payload)
    return Endpoint(data["url"], timeout=float(data["timeout"]), id=data["id"],
                    request_headers=tuple((name, value) for name, value in data["headers"]))


def outcome_payload(outcome: Outcome) -> bytes:
    status = -1 if outcome.status is None else outcome.status
    head = _OUTCOME.pack(_VERDICT_CODES[outcome.verdict], status, outcome.latency_ms)
    return head if outcome.error is None else head + outcome.error.encode()


def outcome_of(payload: bytes) -> Outcome:
    code, status, latency = _OUTCOME.unpack_from(payload)
    error = payload[_OUTCOME.size:].decode() if len(payload) > _OUTCOME.size else None
    return Outcome(_VERDICTS[code], None if status < 0 else status, error, latency)


class FrameReader:
    """Frames out of a byte stream that arrives in chunks of any size."""

    def __init__(self) -> None:
        self._buffer = b""

    def read(self, sock: socket.socket) -> list[tuple[bytes, int, int, bytes]] | None:
        """The frames one read of `sock` completes (none yet: []); None once the other end closed or the socket
        broke."""
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            return None
        return list(self.feed(data)) if data else None

    def feed(self, data: bytes) -> Iterator[tuple[bytes, int, int, bytes]]:
        """(kind, lane, token, payload) of every frame `data` completes."""
        buffer = self._buffer + data if self._buffer else data
        start, end = 0, len(buffer)
        head_size = HEAD.size
        while end - start >= head_size:
            kind, lane, token, size = HEAD.unpack_from(buffer, start)
            if end - start - head_size < size:
                break
            payload_start = start + head_size
            start = payload_start + size
            yield kind, lane, token, buffer[payload_start:start]
        self._buffer = buffer[start:]


class FrameWriter:
    """Frames queued (`frames`), then written in one `send`; what the socket does not take waits until it is
    writable, when the loop calls `flush` (which should call `send` again) once."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self._left = b""

    @property
    def waiting(self) -> bool:
        return bool(self.frames or self._left)

    def clear(self) -> None:
        self.frames.clear()
        self._left = b""

    def send(self, sock: socket.socket, loop: asyncio.AbstractEventLoop, flush: Callable[[], None]) -> bool:
        """Write what waits; False when the socket is broken (what waited is dropped)."""
        data = self._left + b"".join(self.frames)
        self.frames.clear()
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._left = b""
            return False
        self._left = data[sent:]
        if self._left:
            loop.add_writer(sock.fileno(), _once_writable, loop, sock.fileno(), flush)
        return True


def _once_writable(loop: asyncio.AbstractEventLoop, fd: int, flush: Callable[[], None]) -> None:
    loop.remove_writer(fd)
    flush()


__all__ = ["DROP", "ENDPOINT", "OUTCOME", "POST", "READY", "FrameReader", "FrameWriter", "endpoint_of",
           "endpoint_payload", "frame", "outcome_of", "outcome_payload"]
