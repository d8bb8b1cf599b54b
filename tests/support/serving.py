"""A server in a thread of the test process, on 127.0.0.1 and a free port, stopped with its context."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from mock_server.server import listen

START_TIMEOUT_SECONDS = 30


@contextmanager
def serving(app: Any, sock: socket.socket | None = None, **options: Any) -> Iterator[int]:
    """Serve `app` with uvicorn and `options`; yields the port. `sock`: a socket bound beforehand."""
    sock = sock or listen("127.0.0.1", 0)  # TCP_NODELAY-friendly, see server.listen
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_asgi(app: Any, lifespan: str = "off") -> Iterator[str]:
    """Serve `app` quietly on a free loopback port; yields its root URL (no trailing slash)."""
    with serving(app, log_level="error", access_log=False, lifespan=lifespan) as port:
        yield f"http://127.0.0.1:{port}"
