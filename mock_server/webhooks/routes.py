"""``/__mock__/webhooks``: an organisation's endpoints and the journal of its deliveries.

- ``GET    /__mock__/webhooks``             the endpoints (secrets masked) and the event names
- ``POST   /__mock__/webhooks``             add one: ``{"url", "events"?, "headers"?, "bearer"?, "timeout"?}``
- ``DELETE /__mock__/webhooks[?id=wh1]``    remove one, or all of them
- ``GET    /__mock__/webhooks/deliveries``  every attempt, oldest first

The organisation is the one of the ``api-key`` header, as for the API (without it: the first
key's). Like every ``/__mock__/`` endpoint they pass `mock_server.admin_guard` first.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.admin_guard import PREFIX
from mock_server.errors import ApiError
from mock_server.jsonresponse import OrjsonResponse
from mock_server.webhooks.catalog import event_names
from mock_server.webhooks.changes import KIND
from mock_server.webhooks.dispatcher import Dispatcher, added_up
from mock_server.webhooks.endpoints import EndpointError

if TYPE_CHECKING:
    from mock_server.state import MockState


def webhook_routes(state: MockState) -> list[Route]:
    def organisation(request: Request) -> str:
        key = request.headers.get("api-key")  # the API's key ring: a per-key key names its own world
        return state.keys.organisation_of(key) if key else state.settings.api_keys[0].organisation

    def refused(status: int, code: str, message: str) -> Response:
        return OrjsonResponse({"code": code, "message": message}, status_code=status)

    async def listing(request: Request) -> Response:
        try:
            name = organisation(request)
        except ApiError as error:
            return OrjsonResponse(error.body(), status_code=error.status)
        if request.method == "GET":
            return OrjsonResponse({"organisation": name,
                                   "endpoints": [e.shown() for e in state.webhooks.endpoints(name)],
                                   **_pending(state.webhooks, name),
                                   "events": list(event_names())})
        if request.method == "DELETE":
            wanted = request.query_params.get("id")
            if wanted is not None and all(e.id != wanted for e in state.webhooks.endpoints(name)):
                return refused(404, "document_not_found", f"No webhook endpoint {wanted!r} in organisation {name!r}")
            gone = state.recorder.change(name, KIND, {"remove": wanted})  # every worker's, and kept by --state
            return OrjsonResponse({"removed": [e.id for e in gone]})
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return refused(400, "bad_request", "The body must be JSON: {\"url\": \"http://127.0.0.1:9000/hooks\"}")
        try:
            # Every worker's, and kept by --state; a body the change refuses raises before anything is recorded.
            added = state.recorder.change(name, KIND, {"add": body})
        except EndpointError as error:
            return refused(422, "invalid_parameter", str(error))
        return OrjsonResponse(added.shown(), status_code=201)

    async def deliveries(request: Request) -> Response:
        try:
            name = organisation(request)
        except ApiError as error:
            return OrjsonResponse(error.body(), status_code=error.status)
        entries = [entry.as_dict() for entry in state.webhooks.journal.entries(name)]
        return OrjsonResponse({"organisation": name, "count": len(entries), "deliveries": entries})

    return [
        Route(f"{PREFIX}/webhooks", listing, methods=["GET", "POST", "DELETE"]),
        Route(f"{PREFIX}/webhooks/deliveries", deliveries, methods=["GET"]),
    ]


def _pending(dispatcher: Dispatcher, organisation: str) -> dict[str, object]:
    """The deliveries waiting; with `serve --workers N`, every worker's, added up, with which worker answered and
    what each one holds."""
    by_worker = dispatcher.pending_by_worker(organisation)  # with workers, gathered once: the total is its sum
    shown: dict[str, object] = {"pending": added_up(by_worker.values())}
    if dispatcher.shared:
        shown.update(worker=os.getpid(),
                     pending_by_worker=[{"worker": pid, **counts} for pid, counts in by_worker.items()])
    return shown
