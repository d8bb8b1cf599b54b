"""How the mock's servers listen and run: the listening socket and uvicorn's options.

`serve`, `proxy`, `mock_server.testing.running_mock` and bench/ all start servers with these, so that
a test or a benchmark runs the very server the command does.
"""

from __future__ import annotations

import errno
import gc
import os
import socket
from typing import Any

from mock_server.cli_errors import CliError
from mock_server.fence import http_protocol
from mock_server.limits import MAX_HEAD_BYTES
from mock_server.logs import json_log_config
from mock_server.settings import Settings


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose `proto` says TCP, unlike `socket.create_server`'s (0).

    asyncio turns Nagle's algorithm off (TCP_NODELAY) only on connections whose
    socket says IPPROTO_TCP. With a proto-0 socket uvicorn's two writes per
    answer (head, then body) wait for the client's delayed ACK: about 40 ms per
    keep-alive request, 23 requests/s on one connection.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         proto=socket.IPPROTO_TCP)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # as socket.create_server does: a restarted mock can rebind at once
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen()
    except BaseException:
        sock.close()
        raise
    return sock


def bind_socket(host: str, port: int) -> socket.socket:
    try:
        return listen(host, port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(f"port {port} on {host} is already in use (pick another with --port, or 0)") from None
        if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
            raise CliError(f"cannot bind to {host}: no such local address") from None
        if error.errno == errno.EACCES:
            raise CliError(f"not allowed to bind {host}:{port} (ports below 1024 need privileges)") from None
        raise CliError(f"cannot bind {host}:{port}: {error.strerror or error}") from None



def settle_collector() -> None:
    """The garbage collector of a server whose app (and seeded worlds) is built: one process, or each worker.

    The seeded worlds live as long as the server: kept out of the cyclic GC's scans, which would
    otherwise walk all of them on every full collection. A young collection every 50,000 allocations
    rather than 700: a write's records (a member's new ledger and history tuples) are mostly replaced,
    and freed, before one sees them, instead of being walked with every reference they hold, at a cost
    that grew with the histories (docs/performance.md, item 11). The mock makes few reference cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn runs the mock (bench/ runs its bare-Starlette baseline with the very same options)."""
    json_logs = settings.log_format == "json"
    return {
        "log_level": "info" if settings.access_log else "warning",
        "access_log": settings.access_log and not json_logs,  # with JSON logs the app writes the access lines
        **({"log_config": json_log_config()} if json_logs else {}),
        "lifespan": "on",
        "server_header": False,
        # Limits on what never reaches the app (docs/limits.md): uvicorn's httptools protocol with
        # bounded request heads and a head timeout, answering plain reads itself unless --no-direct-path
        # (uvicorn's own protocol if this uvicorn lacks a member they use: mock_server/fence.py);
        # h11's own bound in case h11 is ever chosen.
        "http": http_protocol(settings.direct_path),
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "timeout_graceful_shutdown": 10,
    }
