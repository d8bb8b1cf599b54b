"""A webhook receiver for the benchmark: answers 200 at once to any POST (and to GET, for readiness).

An asyncio protocol on uvloop that reads a request's head and its `Content-Length` body and answers
fixed bytes, on kept-alive connections, so that the receiver is never what limits the deliveries the
webhook row measures: it shares its core with wrk and the mock's delivery process. Under uvicorn (a
bare ASGI app) it took about 70 µs of CPU a request there, and the core ran full (docs/webhooks.md).

    python -m bench.webhook_receiver --port 9000
"""

from __future__ import annotations

import argparse
import asyncio

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
MAX_HEAD = 65536


class Receiving(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        answers = 0
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            length = 0
            for line in buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value) if value.strip().isdigit() else -1
            if length < 0:
                self._refuse()
                return
            if len(buffer) < end + 4 + length:
                break  # the body is still coming
            buffer = buffer[end + 4 + length:]
            answers += 1
        if len(buffer) > MAX_HEAD:
            self._refuse()
            return
        self.buffer = buffer
        if answers and self.transport is not None:
            self.transport.write(ANSWER * answers)

    def _refuse(self) -> None:
        if self.transport is not None:
            self.transport.write(BAD)
            self.transport.close()


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Receiving, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency of the mock
        asyncio.run(serve(args.port))
    else:
        uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
