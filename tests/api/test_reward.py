"""Reward operations over HTTP: the offers page, one reward, a contact's vouchers, code pool sizes."""

from __future__ import annotations

import pytest

from mock_server.store.models import Member, Voucher, iso
from mock_server.store.world import ProgramData, World
from tests.api.support import UNKNOWN_UUID, Api, Ids

COVERS = {
    "getRewardPageApi": {"pid", "limit", "offset", "state", "version"},
    "getRewardInformation": {"pid", "rid", "version"},
    "getVoucherForAContact": {"pid", "contactId", "limit", "offset", "sort", "sortField", "metadata_key_value",
                              "rewardId"},
    "getCodeCount": {"pid", "cpid"},
}


def rewards_newest_first(data: ProgramData, version: str = "draft", state: str = "all") -> list[str]:
    found = [r for r in data.rewards if data.visible(r, version) and state in ("all", r.state)]
    return [r.id for r in sorted(found, key=lambda r: (r.created_at, r.id), reverse=True)]


def richest_member(world: World, data: ProgramData) -> Member:
    """The member holding the most vouchers, of the most different rewards."""
    return max((world.member_at(data, p) for p in range(len(data.members))),
               key=lambda m: (len(m.vouchers), len({v.reward_id for v in m.vouchers})))


# ------------------------------------------------------------------ offers


def test_offers_default_to_every_draft_reward_newest_first(api: Api, world: World):
    for data in world.programs:
        body = api.ok("getRewardPageApi", {"pid": data.id})
        assert [item["id"] for item in body["items"]] == rewards_newest_first(data)[:25]
        assert body["totalCount"] == len(data.rewards)


def test_offer_items_are_the_rewards(api: Api, ids: Ids):
    for item in api.ok("getRewardPageApi", {"pid": ids.pid})["items"]:
        reward = ids.data.reward_by_id[item["id"]]
        assert (item["name"], item["state"], item["loyaltyProgramId"]) == (reward.name, reward.state, ids.pid)
        assert (item["startDate"], item["endDate"]) == (iso(reward.start_date), iso(reward.end_date))


def test_offers_state_filter(api: Api, world: World):
    states = {(data.id, reward.state) for data in world.programs for reward in data.rewards}
    assert len({state for _, state in states}) >= 3
    for data in world.programs:
        for state in ("active", "inactive", "expired", "draft", "all"):
            body = api.ok("getRewardPageApi", {"pid": data.id}, {"state": state})
            expected = rewards_newest_first(data, state=state)
            assert [item["id"] for item in body["items"]] == expected
            assert body["totalCount"] == len(expected)


def test_offers_version_active_shows_published_rewards_only(api: Api, world: World):
    data = next(d for d in world.programs if d.program.has_active_version and any(not r.published for r in d.rewards))
    body = api.ok("getRewardPageApi", {"pid": data.id}, {"version": "active"})
    assert [item["id"] for item in body["items"]] == rewards_newest_first(data, "active")
    assert body["totalCount"] < len(data.rewards)


def test_offer_pages_keep_the_total_count(api: Api, ids: Ids):
    expected = rewards_newest_first(ids.data)
    for offset in range(len(expected) + 1):
        body = api.ok("getRewardPageApi", {"pid": ids.pid}, {"limit": 2, "offset": offset})
        assert [item["id"] for item in body["items"]] == expected[offset:offset + 2]
        assert body["totalCount"] == len(expected)


# ------------------------------------------------------------------ reward


def test_each_reward_reads_as_stored(api: Api, world: World):
    modes = set()
    fixed: set[str] = set()
    for data in world.programs:
        for reward in data.rewards:
            body = api.ok("getRewardInformation", {"pid": data.id, "rid": reward.id})
            assert (body["id"], body["name"], body["publicDescription"]) == (reward.id, reward.name,
                                                                             reward.public_description)
            assert (body["value"], body["unit"]) == (reward.value, reward.unit)
            # Vouchers expire on a fixed date or after a lifetime, and only the one that applies is shown.
            if reward.expiration_date is not None:
                fixed.add(reward.id)
                assert body["expirationDate"] == iso(reward.expiration_date)
                assert "expirationValue" not in body and "expirationUnit" not in body
            else:
                assert "expirationDate" not in body
                assert (body["expirationValue"], body["expirationUnit"]) == (reward.expiration_value,
                                                                             reward.expiration_unit)
            assert body.get("code") == reward.code and body.get("codePoolId") == reward.code_pool_id
            assert body.get("codeGeneratorId") == reward.code_generator_id
            if reward.code_generator_id:
                assert body["generator"]["id"] == reward.code_generator_id
            if reward.code_pool_id:
                assert reward.code_pool_id in data.pool_by_id
            modes.add(body["rewardConfigs"]["code"])
            assert [limit["rewardLimitId"] for limit in body["limits"]] == [limit.id for limit in reward.limits]
    assert modes == {"fixed", "pool", "generator"}
    assert fixed, "no reward with a fixed voucher expiry date"


def test_reward_version_active_hides_an_unpublished_reward(api: Api, world: World):
    data = next(d for d in world.programs if d.program.has_active_version and any(not r.published for r in d.rewards))
    hidden = next(r for r in data.rewards if not r.published)
    path = {"pid": data.id, "rid": hidden.id}
    api.error(api.get("getRewardInformation", path, {"version": "active"}), "getRewardInformation", 404)
    assert api.ok("getRewardInformation", path, {"version": "draft"})["id"] == hidden.id


