"""Tier operations over HTTP: tier groups and tiers, in the draft and the active version."""

from __future__ import annotations

from mock_server.store.models import iso
from mock_server.store.world import ProgramData, World
from tests.api.support import Api, Ids

COVERS = {
    "getListOfTierGroups": {"pid", "version"},
    "getTierGroup": {"pid", "gid", "version"},
    "getLoyaltyProgramTier": {"pid", "version"},
}


def with_hidden_group(world: World) -> ProgramData:
    """A published program with an unpublished tier group (seeded worlds have one)."""
    return next(data for data in world.programs
                if data.program.has_active_version and any(not g.published for g in data.tier_groups))


def test_tier_groups_are_the_programs_groups_with_their_order(api: Api, world: World):
    for data in world.programs:
        items = api.ok("getListOfTierGroups", {"pid": data.id})["items"]
        assert [item["id"] for item in items] == [group.id for group in data.tier_groups]
        for item, group in zip(items, data.tier_groups, strict=True):
            assert item["name"] == group.name and item["loyaltyProgramId"] == data.id
            assert item["tierOrder"] == list(group.tier_ids)
            assert (item["upgradeStrategy"], item["downgradeStrategy"]) == (group.upgrade_strategy,
                                                                            group.downgrade_strategy)
            assert ("downgradeSchedule" in item) == (group.downgrade_schedule is not None)
            assert item["createdAt"] == iso(group.created_at)


def test_tier_groups_version_active_hides_unpublished_groups(api: Api, world: World):
    data = with_hidden_group(world)
    draft = api.ok("getListOfTierGroups", {"pid": data.id}, {"version": "draft"})["items"]
    active = api.ok("getListOfTierGroups", {"pid": data.id}, {"version": "active"})["items"]
    assert [g["id"] for g in draft] == [g.id for g in data.tier_groups]
    assert [g["id"] for g in active] == [g.id for g in data.tier_groups if g.published]
    for item in active:
        group = data.group_by_id[item["id"]]
        assert item["tierOrder"] == [t for t in group.tier_ids if data.tier_by_id[t].published]


def test_a_never_published_program_has_no_active_tiers(api: Api, world: World):
    data = next(d for d in world.programs if not d.program.has_active_version and d.tier_groups)
    assert api.ok("getListOfTierGroups", {"pid": data.id}, {"version": "active"})["items"] == []
    assert api.ok("getLoyaltyProgramTier", {"pid": data.id}, {"version": "active"})["items"] == []
    assert api.ok("getLoyaltyProgramTier", {"pid": data.id}, {"version": "draft"})["items"]


def test_each_tier_group_reads_as_listed(api: Api, world: World):
    for data in world.programs:
        listed = api.ok("getListOfTierGroups", {"pid": data.id})["items"]
        for item in listed:
            assert api.ok("getTierGroup", {"pid": data.id, "gid": item["id"]}) == item


def test_tier_group_version_active_hides_an_unpublished_group(api: Api, world: World):
    data = with_hidden_group(world)
    hidden = next(g for g in data.tier_groups if not g.published)
    path = {"pid": data.id, "gid": hidden.id}
    api.error(api.get("getTierGroup", path, {"version": "active"}), "getTierGroup", 404, "document_not_found")
    assert api.ok("getTierGroup", path, {"version": "draft"})["id"] == hidden.id


def test_tiers_come_group_by_group_lowest_first_with_their_conditions(api: Api, world: World):
    for data in world.programs:
        items = api.ok("getLoyaltyProgramTier", {"pid": data.id})["items"]
        expected = [data.tier_by_id[t] for group in data.tier_groups for t in group.tier_ids]
        assert [item["tierId"] for item in items] == [tier.id for tier in expected]
        for item, tier in zip(items, expected, strict=True):
            group = data.group_by_id[tier.group_id]
            assert (item["name"], item["groupId"], item["loyaltyProgramId"]) == (tier.name, group.id, data.id)
            assert [(c["balanceDefinitionId"], c["minimumValue"]) for c in item["accessConditions"]] == [
                (group.balance_definition_id, tier.threshold)]
            assert [r["rewardId"] for r in item["tierRewards"]] == list(tier.reward_ids)
            assert all(r in data.reward_by_id for r in tier.reward_ids)
        thresholds = [[t.threshold for t in data.tiers_of(group)] for group in data.tier_groups]
        assert all(levels == sorted(set(levels)) for levels in thresholds)


def test_tiers_version_active_hides_unpublished_tiers(api: Api, world: World):
    data = with_hidden_group(world)
    active = api.ok("getLoyaltyProgramTier", {"pid": data.id}, {"version": "active"})["items"]
    draft = api.ok("getLoyaltyProgramTier", {"pid": data.id}, {"version": "draft"})["items"]
    assert [t["tierId"] for t in active] == [
        t for g in data.tier_groups if g.published for t in g.tier_ids if data.tier_by_id[t].published]
    assert len(active) < len(draft) == len(data.tiers)


def test_tier_group_links_lead_to_its_tiers(api: Api, ids: Ids):
    group = api.ok("getTierGroup", {"pid": ids.pid, "gid": ids.gid})
    tiers = {t["tierId"]: t for t in api.ok("getLoyaltyProgramTier", {"pid": ids.pid})["items"]}
    assert all(tiers[tier_id]["groupId"] == ids.gid for tier_id in group["tierOrder"])
