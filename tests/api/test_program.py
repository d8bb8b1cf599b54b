"""Program operations over HTTP: the program list, one program, the account view of a subscription."""

from __future__ import annotations

import pytest

from mock_server.store.models import LoyaltyProgram, iso, render_amount
from mock_server.store.world import World
from tests.api.support import Api, Ids

# The parameters whose effect this module tests, per operation (tests/api/test_parameters.py
# checks that, over all modules, this is every parameter of the contract).
COVERS = {
    "getLPList": {"limit", "offset", "sort_field", "sort"},
    "getLoyaltyProgramInfo": {"pid"},
    "getParameterSubscriptionInfo": {"pid", "contactId", "params", "loyaltySubscriptionId", "includeInternal"},
}

PROGRAM_KEYS = {
    "name": lambda p: (p.name.casefold(), p.id),
    "created_at": lambda p: (p.created_at, p.id),
    "updated_at": lambda p: (p.updated_at, p.id),
}
SECTIONS = ("balance", "members", "reward", "tier")


def programs_in_order(world: World, sort_field: str, sort: str) -> list[str]:
    programs = sorted((data.program for data in world.programs), key=PROGRAM_KEYS[sort_field],
                      reverse=sort == "desc")
    return [program.id for program in programs]


def expected_program(program: LoyaltyProgram) -> dict:
    return {
        "id": program.id, "name": program.name, "description": program.description, "state": program.state,
        "pattern": program.pattern, "codeCount": program.code_count, "documentId": program.document_id,
        "subscriptionPoolId": program.subscription_pool_id, "birthdayAttribute": program.birthday_attribute,
        "subscriptionGeneratorId": program.subscription_generator_id,
        "createdAt": iso(program.created_at), "updatedAt": iso(program.updated_at),
    }


# ---------------------------------------------------------------- getLPList


def test_program_list_shows_every_program_newest_first_by_default(api: Api, world: World):
    items = api.ok("getLPList")["items"]
    assert [item["id"] for item in items] == programs_in_order(world, "created_at", "desc")
    assert len(items) == len(world.programs) >= 2


@pytest.mark.parametrize("sort_field", sorted(PROGRAM_KEYS))
@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_program_list_sorts(api: Api, world: World, sort_field, sort):
    items = api.ok("getLPList", query={"sort_field": sort_field, "sort": sort})["items"]
    assert [item["id"] for item in items] == programs_in_order(world, sort_field, sort)


def test_program_list_pages_are_slices_of_one_order(api: Api, world: World):
    order = programs_in_order(world, "name", "asc")
    for offset in range(len(order) + 1):
        query = {"sort_field": "name", "sort": "asc", "limit": 1, "offset": offset}
        assert [item["id"] for item in api.ok("getLPList", query=query)["items"]] == order[offset:offset + 1]
    two = api.ok("getLPList", query={"sort_field": "name", "sort": "asc", "limit": 2})["items"]
    assert [item["id"] for item in two] == order[:2]


def test_program_list_items_are_the_programs(api: Api, world: World):
    for item in api.ok("getLPList")["items"]:
        program = world.program(item["id"]).program
        assert {key: item[key] for key in expected_program(program)} == expected_program(program)


# --------------------------------------------------------- getLoyaltyProgramInfo


def test_each_program_reads_as_stored(api: Api, world: World):
    for data in world.programs:
        body = api.ok("getLoyaltyProgramInfo", {"pid": data.id})
        assert {key: body[key] for key in expected_program(data.program)} == expected_program(data.program)
        assert body["meta"] == dict(data.program.meta)


def test_program_ids_are_case_insensitive(api: Api, ids: Ids):
    assert api.ok("getLoyaltyProgramInfo", {"pid": ids.pid.upper()})["id"] == ids.pid


# ---------------------------------------------------- getParameterSubscriptionInfo


def expected_balances(ids: Ids, include_internal: bool) -> list[dict]:
    return [
        {"balanceDefinitionId": definition.id, "value": render_amount(ledger.value, definition.scale)}
        for definition, ledger in zip(ids.data.definitions, ids.member.ledgers, strict=True)
        if include_internal or not definition.internal
    ]


def test_account_info_shows_every_section_of_the_subscription(api: Api, ids: Ids):
    body = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid}, {"contactId": ids.cid})
    assert list(body) == list(SECTIONS)
    assert body["balance"] == {"balances": expected_balances(ids, False), "contactId": ids.cid,
                               "loyaltyProgramId": ids.pid}
    joined = iso(ids.member.subscription.created_at)
    assert body["members"] == [{"memberContactId": ids.cid, "createdAt": joined, "updatedAt": joined}]
    assert [(v["id"], v["rewardId"], v["code"]) for v in body["reward"]] == [
        (v.id, v.reward_id, v.code) for v in ids.member.vouchers
    ]
    assert all(v["contactId"] == ids.cid and v["loyaltyProgramId"] == ids.pid for v in body["reward"])
    expected_tiers = []
    for group in ids.data.tier_groups:
        current, _ = ids.data.standing(group, ids.member.ledger(group.balance_definition_id).value)
        if current is not None:
            expected_tiers.append((current.id, group.id))
    assert [(t["tierId"], t["groupId"]) for t in body["tier"]] == expected_tiers
    assert expected_tiers  # the sample member holds a tier


@pytest.mark.parametrize("wanted", ["balance", "members", "reward", "tier", "tier,balance", "members,reward,tier"])
def test_account_info_params_choose_the_sections(api: Api, ids: Ids, wanted):
    everything = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid}, {"contactId": ids.cid})
    body = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid}, {"contactId": ids.cid, "params": wanted})
    assert set(body) == set(wanted.split(","))
    assert body == {section: everything[section] for section in wanted.split(",")}


def test_account_info_include_internal_adds_internal_balances(api: Api, ids: Ids):
    for flag, include in (("false", False), ("true", True)):
        body = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid},
                      {"contactId": ids.cid, "params": "balance", "includeInternal": flag})
        assert body["balance"]["balances"] == expected_balances(ids, include)
    hidden = {b["balanceDefinitionId"] for b in expected_balances(ids, True)} - {
        b["balanceDefinitionId"] for b in expected_balances(ids, False)}
    assert hidden == {ids.internal_bdid}


def test_account_info_by_subscription_id_is_the_same_account(api: Api, ids: Ids):
    by_contact = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid}, {"contactId": ids.cid})
    by_subscription = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid},
                             {"loyaltySubscriptionId": ids.subscription})
    both = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid},
                  {"contactId": ids.cid, "loyaltySubscriptionId": ids.subscription})
    assert by_contact == by_subscription == both


def test_account_info_of_each_member_is_that_member(api: Api, world: World, ids: Ids):
    table = ids.data.members
    for position in range(0, len(table), 10):
        contact, subscription = table.contact_ids[position], table.subscription_ids[position]
        body = api.ok("getParameterSubscriptionInfo", {"pid": ids.pid},
                      {"loyaltySubscriptionId": subscription, "params": "balance,members"})
        assert body["balance"]["contactId"] == contact
        assert body["members"][0]["memberContactId"] == contact
