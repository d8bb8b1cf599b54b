"""`create_app(settings) -> Starlette`: one fresh, self-contained mock per call.

All state (the organisations' backends, journal, rate-limit counters) hangs off the returned app;
nothing is kept at module level, so tests can build as many apps as they like.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import Message, Receive, Scope, Send

from mock_server.admin import admin_routes
from mock_server.admin_guard import AdminAccess, AdminGuard, is_admin_path
from mock_server.auth import KeyRing
from mock_server.backend import Backend, Backends
from mock_server.contract import compile_contract, load_contract
from mock_server.durable import ChangeKind, open_recorder
from mock_server.durable.shared import SharedBackends
from mock_server.durable.shared_journal import SharedJournal
from mock_server.durable.shared_ratelimit import SharedRateLimiter
from mock_server.errors import InternalError
from mock_server.fixtures import load_fixture
from mock_server.journal import Journal, JournalEntry, print_violation
from mock_server.jsonresponse import OrjsonResponse
from mock_server.logs import JsonAccessLog, message, print_violation_json
from mock_server.orphans import end_with_parent
from mock_server.pipeline import LoyaltyApi
from mock_server.ratelimit import RateLimiter
from mock_server.routes import all_handlers, all_write_handlers
from mock_server.seeding import build_world
from mock_server.server import settle_collector
from mock_server.settings import Settings, overrides_from_env
from mock_server.state import MockState
from mock_server.store.world import World
from mock_server.webhooks.changes import KIND as WEBHOOK_KIND
from mock_server.webhooks.changes import webhook_changes
from mock_server.webhooks.config import configured_dispatcher
from mock_server.webhooks.routes import webhook_routes

logger = logging.getLogger("brevo_loyalty_mock")

Progress = Callable[[int, int], None]



def _move_clock(backend: Backend, payload: Any) -> int:
    return backend.advance_clock(payload["to"])


# Changes other than writes and resets that `state.recorder.change(organisation, kind, payload)` applies
# (and, with --state, logs and replays): kind -> apply(backend, payload). docs/durability.md.
CHANGE_KINDS: dict[str, ChangeKind] = {
    "clock": _move_clock,  # POST /__mock__/clock (mock_server/clock_routes.py)
}


def build_worlds(settings: Settings, progress: Progress | None = None) -> dict[str, World]:
    """One world per organisation, each derived from the seed and the organisation's name."""
    fixtures = [load_fixture(path) for path in settings.fixtures]
    return {
        organisation: build_world(
            seed=settings.seed,
            contacts=settings.contacts,
            fixtures=fixtures,
            organisation=organisation,
            progress=progress,
        )
        for organisation in settings.organisations
    }


