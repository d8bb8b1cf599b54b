"""The pytest plugin's own receiver: `brevo_mock.webhooks` and `brevo_mock.wait_for_event`."""

from __future__ import annotations

import httpx
import pytest

from mock_server.testing import RunningMock


def _program_and_member(brevo_mock: RunningMock) -> tuple[str, int]:
    world = brevo_mock.world
    program = world["programs"][0]
    return program["id"], 990_001


def test_wait_for_event_sees_an_enrolment(brevo_mock: RunningMock) -> None:
    pid, contact = _program_and_member(brevo_mock)
    headers = {"api-key": brevo_mock.api_key}
    httpx.post(f"{brevo_mock.base_url}/loyalty/config/programs/{pid}/publish", headers=headers)
    answer = httpx.post(f"{brevo_mock.base_url}/loyalty/config/programs/{pid}/subscriptions", headers=headers,
                        json={"contactId": contact})
    assert answer.status_code == 200, answer.text
    event = brevo_mock.wait_for_event("subscription_created", timeout=5, contact_id=contact,
                                      loyalty_program={"id": pid})
    assert event["subscription"]["loyalty_subscription_id"] == answer.json()["loyaltySubscriptionId"]
    assert [payload["event_name"] for payload in brevo_mock.webhooks] == ["subscription_created"]


def test_each_test_starts_with_no_event(brevo_mock: RunningMock) -> None:
    assert brevo_mock.webhooks == []  # the previous test's enrolment is gone with its world
    with pytest.raises(TimeoutError, match="no subscription_created event"):
        brevo_mock.wait_for_event("subscription_created", timeout=0.2)
