"""The guide's member endpoints over HTTP: tier status, usable vouchers, every transaction.

The seeded world gives members in the middle of their tiers; a small fixture
adds the edges (below the first tier, exactly on a threshold, at the top
tier, a program without tiers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.store.models import Member, iso, render_amount
from mock_server.store.world import ProgramData, World
from tests.api.support import Api, Ids, client_for, make_settings

COVERS = {
    "getSubscriptionTier": {"pid", "cid"},
    "getSubscriptionVouchers": {"pid", "cid"},
    "getSubscriptionTransactions": {"pid", "cid"},
}

EDGE_PID = "5d0c1f4e-7a1b-4c2d-9e3f-00000000e1e1"
PLAIN_PID = "5d0c1f4e-7a1b-4c2d-9e3f-00000000e2e2"
EDGES = f"""
name: tier-edges
programs:
  - name: Edge Program
    id: {EDGE_PID}
    balanceDefinitions:
      - name: Edge Points
    tierGroups:
      - name: Edge Levels
        balanceDefinition: Edge Points
        tiers:
          - {{name: Starter, threshold: 100}}
          - {{name: Middle, threshold: 400}}
          - {{name: Top, threshold: 1000}}
    offers:
      - {{name: Edge Offer, publicDescription: One edge offer}}
    members:
      - {{contactId: 1, balances: [{{balanceDefinition: Edge Points, balance: 50}}]}}
      - contactId: 2
        balances: [{{balanceDefinition: Edge Points, balance: 100}}]
        vouchers:
          - {{offer: Edge Offer, code: EDGE-A, createdAt: "2026-09-01T00:00:00Z", expiresAt: "2027-03-01T00:00:00Z"}}
          - {{offer: Edge Offer, code: EDGE-B, createdAt: "2026-09-01T00:00:00Z", expiresAt: "2026-12-01T00:00:00Z"}}
          - {{offer: Edge Offer, code: EDGE-C, createdAt: "2026-09-01T00:00:00Z", expiresAt: "2027-01-01T00:00:00Z"}}
          - {{offer: Edge Offer, code: EDGE-D, createdAt: "2026-09-01T00:00:00Z", expiresAt: "2026-10-01T00:00:00Z"}}
          - {{offer: Edge Offer, code: EDGE-E, createdAt: "2026-09-01T00:00:00Z", expiresAt: "2027-02-01T00:00:00Z",
             consumedAt: "2026-10-02T00:00:00Z"}}
      - {{contactId: 3, balances: [{{balanceDefinition: Edge Points, balance: 999}}]}}
      - {{contactId: 4, balances: [{{balanceDefinition: Edge Points, balance: 1000}}]}}
      - {{contactId: 5, balances: [{{balanceDefinition: Edge Points, balance: 0, transactionCount: 0}}]}}
  - name: Plain Program
    id: {PLAIN_PID}
    balanceDefinitions:
      - name: Plain Points
    members:
      - {{contactId: 7, balances: [{{balanceDefinition: Plain Points, balance: 10}}]}}
