"""Shared set-up of the webhook tests: a mock with the widget member, receivers on 127.0.0.1, an HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from mock_server.settings import WEBHOOK_DELIVERIES
from mock_server.testing import RunningMock, running_mock
from mock_server.webhooks.catalog import payload_schemas
from mock_server.webhooks.receiver import Receiver
from tests.api.support import widget_settings

PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"  # fixtures/widget-member.yaml: Storefront Rewards
ADMIN = {"X-Brevo-Mock": "1"}


@pytest.fixture(scope="module", params=WEBHOOK_DELIVERIES)
def mock(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    """The served mock, once with each `--webhook-delivery`: a delivery process (the default), the server's loop."""
    with running_mock(widget_settings(webhook_delivery=request.param)) as running:
        yield running


@pytest.fixture
def api(mock: RunningMock) -> Iterator[httpx.Client]:
    """A client on the fresh world: endpoints configured by a test are removed after it."""
    mock.reset()
    with httpx.Client(base_url=mock.root_url, headers={"api-key": mock.api_key}, timeout=10) as client:
        yield client
        client.delete("/__mock__/webhooks", headers=ADMIN)
    mock.reset()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def add_endpoint(api: httpx.Client, url: str, **options: Any) -> dict[str, Any]:
    answer = api.post("/__mock__/webhooks", json={"url": url, **options})
    assert answer.status_code == 201, answer.text
    return answer.json()


def definition_id(api: httpx.Client) -> str:
    return api.get(f"/v3/loyalty/balance/programs/{PID}/balance-definitions").json()["items"][0]["id"]


def enrol(api: httpx.Client, contact_id: int) -> None:
    answer = api.post(f"/v3/loyalty/config/programs/{PID}/subscriptions", json={"contactId": contact_id})
    assert answer.status_code == 200, answer.text


def credit(api: httpx.Client, contact_id: int, amount: float, bdid: str,
           expiry_minutes: int | None = None) -> dict[str, Any]:
    """A completed credit (lapsing after `expiry_minutes`, when given)."""
    body: dict[str, Any] = {"contactId": contact_id, "balanceDefinitionId": bdid, "amount": amount,
                            "autoComplete": True}
    if expiry_minutes is not None:
        body["balanceExpiryInMinutes"] = expiry_minutes
    answer = api.post(f"/v3/loyalty/balance/programs/{PID}/transactions", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def valid(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload, after checking it against its event's schema in the contract."""
    schema = payload_schemas()[payload["event_name"]]
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
                                    ).validate(payload)
    return payload


def deliveries(api: httpx.Client, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The journal once it holds at least `count` attempts (waits up to `timeout` seconds)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = api.get("/__mock__/webhooks/deliveries").json()["deliveries"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def advance(mock: RunningMock, ms: int) -> None:
    """Move the default organisation's clock forward by `ms`, as a test does: `POST /__mock__/clock`."""
    answer = httpx.post(f"{mock.root_url}/__mock__/clock", headers={"api-key": mock.api_key},
                        json={"advance": f"PT{ms // 1000}S"})
    assert answer.status_code == 200, answer.text
