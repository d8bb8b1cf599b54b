"""Exactly N POSTs on loopback, over keep-alive connections, every answer checked.

wrk cannot post an exact number of requests (a run lasts its whole `-d`, and
requests in flight when it stops may or may not have been processed), so the
writes that seed a world before a measurement go through this small asyncio
client: `count` bodies taken round-robin, `connections` at a time, each answer
read whole (Content-Length) and required to be a 200 holding `expect`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


class PostError(RuntimeError):
    """An answer was not a 200 with the expected text, or the posts did not finish in time."""


@dataclass(frozen=True)
class Posted:
    count: int
    seconds: float


def post_exactly(port: int, path: str, headers: dict[str, str], bodies: Sequence[bytes], count: int,
                 expect: bytes, connections: int = 16, timeout: float = 600.0) -> Posted:
    """POST `count` bodies (round-robin over `bodies`) to 127.0.0.1:`port`; every answer must hold `expect`."""
    started = time.perf_counter()
    try:
        asyncio.run(asyncio.wait_for(_post_all(port, path, headers, bodies, count, expect, connections), timeout))
    except TimeoutError:
        raise PostError(f"{count:,} POSTs to {path} did not finish within {timeout:.0f} s") from None
    return Posted(count, time.perf_counter() - started)


async def _post_all(port: int, path: str, headers: dict[str, str], bodies: Sequence[bytes], count: int,
                    expect: bytes, connections: int) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = [f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{head}content-type: application/json\r\n"
                f"content-length: {len(body)}\r\n\r\n".encode() + body for body in bodies]
    queue = iter(range(count))  # shared: each connection takes the next index until none is left
    await asyncio.gather(*(_connection(port, requests, queue, expect) for _ in range(min(connections, count))))


async def _connection(port: int, requests: Sequence[bytes], queue: Iterator[int], expect: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for index in queue:
            writer.write(requests[index % len(requests)])
            status, body = await _answer(reader)
            if status != 200 or expect not in body:
                raise PostError(f"POST {index + 1} answered {status}: {body[:300]!r}")
    finally:
        writer.close()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)
