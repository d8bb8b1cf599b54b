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
from mock_server.seeding import REFERENCE_NOW, build_world
from mock_server.store.models import iso
from tests.support.handlers import contract_handlers

H = contract_handlers()
NOW = iso(REFERENCE_NOW)
WIDGET = load_fixture(shipped_fixture("widget-member"))
ALL = {"limit": 500, "offset": 0}
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=25)


def minor(value: float | int, scale: int) -> int:
    return round(value * scale)


def last_event(tx: dict[str, Any]) -> str:
    moments = [tx["createdAt"], tx["completedAt"], tx["cancelledAt"], tx["rejectedAt"]]
    if tx["status"] == "expired":
        moments.append(tx["balanceExpirationDate"])
    return max(moment for moment in moments if moment is not None)


def check_member_balances(world, data, contact: int, listed: dict[int, dict]) -> None:
    pid = data.id
    totals = H["getSubscriptionBalances"](world, {"pid": pid, "cid": contact, "includeInternal": True})
    account = H["getParameterSubscriptionInfo"](
        world, {"pid": pid, "contactId": str(contact), "includeInternal": True}
    )
    by_total = {entry["balanceDefinitionId"]: entry["value"] for entry in totals["balance"]}
    by_account = {entry["balanceDefinitionId"]: entry["value"] for entry in account["balance"]["balances"]}
    joined = account["members"][0]["createdAt"]
    for definition in data.definitions:
        scale = definition.scale
        ids = {"pid": pid, "contactId": contact, "balanceDefinitionId": definition.id}
        history = H["getTransactionHistoryApi"](world, {**ids, **ALL})
        active = H["getActiveBalancesApi"](world, {**ids, **ALL, "includeInternal": True})
        txs = history["transactionHistory"]
        completed = sum(
            minor(tx["amount"], scale) * (1 if tx["transactionType"] == "credit" else -1)
            for tx in txs if tx["status"] == "completed"
        )
        remaining = sum(minor(entry["amount"], scale) for entry in active["activeBalances"])
        listed_value = minor(listed[definition.id]["value"], scale)
        assert listed_value == minor(by_total[definition.id], scale) == minor(by_account[definition.id], scale)
        assert listed_value == completed == remaining >= 0
        assert history["count"] == len(txs) and active["count"] == len(active["activeBalances"])
        # The balance changed last when its latest transaction did (or at enrollment).
        expected_update = max((last_event(tx) for tx in txs), default=joined)
        assert listed[definition.id]["updatedAt"] == expected_update
        # What is left of a credit lapses when the credit does (lifetime or yearly expiry day).
        credit_expiry = {
            tx["completedAt"]: tx["balanceExpirationDate"]
            for tx in txs if tx["status"] == "completed" and tx["transactionType"] == "credit"
        }
        for entry in active["activeBalances"]:
            assert minor(entry["amount"], scale) > 0
            assert entry["expiresAt"] is None or entry["expiresAt"] > NOW
            assert entry["expiresAt"] == credit_expiry[entry["createdAt"]]
        for tx in txs:
            assert tx["createdAt"] >= joined
            if tx["status"] == "expired":
                assert tx["balanceExpirationDate"] < NOW


def check_tier(world, data, contact: int, listed: dict[str, dict[int, dict]]) -> None:
    groups = H["getListOfTierGroups"](world, {"pid": data.id, "version": "draft"})["items"]
    if not groups:
        return
    tiers = {t["tierId"]: t for t in H["getLoyaltyProgramTier"](world, {"pid": data.id, "version": "draft"})["items"]}
    primary = groups[0]
    ordered = [tiers[tier_id] for tier_id in primary["tierOrder"]]
    definition_id = ordered[0]["accessConditions"][0]["balanceDefinitionId"]
    balance = listed[definition_id][contact]["value"]
    status = H["getSubscriptionTier"](world, {"pid": data.id, "cid": contact})
    reached = [t for t in ordered if t["accessConditions"][0]["minimumValue"] <= balance]
    current = reached[-1] if reached else None
    upcoming = ordered[len(reached)] if len(reached) < len(ordered) else None
    assert status["tierGroupId"] == primary["id"]
    assert status["tierGroupName"] == primary["name"]
    assert status["currentBalance"] == balance
    assert status["tierId"] == (current["tierId"] if current else None)
    assert status["tierName"] == (current["name"] if current else None)
    assert status["nextTierName"] == (upcoming["name"] if upcoming else None)
    assert status["nextTierThreshold"] == (upcoming["accessConditions"][0]["minimumValue"] if upcoming else None)


def check_vouchers(world, data, contact: int) -> None:
    offers = H["getRewardPageApi"](world, {"pid": data.id, "limit": 100, "offset": 0, "version": "draft"})
    offer_ids = {item["id"] for item in offers["items"]}
    page = H["getVoucherForAContact"](world, {"pid": data.id, "contactId": contact, "limit": 100, "offset": 0})
    assert page["count"] == len(page["contactRewards"])
    for voucher in page["contactRewards"]:
        assert voucher["rewardId"] in offer_ids
        reward = H["getRewardInformation"](world, {"pid": data.id, "rid": voucher["rewardId"]})
        if "codePoolId" in reward:
            assert H["getCodeCount"](world, {"pid": data.id, "cpid": reward["codePoolId"]})["count"] >= 0
    wallet = H["getSubscriptionVouchers"](world, {"pid": data.id, "cid": contact})
    usable = {v["id"] for v in wallet}
    assert usable == {
        v["id"] for v in page["contactRewards"] if v["consumedAt"] is None and v["expirationDate"] > NOW
    }
    # The guide's wallet names the offer each voucher came from, as the offers page shows it.
    for voucher in wallet:
        assert voucher["offerId"] in offer_ids
        reward = H["getRewardInformation"](world, {"pid": data.id, "rid": voucher["offerId"]})
        assert (voucher["offerName"], voucher["publicDescription"]) == (reward["name"], reward["publicDescription"])
    account = H["getParameterSubscriptionInfo"](world, {"pid": data.id, "contactId": str(contact), "params": "reward"})
    assert {v["rewardId"] for v in account["reward"]} <= offer_ids
    assert {v["id"] for v in account["reward"]} == {v["id"] for v in page["contactRewards"]}


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
            check_member_balances(world, data, contact, {d: rows[contact] for d, rows in listed.items()})
            check_tier(world, data, contact, listed)
            check_vouchers(world, data, contact)


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
