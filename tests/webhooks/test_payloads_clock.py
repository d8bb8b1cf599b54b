"""The events the clock drives (backend/timeline.py emits them with these objects) render as valid payloads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.backend.events import Event
from mock_server.fixtures import shipped_fixture
from mock_server.settings import Settings
from mock_server.store.models import DAY
from mock_server.webhooks.catalog import SCHEDULED, payload_schemas
from mock_server.webhooks.payloads import event_id, render
from tests.webhooks.conftest import PID, valid


@pytest.fixture(scope="module")
def records() -> dict[str, Any]:
    fixture = shipped_fixture("widget-member")
    assert fixture is not None
    state = create_app(Settings(access_log=False, contacts=20, fixtures=(fixture,))).state.mock
    world = state.backends["default"].world
    data = world.program(PID)
    member = world.member(data, 12345)
    group = data.tier_groups[0]
    bronze, silver, *_ = data.tiers_of(group)
    voucher = member.vouchers[0]
    credit = next(tx for tx in member.ledgers[0].transactions if tx.transaction_type == "credit")
    return {"data": data, "program": data.program, "member": member, "subscription": member.subscription,
            "definition": data.definitions[0], "group": group, "bronze": bronze, "silver": silver,
            "voucher": voucher, "reward": data.reward_by_id.get(voucher.reward_id),
            "expired": replace(credit, status="expired"), "now": world.reference_now}


def objects_of(name: str, r: dict[str, Any]) -> dict[str, Any]:
    """What the timeline passes for each event (its module docstring)."""
    base = {"program": r["program"], "subscription": r["subscription"]}
    tier = {**base, "group": r["group"], "tier": r["silver"], "since": r["now"] - 400 * DAY}
    voucher = {**base, "member": r["member"], "voucher": r["voucher"], "reward": r["reward"]}
    return {
        "balance_expiration_reminder": {**base, "definition": r["definition"], "value": 40,
                                        "expires_at": r["now"] + 7 * DAY},
        "balance_value_expired": {**base, "member": r["member"], "definition": r["definition"],
                                  "transaction": r["expired"], "value": 40, "balance": 300},
        "voucher_expiration_reminder": {**voucher, "expires_at": r["voucher"].expiration_date},
        "voucher_expired": voucher,
        "membership_anniversary_reminder": {**base, "anniversary_at": r["now"] + 7 * DAY, "years": 1},
        "subscription_month_anniversary": {**base, "months": 3},
        "subscription_year_anniversary": {**base, "years": 1},
        "tier_anniversary_reminder": {**tier, "anniversary_at": r["now"] + 7 * DAY, "years": 1},
        "tier_association_month_anniversary": {**tier, "months": 2},
        "tier_association_year_anniversary": {**tier, "years": 1},
    }[name]


@pytest.mark.parametrize("name", sorted(SCHEDULED))
def test_a_clock_event_renders_as_its_schema_says(name: str, records: dict[str, Any]) -> None:
    event = Event(7, name, records["now"], "default", PID, 12345, objects_of(name, records))
    payload = valid(render(event, seed=1))
    assert payload["source"] == "schedule" and payload["contact_id"] == 12345
    assert payload["identifiers"]["loyalty_subscription_id"] == records["subscription"].loyalty_subscription_id
    assert payload["loyalty_program"]["name"] == "Storefront Rewards"


def test_a_tier_drop_at_a_credit_expiry_is_a_downgrade(records: dict[str, Any]) -> None:
    objects = {"program": records["program"], "subscription": records["subscription"], "member": records["member"],
               "group": records["group"], "tier": records["bronze"], "previous_tier": records["silver"]}
    payload = valid(render(Event(8, "tier_association_updated", records["now"], "default", PID, 12345, objects), 1))
    assert (payload["direction"], payload["tier"]["name"], payload["previous_tier"]["name"]) == (
        "downgrade", "Bronze", "Silver")


def test_every_clock_event_is_covered() -> None:
    assert set(payload_schemas()) >= SCHEDULED
    assert len(SCHEDULED) == 10


def test_event_ids_are_pinned_by_seed_organisation_and_number() -> None:
    # The same seed and requests give the same ids release after release: a receiver may have stored them.
    assert event_id(0, "xkeysib-loyalty-mock-local-key", 1) == "309101fd-f561-4da9-9ff2-c61149db7921"
    assert event_id(42, "org-b", 123456) == "d760456d-969b-4a27-bce4-f6115f892740"
