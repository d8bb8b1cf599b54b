"""Tier and reward handlers called as plain functions."""

import pytest

from mock_server.errors import InvalidParameter, UnknownResource
from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers

H = contract_handlers()
WIDGET_PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"


@pytest.fixture(scope="module")
def world():
    return build_world(44, 150, [load_fixture(shipped_fixture("widget-member"))])


@pytest.fixture(scope="module")
def programs(world):
    return {data.program.state: data for data in world.programs[:3]}


# ---------------------------------------------------------------------- tiers


def test_tier_groups_by_version(world, programs):
    active, draft, inactive = programs["active"], programs["draft"], programs["inactive"]
    assert len(H["getListOfTierGroups"](world, {"pid": active.id, "version": "active"})["items"]) == 2
    assert len(H["getListOfTierGroups"](world, {"pid": draft.id, "version": "draft"})["items"]) == 2
    assert len(H["getListOfTierGroups"](world, {"pid": draft.id, "version": "active"})["items"]) == 1
    assert H["getListOfTierGroups"](world, {"pid": inactive.id, "version": "active"})["items"] == []
    unpublished = draft.tier_groups[1]
    with pytest.raises(UnknownResource, match="gid"):
        H["getTierGroup"](world, {"pid": draft.id, "gid": unpublished.id, "version": "active"})


def test_tier_group_order_matches_tiers_list(world, programs):
    data = programs["active"]
    group = H["getTierGroup"](world, {"pid": data.id, "gid": data.tier_groups[0].id.upper(), "version": "draft"})
    assert group["upgradeStrategy"] == "real_time"
    assert group["downgradeSchedule"]["durationUnit"] == "year"
    assert "upgradeSchedule" not in group
    tiers = {t["tierId"]: t for t in H["getLoyaltyProgramTier"](world, {"pid": data.id})["items"]}
    thresholds = [tiers[tier_id]["accessConditions"][0]["minimumValue"] for tier_id in group["tierOrder"]]
    assert thresholds[0] == 0
    assert thresholds == sorted(thresholds)
    assert all(tiers[tier_id]["groupId"] == group["id"] for tier_id in group["tierOrder"])
    rewarded = [t for t in tiers.values() if t["tierRewards"]]
    reward_ids = {r.id for r in data.rewards}
    assert rewarded and all(link["rewardId"] in reward_ids for t in rewarded for link in t["tierRewards"])


# -------------------------------------------------------------------- rewards


def test_offers_page_counts_before_paging_and_filters_state(world, programs):
    data = programs["active"]
    base = {"pid": data.id, "limit": 25, "offset": 0, "state": "all", "version": "draft"}
    whole = H["getRewardPageApi"](world, base)
    assert whole["totalCount"] == len(data.rewards) == len(whole["items"])
    stamps = [item["createdAt"] for item in whole["items"]]
    assert stamps == sorted(stamps, reverse=True)
    page = H["getRewardPageApi"](world, {**base, "limit": 2, "offset": 2})
    assert page["totalCount"] == whole["totalCount"]
    assert page["items"] == whole["items"][2:4]
    expired = H["getRewardPageApi"](world, {**base, "state": "expired"})
    assert expired["totalCount"] == sum(r.state == "expired" for r in data.rewards) >= 1
    assert H["getRewardPageApi"](world, {**base, "state": "bogus"})["totalCount"] == 0
    draft = programs["draft"]
    live = H["getRewardPageApi"](world, {**base, "pid": draft.id, "version": "active"})
    assert live["totalCount"] == len([r for r in draft.rewards if r.state != "draft"])


def test_reward_detail_links_pool_generator_and_versions(world, programs):
    data = programs["active"]
    pooled = next(r for r in data.rewards if r.code_pool_id)
    detail = H["getRewardInformation"](world, {"pid": data.id, "rid": pooled.id, "version": "draft"})
    assert detail["codePoolId"] == pooled.code_pool_id
    assert "generator" not in detail and "code" not in detail
    count = H["getCodeCount"](world, {"pid": data.id, "cpid": detail["codePoolId"]})
    assert count == {"count": data.pool_by_id[pooled.code_pool_id].code_count}
    generated = next(r for r in data.rewards if r.code_generator_id)
    detail = H["getRewardInformation"](world, {"pid": data.id, "rid": generated.id})
    assert detail["generator"]["id"] == generated.code_generator_id
    assert detail["rewardConfigs"]["code"] == "generator"
    draft = programs["draft"]
    hidden = next(r for r in draft.rewards if not r.published)
    with pytest.raises(UnknownResource, match="rid"):
        H["getRewardInformation"](world, {"pid": draft.id, "rid": hidden.id, "version": "active"})
    with pytest.raises(UnknownResource, match="cpid"):
        H["getCodeCount"](world, {"pid": data.id, "cpid": pooled.id})


def test_vouchers_filter_sort_and_count(world):
    base = {"pid": WIDGET_PID, "contactId": 12345, "limit": 25, "offset": 0, "sort": "desc", "sortField": "updatedAt"}
    page = H["getVoucherForAContact"](world, base)
    assert (page["contactId"], page["loyaltySubscriptionId"], page["count"]) == (12345, "cust_abc123", 2)
    assert [v["code"] for v in page["contactRewards"]] == ["GOLD10", "SHIP-7Q4K"]
    oldest_first = H["getVoucherForAContact"](world, {**base, "sort": "asc", "sortField": "createdAt"})
    assert [v["code"] for v in oldest_first["contactRewards"]] == ["SHIP-7Q4K", "GOLD10"]
    by_meta = H["getVoucherForAContact"](world, {**base, "metadata_key_value": "source:tier_upgrade"})
    assert [v["code"] for v in by_meta["contactRewards"]] == ["GOLD10"]
    assert H["getVoucherForAContact"](world, {**base, "metadata_key_value": "source"})["count"] == 2
    gold = world.program(WIDGET_PID).reward_by_id
    gold_id = next(r.id for r in gold.values() if r.name == "Gold Welcome Reward")
    by_reward = H["getVoucherForAContact"](world, {**base, "rewardId": gold_id.upper()})
    assert by_reward["count"] == 1 and by_reward["contactRewards"][0]["rewardId"] == gold_id
    second = H["getVoucherForAContact"](world, {**base, "limit": 1, "offset": 1})
    assert second["count"] == 2 and second["contactRewards"] == page["contactRewards"][1:]
    consumed = page["contactRewards"][1]
    assert consumed["consumedAt"] == "2026-04-10T18:00:00.000Z"
    with pytest.raises(InvalidParameter, match="metadata_key_value"):
        H["getVoucherForAContact"](world, {**base, "metadata_key_value": ":x"})
    with pytest.raises(UnknownResource, match="contactId"):
        H["getVoucherForAContact"](world, {**base, "contactId": 54321})


def test_seeded_vouchers_come_from_live_rewards_of_their_program(world):
    for data in world.programs[:3]:
        for contact in list(data.members.contact_ids)[:80]:
            page = H["getVoucherForAContact"](
                world, {"pid": data.id, "contactId": contact, "limit": 100, "offset": 0}
            )
            assert page["count"] == len(page["contactRewards"])
            for voucher in page["contactRewards"]:
                reward = data.reward_by_id[voucher["rewardId"]]
                assert reward.state != "draft"
                assert voucher["createdAt"] <= voucher["updatedAt"]
                assert voucher["validFrom"] < voucher["expirationDate"]
