"""Proxy mode: a real client and a real server, checked against the contract together.

    client -> proxy (127.0.0.1:PORT/v3) -> upstream (e.g. https://api.brevo.com/v3)

Every request is checked against the contract before it is forwarded (the
same compiled checks the mock uses: route, method, parameters, api-key), and
every answer after it comes back (`ResponseValidator`: documented status,
content type, headers, body schema). Answers go back to the client
unchanged; violations are journaled the way the mock's client check does
(``GET /__mock__/requests``, ``POST /__mock__/reset``, a line on stderr per
violating request, a summary when the proxy stops), each prefixed with
``request:`` or ``response:`` to say whose fault it is.

A proxy between a client and a server checks both sides, so writes are
forwarded too, body and all: the client's body is checked against the
contract (types, required and unknown properties, with a did-you-mean), the
server's answer as for a read, and a server that accepts (2xx) a body the
contract rejects is a `response:` violation. The safe default: writes go only
to an upstream on loopback (a local mock or test server); in front of anything
else (the real Brevo) a write is answered 405 locally, never sent, unless the
proxy was started with ``--allow-writes``. Its body is checked and journaled
either way.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.admin import journal_routes
from mock_server.admin_guard import AdminAccess, AdminGuard
from mock_server.bodyread import MAX_BODY_BYTES, parse_json_body
from mock_server.cli_errors import CliError
from mock_server.contract import CompiledContract, compile_contract, load_contract
from mock_server.contract.responses import ResponseValidator
from mock_server.errors import ApiError
from mock_server.journal import Journal, print_violation
from mock_server.jsonresponse import OrjsonResponse
from mock_server.loopback import is_loopback
from mock_server.server import bind_socket

READ_METHODS = ("GET", "HEAD")
# Hop-by-hop headers (RFC 9110 7.6.1) and those the proxy recomputes.
DROPPED_REQUEST_HEADERS = frozenset({"host", "connection", "keep-alive", "proxy-authorization", "te", "trailer",
                                     "transfer-encoding", "upgrade", "content-length", "accept-encoding"})
DROPPED_RESPONSE_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length",
                                      "content-encoding", "server", "date"})


@functools.cache
def _checked_contract(path: Path | None) -> tuple[CompiledContract, ResponseValidator]:
    """The contract and its response validator, built once per file (the validator takes a noticeable part of a
    second: every response schema is compiled)."""
    contract = compile_contract(load_contract(path))
    return contract, ResponseValidator(contract.document)


class ProxyState:
    def __init__(self, upstream: str, contract: CompiledContract, validator: ResponseValidator,
                 client: httpx.AsyncClient, journal: Journal, forwards_writes: bool) -> None:
        self.upstream = upstream.rstrip("/")
        self.forwards_writes = forwards_writes
        self.contract = contract
        self.validator = validator
        self.client = client
        self.journal = journal


def request_violations(contract: CompiledContract, method: str, path: str, query: str,
                       api_key: str | None, content_type: bytes | None = None, body: bytes = b""
                       ) -> tuple[str | None, list[str]]:
    """(operationId, problems) of a request, as the mock's pipeline would judge it (its body included)."""
    operation_id, problems, _ = judge_request(contract, method, path, query, api_key, content_type, body)
    return operation_id, problems


def judge_request(contract: CompiledContract, method: str, path: str, query: str, api_key: str | None,
                  content_type: bytes | None = None, body: bytes = b"") -> tuple[str | None, list[str], list[str]]:
    """(operationId, every problem, the body problems a conforming server must refuse the request for).

    Tolerated unknown body properties are problems of the client (journaled with a did-you-mean) but not
    reasons to refuse; a malformed, mistyped or incomplete body is both.
    """
    rejecting: list[str] = []
    problems = [] if api_key else ["missing 'api-key' header"]
    # Split before percent-decoding, as the mock's pipeline does: %2F stays inside its segment.
    segments = [unquote(segment, errors="replace") for segment in path.strip("/").split("/")]
    match = contract.router.match(segments)
    if match is None:
        return None, [*problems, f"no operation at {path}"], rejecting
    operation = match.methods.get("GET" if method == "HEAD" else method)
    if operation is None:
        return None, [*problems, f"{method} is not an operation of this path"], rejecting
    validated = operation.validate(match.values, parse_qsl(query, keep_blank_values=True))
    problems.extend(validated.tolerated)
    problems.extend(problem.message for problem in validated.problems)
    if operation.body is not None:
        try:
            checked = operation.validate_body(parse_json_body(content_type, body))
        except ApiError as error:  # not JSON, too large, too deep
            problems.append(error.message)
            rejecting.append(error.message)
        else:
            if checked is not None:
                problems.extend(checked.tolerated)
                problems.extend(problem.message for problem in checked.problems)
                rejecting.extend(problem.message for problem in checked.problems)
    return operation.operation_id, problems, rejecting


