"""The mock's own endpoints, under ``/__mock__/`` (never part of Brevo's API).

- ``GET  /__mock__/health``        readiness probe for scripts and CI
- ``GET  /__mock__/world``         the seeded ids to call the API with
- ``GET  /__mock__/requests``      the request journal, newest last
- ``POST /__mock__/reset``         clear the journal and rate-limit counters
- ``GET  /__mock__/openapi.json``  the contract the server validates against
- ``GET  /__mock__/`` and ``/__mock__/widget``  pages for a browser (mock_server/pages)

They need no API key. Who may call them (loopback clients, or an --admin-from
network; a loopback or allowed Host; no foreign Origin; state changes only with
JSON or an X-Brevo-Mock header) is checked before any of them answers, by
`mock_server.admin_guard.AdminGuard`: they show every organisation's keys and ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.admin_guard import PREFIX, admin_allowed
from mock_server.journal import Journal
from mock_server.jsonresponse import OrjsonResponse

if TYPE_CHECKING:
    from mock_server.app import MockState

__all__ = ["PREFIX", "admin_routes", "journal_routes"]


def journal_routes(journal: Journal, also_reset: Callable[[], None] | None = None) -> list[Route]:
    """``GET /__mock__/requests`` and ``POST /__mock__/reset``, shared by the mock and the proxy."""

    async def requests(request: Request) -> Response:
        entries = [entry.as_dict() for entry in journal.entries()]
        return OrjsonResponse({"count": len(entries), "requests": entries})

    async def reset(request: Request) -> Response:
        journal.clear()
        if also_reset is not None:
            also_reset()
        return OrjsonResponse({"reset": True})

    return [
        Route(f"{PREFIX}/requests", requests, methods=["GET"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
    ]


def admin_routes(state: MockState) -> list[Route]:
    from mock_server.pages import page_routes  # here: the pages module imports this one

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

    return [
        Route(f"{PREFIX}/health", health, methods=["GET"]),
        Route(f"{PREFIX}/world", world, methods=["GET"]),
        *journal_routes(state.journal, also_reset=state.limiter.reset),
        Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
        *page_routes(state),  # GET /__mock__/ (browse) and /__mock__/widget: mock_server/pages
    ]
