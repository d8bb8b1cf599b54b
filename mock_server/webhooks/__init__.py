"""Loyalty webhooks: events rendered as Brevo's payloads and posted to the user's endpoints (docs/webhooks.md).

    catalog      the event names and payload schemas, from the contract's `webhooks` section
    payloads     an event -> its JSON payload
    endpoints    where events go (URL, events wanted, headers, bearer or basic auth, timeout)
    dispatcher   queueing, Brevo's retry schedule on the clock, outcomes journaled
    lanes        each endpoint's posts in order, one attempt at a time, on an event loop
    courier      the lanes run by a delivery process of the server's (courier_main; frames: their messages)
    asyncsender  one HTTP attempt on the event loop (the mock's deliveries)
    sender       the same from a plain thread (conformance-webhooks), and the verdicts
    journal      every attempt, for /__mock__/webhooks/deliveries and the browser page
    routes       /__mock__/webhooks
    receiver     a small in-process receiver (the pytest plugin's, and the tests')
    conformance  `conformance-webhooks`: check a user's handler with generated payloads
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.webhooks.endpoints import Endpoint, EndpointError, make_endpoint

if TYPE_CHECKING:
    from mock_server.webhooks.dispatcher import Dispatcher


def __getattr__(name: str) -> Any:
    # The dispatcher imports the backends; the delivery process (courier_main) imports this package
    # without them, so it starts in a fraction of the server's time.
    if name == "Dispatcher":
        from mock_server.webhooks.dispatcher import Dispatcher

        return Dispatcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Dispatcher", "Endpoint", "EndpointError", "make_endpoint"]
