"""Properties of whole worlds: every endpoint tells the same story about every member.

For any seed and any contact count, and for every member and balance definition:

    contact-balances value == subscription balance == account-info balance
        == completed credits - completed debits in the transaction history
        == sum of the active balances

and the tier, voucher, paging and determinism rules hold. Handlers are called
as plain functions; amounts are compared in minor units so sums are exact.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers
from tests.support.invariants import ALL, check_member_balances, check_tier, check_vouchers

H = contract_handlers()
WIDGET = load_fixture(shipped_fixture("widget-member"))
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=25)


@SETTINGS
@given(seed=seeds, contacts=sizes, with_widget=st.booleans())
def test_every_endpoint_agrees_on_every_balance(seed, contacts, with_widget):
    world = build_world(seed, contacts, [WIDGET] if with_widget else [])
    for data in world.programs:
        listed: dict[str, dict[int, dict]] = {}
        for definition in data.definitions:
            page = H["getContactBalances"](
                world, {"pid": data.id, "balanceDefinitionId": definition.id, "includeInternal": True,
                        "sortField": "value", "sort": "asc", **ALL},
            )
            assert page["count"] == len(data.members) == len(page["balances"])
            listed[definition.id] = {entry["contactId"]: entry for entry in page["balances"]}
        for contact in data.members.contact_ids:
            check_member_balances(H, world, data, contact, {d: rows[contact] for d, rows in listed.items()})
            check_tier(H, world, data, contact, listed, untouched=True)  # seeded: evaluated at the reference time
            check_vouchers(H, world, data, contact)


@SETTINGS
@given(
    seed=seeds,
    contacts=sizes,
    limit=st.integers(min_value=1, max_value=30),
    sort=st.sampled_from(["asc", "desc"]),
    sort_field=st.sampled_from(["value", "updatedAt"]),
)
def test_paging_is_slicing_of_one_order(seed, contacts, limit, sort, sort_field):
    world = build_world(seed, contacts)
    data = world.programs[0]
    base = {"pid": data.id, "balanceDefinitionId": data.definitions[0].id, "sort": sort, "sortField": sort_field}
    whole = H["getContactBalances"](world, {**base, **ALL})
    pages = []
    offset = 0
    while True:
        page = H["getContactBalances"](world, {**base, "limit": limit, "offset": offset})
        assert page["count"] == whole["count"]
        if not page["balances"]:
            break
        pages.extend(page["balances"])
        offset += limit
    assert pages == whole["balances"]
    keys = [(entry[sort_field], entry["contactId"]) for entry in whole["balances"]]
    assert keys == sorted(keys, reverse=sort == "desc")
    contact = data.members.contact_ids[0]
    history = {"pid": data.id, "contactId": contact, "balanceDefinitionId": data.definitions[0].id, "sort": sort}
    every = H["getTransactionHistoryApi"](world, {**history, **ALL})
    sliced = H["getTransactionHistoryApi"](world, {**history, "limit": limit, "offset": 1})
    assert sliced["count"] == every["count"]
    assert sliced["transactionHistory"] == every["transactionHistory"][1 : 1 + limit]


@SETTINGS
@given(seed=seeds)
def test_a_newcomers_first_calls_show_an_active_program_with_real_balances(seed):
    """Default program list, its first program's definitions, their first contact-balances page (issue 13, 12)."""
    world = build_world(seed, 40)
    first = H["getLPList"](world, {})["items"][0]
    assert first["state"] == "active"
    definition = H["getBalanceDefinitionList"](world, {"pid": first["id"]})["items"][0]
    assert definition["meta"].get("isInternal") is not True
    page = H["getContactBalances"](world, {"pid": first["id"], "balanceDefinitionId": definition["id"]})
    assert page["count"] == 40
    values = [entry["value"] for entry in page["balances"]]
    assert sum(1 for value in values if value > 0) > len(values) // 2, values


@SETTINGS
@given(seed=seeds, contacts=sizes)
def test_only_published_programs_have_members(seed, contacts):
    world = build_world(seed, contacts)
    for data in world.programs:
        assert len(data.members) == (contacts if data.program.has_active_version else 0)


@settings(max_examples=5, deadline=None)
@given(seed=seeds, contacts=sizes)
def test_same_inputs_same_bytes(seed, contacts):
    def snapshot() -> bytes:
        world = build_world(seed, contacts, [WIDGET])
        parts: list[Any] = [world.summary(sample=contacts)]
        for data in world.programs:
            for contact in data.members.contact_ids:
                parts.append(H["getSubscriptionTransactions"](world, {"pid": data.id, "cid": contact}))
                parts.append(H["getParameterSubscriptionInfo"](world, {"pid": data.id, "contactId": str(contact)}))
        return orjson.dumps(parts)

    assert snapshot() == snapshot()
