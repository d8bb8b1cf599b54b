"""The uvicorn internals the mock's HTTP protocol relies on, checked before a server starts.

`mock_server.limits` (bounded request heads) and `mock_server.direct` (API
reads answered without ASGI) extend uvicorn's httptools protocol and reach
into it: its parser state, its request-response cycle, its keep-alive timer.
None of that is uvicorn's public API, so any uvicorn release may rename it.
`UVICORN_INTERNALS` names every such member and what it is used for: it is the
one list, read by the start-up check below and by tests/unit/test_fence.py,
which fails when either module uses a uvicorn member the list does not name.

pyproject.toml pins uvicorn to the releases the differential protocol tests
run on (`make test-uvicorn-window`: the oldest and the newest of the window).
Outside it, `http_protocol` still starts a working server: it runs one request
through uvicorn's own protocol in memory, and if a member of the list is
missing it logs one warning naming it and serves with uvicorn's plain httptools
protocol (every request through ASGI, without the head limits of
docs/limits.md) instead of crashing on the first request that needs it.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import logging
from functools import cache
from typing import Any

from mock_server.limits import LimitedHttpToolsProtocol

logger = logging.getLogger("brevo_loyalty_mock")

# Owner -> member -> what the mock uses it for. Owners are uvicorn modules (dotted names) and the
# objects a connection of uvicorn's httptools protocol holds.
UVICORN_INTERNALS: dict[str, dict[str, str]] = {
    "uvicorn.protocols.http.httptools_impl": {
        "HttpToolsProtocol": "the protocol both of ours extend",
        "STATUS_LINE": "the status lines of the answers written without ASGI",
    },
    "uvicorn.protocols.utils": {
        "get_client_addr": "the direct path's access log line, as uvicorn writes it",
        "get_path_with_query_string": "the direct path's access log line, as uvicorn writes it",
    },
    "uvicorn.middleware.proxy_headers": {
        "ProxyHeadersMiddleware": "the wrapper around the app that the direct path looks through",
    },
    "ProxyHeadersMiddleware": {
        "app": "the app it wraps",
    },
    "HttpToolsProtocol": {
        # parser callbacks and transport events the protocols override
        "connection_made": "overridden: the idle timer of a connection that never sends",
        "connection_lost": "overridden: the head and linger timers are cancelled",
        "data_received": "overridden: the head limits, the parser's reason in a 400",
        "on_message_begin": "overridden: a request head begins",
        "on_url": "overridden: the request-target limit",
        "on_headers_complete": "overridden: the header limits, then the direct path's choice",
        "on_body": "overridden: a direct write's body is gathered here, not handed to ASGI",
        "on_message_complete": "overridden: a direct request is answered",
        "send_400_response": "overridden: uvicorn's plain-text 400 in Brevo's error shape",
        # the connection's state
        "app": "the app, to tell whether it is the mock",
        "limit_concurrency": "the direct path is off under a concurrency limit",
        "root_path": "the direct path is off under a root path",
        "parser": "the httptools parser of the connection",
        "url": "the request target received so far",
        "headers": "the request headers received so far",
        "cycle": "the request being answered through ASGI",
        "pipeline": "requests waiting behind it",
        "flow": "back-pressure of the socket",
        "transport": "the socket",
        "loop": "timers",
        "client": "the client's address, for log lines",
        "server_state": "default headers and the request count",
        "logger": "uvicorn's error logger, for refusals",
        "access_log": "whether uvicorn's access logger writes somewhere",
        "access_logger": "uvicorn's access logger",
        # the keep-alive timer, armed as uvicorn arms it
        "timeout_keep_alive": "the keep-alive timeout",
        "timeout_keep_alive_task": "the keep-alive timer",
        "timeout_keep_alive_handler": "what the keep-alive timer calls",
        "_unset_keepalive_if_required": "cancels the keep-alive timer",
        # upgrades, handled as uvicorn's own data_received does
        "_should_upgrade": "whether an Upgrade request is a WebSocket uvicorn can take",
        "handle_websocket_upgrade": "hands such a connection to the WebSocket protocol",
        "_unsupported_upgrade_warning": "any other Upgrade (h2c): uvicorn's warning, then a plain answer",
    },
    "RequestResponseCycle": {
        "response_started": "an answer is on its way through ASGI",
        "response_complete": "it has been sent",
        "keep_alive": "a refusal during an answer closes the connection after it",
        "disconnected": "a refused request's ASGI answer is dropped",
    },
    "FlowControl": {
        "write_paused": "the direct path waits while the socket applies back-pressure",
    },
    "ServerState": {
        "default_headers": "uvicorn's default headers (date), on answers written without ASGI",
        "total_requests": "the server's request count",
    },
}


def missing_internals() -> list[str]:
    """Each member of `UVICORN_INTERNALS` the installed uvicorn lacks, as 'Owner.member'; [] when all are there."""
    try:
        owners = _owners()
    except Exception as error:  # the sample request itself failed: this uvicorn is too different
        return [f"a request through uvicorn's httptools protocol ({type(error).__name__}: {error})"]
    return [f"{owner}.{name}" for owner, members in UVICORN_INTERNALS.items()
            for name in members if not hasattr(owners.get(owner), name)]


@cache
def internals_missing() -> tuple[str, ...]:
    """`missing_internals`, checked once per process; the one warning is logged here."""
    missing = tuple(missing_internals())
    if missing:
        import uvicorn

        logger.warning(
            "uvicorn %s lacks what the mock's HTTP protocol uses (%s): serving with uvicorn's own httptools "
            "protocol, so the API answers through ASGI and without the request-head limits of docs/limits.md. "
            "The mock is tested with %s.", uvicorn.__version__, ", ".join(missing), tested_uvicorn())
    return missing


def tested_uvicorn() -> str:
    """The uvicorn requirement the mock was installed with: pyproject.toml's pin, the window the tests run on."""
    try:
        requirements = importlib.metadata.requires("brevo-loyalty-mock") or []
    except importlib.metadata.PackageNotFoundError:  # run from a source tree without installing
        requirements = []
    pins = [text.split(";")[0].strip() for text in requirements if text.startswith("uvicorn")]
    return pins[0] if pins else "the uvicorn releases pyproject.toml allows"