# ---------------------------------------------------------------- vouchers


@pytest.fixture(scope="module")
def holder(world: World, ids: Ids) -> Member:
    member = richest_member(world, ids.data)
    assert len(member.vouchers) >= 2
    return member


def voucher_ids(vouchers: list[Voucher], field: str = "updated_at", sort: str = "desc") -> list[str]:
    return [v.id for v in sorted(vouchers, key=lambda v: (getattr(v, field), v.id), reverse=sort == "desc")]


def vouchers_of(api: Api, ids: Ids, member: Member, **query) -> dict:
    return api.ok("getVoucherForAContact", {"pid": ids.pid}, {"contactId": member.contact_id, **query})


def test_vouchers_are_the_contacts_last_updated_first(api: Api, ids: Ids, holder: Member):
    body = vouchers_of(api, ids, holder)
    assert [v["id"] for v in body["contactRewards"]] == voucher_ids(list(holder.vouchers))
    assert body["count"] == len(holder.vouchers)
    assert (body["contactId"], body["loyaltyProgramId"], body["loyaltySubscriptionId"]) == (
        holder.contact_id, ids.pid, holder.subscription.loyalty_subscription_id)
    by_id = {v.id: v for v in holder.vouchers}
    for item in body["contactRewards"]:
        voucher = by_id[item["id"]]
        assert (item["rewardId"], item["code"], item["meta"]) == (voucher.reward_id, voucher.code,
                                                                  dict(voucher.meta))
        assert item["consumedAt"] == (None if voucher.consumed_at is None else iso(voucher.consumed_at))
        assert item["expirationDate"] == iso(voucher.expiration_date)
        assert item["rewardId"] in ids.data.reward_by_id


@pytest.mark.parametrize("sort_field", ["updatedAt", "createdAt"])
@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_vouchers_sort(api: Api, ids: Ids, holder: Member, sort_field, sort):
    body = vouchers_of(api, ids, holder, sortField=sort_field, sort=sort)
    field = "updated_at" if sort_field == "updatedAt" else "created_at"
    assert [v["id"] for v in body["contactRewards"]] == voucher_ids(list(holder.vouchers), field, sort)


def test_voucher_pages_keep_the_count(api: Api, ids: Ids, holder: Member):
    expected = voucher_ids(list(holder.vouchers))
    for offset in range(len(expected) + 1):
        body = vouchers_of(api, ids, holder, limit=1, offset=offset)
        assert [v["id"] for v in body["contactRewards"]] == expected[offset:offset + 1]
        assert body["count"] == len(expected)


def test_vouchers_filter_by_reward(api: Api, ids: Ids, holder: Member):
    for reward_id in {v.reward_id for v in holder.vouchers}:
        body = vouchers_of(api, ids, holder, rewardId=reward_id)
        assert {v["id"] for v in body["contactRewards"]} == {v.id for v in holder.vouchers if v.reward_id == reward_id}
        assert body["count"] == len(body["contactRewards"]) >= 1
    none = vouchers_of(api, ids, holder, rewardId=UNKNOWN_UUID)
    assert none["count"] == 0 and none["contactRewards"] == []


def test_vouchers_filter_by_metadata(api: Api, ids: Ids, holder: Member):
    key, value = next(iter(holder.vouchers[0].meta.items()))
    body = vouchers_of(api, ids, holder, metadata_key_value=f"{key}:{value}")
    assert {v["id"] for v in body["contactRewards"]} == {v.id for v in holder.vouchers if v.meta.get(key) == value}
    assert body["count"] >= 1
    having = vouchers_of(api, ids, holder, metadata_key_value=key)
    assert having["count"] == sum(key in v.meta for v in holder.vouchers)
    assert vouchers_of(api, ids, holder, metadata_key_value=f"{key}:no-such-value")["count"] == 0
    assert vouchers_of(api, ids, holder, metadata_key_value="no-such-key")["count"] == 0


def test_a_metadata_filter_without_a_key_is_a_documented_422(api: Api, ids: Ids, holder: Member):
    for text in (":value", "", " :value", "  "):
        response = api.get("getVoucherForAContact", {"pid": ids.pid},
                           {"contactId": holder.contact_id, "metadata_key_value": text})
        assert "'metadata_key_value'" in api.error(response, "getVoucherForAContact", 422, "invalid_parameter")


def test_a_member_without_vouchers_has_an_empty_page(api: Api, world: World):
    for data in world.programs:
        for position in range(len(data.members)):
            member = world.member_at(data, position)
            if not member.vouchers:
                body = api.ok("getVoucherForAContact", {"pid": data.id}, {"contactId": member.contact_id})
                assert body["count"] == 0 and body["contactRewards"] == []
                return
    pytest.fail("every member of the world holds a voucher")


# -------------------------------------------------------------- code pools


def test_code_count_is_the_pools_size(api: Api, world: World):
    pools = 0
    for data in world.programs:
        for pool in data.code_pools:
            assert api.ok("getCodeCount", {"pid": data.id, "cpid": pool.id}) == {"count": pool.code_count}
            pools += 1
    assert pools >= 2


def test_a_pool_of_another_program_is_not_found(api: Api, world: World):
    first, second = world.programs[0], world.programs[1]
    response = api.get("getCodeCount", {"pid": first.id, "cpid": second.code_pools[0].id})
    assert "'cpid'" in api.error(response, "getCodeCount", 400)
