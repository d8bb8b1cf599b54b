"""The World container: member table lookups, pre-sorted orders, the member cache, the summary."""

from array import array

import pytest

from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.seeding import build_world
from mock_server.store.world import MemberTable


def _table() -> MemberTable:
    return MemberTable(
        contact_ids=array("q", [3, 8, 20, 21]),
        subscription_ids=["A-1", "A-2", "A-3", "A-4"],
        subscribed_at=array("q", [0, 0, 0, 0]),
        values=[array("q", [50, 10, 50, 0])],
        counts=[array("l", [2, 1, 3, 0])],
        updated_at=[array("q", [9, 7, 8, 6])],
    )


def test_member_table_finds_contacts_and_subscriptions():
    table = _table()
    assert len(table) == 4
    assert table.position(20) == 2
    assert table.position(4) is None
    assert table.position(100) is None
    assert table.position_of_subscription("A-2") == 1
    assert table.position_of_subscription("nope") is None
    assert table.transaction_count() == 6


def test_member_table_orders_break_ties_by_contact_id():
    table = _table()
    assert list(table.order(0, "value")) == [3, 1, 0, 2]  # 0, 10, 50 (contact 3), 50 (contact 20)
    assert list(table.order(0, "updatedAt")) == [3, 1, 2, 0]


def test_member_table_orders_follow_changes_across_members_coming_and_going():
    """Orders stay sorted (ties by contact id) when balances change before and after a member joins or leaves."""
    table = _table().copy()

    def sorted_orders() -> bool:
        return all(list(table.order(0, field)) == sorted(range(len(table)), key=lambda p, c=column: (c[p], p))
                   for field, column in (("value", table.values[0]), ("updatedAt", table.updated_at[0])))

    table.set_summary(1, 0, 60, 2, 10)  # contact 8 overtakes both 50s
    assert list(table.order(0, "value")) == [3, 0, 2, 1] and sorted_orders()
    table.insert(5, "A-5", 4)  # a newcomer at 0 shifts every later position
    table.set_summary(0, 0, 50, 1, 11)
    assert sorted_orders()
    table.remove(2)  # contact 8 leaves
    table.set_summary(1, 0, -5, 1, 12)  # a negative value sorts first
    assert table.order(0, "value")[0] == 1 and sorted_orders()


def test_member_table_refuses_inconsistent_columns():
    with pytest.raises(ValueError, match="unique"):
        MemberTable(array("q", [1, 2]), ["X", "X"], array("q", [0, 0]), [], [], [])
    with pytest.raises(ValueError, match="increasing"):
        MemberTable(array("q", [2, 1]), ["X", "Y"], array("q", [0, 0]), [], [], [])
    with pytest.raises(ValueError, match="length"):
        MemberTable(array("q", [1, 2]), ["X"], array("q", [0, 0]), [], [], [])


@pytest.fixture(scope="module")
def world():
    return build_world(11, 30, [load_fixture(shipped_fixture("widget-member"))])


def test_member_cache_returns_the_same_record(world):
    data = world.programs[0]
    contact = data.members.contact_ids[5]
    first = world.member(data, contact)
    assert world.member(data, contact) is first
    assert world.member(data, 0) is None
    assert world.member_by_subscription(data, first.subscription.loyalty_subscription_id) is first


def test_member_cache_is_bounded_and_regenerates_identically():
    small = build_world(11, 30)
    small._cache_size = 2  # white-box: force evictions
    data = small.programs[0]
    before = small.member(data, data.members.contact_ids[0])
    for position in range(1, 6):
        small.member_at(data, position)
    assert len(small._cache) == 2
    again = small.member(data, data.members.contact_ids[0])
    assert again is not before
    assert again == before


def test_summary_lists_ids_and_puts_fixture_members_first(world):
    summary = world.summary(sample=3)
    assert summary["organisation"] == "default"
    assert summary["seed"] == 11
    assert summary["contacts"] == 30
    assert summary["stats"]["programs"] == 4
    assert summary["stats"]["contacts"] == 2 * 30 + 1  # two published seeded programs, and the widget member
    assert summary["stats"]["transactions"] > 0
    seeded = summary["programs"][0]
    assert len(seeded["members"]) == 3
    assert {"id", "name", "unit", "internal", "limitIds"} <= set(seeded["balanceDefinitions"][0])
    assert seeded["tierGroups"][0]["tiers"][0]["threshold"] == 0
    widget = next(p for p in summary["programs"] if p["name"] == "Storefront Rewards")
    assert widget["id"] == "27d1dd7a-af67-4020-ba65-19d60000a26e"
    assert widget["members"][0] == {"contactId": 12345, "loyaltySubscriptionId": "cust_abc123", "fixture": True}
    assert [r["name"] for r in widget["rewards"]] == ["Gold Welcome Reward", "Free Shipping"]
    pool_ids = {pool["id"] for pool in widget["codePools"]}
    assert all(r["codePoolId"] in pool_ids for r in widget["rewards"])


def test_program_lookup_by_name(world):
    assert world.program_by_name("Storefront Rewards").id == "27d1dd7a-af67-4020-ba65-19d60000a26e"
    assert world.program_by_name("nope") is None
