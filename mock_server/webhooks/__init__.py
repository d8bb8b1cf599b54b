"""Loyalty webhooks: events rendered as Brevo's payloads and posted to the user's endpoints (docs/webhooks.md).

    catalog      the event names and payload schemas, from the contract's `webhooks` section
    payloads     an event -> its JSON payload
    endpoints    where events go (URL, events wanted, headers, bearer or basic auth, timeout)
    dispatcher   queueing, delivery lanes on the server's event loop, Brevo's retry schedule on the clock
    asyncsender  one HTTP attempt on the event loop (the mock's deliveries)
    sender       the same from a plain thread (conformance-webhooks), and the verdicts
    journal      every attempt, for /__mock__/webhooks/deliveries and the browser page
    routes       /__mock__/webhooks
    receiver     a small in-process receiver (the pytest plugin's, and the tests')
    conformance  `conformance-webhooks`: check a user's handler with generated payloads
"""

from mock_server.webhooks.dispatcher import Dispatcher
from mock_server.webhooks.endpoints import Endpoint, EndpointError, make_endpoint

__all__ = ["Dispatcher", "Endpoint", "EndpointError", "make_endpoint"]
