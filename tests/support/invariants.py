"""The rules every world keeps, seeded or changed by writes, checked through the read operations.

Each check takes `H`, the reads by operationId (`H[op](world, params) -> JSON`): the handlers called
as plain functions (tests/support/handlers.py), or the same reads over HTTP (the write state machine),
so one statement of each rule serves both:

    contact-balances value == subscription balance == account-info balance
        == completed credits - completed debits in the transaction history
        == sum of the active balances

and the tier and voucher rules. Amounts are compared in minor units so sums are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mock_server.seeding import REFERENCE_NOW
from mock_server.store.models import iso
from mock_server.store.world import ProgramData

Reads = Mapping[str, Callable[[Any, Mapping[str, Any]], Any]]
NOW = iso(REFERENCE_NOW)
ALL = {"limit": 500, "offset": 0}


def minor(value: float | int, scale: int) -> int:
    return round(value * scale)


def last_event(tx: dict[str, Any]) -> str:
    moments = [tx["createdAt"], tx["completedAt"], tx["cancelledAt"], tx["rejectedAt"]]
    if tx["status"] == "expired":
        moments.append(tx["balanceExpirationDate"])
    return max(moment for moment in moments if moment is not None)


def check_member_balances(H: Reads, world: Any, data: ProgramData, contact: int, listed: dict[str, dict]) -> None:
    pid = data.id
    totals = H["getSubscriptionBalances"](world, {"pid": pid, "cid": contact, "includeInternal": True})
    account = H["getParameterSubscriptionInfo"](
        world, {"pid": pid, "contactId": str(contact), "includeInternal": True}
    )
    by_total = {entry["balanceDefinitionId"]: entry["value"] for entry in totals["balance"]}
    by_account = {entry["balanceDefinitionId"]: entry["value"] for entry in account["balance"]["balances"]}
    joined = account["members"][0]["createdAt"]
    for definition in data.definitions:
        if definition.deleted:  # kept for alignment, gone from every read
            continue
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


def check_tier(H: Reads, world: Any, data: ProgramData, contact: int, listed: dict[str, dict[int, dict]],
               held: dict[int, int] | None = None, untouched: bool = False) -> None:
    """The guide's tier read of the primary group against the balance and the group's strategies.

    The balance reaches tier `reached` (the highest whose threshold it is at least). A real-time direction
    moves the member there at once, a scheduled one waits for its evaluation, so the tier read is:
    `reached` in a real-time group (or for a member `untouched` since the reference time, when the seeded
    world was evaluated); not below it if upgrades are real-time, not above it if downgrades are. With
    `held` (contact -> the rank the last check read; at most one balance change since), exactly the rank
    before moved in the real-time directions; `held` is updated with what was read.
    """
    groups = H["getListOfTierGroups"](world, {"pid": data.id, "version": "draft"})["items"]
    if not groups:
        return
    tiers = {t["tierId"]: t for t in H["getLoyaltyProgramTier"](world, {"pid": data.id, "version": "draft"})["items"]}
    primary = groups[0]
    ordered = [tiers[tier_id] for tier_id in primary["tierOrder"]]
    definition_id = ordered[0]["accessConditions"][0]["balanceDefinitionId"]
    balance = listed[definition_id][contact]["value"]
    status = H["getSubscriptionTier"](world, {"pid": data.id, "cid": contact})
    reached = len([t for t in ordered if t["accessConditions"][0]["minimumValue"] <= balance]) - 1
    ids = [t["tierId"] for t in ordered]
    assert status["tierId"] is None or status["tierId"] in ids, status
    rank = ids.index(status["tierId"]) if status["tierId"] is not None else -1
    up_live = primary.get("upgradeStrategy", "real_time") == "real_time"
    down_live = primary.get("downgradeStrategy", "real_time") == "real_time"
    current = ordered[rank] if rank >= 0 else None
    upcoming = ordered[rank + 1] if rank + 1 < len(ordered) else None
    assert status["tierGroupId"] == primary["id"]
    assert status["tierGroupName"] == primary["name"]
    assert status["currentBalance"] == balance
    if (up_live and down_live) or untouched:
        assert rank == reached, f"tier rank {rank}, the balance {balance} reaches {reached}"
    if up_live:
        assert rank >= reached, f"upgrades are real-time: tier rank {rank} is below {reached}, reached by {balance}"
    if down_live:
        assert rank <= reached, f"downgrades are real-time: tier rank {rank} is above {reached} (balance {balance})"
    if held is not None and contact in held:
        before = held[contact]
        expected = reached if (reached > before and up_live) or (reached < before and down_live) else before
        assert rank == expected, (f"held rank {before}, balance {balance} reaches {reached} "
                                  f"({primary['upgradeStrategy']}/{primary['downgradeStrategy']}): read {rank}")
    if held is not None:
        held[contact] = rank
    assert status["tierName"] == (current["name"] if current else None)
    assert status["nextTierName"] == (upcoming["name"] if upcoming else None)
    assert status["nextTierThreshold"] == (upcoming["accessConditions"][0]["minimumValue"] if upcoming else None)


def check_vouchers(H: Reads, world: Any, data: ProgramData, contact: int) -> None:
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
