"""The dispatcher a server starts with: the `serve --webhook ...` endpoints, for every organisation it serves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.webhooks.dispatcher import Dispatcher
from mock_server.webhooks.endpoints import Endpoint, make_endpoint

if TYPE_CHECKING:
    from mock_server.backend import Backends
    from mock_server.settings import Settings


def settings_endpoints(settings: Settings) -> list[Endpoint]:
    """The endpoints `--webhook URL` (with `--webhook-events`, `--webhook-header`, `--webhook-bearer`,
    `--webhook-timeout`) describes; raises `EndpointError` naming a bad value."""
    return [make_endpoint(url, events=settings.webhook_events, headers=settings.webhook_headers,
                          bearer=settings.webhook_bearer, timeout=settings.webhook_timeout)
            for url in settings.webhooks]


def configured_dispatcher(backends: Backends, settings: Settings) -> Dispatcher:
    dispatcher = Dispatcher(backends, delivery=settings.webhook_delivery, shared_dir=settings.shared_dir)
    for organisation in settings.organisations:
        for endpoint in settings_endpoints(settings):
            dispatcher.add(organisation, endpoint)
    return dispatcher
