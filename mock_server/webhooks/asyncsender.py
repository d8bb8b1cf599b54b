"""One delivery attempt on the server's event loop: the mock's own deliveries (`Dispatcher`).

The same wire format and verdicts as `sender.Sender` (which `conformance-webhooks` uses from a plain
thread), on asyncio streams: a delivery costs the API only the CPU it takes, with no thread to wake
and no lock to hand over, and a receiver that hangs only keeps its own coroutine waiting (at most
the endpoint's timeout).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit

from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.sender import RETRY, Outcome, verdict_of


class AsyncSender:
    """Posts to one endpoint over a kept-alive connection (one coroutine at a time uses it)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        parts = urlsplit(endpoint.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = self._port == (443 if self._https else 80)
        host = self._host if ":" not in self._host else f"[{self._host}]"
        lines = [f"POST {target} HTTP/1.1", f"Host: {host}" + ("" if default_port else f":{self._port}"),
                 *(f"{name}: {value}" for name, value in endpoint.request_headers)]
        self._head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> Outcome:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.endpoint.timeout):
                status = await self._exchange(body)
        except TimeoutError:
            return self._failed("timeout", started)
        except ConnectionRefusedError:
            return self._failed("connection refused", started)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            return self._failed(f"connection failed: {type(error).__name__}", started)
        return Outcome(verdict_of(status), status, None, round((time.perf_counter() - started) * 1000, 3))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def _exchange(self, body: bytes) -> int:
        reused = self._writer is not None
        try:
            return await self._send(body)
        except (asyncio.IncompleteReadError, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
            return await self._send(body)  # the kept connection was closed by the receiver: a fresh one, once

    async def _send(self, body: bytes) -> int:
        if self._writer is None:
            context = ssl.create_default_context() if self._https else None
            self._reader, self._writer = await asyncio.open_connection(
                self._host, self._port, ssl=context, server_hostname=self._host if context else None)
        reader, writer = self._reader, self._writer
        assert reader is not None
        writer.write(self._head + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, _, header_text = head[:-4].partition(b"\r\n")
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ValueError("not an HTTP answer")
        status = int(parts[1])
        headers = {}
        for line in header_text.split(b"\r\n"):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        keep = parts[0] == b"HTTP/1.1" and headers.get(b"connection") != b"close"
        if b"content-length" in headers:
            await reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").endswith(b"chunked"):
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        elif status not in (204, 304) and not 100 <= status < 200:
            await reader.read()  # the body ends with the connection
            keep = False
        if not keep:
            self.close()
        return status

    def _failed(self, error: str, started: float) -> Outcome:
        self.close()
        return Outcome(RETRY, None, error, round((time.perf_counter() - started) * 1000, 3))
