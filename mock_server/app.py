"""`create_app(settings) -> Starlette`: one fresh, self-contained mock per call.

All state (worlds, journal, rate-limit counters) hangs off the returned app;
nothing is kept at module level, so tests can build as many apps as they like.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from mock_server.admin import admin_routes
from mock_server.auth import KeyRing
from mock_server.contract import CompiledContract, compile_contract, load_contract
from mock_server.errors import InternalError
from mock_server.fixtures import load_fixture
from mock_server.journal import Journal
from mock_server.jsonresponse import OrjsonResponse
from mock_server.pipeline import LoyaltyApi
from mock_server.ratelimit import RateLimiter
from mock_server.routes import all_handlers
from mock_server.seeding import build_world
from mock_server.settings import Settings
from mock_server.store.world import World

logger = logging.getLogger("brevo_loyalty_mock")

Progress = Callable[[int, int], None]


@dataclass
class MockState:
    settings: Settings
    contract: CompiledContract
    worlds: dict[str, World]
    journal: Journal
    limiter: RateLimiter

    def base_url(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + self.contract.base_path


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
    state = MockState(
        settings=settings,
        contract=contract,
        worlds=worlds if worlds is not None else build_worlds(settings),
        journal=Journal(settings.journal_size),
        limiter=RateLimiter(settings.rate_limit_per_hour),
    )
    api = LoyaltyApi(contract, state.worlds, KeyRing(settings), state.limiter, state.journal, all_handlers())

    routes: list[BaseRoute] = [Mount(contract.base_path, app=api)]
    if settings.admin:
        routes.extend(admin_routes(state))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if settings.check_client:
            print(state.journal.summary(), flush=True)

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET"],
                allow_headers=["api-key", "content-type", "prefer", "accept"],
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


async def _http_error(request: Request, exc: Exception) -> Response:
    # Outside /v3 (unknown paths, wrong methods on /__mock__/): still Brevo's error body.
    assert isinstance(exc, HTTPException)
    code = {404: "document_not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    message = {404: f"Nothing at {request.url.path}",
               405: f"{request.method} Method is not allowed on this path"}.get(exc.status_code, exc.detail)
    return OrjsonResponse({"code": code, "message": message}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s", request.url.path, exc_info=exc)
    return OrjsonResponse(InternalError("The mock failed to answer this request").body(), status_code=500)
