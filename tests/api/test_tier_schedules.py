"""Scheduled tier groups over HTTP: a purchase does not move a member in a scheduled direction; moving the
clock (``POST /__mock__/clock``) past the group's schedule does.

The seeded active program's wallet group moves members both ways once a year on 01/01 (`scheduledDate`),
its primary group upgrades in real time and downgrades on the membership anniversary (README, "The
seeded world"). Expectations come from the world the app was built from and the documented strategies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.store.expiry_rules import anniversary
from mock_server.store.models import REFERENCE_NOW, iso
from tests.api.support import client_for, make_settings, world_of

APP = create_app(make_settings(contacts=10))


@pytest.fixture
def client() -> Iterator[TestClient]:
    APP.state.mock.reset()
    with client_for(APP) as client:
        yield client


def _program() -> Any:
    return next(data for data in world_of(APP).programs if data.program.state == "active")


def _member_with(definition: int, wanted: Any) -> int:
    data = _program()
    for position in range(len(data.members)):
        if wanted(data.members.values[definition][position]):
            return data.members.contact_ids[position]
    raise AssertionError("no such member")


def _transact(client: TestClient, contact: int, definition: int, amount: float) -> None:
    data = _program()
    body: dict[str, Any] = {"contactId": contact, "balanceDefinitionId": data.definitions[definition].id,
                            "amount": amount, "autoComplete": True}
    if amount > 0:
        body["balanceExpiryInMinutes"] = 3 * 365 * 1440
    answer = client.post(f"/v3/loyalty/balance/programs/{data.id}/transactions", json=body)
    assert answer.status_code == 200 and answer.json()["status"] == "completed", answer.text


def _tier_in(client: TestClient, contact: int, group_id: str) -> dict[str, Any] | None:
    info = client.get(f"/v3/loyalty/config/programs/{_program().id}/account-info",
                      params={"contactId": contact, "params": "tier"})
    assert info.status_code == 200, info.text
    return next((row for row in info.json()["tier"] if row["groupId"] == group_id), None)


def _clock(client: TestClient, body: dict[str, str]) -> dict[str, Any]:
    moved = client.post("/__mock__/clock", json=body)
    assert moved.status_code == 200, moved.text
    return moved.json()


def test_a_purchase_waits_for_the_groups_scheduled_date(client: TestClient):
    data = _program()
    wallet = data.tier_groups[1]
    assert wallet.upgrade_schedule is not None and wallet.upgrade_schedule["scheduledDate"] == "01/01"
    standard, plus, _ = data.tiers_of(wallet)
    contact = _member_with(1, lambda value: value == 0)

    _transact(client, contact, 1, plus.threshold)

    assert _tier_in(client, contact, wallet.id)["tierId"] == standard.id  # type: ignore[index]
    _clock(client, {"set": "2026-12-31T23:59:59Z"})
    assert _tier_in(client, contact, wallet.id)["tierId"] == standard.id  # type: ignore[index]
    _clock(client, {"advance": "P1D"})
    held = _tier_in(client, contact, wallet.id)
    assert held is not None and held["tierId"] == plus.id
    assert held["createdAt"] == "2027-01-01T00:00:00.000Z"  # in the tier since the evaluation


def test_the_guide_read_keeps_a_tier_until_the_membership_anniversary(client: TestClient):
    data = _program()
    primary = data.tier_groups[0]
    bronze, silver, gold, _ = data.tiers_of(primary)
    contact = _member_with(0, lambda value: silver.threshold <= value < gold.threshold)
    member = world_of(APP).member(data, contact)
    assert member is not None
    tier_url = f"/v3/loyalty/balance/programs/{data.id}/subscriptions/{contact}/tier"

    _transact(client, contact, 0, -(member.ledgers[0].value - silver.threshold + 1))

    read = client.get(tier_url).json()
    assert (read["tierId"], read["currentBalance"]) == (silver.id, silver.threshold - 1)
    due = anniversary(member.subscription.created_at, 12)
    while due <= REFERENCE_NOW + 60_000:  # the next one after the reference time (and the write's second)
        due = anniversary(due, 12)
    _clock(client, {"set": iso(due - 1000)})
    assert client.get(tier_url).json()["tierId"] == silver.id
    _clock(client, {"set": iso(due)})
    read = client.get(tier_url).json()
    assert (read["tierId"], read["nextTierName"]) == (bronze.id, silver.name)


def test_an_upgrade_in_real_time_shows_at_once(client: TestClient):
    data = _program()
    primary = data.tier_groups[0]
    _, silver, _, _ = data.tiers_of(primary)
    contact = _member_with(0, lambda value: value < silver.threshold)
    member = world_of(APP).member(data, contact)
    assert member is not None
    _transact(client, contact, 0, silver.threshold - member.ledgers[0].value)
    read = client.get(f"/v3/loyalty/balance/programs/{data.id}/subscriptions/{contact}/tier").json()
    assert read["tierId"] == silver.id