def http_protocol(direct_path: bool = True) -> type | str:
    """uvicorn's `http` option: the mock's protocol (with or without the direct path), or uvicorn's own."""
    if internals_missing():
        return "httptools"
    if not direct_path:
        return LimitedHttpToolsProtocol
    from mock_server.direct import DirectHttpToolsProtocol  # imported once the members it uses are known

    return DirectHttpToolsProtocol


# --- the sample request --------------------------------------------------------------------------

async def _no_content(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class _MemoryTransport(asyncio.Transport):
    """A socket that keeps what is written: enough for uvicorn's protocol to answer one request."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0


async def _answered(protocol: Any) -> None:
    await asyncio.gather(*protocol.tasks)


def _owners() -> dict[str, Any]:
    """The owners of `UVICORN_INTERNALS`: uvicorn's modules, and a connection that has answered a request."""
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    owners: dict[str, Any] = {name: importlib.import_module(name) for name in UVICORN_INTERNALS if "." in name}
    middleware = getattr(owners["uvicorn.middleware.proxy_headers"], "ProxyHeadersMiddleware", None)
    owners["ProxyHeadersMiddleware"] = middleware(_no_content) if middleware else None
    config = Config(_no_content, http="httptools", ws="none", lifespan="off", log_config=None, proxy_headers=False)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        protocol = HttpToolsProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        transport = _MemoryTransport()
        protocol.connection_made(transport)
        protocol.data_received(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        loop.run_until_complete(_answered(protocol))
        if not transport.written.startswith(b"HTTP/1.1 204"):
            raise RuntimeError(f"unexpected answer {bytes(transport.written[:60])!r}")
        owners.update(HttpToolsProtocol=protocol, RequestResponseCycle=protocol.cycle, FlowControl=protocol.flow,
                      ServerState=protocol.server_state)
        protocol.connection_lost(None)
    finally:
        loop.close()
    return owners