def create_app(settings: Settings | None = None, *, worlds: dict[str, World] | None = None) -> Starlette:
    settings = settings or Settings()
    contract = compile_contract(load_contract(settings.contract_path))
    # A worker of `serve --workers N` catches up with the other workers' changes before using its backends.
    backends_type = Backends if settings.shared_dir is None else SharedBackends
    backends = backends_type(worlds if worlds is not None else build_worlds(settings), settings.clock,
                             per_key_base=settings.organisations[0] if settings.world_per_key else None,
                             idle_timeout=settings.world_idle_timeout)
    write_handlers = all_write_handlers()
    # Endpoints first, so that a replayed log numbers its events as the first run did (they are not sent
    # again: a replay is muted), and the events after it get the numbers and event_ids they would have had.
    webhooks = configured_dispatcher(backends, settings)
    state = MockState(
        settings=settings,
        contract=contract,
        backends=backends,
        # Workers of `serve --workers N` show every worker's requests (mock_server/durable/shared_journal.py).
        journal=Journal(settings.journal_size, on_violation=_violation_printer(settings))
        if settings.shared_dir is None else SharedJournal(settings.journal_size, settings.shared_dir),
        # Workers of `serve --workers N` count together (mock_server/durable/shared_ratelimit.py).
        limiter=RateLimiter(settings.rate_limit) if settings.shared_dir is None
        else SharedRateLimiter(settings.rate_limit, settings.shared_dir),
        keys=KeyRing(settings),
        # With --state: the log replayed now; its events are numbered, and told to no listener.
        recorder=open_recorder(settings, backends, write_handlers,
                               {**CHANGE_KINDS, WEBHOOK_KIND: webhook_changes(webhooks)}),
    )
    state.webhooks = webhooks
    api = LoyaltyApi(contract, state.backends, state.keys, state.limiter, state.journal, all_handlers(),
                     write_handlers, read_only=settings.read_only, recorder=state.recorder)

    access_log = JsonAccessLog(settings) if settings.log_format == "json" and settings.access_log else None

    async def api_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":  # websockets and lifespan are not part of the API
            scope[_ANSWER] = await api.respond(scope, receive, send)

    routes: list[BaseRoute] = [Mount(contract.base_path, app=api_app if access_log else api)]
    if settings.admin:
        routes.extend(admin_routes(state))
        routes.extend(webhook_routes(state))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.webhooks.start(asyncio.get_running_loop())  # deliveries run on the server's loop
        yield
        state.webhooks.close()
        state.recorder.close()
        if settings.check_client:
            summary = state.journal.summary()
            print(message(summary) if settings.log_format == "json" else summary, flush=True)

    app = _MockApp(
        api,
        contract.base_path,
        access_log,
        routes=routes,
        middleware=[
            # Outermost: a refused /__mock__/ request reaches nothing else (mock_server/admin_guard.py).
            *([Middleware(AdminGuard, access=AdminAccess.from_settings(settings))] if settings.admin else []),
            Middleware(
                _BrevoCORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                # Any request header: browser clients add their own (the official JS SDK sends X-Fern-*).
                allow_headers=["*"],
                expose_headers=["x-sib-ratelimit-limit", "x-sib-ratelimit-remaining",
                                "x-sib-ratelimit-reset"],
                max_age=600,
            )
        ],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected_error},
        lifespan=lifespan,
    )
    app.state.mock = state
    return app


def create_app_from_env() -> Starlette:
    """The app of one `serve --workers N` process, from the BREVO_MOCK_* settings its parent exported."""
    end_with_parent()  # killed with SIGKILL, the parent could not stop this worker (mock_server/orphans.py)
    values: dict[str, Any] = overrides_from_env()
    app = create_app(Settings(**values))
    settle_collector()  # the worker's worlds out of the collector's scans, as `serve` does for one process
    return app


