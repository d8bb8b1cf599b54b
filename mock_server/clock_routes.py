"""``GET/POST /__mock__/clock``: an organisation's time, read and moved on by tests.

- ``GET  /__mock__/clock``  ``{"organisation", "now", "mode", "start"}`` (ISO 8601 UTC with ms)
- ``POST /__mock__/clock``  ``{"advance": "P30D"}`` (an ISO 8601 duration) or ``{"set": "2027-01-01T00:00:00Z"}``:
  the clock moves there, running everything due meanwhile in time order (docs/time.md); answers
  what GET does, plus ``"from"`` (where it was) and ``"ran"`` (how many due items ran).

The organisation is the one of the ``api-key`` header, as for the API (401/403 for a key the mock
does not accept), or the default one (the first ``--api-key``) when none is sent. The clock never
goes back: a ``set`` before now is a 422 and moves nothing. With ``--read-only`` a move is a 405.
Guarded like every /__mock__/ endpoint (`mock_server.admin_guard`): a POST needs a JSON body or
``X-Brevo-Mock: 1``.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.admin_guard import PREFIX
from mock_server.backend import Backend
from mock_server.bodyread import NO_BODY, parse_json_body
from mock_server.durable.recorder import Recorder
from mock_server.duration import DurationError, parse_duration
from mock_server.errors import ApiError, BadRequest, InvalidParameter, MethodNotAllowed
from mock_server.jsonresponse import OrjsonResponse
from mock_server.state import MockState
from mock_server.store.models import add_period, iso, parse_iso

# Dates past this year are not rendered by ISO 8601's four digits.
LAST_MOMENT = parse_iso("9999-12-31T23:59:59.999Z")
# One move runs every anniversary of every member on its way (a month of a big world is many events):
# longer spans are made in several moves.
MAX_MOVE_YEARS = 10


def clock_routes(state: MockState) -> list[Route]:
    def backend_of(request: Request) -> Backend:
        key = request.headers.get("api-key")  # the API's key ring: a per-key key moves its own world's clock
        organisation = state.keys.organisation_of(key) if key else state.settings.api_keys[0].organisation
        return state.backends[organisation]

    async def read(request: Request) -> Response:
        try:
            backend = backend_of(request)
        except ApiError as error:
            return OrjsonResponse(error.body(), status_code=error.status)
        return OrjsonResponse(describe(backend))

    async def move(request: Request) -> Response:
        try:
            if state.settings.read_only:  # a fixed world
                raise MethodNotAllowed("The mock runs --read-only: its world and its clock do not move")
            backend = backend_of(request)
            body = parse_json_body(request.headers.get("content-type", "").encode("latin-1"), await request.body())
            answer = await run_in_threadpool(move_clock, backend, body, state.recorder)
        except ApiError as error:
            return OrjsonResponse(error.body(), status_code=error.status)
        return OrjsonResponse(answer)

    return [
        Route(f"{PREFIX}/clock", read, methods=["GET"]),
        Route(f"{PREFIX}/clock", move, methods=["POST"]),
    ]


def describe(backend: Backend) -> dict[str, Any]:
    clock = backend.clock
    return {"organisation": backend.organisation, "now": iso(clock.now()), "mode": clock.mode,
            "start": iso(clock.start)}


def move_clock(backend: Backend, body: Any, recorder: Recorder) -> dict[str, Any]:
    """Move `backend`'s clock as the body says (``advance`` or ``set``); raises `ApiError`s naming the problem.

    The move goes through `recorder` (kind ``clock``), which logs it with ``--state`` and shares it
    between workers (mock_server/durable/).
    """
    if body is NO_BODY or not isinstance(body, dict):
        raise BadRequest('Send a JSON object: {"advance": "P30D"} (an ISO 8601 duration) or '
                         '{"set": "2027-01-01T00:00:00Z"}')
    unknown = sorted(set(body) - {"advance", "set"})
    if unknown or ("advance" in body) == ("set" in body):
        extra = f"; unknown field(s): {', '.join(unknown)}" if unknown else ""
        raise BadRequest(f'Give exactly one of "advance" (an ISO 8601 duration, e.g. "P30D") or "set" (an ISO '
                         f'8601 date-time, e.g. "2027-01-01T00:00:00Z"){extra}')
    # `now` and the move are one step: no write slips in between (nor, with workers, another worker's).
    with recorder.changing(backend.organisation):
        before = backend.clock.now()
        if "advance" in body:
            try:
                target = parse_duration(body["advance"]).after(before)
            except DurationError as error:
                raise InvalidParameter(f"body.advance: {error}") from None
            except (ValueError, OverflowError):  # past year 9999
                target = LAST_MOMENT + 1
        else:
            text = body["set"]
            try:
                target = parse_iso(text) if isinstance(text, str) else None
            except (ValueError, OverflowError):
                target = None
            if target is None:
                raise InvalidParameter(f"body.set: {text!r} is not an ISO 8601 date-time such as "
                                       "'2027-01-01T00:00:00Z'")
            if target < before:
                raise InvalidParameter(f"body.set: {text} is before the organisation's clock ({iso(before)}); "
                                       "the clock never goes back (POST /__mock__/reset starts it again)")
        if target > LAST_MOMENT:
            raise InvalidParameter(f"body: the clock would pass {iso(LAST_MOMENT)}, the last moment the mock "
                                   "renders")
        if target > add_period(before, MAX_MOVE_YEARS, "year"):
            field = "advance" if "advance" in body else "set"
            raise InvalidParameter(f"body.{field}: a move of more than {MAX_MOVE_YEARS} years at once (from "
                                   f"{iso(before)} to {iso(target)}); move in several steps")
        try:
            ran = recorder.change(backend.organisation, "clock", {"to": target})  # app.CHANGE_KINDS
        except ValueError as error:  # moved back meanwhile (checked above under the same lock: not expected)
            raise InvalidParameter(f"body: {error}") from None
    return {**describe(backend), "from": iso(before), "ran": ran}