def create_proxy_app(upstream: str, *, contract_path: Path | None = None, timeout: float = 30.0,
                     journal_size: int = 1000, transport: httpx.AsyncBaseTransport | None = None,
                     echo: bool = True, admin_access: AdminAccess | None = None,
                     allow_writes: bool = False) -> Starlette:
    """The proxy as an ASGI app; `transport` lets tests put an in-process server upstream.

    Writes are forwarded to a loopback upstream, and to any other only with `allow_writes`.
    Its /__mock__/ endpoints follow the mock's rules (`admin_access`, by default loopback only).
    """
    contract, validator = _checked_contract(contract_path)
    client = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)
    state = ProxyState(upstream, contract, validator, client, Journal(journal_size, print_violation if echo else None),
                       forwards_writes=allow_writes or is_loopback(upstream))

    async def forward(request: Request) -> Response:
        method, path = request.method, request.url.path
        query = request.url.query
        raw_path = (request.scope.get("raw_path") or path.encode()).decode("latin-1")
        body = b"" if method in READ_METHODS else await _body(request)
        content_type = request.headers.get("content-type")
        operation_id, problems, rejecting = judge_request(
            contract, method, raw_path, query, request.headers.get("api-key"),
            content_type.encode("latin-1") if content_type else None, body)
        violations = [f"request: {problem}" for problem in problems]
        if method not in READ_METHODS and not state.forwards_writes:
            response: Response = OrjsonResponse(
                {"code": "method_not_allowed", "message": f"{method} is not forwarded to {state.upstream}: writes "
                 "go only to a loopback upstream unless the proxy runs with --allow-writes"},
                status_code=405, headers={"allow": ", ".join(READ_METHODS)})
        else:
            response = await _forward(state, request, operation_id, violations, body)
            if rejecting and 200 <= response.status_code < 300:
                violations.append(f"response: {response.status_code} to a request body the contract rejects "
                                  f"({rejecting[0]})")
        state.journal.record(method, path, query, operation_id, response.status_code, tuple(violations),
                             body=body or None)
        return response

    async def health(request: Request) -> Response:
        return OrjsonResponse({"status": "ok", "mode": "proxy", "upstream": state.upstream})

    async def openapi(request: Request) -> Response:
        return OrjsonResponse(contract.document)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()
        if echo:
            print(state.journal.summary(), flush=True)

    every_method = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(
        routes=[
            Route("/__mock__/health", health, methods=["GET"]),
            *journal_routes(state.journal),
            Route("/__mock__/openapi.json", openapi, methods=["GET"]),
            Route(contract.base_path + "/{rest:path}", forward, methods=every_method),
        ],
        middleware=[Middleware(AdminGuard, access=admin_access or AdminAccess())],
        lifespan=lifespan,
    )
    app.state.proxy = state
    return app


async def _body(request: Request) -> bytes:
    """A write's body, read up to the limit (past it, what was read stands for a body too large)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
    return b"".join(chunks)


async def _forward(state: ProxyState, request: Request, operation_id: str | None,
                   violations: list[str], body: bytes = b"") -> Response:
    rest = request.url.path[len(state.contract.base_path):]
    url = state.upstream + rest + (f"?{request.url.query}" if request.url.query else "")
    headers = {name: value for name, value in request.headers.items() if name not in DROPPED_REQUEST_HEADERS}
    try:
        answer = await state.client.request(request.method, url, headers=headers, content=body or None)
    except httpx.HTTPError as error:
        violations.append(f"upstream: {type(error).__name__}: {error}")
        return OrjsonResponse({"code": "bad_gateway", "message": f"upstream {state.upstream} failed: {error}"},
                              status_code=502)
    body = answer.content  # decoded: the proxy answers without content-encoding
    if operation_id is not None and request.method != "HEAD":
        problems = state.validator.check(operation_id, answer.status_code, answer.headers, body)
        violations.extend(f"response: {problem}" for problem in problems)
    kept = {name: value for name, value in answer.headers.items() if name.lower() not in DROPPED_RESPONSE_HEADERS}
    return Response(body, status_code=answer.status_code, headers=kept)


def serve_proxy(*, upstream: str, host: str, port: int, timeout: float, contract_path: Path | None,
                allow_writes: bool = False) -> int:
    import uvicorn

    if not upstream.startswith(("http://", "https://")):
        raise CliError(f"--upstream {upstream!r} must start with http:// or https://")
    app = create_proxy_app(upstream, contract_path=contract_path, timeout=timeout,
                           admin_access=AdminAccess.bound_to(host), allow_writes=allow_writes)
    sock = bind_socket(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}{app.state.proxy.contract.base_path}"
    writes = "forwarded" if app.state.proxy.forwards_writes else "answered 405 here (--allow-writes to forward them)"
    print(f"brevo-loyalty-mock proxy: {base} -> {upstream}\n"
          f"  writes: {writes}\n"
          f"  requests and answers are checked against the contract; violations: "
          f"GET http://{host}:{sock.getsockname()[1]}/__mock__/requests", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", server_header=False)
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has shut down; our handlers turn it
    # into a return, so that the exit status says whether the traffic broke the contract.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if app.state.proxy.journal.violation_count else 0


class _Stopped(Exception):
    pass


def _stopped(signum: int, frame: Any) -> None:
    raise _Stopped()
