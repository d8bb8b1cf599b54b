"""The member endpoints of the "Read member data" guide: tier status, usable vouchers, all transactions.

They read the same member record as the reference endpoints, so a widget built
on them shows the numbers the rest of the API shows.
"""

from __future__ import annotations

from typing import Any

from mock_server.errors import UnknownResource
from mock_server.routes.balance import transaction_item
from mock_server.routes.signatures import Handler, Params
from mock_server.store.models import iso, render_amount
from mock_server.store.queries import member_of, program_of
from mock_server.store.world import World


def get_subscription_tier(world: World, params: Params) -> dict[str, Any]:
    """Standing in the program's primary tier group (the first created)."""
    data = program_of(world, params)
    member = member_of(world, data, params["cid"], "cid")
    group = data.primary_tier_group
    if group is None or not group.tier_ids:  # a program made by a fixture or a write may have no tiers yet
        raise UnknownResource("Tier group of loyalty program", "pid", params["pid"])
    definition = data.definition_by_id[group.balance_definition_id]
    ledger = member.ledgers[definition.index]
    current, upcoming = data.standing_of(group, member)
    return {
        "tierGroupId": group.id,
        "tierGroupName": group.name,
        "tierId": current.id if current else None,
        "tierName": current.name if current else None,
        "nextTierName": upcoming.name if upcoming else None,
        "nextTierThreshold": upcoming.threshold if upcoming else None,
        "currentBalance": render_amount(ledger.value, definition.scale),
    }


def get_subscription_vouchers(world: World, params: Params) -> list[dict[str, Any]]:
    """Vouchers neither redeemed nor expired at the reference clock, soonest to expire first."""
    data = program_of(world, params)
    member = member_of(world, data, params["cid"], "cid")
    usable = sorted(
        (voucher for voucher in member.vouchers if voucher.available(world.reference_now)),
        key=lambda voucher: (voucher.expiration_date, voucher.id),
    )
    made = []
    for voucher in usable:
        reward = data.reward_by_id[voucher.reward_id]
        made.append(
            {
                "id": voucher.id,
                "code": voucher.code,
                "offerId": reward.id,
                "offerName": reward.name,
                "publicDescription": reward.public_description,
                "expiresAt": iso(voucher.expiration_date),
            }
        )
    return made


def get_subscription_transactions(world: World, params: Params) -> list[dict[str, Any]]:
    """Every transaction of the member, every status and definition, newest first."""
    data = program_of(world, params)
    member = member_of(world, data, params["cid"], "cid")
    rows = [
        (tx, definition)
        for definition, ledger in zip(data.definitions, member.ledgers, strict=True)
        if not definition.deleted
        for tx in ledger.transactions
    ]
    rows.sort(key=lambda row: (row[0].created_at, row[0].id), reverse=True)
    return [
        {"id": tx.id, "loyaltyProgramId": data.id, "balanceDefinitionId": definition.id,
         **{k: v for k, v in transaction_item(tx, definition.scale).items() if k != "id"}}
        for tx, definition in rows
    ]


HANDLERS: dict[str, Handler] = {
    "getSubscriptionTier": get_subscription_tier,
    "getSubscriptionVouchers": get_subscription_vouchers,
    "getSubscriptionTransactions": get_subscription_transactions,
}
