"""Tier operations: tier groups and tiers, in the active (published) or draft version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.routes.signatures import Handler, Params, WriteHandler
from mock_server.store.models import Tier, TierAssignment, TierGroup, iso, thaw
from mock_server.store.queries import norm_id, program_of, visible_or_404
from mock_server.store.world import ProgramData, World

if TYPE_CHECKING:
    from mock_server.backend import Backend


def group_item(data: ProgramData, group: TierGroup, version: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": group.id,
        "loyaltyProgramId": group.program_id,
        "name": group.name,
        "tierOrder": [tier.id for tier in data.tiers_of(group) if data.visible(tier, version)],
        "upgradeStrategy": group.upgrade_strategy,
        "downgradeStrategy": group.downgrade_strategy,
    }
    # Schedules only exist for strategies that are not real time.
    if group.upgrade_schedule is not None:
        item["upgradeSchedule"] = thaw(group.upgrade_schedule)
    if group.downgrade_schedule is not None:
        item["downgradeSchedule"] = thaw(group.downgrade_schedule)
    item["createdAt"] = iso(group.created_at)
    item["updatedAt"] = iso(group.updated_at)
    return item


def tier_item(tier: Tier) -> dict[str, Any]:
    created, updated = iso(tier.created_at), iso(tier.updated_at)
    return {
        "tierId": tier.id,
        "groupId": tier.group_id,
        "loyaltyProgramId": tier.program_id,
        "name": tier.name,
        "imageRef": tier.image_ref,
        "accessConditions": [
            {
                "balanceDefinitionId": tier.balance_definition_id,
                "minimumValue": tier.threshold,
                "createdAt": created,
                "updatedAt": updated,
            }
        ],
        "tierRewards": [
            {"rewardId": reward_id, "createdAt": created, "updatedAt": updated} for reward_id in tier.reward_ids
        ],
        "createdAt": created,
        "updatedAt": updated,
    }


def get_list_of_tier_groups(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    version = params["version"]
    return {
        "items": [group_item(data, group, version) for group in data.tier_groups if data.visible(group, version)]
    }


def get_tier_group(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    version = params["version"]
    raw = params["gid"]
    group = visible_or_404(data, data.group_by_id.get(norm_id(raw)), version, "Tier group", "gid", raw)
    return group_item(data, group, version)


def get_loyalty_program_tier(world: World, params: Params) -> dict[str, Any]:
    """Every tier, group by group (in creation order), lowest first within a group."""
    data = program_of(world, params)
    version = params["version"]
    return {
        "items": [
            tier_item(tier)
            for group in data.tier_groups
            if data.visible(group, version)
            for tier in data.tiers_of(group)
            if data.visible(tier, version)
        ]
    }


# ------------------------------------------------------------------ writes
# A write answers the record as the draft version shows it: everything, published or not.


def create_tier_group(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    data, group = backend.tiers.create_group(params["pid"], body)
    return group_item(data, group, "draft")


def update_tier_group(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    data, group = backend.tiers.update_group(params["pid"], params["gid"], body)
    return group_item(data, group, "draft")


def delete_tier_group(backend: Backend, params: Params, body: Any) -> None:
    backend.tiers.delete_group(params["pid"], params["gid"])


def create_tier_for_tier_group(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    _, tier = backend.tiers.create_tier(params["pid"], params["gid"], body)
    return tier_item(tier)


def update_tier(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    _, tier = backend.tiers.update_tier(params["pid"], params["tid"], body)
    return tier_item(tier)


def delete_tier(backend: Backend, params: Params, body: Any) -> None:
    backend.tiers.delete_tier(params["pid"], params["tid"])


def add_subscription_to_tier(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    data, member, assignment = backend.tiers.assign(params["pid"], params["cid"], params["tid"])
    return assignment_item(data.id, member.contact_id, assignment)


def assignment_item(program_id: str, contact_id: int, assignment: TierAssignment) -> dict[str, Any]:
    moment = iso(assignment.created_at)
    return {
        "id": assignment.id,
        "contactId": contact_id,
        "groupId": assignment.group_id,
        "tierId": assignment.tier_id,
        "loyaltyProgramId": program_id,
        "meta": {},
        "createdAt": moment,
        "updatedAt": moment,
    }


WRITE_HANDLERS: dict[str, WriteHandler] = {
    "createTierGroup": create_tier_group,
    "updateTierGroup": update_tier_group,
    "deleteTierGroup": delete_tier_group,
    "createTierForTierGroup": create_tier_for_tier_group,
    "updateTier": update_tier,
    "deleteTier": delete_tier,
    "addSubscriptionToTier": add_subscription_to_tier,
}


HANDLERS: dict[str, Handler] = {
    "getListOfTierGroups": get_list_of_tier_groups,
    "getTierGroup": get_tier_group,
    "getLoyaltyProgramTier": get_loyalty_program_tier,
}
