"""Endpoints configured at run time are recorded changes (kind ``webhooks``), like a clock move.

`POST` and `DELETE /__mock__/webhooks` go through the recorder (`state.recorder.change`), so every
worker of `serve --workers N` applies them from the shared log (else an endpoint added through one
worker would get only the events of the writes that worker takes), and `--state` keeps them across a
restart. A reset leaves endpoints in place, so these records are kept when a reset drops the changes
before it (`KEPT_ACROSS_RESETS`, mock_server/durable/recorder.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.webhooks.endpoints import endpoint_from_json

if TYPE_CHECKING:
    from mock_server.backend import Backend
    from mock_server.durable.recorder import ChangeKind
    from mock_server.webhooks.dispatcher import Dispatcher

KIND = "webhooks"


def webhook_changes(dispatcher: Dispatcher) -> ChangeKind:
    """The change's function: ``{"add": body}`` (a `POST /__mock__/webhooks` body) returns the endpoint, or raises
    `EndpointError` before the recorder records anything; ``{"remove": id or None}`` returns the endpoints
    removed."""
    def apply(backend: Backend, payload: Any) -> Any:
        if "add" in payload:
            return dispatcher.add(backend.organisation, endpoint_from_json(payload["add"], id=""))
        return dispatcher.remove(backend.organisation, payload.get("remove"))

    return apply
