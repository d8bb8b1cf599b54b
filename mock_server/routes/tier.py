"""Tier operations: tier groups and tiers, in the active (published) or draft version."""

from __future__ import annotations

from typing import Any

from mock_server.routes import Handler, Params
from mock_server.store.models import Tier, TierGroup, iso, thaw
from mock_server.store.queries import norm_id, program_of, visible_or_404
from mock_server.store.world import ProgramData, World


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


HANDLERS: dict[str, Handler] = {
    "getListOfTierGroups": get_list_of_tier_groups,
    "getTierGroup": get_tier_group,
    "getLoyaltyProgramTier": get_loyalty_program_tier,
}