"""


def expected_tier(data: ProgramData, member: Member) -> dict:
    """From the store: the first group's tiers and the member's balance on its definition."""
    group = data.tier_groups[0]
    definition = data.definition_by_id[group.balance_definition_id]
    balance = render_amount(member.ledger(definition.id).value, definition.scale)
    tiers = data.tiers_of(group)
    reached = [tier for tier in tiers if tier.threshold <= balance]
    current = reached[-1] if reached else None
    upcoming = tiers[len(reached)] if len(reached) < len(tiers) else None
    return {
        "tierGroupId": group.id, "tierGroupName": group.name,
        "tierId": current.id if current else None, "tierName": current.name if current else None,
        "nextTierName": upcoming.name if upcoming else None,
        "nextTierThreshold": upcoming.threshold if upcoming else None,
        "currentBalance": balance,
    }


@pytest.fixture(scope="module")
def edge_api(api: Api, tmp_path_factory) -> Iterator[Api]:
    path: Path = tmp_path_factory.mktemp("fixtures") / "tier-edges.yaml"
    path.write_text(EDGES, encoding="utf-8")
    app = create_app(make_settings(contacts=5, fixtures=(path,)))
    client: TestClient
    with client_for(app) as client:
        yield Api(client, api.contract, api.validator)


# -------------------------------------------------------------------- tier


def test_member_tier_follows_the_tiers_list_for_every_member(api: Api, world: World):
    seen_tiers = set()
    for data in world.programs:
        if not data.tier_groups:
            continue
        for position in range(len(data.members)):
            member = world.member_at(data, position)
            body = api.ok("getSubscriptionTier", {"pid": data.id, "cid": member.contact_id})
            assert body == expected_tier(data, member)
            seen_tiers.add(body["tierId"])
    assert len(seen_tiers) >= 3  # members stand in several tiers


def test_member_tier_agrees_with_the_tier_endpoints(api: Api, ids: Ids):
    status = api.ok("getSubscriptionTier", {"pid": ids.pid, "cid": ids.cid})
    group = api.ok("getTierGroup", {"pid": ids.pid, "gid": status["tierGroupId"]})
    tiers = {t["tierId"]: t for t in api.ok("getLoyaltyProgramTier", {"pid": ids.pid})["items"]}
    order = group["tierOrder"]
    assert status["tierGroupName"] == group["name"]
    assert tiers[status["tierId"]]["name"] == status["tierName"]
    assert tiers[status["tierId"]]["accessConditions"][0]["minimumValue"] <= status["currentBalance"]
    position = order.index(status["tierId"])
    if position + 1 < len(order):
        upcoming = tiers[order[position + 1]]
        assert (status["nextTierName"], status["nextTierThreshold"]) == (
            upcoming["name"], upcoming["accessConditions"][0]["minimumValue"])
        assert status["currentBalance"] < status["nextTierThreshold"]
    balances = api.ok("getSubscriptionBalances", {"pid": ids.pid, "cid": ids.cid}, {"includeInternal": "true"})
    definition = tiers[status["tierId"]]["accessConditions"][0]["balanceDefinitionId"]
    assert status["currentBalance"] == next(b["value"] for b in balances["balance"]
                                            if b["balanceDefinitionId"] == definition)


@pytest.mark.parametrize(
    ("contact", "tier", "upcoming", "threshold", "balance"),
    [
        (1, None, "Starter", 100, 50),  # below the first tier
        (5, None, "Starter", 100, 0),  # nothing at all yet
        (2, "Starter", "Middle", 400, 100),  # exactly on a threshold
        (3, "Middle", "Top", 1000, 999),  # one point short
        (4, "Top", None, None, 1000),  # at the top
    ],
)
def test_member_tier_at_the_edges(edge_api: Api, contact, tier, upcoming, threshold, balance):
    body = edge_api.ok("getSubscriptionTier", {"pid": EDGE_PID, "cid": contact})
    assert body["tierGroupName"] == "Edge Levels"
    assert (body["tierName"], body["nextTierName"], body["nextTierThreshold"], body["currentBalance"]) == (
        tier, upcoming, threshold, balance)
    assert (body["tierId"] is None) == (tier is None)


def test_member_tier_in_a_program_without_tiers_is_not_found(edge_api: Api):
    response = edge_api.get("getSubscriptionTier", {"pid": PLAIN_PID, "cid": 7})
    edge_api.error(response, "getSubscriptionTier", 404, "document_not_found")
    assert edge_api.ok("getSubscriptionBalances", {"pid": PLAIN_PID, "cid": 7})["balance"][0]["value"] == 10


# ---------------------------------------------------------------- vouchers


def test_member_vouchers_are_the_usable_ones_soonest_to_expire_first(api: Api, world: World):
    checked = 0
    for data in world.programs:
        for position in range(len(data.members)):
            member = world.member_at(data, position)
            usable = sorted((v for v in member.vouchers if v.available(world.reference_now)),
                            key=lambda v: (v.expiration_date, v.id))
            body = api.ok("getSubscriptionVouchers", {"pid": data.id, "cid": member.contact_id})
            assert [v["id"] for v in body] == [v.id for v in usable]
            for item, voucher in zip(body, usable, strict=True):
                reward = data.reward_by_id[voucher.reward_id]
                assert item == {"id": voucher.id, "code": voucher.code, "offerId": reward.id,
                                "offerName": reward.name, "publicDescription": reward.public_description,
                                "expiresAt": iso(voucher.expiration_date)}
            checked += len(usable) < len(member.vouchers)  # some were redeemed or expired
    assert checked >= 1


def test_member_voucher_offers_open_as_rewards(api: Api, ids: Ids):
    vouchers = api.ok("getSubscriptionVouchers", {"pid": ids.pid, "cid": ids.cid})
    offers = {item["id"] for item in api.ok("getRewardPageApi", {"pid": ids.pid}, {"limit": 100})["items"]}
    for voucher in vouchers:
        assert voucher["offerId"] in offers
        reward = api.ok("getRewardInformation", {"pid": ids.pid, "rid": voucher["offerId"]})
        assert reward["name"] == voucher["offerName"]
        assert reward["publicDescription"] == voucher["publicDescription"]


def test_several_usable_vouchers_come_soonest_to_expire_first(edge_api: Api):
    """EDGE-D expired before the reference clock and EDGE-E was redeemed: neither is usable."""
    wallet = edge_api.ok("getSubscriptionVouchers", {"pid": EDGE_PID, "cid": 2})
    assert [v["code"] for v in wallet] == ["EDGE-B", "EDGE-C", "EDGE-A"]
    assert [v["expiresAt"] for v in wallet] == ["2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z",
                                                "2027-03-01T00:00:00.000Z"]
    assert {v["offerName"] for v in wallet} == {"Edge Offer"}
    page = edge_api.ok("getVoucherForAContact", {"pid": EDGE_PID}, {"contactId": 2})
    assert page["count"] == 5


def test_a_member_without_vouchers_has_an_empty_wallet(edge_api: Api):
    assert edge_api.ok("getSubscriptionVouchers", {"pid": EDGE_PID, "cid": 1}) == []


# ------------------------------------------------------------ transactions


def test_member_transactions_are_every_transaction_newest_first(api: Api, ids: Ids):
    body = api.ok("getSubscriptionTransactions", {"pid": ids.pid, "cid": ids.cid})
    rows = [(tx, d) for d, ledger in zip(ids.data.definitions, ids.member.ledgers, strict=True)
            for tx in ledger.transactions]
    rows.sort(key=lambda row: (row[0].created_at, row[0].id), reverse=True)
    assert [(item["id"], item["balanceDefinitionId"]) for item in body] == [(tx.id, d.id) for tx, d in rows]
    assert len({d.id for _, d in rows}) >= 2  # the list spans definitions
    for item, (tx, definition) in zip(body, rows, strict=True):
        assert item["loyaltyProgramId"] == ids.pid
        assert (item["amount"], item["status"], item["transactionType"]) == (
            render_amount(tx.amount, definition.scale), tx.status, tx.transaction_type)


def test_member_transactions_match_the_history_of_each_definition(api: Api, ids: Ids):
    everything = api.ok("getSubscriptionTransactions", {"pid": ids.pid, "cid": ids.cid})
    for definition in ids.data.definitions:
        history = api.ok("getTransactionHistoryApi", {"pid": ids.pid},
                         {"contactId": ids.cid, "balanceDefinitionId": definition.id, "limit": 500})
        mine = [{k: v for k, v in tx.items() if k not in ("balanceDefinitionId", "loyaltyProgramId")}
                for tx in everything if tx["balanceDefinitionId"] == definition.id]
        assert mine == history["transactionHistory"]


def test_a_member_without_transactions_has_an_empty_list(edge_api: Api):
    assert edge_api.ok("getSubscriptionTransactions", {"pid": EDGE_PID, "cid": 5}) == []
