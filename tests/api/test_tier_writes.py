"""Tier writes over HTTP: groups and tiers change what the reads show, and the documented refusals.

Each test starts from the seeded world (its own app, reset before every test), so
writes never leak into the read tests that share the session's app.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.backend.clock import TICK
from mock_server.contract.responses import ResponseValidator
from mock_server.store.models import iso
from mock_server.store.world import ProgramData, World
from tests.api.support import UNKNOWN_UUID, Api, client_for, make_settings


@pytest.fixture(scope="module")
def own_app() -> Starlette:
    return create_app(make_settings())


@pytest.fixture
def writer(own_app: Starlette, validator: ResponseValidator) -> Iterator[Api]:
    own_app.state.mock.reset()
    with client_for(own_app) as client:
        yield Api(client, own_app.state.mock.contract, validator)


def now_world(app: Starlette) -> World:
    return app.state.mock.worlds["default"]


def tiered(world: World) -> ProgramData:
    """A published program whose first tier group has at least two tiers, with members."""
    return next(data for data in world.programs if data.program.has_active_version and len(data.members)
                and data.primary_tier_group and len(data.primary_tier_group.tier_ids) >= 2)


def send(api: Api, operation_id: str, path: dict[str, Any], body: Any = None) -> Any:
    method = api.operation(operation_id).method
    return api.client.request(method, api.url(operation_id, path), json=body)


def ok(api: Api, operation_id: str, path: dict[str, Any], body: Any = None) -> Any:
    response = send(api, operation_id, path, body)
    status = api.operation(operation_id).success_status
    assert response.status_code == status, (operation_id, response.status_code, response.text)
    assert api.validator.check(operation_id, status, response.headers, response.content) == []
    return response.json() if response.content else None


def test_a_group_then_its_tiers_appear_ranked_by_threshold(writer: Api, own_app: Starlette):
    data = tiered(now_world(own_app))
    definition = next(d for d in data.definitions if not d.internal)
    group = ok(writer, "createTierGroup", {"pid": data.id}, {"name": "Metals"})
    assert group["tierOrder"] == [] and group["upgradeStrategy"] == "real_time"
    assert group["createdAt"] == iso(now_world(own_app).reference_now + TICK)

    made = {}
    for name, minimum in (("Gold", 500), ("Bronze", 0), ("Silver", 100)):
        tier = ok(writer, "createTierForTierGroup", {"pid": data.id, "gid": group["id"]},
                  {"name": name, "accessConditions": [{"balanceDefinitionId": definition.id,
                                                       "minimumValue": minimum}]})
        assert tier["groupId"] == group["id"] and tier["accessConditions"][0]["minimumValue"] == minimum
        made[name] = tier["tierId"]

    shown = writer.ok("getTierGroup", {"pid": data.id, "gid": group["id"]}, {"version": "draft"})
    assert shown["tierOrder"] == [made["Bronze"], made["Silver"], made["Gold"]]
    listed = writer.ok("getLoyaltyProgramTier", {"pid": data.id}, {"version": "draft"})["items"]
    assert [t["tierId"] for t in listed if t["groupId"] == group["id"]] == shown["tierOrder"]
    # Not published yet: the active version does not show the new group.
    active = writer.ok("getListOfTierGroups", {"pid": data.id}, {"version": "active"})["items"]
    assert group["id"] not in [g["id"] for g in active]
    assert writer.ok("getLoyaltyProgramInfo", {"pid": data.id})["state"] == "draft"


def test_thresholds_are_unique_in_a_group_and_a_refusal_changes_nothing(writer: Api, own_app: Starlette):
    data = tiered(now_world(own_app))
    group = data.primary_tier_group
    taken = data.tier_by_id[group.tier_ids[1]]
    before = writer.ok("getLoyaltyProgramTier", {"pid": data.id}, {"version": "draft"})
    response = send(writer, "createTierForTierGroup", {"pid": data.id, "gid": group.id},
                    {"name": "Copycat", "accessConditions": [{"balanceDefinitionId": taken.balance_definition_id,
                                                              "minimumValue": taken.threshold}]})
    message = writer.error(response, "createTierForTierGroup", 422)
    assert taken.id in message and str(taken.threshold) in message
    assert writer.ok("getLoyaltyProgramTier", {"pid": data.id}, {"version": "draft"}) == before
    assert own_app.state.mock.backends["default"].clock.now() == now_world(own_app).reference_now


def test_a_group_with_tiers_cannot_be_deleted_until_they_are(writer: Api, own_app: Starlette):
    data = tiered(now_world(own_app))
    group = data.primary_tier_group
    refused = send(writer, "deleteTierGroup", {"pid": data.id, "gid": group.id})
    assert group.id in writer.error(refused, "deleteTierGroup", 409)
    for tier_id in group.tier_ids:
        ok(writer, "deleteTier", {"pid": data.id, "tid": tier_id})
        gone = writer.get("getLoyaltyProgramTier", {"pid": data.id}, {"version": "draft"}).json()["items"]
        assert tier_id not in [t["tierId"] for t in gone]
    ok(writer, "deleteTierGroup", {"pid": data.id, "gid": group.id})
    missing = writer.get("getTierGroup", {"pid": data.id, "gid": group.id}, {"version": "draft"})
    writer.error(missing, "getTierGroup", 404)


def test_raising_a_threshold_moves_a_member_down_at_once(writer: Api, own_app: Starlette):
    world = now_world(own_app)
    data = tiered(world)
    group = data.primary_tier_group
    definition = data.definition_by_id[group.balance_definition_id]
    member = next(world.member_at(data, p) for p in range(len(data.members))
                  if data.standing(group, world.member_at(data, p).ledgers[definition.index].value)[0]
                  not in (None, data.tier_by_id[group.tier_ids[0]]))
    current = writer.ok("getSubscriptionTier", {"pid": data.id, "cid": member.contact_id})
    tier = data.tier_by_id[current["tierId"]]
    value = member.ledgers[definition.index].value
    top = max(data.tier_by_id[t].threshold for t in group.tier_ids)
    ok(writer, "updateTier", {"pid": data.id, "tid": tier.id},
       {"name": tier.name, "tierRewards": [],
        "accessConditions": [{"balanceDefinitionId": definition.id, "minimumValue": top + value + 1}]})
    after = writer.ok("getSubscriptionTier", {"pid": data.id, "cid": member.contact_id})
    assert after["tierId"] != tier.id
    assert after["currentBalance"] == current["currentBalance"]


def test_a_tier_given_by_hand_holds_until_the_balance_moves(writer: Api, own_app: Starlette):
    world = now_world(own_app)
    data = tiered(world)
    group = data.primary_tier_group
    member = world.member_at(data, 0)
    top = group.tier_ids[-1]
    current = writer.ok("getSubscriptionTier", {"pid": data.id, "cid": member.contact_id})
    if current["tierId"] == top:
        top = group.tier_ids[0]
    assigned = ok(writer, "addSubscriptionToTier", {"pid": data.id, "cid": member.contact_id, "tid": top})
    assert (assigned["contactId"], assigned["groupId"], assigned["tierId"]) == (member.contact_id, group.id, top)
    assert writer.ok("getSubscriptionTier", {"pid": data.id, "cid": member.contact_id})["tierId"] == top
    account = writer.ok("getParameterSubscriptionInfo", {"pid": data.id},
                        {"contactId": str(member.contact_id), "params": "tier"})
    assert {"tierId": top, "groupId": group.id} in [{k: t[k] for k in ("tierId", "groupId")}
                                                   for t in account["tier"]]
    again = send(writer, "addSubscriptionToTier", {"pid": data.id, "cid": member.contact_id, "tid": top})
    assert top in writer.error(again, "addSubscriptionToTier", 409)


@pytest.mark.parametrize(("operation_id", "path", "body", "param"), [
    ("createTierGroup", {"pid": UNKNOWN_UUID}, {"name": "x"}, "pid"),
    ("updateTier", {"tid": UNKNOWN_UUID}, {"name": "x", "tierRewards": [], "accessConditions": []}, "tid"),
    ("deleteTier", {"tid": UNKNOWN_UUID}, None, "tid"),
    ("deleteTierGroup", {"gid": UNKNOWN_UUID}, None, "gid"),
    ("addSubscriptionToTier", {"cid": 999_999_999, "tid": "first"}, None, "cid"),
    ("addSubscriptionToTier", {"cid": "member", "tid": UNKNOWN_UUID}, None, "tid"),
])
def test_unknown_ids_are_404s_naming_the_parameter(writer: Api, own_app: Starlette, operation_id: str,
                                                   path: dict[str, Any], body: Any, param: str):
    data = tiered(now_world(own_app))
    values = {"pid": data.id, **path}
    if values.get("tid") == "first":
        values["tid"] = data.primary_tier_group.tier_ids[0]
    if values.get("cid") == "member":
        values["cid"] = data.members.contact_ids[0]
    response = send(writer, operation_id, values, body)
    assert f"'{param}'" in writer.error(response, operation_id, 404, "document_not_found")


def test_same_requests_give_the_same_bytes(validator: ResponseValidator):
    def run() -> list[bytes]:
        app = create_app(make_settings())
        data = tiered(now_world(app))
        with client_for(app) as client:
            api = Api(client, app.state.mock.contract, validator)
            group = send(api, "createTierGroup", {"pid": data.id}, {"name": "Again"})
            tier = send(api, "createTierForTierGroup", {"pid": data.id, "gid": group.json()["id"]},
                        {"name": "One", "accessConditions": [{"balanceDefinitionId": data.definitions[0].id,
                                                              "minimumValue": 3}]})
            return [group.content, tier.content]

    assert run() == run()


def test_read_only_answers_405_to_every_tier_write(validator: ResponseValidator):
    app = create_app(make_settings(read_only=True))
    data = tiered(now_world(app))
    with client_for(app) as client:
        response = client.post(f"/v3/loyalty/tier/programs/{data.id}/tier-groups", json={"name": "No"})
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert "POST" not in response.headers["allow"]


def test_a_client_sees_only_its_own_organisation_writes():
    from mock_server.settings import ApiKey

    app = create_app(make_settings(api_keys=(ApiKey("key-a", "acme"), ApiKey("key-b", "globex"))))
    acme = app.state.mock.worlds["acme"]
    data = tiered(acme)
    with client_for(app, key="key-a") as a, client_for(app, key="key-b") as b:
        made = a.post(f"/v3/loyalty/tier/programs/{data.id}/tier-groups", json={"name": "Mine"})
        assert made.status_code == 200
        # globex has other ids: acme's program is unknown there, and its world is unchanged.
        assert b.post(f"/v3/loyalty/tier/programs/{data.id}/tier-groups", json={"name": "Mine"}).status_code == 404
    assert app.state.mock.backends["globex"].writes == 0


def test_a_deleted_balance_definition_cannot_rank_a_new_tier(writer: Api, own_app: Starlette):
    data = tiered(now_world(own_app))
    used = {g.balance_definition_id for g in data.tier_groups} | {r.balance_definition_id for r in data.rewards}
    spare = next(d for d in data.definitions if d.id not in used)
    ok(writer, "deleteBalanceDefinition", {"pid": data.id, "bdid": spare.id})
    group = ok(writer, "createTierGroup", {"pid": data.id}, {"name": "On a gone balance"})
    response = send(writer, "createTierForTierGroup", {"pid": data.id, "gid": group["id"]},
                    {"name": "Ghost", "accessConditions": [{"balanceDefinitionId": spare.id, "minimumValue": 1}]})
    assert spare.id in writer.error(response, "createTierForTierGroup", 404, "document_not_found")
