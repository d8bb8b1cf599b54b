"""The member of Brevo's "Read member data" guide (seed 004), from the shipped widget-member fixture.

The guide's widget reads "340 pts · Silver · 160 pts to Gold · 1 reward available": contact
12345 has 340 points, is Silver in "VIP Levels" with Gold next at 500, and holds one usable
voucher, GOLD10 ("10% off your next order") from "Gold Welcome Reward". The fixture fixes the
program id, so these hold whatever the seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server.app import create_app
from mock_server.fixtures import shipped_fixture
from tests.api.support import Api, client_for, make_settings

PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"
CID = 12345
MEMBER = {"pid": PID, "cid": CID}


@pytest.fixture(scope="module", params=[1, 42], ids=["seed1", "seed42"])
def guide(request, api: Api) -> Iterator[Api]:
    fixture = shipped_fixture("widget-member")
    assert fixture is not None
    app = create_app(make_settings(seed=request.param, contacts=20, fixtures=(fixture,)))
    with client_for(app) as client:
        yield Api(client, api.contract, api.validator)


def named(items: list[dict], name: str, key: str = "name") -> dict:
    found = [item for item in items if item[key] == name]
    assert len(found) == 1, f"{name!r} in {[item[key] for item in items]}"
    return found[0]


def test_the_guides_program_is_there_under_its_fixed_id(guide: Api):
    program = guide.ok("getLoyaltyProgramInfo", {"pid": PID})
    assert (program["id"], program["name"], program["state"]) == (PID, "Storefront Rewards", "active")
    assert PID in {item["id"] for item in guide.ok("getLPList")["items"]}


def test_current_balance_is_340_purchase_points(guide: Api):
    definitions = guide.ok("getBalanceDefinitionList", {"pid": PID})["items"]
    points = named(definitions, "Purchase Points")
    assert points["unit"] == "POINTS"
    body = guide.ok("getSubscriptionBalances", MEMBER)
    assert body["contactId"] == CID and body["loyaltyProgramId"] == PID
    assert body["balance"] == [{"balanceDefinitionId": points["id"], "value": 340}]


def test_current_tier_is_silver_with_gold_next_at_500(guide: Api):
    group = named(guide.ok("getListOfTierGroups", {"pid": PID})["items"], "VIP Levels")
    tiers = guide.ok("getLoyaltyProgramTier", {"pid": PID})["items"]
    silver, gold = named(tiers, "Silver"), named(tiers, "Gold")
    assert gold["accessConditions"][0]["minimumValue"] == 500
    assert guide.ok("getSubscriptionTier", MEMBER) == {
        "tierGroupId": group["id"],
        "tierGroupName": "VIP Levels",
        "tierId": silver["tierId"],
        "tierName": "Silver",
        "nextTierName": "Gold",
        "nextTierThreshold": 500,
        "currentBalance": 340,
    }


def test_available_vouchers_are_gold10_only(guide: Api):
    offer = named(guide.ok("getRewardPageApi", {"pid": PID})["items"], "Gold Welcome Reward")
    assert guide.ok("getSubscriptionVouchers", MEMBER) == [
        {
            "id": guide.ok("getVoucherForAContact", {"pid": PID},
                           {"contactId": CID, "rewardId": offer["id"]})["contactRewards"][0]["id"],
            "code": "GOLD10",
            "offerId": offer["id"],
            "offerName": "Gold Welcome Reward",
            "publicDescription": "10% off your next order",
            "expiresAt": "2026-12-31T23:59:59.000Z",
        }
    ]
    reward = guide.ok("getRewardInformation", {"pid": PID, "rid": offer["id"]})
    assert (reward["publicName"], reward["publicDescription"]) == ("Gold Welcome Reward", "10% off your next order")


def test_the_redeemed_voucher_shows_in_the_voucher_page_only(guide: Api):
    page = guide.ok("getVoucherForAContact", {"pid": PID}, {"contactId": CID})
    assert page["count"] == 2 and page["loyaltySubscriptionId"] == "cust_abc123"
    codes = {v["code"]: v for v in page["contactRewards"]}
    assert codes["GOLD10"]["consumedAt"] is None
    assert codes["SHIP-7Q4K"]["consumedAt"] == "2026-04-10T18:00:00.000Z"


def test_transactions_are_completed_pending_and_cancelled_and_add_up_to_340(guide: Api):
    txs = guide.ok("getSubscriptionTransactions", MEMBER)
    assert len(txs) == 8
    assert {"completed", "draft", "cancelled"} <= {tx["status"] for tx in txs}
    assert [tx["createdAt"] for tx in txs] == sorted((tx["createdAt"] for tx in txs), reverse=True)
    signed = [tx["amount"] if tx["transactionType"] == "credit" else -tx["amount"]
              for tx in txs if tx["status"] == "completed"]
    assert sorted(signed) == [-100, 120, 120, 200] and sum(signed) == 340
    expired = [tx for tx in txs if tx["status"] == "expired"]
    assert [(tx["amount"], tx["meta"]["source"]) for tx in expired] == [(75, "signup_bonus")]


def test_active_credits_and_history_tell_the_same_340(guide: Api):
    points = named(guide.ok("getBalanceDefinitionList", {"pid": PID})["items"], "Purchase Points")
    query = {"contactId": CID, "balanceDefinitionId": points["id"]}
    active = guide.ok("getActiveBalancesApi", {"pid": PID}, query)
    assert sum(a["amount"] for a in active["activeBalances"]) == 340
    assert all(a["expiresAt"] > "2026-11-01T00:00:00.000Z" for a in active["activeBalances"])
    history = guide.ok("getTransactionHistoryApi", {"pid": PID}, {**query, "status": "completed"})
    assert history["count"] == 4
    listed = guide.ok("getContactBalances", {"pid": PID}, {"balanceDefinitionId": points["id"]})
    assert named(listed["balances"], CID, "contactId")["value"] == 340


def test_account_info_by_the_guides_subscription_id(guide: Api):
    body = guide.ok("getParameterSubscriptionInfo", {"pid": PID}, {"loyaltySubscriptionId": "cust_abc123"})
    assert body["balance"]["contactId"] == CID
    assert [b["value"] for b in body["balance"]["balances"]] == [340]
    tiers = guide.ok("getLoyaltyProgramTier", {"pid": PID})["items"]
    assert [t["tierId"] for t in body["tier"]] == [named(tiers, "Silver")["tierId"]]
    assert sorted(v["code"] for v in body["reward"]) == ["GOLD10", "SHIP-7Q4K"]


def test_the_widget_line_of_the_guide(guide: Api):
    balances = guide.ok("getSubscriptionBalances", MEMBER)
    tier = guide.ok("getSubscriptionTier", MEMBER)
    vouchers = guide.ok("getSubscriptionVouchers", MEMBER)
    points = balances["balance"][0]["value"]
    to_next = tier["nextTierThreshold"] - tier["currentBalance"]
    line = f"{points} pts · {tier['tierName']} · {to_next} pts to {tier['nextTierName']} · " \
           f"{len(vouchers)} reward available"
    assert line == "340 pts · Silver · 160 pts to Gold · 1 reward available"
