"""Events the clock drives reach the endpoint: credits lapsing as the test moves time on."""

from __future__ import annotations

import time

import httpx

from mock_server.store.models import DAY
from mock_server.testing import RunningMock
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import PID, add_endpoint, advance, credit, definition_id, enrol, valid


def test_a_lapsed_credit_is_announced_then_expired(mock: RunningMock, api: httpx.Client, receiver: Receiver) -> None:
    bdid = definition_id(api)
    enrol(api, 940)
    add_endpoint(api, receiver.url, events=["balance_expiration_reminder", "balance_value_expired",
                                            "balance_minimum_value_reached"])
    credit(api, 940, 120, bdid, expiry_minutes=30 * 24 * 60)  # lapses in 30 days
    advance(mock, 31 * DAY)
    reminder = valid(receiver.wait_for("balance_expiration_reminder", contact_id=940))
    expired = valid(receiver.wait_for("balance_value_expired", contact_id=940))
    floor = valid(receiver.wait_for("balance_minimum_value_reached", contact_id=940))
    mine = [p["event_name"] for p in receiver.events if p["contact_id"] == 940]  # seeded members lapse too
    assert mine == ["balance_expiration_reminder", "balance_value_expired", "balance_minimum_value_reached"]
    assert (floor["value"], floor["source"], floor["event_date"]) == (0, "schedule", expired["event_date"])
    assert reminder["value"] == 120 and expired["value"] == 120 and expired["balance"] == 0
    assert expired["source"] == "schedule" and expired["balance_definition"]["id"] == bdid
    assert reminder["event_date"] < expired["event_date"]  # each dated when it fell due on the clock
    balances = api.get(f"/v3/loyalty/balance/programs/{PID}/subscriptions/940/balances").json()["balance"]
    assert next(b["value"] for b in balances if b["balanceDefinitionId"] == bdid) == 0


def test_a_tier_lost_as_credits_lapse_is_a_scheduled_downgrade(mock: RunningMock, api: httpx.Client,
                                                                 receiver: Receiver) -> None:
    bdid = definition_id(api)
    enrol(api, 941)
    add_endpoint(api, receiver.url, events=["tier_association_updated"])
    credit(api, 941, 300, bdid, expiry_minutes=24 * 60)  # Silver for a day
    up = valid(receiver.wait_for("tier_association_updated", contact_id=941))
    advance(mock, 2 * DAY)
    down = valid(receiver.wait_for("tier_association_updated", contact_id=941, direction="downgrade"))
    assert (up["source"], up["direction"], up["tier"]["name"]) == ("api", "upgrade", "Silver")
    assert (down["source"], down["previous_tier"]["name"], down["tier"]["name"]) == ("schedule", "Silver", "Bronze")


def test_a_tier_left_at_its_month_anniversary_has_no_anniversary(mock: RunningMock, api: httpx.Client,
                                                                 receiver: Receiver) -> None:
    """Gold entered on 1 November by a credit that lapses on 1 December, the very moment of its first monthly
    anniversary: the member is Bronze by then, so no Gold anniversary is sent (the subscription's still is)."""
    bdid = definition_id(api)
    enrol(api, 943)
    add_endpoint(api, receiver.url, events=["tier_association_updated", "tier_association_month_anniversary",
                                            "subscription_month_anniversary"])
    credit(api, 943, 600, bdid, expiry_minutes=30 * 24 * 60)
    advance(mock, 31 * DAY)
    down = valid(receiver.wait_for("tier_association_updated", contact_id=943, direction="downgrade"))
    receiver.wait_for("subscription_month_anniversary", contact_id=943)
    assert down["previous_tier"]["name"] == "Gold"
    time.sleep(0.5)  # events are delivered in order: one after the downgrade would have arrived by now
    mine = [p["event_name"] for p in receiver.events if p["contact_id"] == 943]
    assert "tier_association_month_anniversary" not in mine, mine
