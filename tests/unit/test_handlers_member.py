"""The guide-only member handlers: tier status, usable vouchers, all transactions."""

import pytest

from mock_server.errors import UnknownResource
from mock_server.fixtures import load_fixture
from mock_server.seeding import REFERENCE_NOW, build_world
from mock_server.store.models import iso
from tests.support.handlers import contract_handlers

H = contract_handlers()
NOW = iso(REFERENCE_NOW)


@pytest.fixture(scope="module")
def world():
    return build_world(55, 150)


def test_tier_status_reaches_top_and_bottom(world):
    data = world.programs[0]
    group = data.primary_tier_group
    tiers = data.tiers_of(group)
    values = data.members.values[0]
    top = next(p for p in range(len(values)) if values[p] >= tiers[-1].threshold)
    bottom = next(p for p in range(len(values)) if values[p] < tiers[1].threshold)
    at_top = H["getSubscriptionTier"](world, {"pid": data.id, "cid": data.members.contact_ids[top]})
    assert (at_top["tierName"], at_top["nextTierName"], at_top["nextTierThreshold"]) == (tiers[-1].name, None, None)
    at_bottom = H["getSubscriptionTier"](world, {"pid": data.id, "cid": data.members.contact_ids[bottom]})
    assert (at_bottom["tierName"], at_bottom["nextTierName"]) == (tiers[0].name, tiers[1].name)
    assert at_bottom["nextTierThreshold"] == tiers[1].threshold
    assert at_bottom["currentBalance"] == values[bottom]
    with pytest.raises(UnknownResource, match="cid"):
        H["getSubscriptionTier"](world, {"pid": data.id, "cid": 10**15})


def test_tier_status_without_tier_groups_is_not_found(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text(
        "programs:\n  - name: Bare\n    balanceDefinitions: [{name: P}]\n    members: [{contactId: 5}]\n"
    )
    bare = build_world(1, 1, [load_fixture(path)])
    pid = bare.program_by_name("Bare").id
    with pytest.raises(UnknownResource, match="Tier group"):
        H["getSubscriptionTier"](bare, {"pid": pid, "cid": 5})


def test_usable_vouchers_are_unconsumed_unexpired_and_soonest_first(world):
    checked = 0
    for data in world.programs:
        for contact in data.members.contact_ids:
            usable = H["getSubscriptionVouchers"](world, {"pid": data.id, "cid": contact})
            page = H["getVoucherForAContact"](world, {"pid": data.id, "contactId": contact, "limit": 100})
            expected = {
                v["id"] for v in page["contactRewards"] if v["consumedAt"] is None and v["expirationDate"] > NOW
            }
            assert {v["id"] for v in usable} == expected
            expiries = [v["expiresAt"] for v in usable]
            assert expiries == sorted(expiries)
            for voucher in usable:
                reward = data.reward_by_id[voucher["offerId"]]
                assert (voucher["offerName"], voucher["publicDescription"]) == (reward.name, reward.public_description)
            checked += len(usable)
    assert checked > 0


def test_all_transactions_cover_every_definition_newest_first(world):
    data = world.programs[1]
    contact = data.members.contact_ids[7]
    every = H["getSubscriptionTransactions"](world, {"pid": data.id, "cid": contact})
    assert len(every) == sum(column[7] for column in data.members.counts)
    stamps = [(tx["createdAt"], tx["id"]) for tx in every]
    assert stamps == sorted(stamps, reverse=True)
    assert list(every[0])[:3] == ["id", "loyaltyProgramId", "balanceDefinitionId"]
    for definition in data.definitions:
        history = H["getTransactionHistoryApi"](
            world, {"pid": data.id, "contactId": contact, "balanceDefinitionId": definition.id, "limit": 500}
        )["transactionHistory"]
        mine = [
            {k: v for k, v in tx.items() if k not in ("loyaltyProgramId", "balanceDefinitionId")}
            for tx in every if tx["balanceDefinitionId"] == definition.id
        ]
        assert sorted(mine, key=lambda tx: tx["id"]) == sorted(history, key=lambda tx: tx["id"])
