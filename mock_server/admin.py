"""The mock's own endpoints, under ``/__mock__/`` (never part of Brevo's API).

- ``GET  /__mock__/health``        readiness probe for scripts and CI
- ``GET  /__mock__/world``         the seeded ids to call the API with
- ``GET  /__mock__/requests``      the request journal, newest last
- ``POST /__mock__/reset``         back to the seeded world (the organisation of the ``api-key`` header
                                    sent, or every one), with an empty journal and fresh rate-limit counts
- ``GET  /__mock__/openapi.json``  the contract the server validates against
- ``GET  /__mock__/`` and ``/__mock__/widget``  pages for a browser (mock_server/pages)

They need no API key. Who may call them (loopback clients, or an --admin-from
network; a loopback or allowed Host; no foreign Origin; state changes only with
JSON or an X-Brevo-Mock header) is checked before any of them answers, by
`mock_server.admin_guard.AdminGuard`: they show every organisation's keys and ids.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.admin_guard import PREFIX, admin_allowed
from mock_server.auth import KeyRing
from mock_server.errors import ApiError
from mock_server.journal import Journal
from mock_server.jsonresponse import OrjsonResponse
from mock_server.pages import page_routes
from mock_server.state import MockState

__all__ = ["PREFIX", "admin_routes", "journal_routes"]


def journal_routes(journal: Journal, also_reset: Callable[[Request], None] | None = None) -> list[Route]:
    """``GET /__mock__/requests`` and ``POST /__mock__/reset``, shared by the mock and the proxy."""

    async def requests(request: Request) -> Response:
        entries = [entry.as_dict() for entry in journal.entries()]
        return OrjsonResponse({"count": len(entries), "requests": entries})

    async def reset(request: Request) -> Response:
        try:
            if also_reset is not None:
                also_reset(request)
        except ApiError as error:  # e.g. an api-key naming no organisation: nothing is reset
            return OrjsonResponse(error.body(), status_code=error.status)
        journal.clear()
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
        organisation = request.query_params.get("organisation", state.settings.api_keys[0].organisation)
        found = state.worlds.get(organisation)
        if found is None:
            return OrjsonResponse(
                {"code": "document_not_found",
                 "message": f"No organisation '{organisation}'; known: {', '.join(state.worlds)}"},
                status_code=404,
            )
        sample = request.query_params.get("sample", "5")
        summary = found.summary(sample=int(sample) if sample.isascii() and sample.isdigit() else 5)
        keys = [k.key for k in state.settings.api_keys if k.organisation == organisation]
        return OrjsonResponse({"organisation": organisation, "apiKeys": keys,
                                "baseUrl": state.base_url(request), **summary})

    async def openapi(request: Request) -> Response:
        return OrjsonResponse(state.contract.document)

    keys = KeyRing(state.settings)

    def reset_state(request: Request) -> None:
        # With a key, that key's organisation; without one, every organisation.
        key = request.headers.get("api-key")
        state.recorder.reset(keys.organisation_of(key) if key else None)
        state.limiter.reset()

    return [
        Route(f"{PREFIX}/health", health, methods=["GET"]),
        Route(f"{PREFIX}/world", world, methods=["GET"]),
        *journal_routes(state.journal, also_reset=reset_state),
        Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
        *page_routes(state),  # GET /__mock__/ (browse) and /__mock__/widget: mock_server/pages
    ]
