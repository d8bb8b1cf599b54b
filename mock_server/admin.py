"""The mock's own endpoints, under ``/__mock__/`` (never part of Brevo's API).

- ``GET  /__mock__/health``        readiness probe for scripts and CI
- ``GET  /__mock__/world``         the seeded ids to call the API with (and, with --world-per-key,
                                    the live per-key worlds: masked key, last use, writes)
- ``GET  /__mock__/requests``      the request journal, newest last (a per-key key: its own requests)
- ``POST /__mock__/reset``         back to the seeded world (the organisation of the ``api-key`` header
                                    sent, or every one), with an empty journal and fresh rate-limit counts;
                                    a per-key key resets its own world, rate count and journal view only
- ``GET  /__mock__/openapi.json``  the contract the server validates against
- ``GET/POST /__mock__/clock``     an organisation's time, moved on by tests (mock_server/clock_routes.py)
- ``GET  /__mock__/`` and ``/__mock__/widget``  pages for a browser (mock_server/pages)

They need no API key. Who may call them (loopback clients, or an --admin-from
network; a loopback or allowed Host; no foreign Origin; state changes only with
JSON or an X-Brevo-Mock header) is checked before any of them answers, by
`mock_server.admin_guard.AdminGuard`: they show every organisation's keys and ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.admin_guard import PREFIX, admin_allowed
from mock_server.backend import KeyWorld
from mock_server.clock_routes import clock_routes
from mock_server.errors import ApiError
from mock_server.journal import Journal
from mock_server.jsonresponse import OrjsonResponse
from mock_server.pages import page_routes
from mock_server.state import MockState
from mock_server.store.models import iso

__all__ = ["PREFIX", "admin_routes", "journal_routes"]


def journal_routes(journal: Journal, also_reset: Callable[[Request], object] | None = None,
                   own_view: Callable[[Request], str | None] | None = None) -> list[Route]:
    """``GET /__mock__/requests`` and ``POST /__mock__/reset``, shared by the mock and the proxy.

    `also_reset` resets the rest. `own_view` names the organisation whose journal a request sees and
    clears (a per-key key's own world); None: the whole journal.
    """

    async def requests(request: Request) -> Response:
        entries = [entry.as_dict() for entry in journal.entries(own_view(request) if own_view else None)]
        return OrjsonResponse({"count": len(entries), "requests": entries})

    async def reset(request: Request) -> Response:
        try:
            if also_reset is not None:
                also_reset(request)
        except ApiError as error:  # e.g. an api-key naming no organisation: nothing is reset
            return OrjsonResponse(error.body(), status_code=error.status)
        journal.clear(own_view(request) if own_view else None)
        return OrjsonResponse({"reset": True})

    return [
        Route(f"{PREFIX}/requests", requests, methods=["GET"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
    ]


def admin_routes(state: MockState) -> list[Route]:
    async def health(request: Request) -> Response:
        if not admin_allowed(request):  # a readiness probe from elsewhere: up or not, no organisation names
            return OrjsonResponse({"status": "ok"})
        return OrjsonResponse({"status": "ok", "organisations": list(state.worlds)})

    async def world(request: Request) -> Response:
        key = request.headers.get("api-key")
        organisation = request.query_params.get("organisation")
        if organisation is None and state.keys.per_key(key):  # a per-key client asking for its own world
            organisation = state.keys.organisation_of(key)
            state.backends[organisation]  # made now if the key has not called the API yet
        organisation = organisation or state.settings.api_keys[0].organisation
        found = state.worlds.get(organisation)
        key_world = state.backends.key_worlds.find(organisation) if state.backends.key_worlds else None
        if found is None and key_world is not None:
            found = key_world.backend.world
        if found is None:
            return OrjsonResponse(
                {"code": "document_not_found",
                 "message": f"No organisation '{organisation}'; known: {', '.join(state.worlds)}"
                            + (" and the live per-key worlds listed in keyWorlds" if key_world is None and
                               state.backends.key_worlds is not None else "")},
                status_code=404,
            )
        sample = request.query_params.get("sample", "5")
        summary = found.summary(sample=int(sample) if sample.isascii() and sample.isdigit() else 5)
        keys = [k.key for k in state.settings.api_keys if k.organisation == organisation]
        extra: dict[str, Any] = {}
        if state.backends.key_worlds is not None:
            extra["keyWorlds"] = key_worlds()
        if key_world is not None:
            extra["keyWorld"] = key_world_row(key_world)
        return OrjsonResponse({"organisation": organisation, "apiKeys": keys,
                                "baseUrl": state.base_url(request), **summary, **extra})

    def key_world_row(world: KeyWorld) -> dict[str, Any]:
        # Wall-clock times: resource management, not API data (mock_server/backend/keyworlds.py).
        return {"organisation": world.organisation, "apiKey": state.keys.labels.get(world.organisation),
                "createdAt": iso(int(world.created_at * 1000)), "lastUsedAt": iso(int(world.last_used * 1000)),
                "writes": world.backend.writes}

    def key_worlds() -> dict[str, Any]:
        found = state.backends.key_worlds
        assert found is not None
        return {"prefix": state.settings.world_per_key, "idleTimeoutSeconds": found.idle_timeout,
                "evicted": found.evicted, "live": [key_world_row(world) for world in found.live()]}

    async def openapi(request: Request) -> Response:
        return OrjsonResponse(state.contract.document)

    def own_world(request: Request) -> str | None:
        """A per-key key's organisation: its requests see and clear their own journal only."""
        key = request.headers.get("api-key")
        return state.keys.organisation_of(key) if key is not None and state.keys.per_key(key) else None

    def reset_state(request: Request) -> None:
        # With a key, that key's organisation; without one, every organisation.
        key = request.headers.get("api-key")
        if state.keys.per_key(key):
            # One parallel job's reset: its world, rate count and journal view; other keys' stay.
            assert key is not None
            state.recorder.reset(state.keys.organisation_of(key))  # the webhook dispatcher follows (on_reset)
            state.limiter.reset(key)
            return
        organisation = state.keys.organisation_of(key) if key else None
        state.recorder.reset(organisation)
        state.limiter.reset()

    return [
        Route(f"{PREFIX}/health", health, methods=["GET"]),
        Route(f"{PREFIX}/world", world, methods=["GET"]),
        *journal_routes(state.journal, also_reset=reset_state, own_view=own_world),
        Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
        *clock_routes(state),  # GET/POST /__mock__/clock
        *page_routes(state),  # GET /__mock__/ (browse) and /__mock__/widget: mock_server/pages
    ]