class _MockApp(Starlette):
    """Starlette, with a direct way into the API for the requests its middleware only passes on.

    A request under the base path (/v3/...) that carries no Origin header goes
    straight to the pipeline. On its way through Starlette (error middleware,
    CORS, exception middleware, router, Mount) nothing would touch it but CORS,
    which adds ``Vary: Origin`` to the answer; the direct way adds the same
    header. That walk cost as much as the pipeline itself (about 10 µs of a
    program read's 23, see docs/performance.md). Every other request (CORS
    preflights and cross-origin calls, /__mock__/, unknown paths) takes the
    full Starlette path.
    """

    def __init__(self, api: LoyaltyApi, base_path: str, access_log: JsonAccessLog | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api = api
        self._api_prefix = base_path + "/" if base_path else None  # no shortcut when the API sits at "/"
        self._access_log = access_log  # --log-format json: a line per request, written here

    def takes_directly(self, path: str, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether a request goes straight to the pipeline: under the base path, and without Origin."""
        return (
            self._api_prefix is not None
            and path.startswith(self._api_prefix)
            and not any(name == b"origin" for name, _ in headers)
        )

    def reads_body(self, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether the API reads a request's body (else it answers from the head alone)."""
        return self._api.reads_body(method, raw_path, headers)

    def answer_directly(
        self, method: str, raw_path: bytes, path: str, query_string: bytes, headers: list[tuple[bytes, bytes]],
        client: tuple[str, int] | None = None, body: bytes = b"",
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Status, headers and body for a request `takes_directly` accepts, journaled as answered.

        The server's HTTP protocol calls this for plain API requests whose body (if any)
        it has received whole, without building an ASGI scope or a task
        (mock_server/direct.py); it is the answer `__call__` gives the same request,
        header for header (and the same JSON log line).
        """
        started = time.perf_counter()
        answer, response_headers = self._api.answer_received(method, raw_path, path, query_string, headers, body,
                                                             _VARY_ORIGIN)
        if self._access_log is not None:
            self._access_log.write(method=method, path=path, query=query_string, status=answer.status,
                                   seconds=time.perf_counter() - started, client=client, headers=headers,
                                   operation=answer.operation_id, violations=answer.violations)
        return answer.status, response_headers, answer.body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._access_log is None or scope["type"] != "http":
            await self._serve(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._serve(scope, receive, sending)
        finally:
            answer = scope.get(_ANSWER)
            self._access_log.write(
                method=scope["method"], path=scope["path"], query=scope.get("query_string", b""), status=status,
                seconds=time.perf_counter() - started, client=scope.get("client"), headers=scope["headers"],
                operation=answer.operation_id if answer else None, violations=answer.violations if answer else ())

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.takes_directly(scope["path"], scope["headers"]):
            scope["app"] = self
            scope[_ANSWER] = await self._api.respond(scope, receive, send, _VARY_ORIGIN)
            return
        await super().__call__(scope, receive, send)


_VARY_ORIGIN = ((b"vary", b"Origin"),)  # what CORSMiddleware adds to an answer without Origin
_ANSWER = "brevo_mock.answer"  # the scope key where an API request's answer is left for the JSON log line


def _violation_printer(settings: Settings) -> Callable[[JournalEntry], None] | None:
    """What `--check-client` prints per violating request: a text line, or a JSON one."""
    if not settings.check_client:
        return None
    return print_violation_json if settings.log_format == "json" else print_violation


class _BrevoCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware for the API, answering a refused preflight with Brevo's error body.

    ``/__mock__/`` is left out: it grants no origin anything (mock_server/admin_guard.py), so a
    page elsewhere can neither read it nor get a preflight through to change its state.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        reason = bytes(response.body).decode()  # "Disallowed CORS origin, method, headers"
        headers = {name: value for name, value in response.headers.items()
                   if name not in ("content-length", "content-type")}
        return OrjsonResponse({"code": "bad_request", "message": f"CORS preflight refused: {reason}"},
                              status_code=400, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Outside /v3 (unknown paths, wrong methods on /__mock__/): still Brevo's error body.
    assert isinstance(exc, HTTPException)
    code = {404: "document_not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    path = request.url.path
    path = path if len(path) <= 200 else path[:200] + "…"  # a path may be 8 KiB (docs/limits.md)
    message = {404: _not_found_message(path),
               405: f"{request.method} Method is not allowed on this path"}.get(exc.status_code, exc.detail)
    if exc.status_code == 404 and "/loyalty/" in path:
        # A Loyalty call outside the base path (a base URL without /v3, or with /v2): the client's mistake,
        # journaled so that the client check fails on it instead of counting nothing.
        request.app.state.mock.journal.record(
            request.method, path, request.url.query, None, 404,
            ("a Loyalty path outside the API's base path /v3 (the base URL ends in /v3)",))
    return OrjsonResponse({"code": code, "message": message}, status_code=exc.status_code, headers=exc.headers)


def _not_found_message(path: str) -> str:
    if path.startswith("/loyalty/"):  # the commonest set-up mistake: a base URL without Brevo's /v3
        return (f"Nothing at {path}: did you mean /v3{path}? The base URL ends in /v3, as Brevo's "
                f"https://api.brevo.com/v3")
    return f"Nothing at {path}"


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s", request.url.path, exc_info=exc)
    return OrjsonResponse(InternalError("The mock failed to answer this request").body(), status_code=500)
