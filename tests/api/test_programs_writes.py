"""The nine program and subscription writes through HTTP: answers checked against the contract, effects
checked through the reads, refusals leave every read as it was, and `--read-only` still answers 405."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.contract.operations import CompiledContract
from mock_server.contract.responses import ResponseValidator
from mock_server.settings import ApiKey
from mock_server.store.models import iso
from mock_server.store.world import ProgramData, World
from tests.api.support import UNKNOWN_UUID, Api, client_for, make_settings, world_of

WRITES = ("createNewLP", "updateLoyaltyProgram", "partiallyUpdateLoyaltyProgram", "deleteLoyaltyProgram",
          "publishLoyaltyProgram", "subscribeToLoyaltyProgram", "subscribeMemberToASubscription",
          "deleteContactMembers", "deleteContactSubscription")

class Writer(Api):
    """`Api` with bodies: `call` sends one write; `done` checks its success against the contract."""

    def call(self, operation_id: str, path: dict[str, Any] | None = None, body: Any = None,
             query: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> httpx2.Response:
        method = self.operation(operation_id).method
        return self.client.request(method, self.url(operation_id, path), params=query or {},
                                   json=body, headers=headers or {})

    def done(self, operation_id: str, path: dict[str, Any] | None = None, body: Any = None,
             query: dict[str, Any] | None = None) -> Any:
        response = self.call(operation_id, path, body, query)
        status = self.operation(operation_id).success_status
        assert response.status_code == status, (operation_id, response.status_code, response.text)
        if status == 204:
            assert response.content == b""
            return None
        problems = self.validator.check(operation_id, status, response.headers, response.content)
        assert problems == [], (operation_id, problems)
        return response.json()


@pytest.fixture(scope="module")
def own_app() -> Starlette:
    return create_app(make_settings())


@pytest.fixture()
def writer(own_app: Starlette, contract: CompiledContract, validator: ResponseValidator) -> Iterator[Writer]:
    with client_for(own_app) as client:
        yield Writer(client, contract, validator)
    own_app.state.mock.reset()


@pytest.fixture()
def seeded(own_app: Starlette) -> World:
    return world_of(own_app)


def in_state(world: World, state: str) -> ProgramData:
    return next(data for data in world.programs if data.program.state == state)


def free_contact(data: ProgramData) -> int:
    taken = set(data.members.contact_ids)
    return next(cid for cid in range(1, 10**6) if cid not in taken)


def reads(writer: Writer, pid: str, contact_id: int) -> list[bytes]:
    """The bytes of every read a program or subscription write could change."""
    calls = [("getLPList", {}, {}), ("getLoyaltyProgramInfo", {"pid": pid}, {}),
             ("getParameterSubscriptionInfo", {"pid": pid}, {"contactId": contact_id}),
             ("getSubscriptionBalances", {"pid": pid, "cid": contact_id}, {})]
    return [writer.get(op, path, query).content for op, path, query in calls]


# ----------------------------------------------------------------------------- programs


def test_create_read_update_patch_delete_a_program(writer: Writer) -> None:
    created = writer.done("createNewLP", body={"name": "VIP Club", "description": "Earn", "meta": {"k": 1}})
    pid = created["id"]
    assert created["state"] == "inactive" and created["name"] == "VIP Club" and created["meta"] == {"k": 1}
    assert writer.ok("getLoyaltyProgramInfo", {"pid": pid}) == created
    assert pid in [item["id"] for item in writer.ok("getLPList", query={"limit": 100})["items"]]

    patched = writer.done("partiallyUpdateLoyaltyProgram", {"pid": pid}, {"description": "Earn more"})
    assert (patched["name"], patched["description"], patched["meta"]) == ("VIP Club", "Earn more", {"k": 1})
    replaced = writer.done("updateLoyaltyProgram", {"pid": pid}, {"name": "VIP"})
    assert (replaced["name"], replaced["description"], replaced["meta"]) == ("VIP", "", {})
    assert writer.ok("getLoyaltyProgramInfo", {"pid": pid}) == replaced
    assert replaced["createdAt"] == created["createdAt"] < replaced["updatedAt"]

    assert writer.done("deleteLoyaltyProgram", {"pid": pid}) is None
    writer.error(writer.get("getLoyaltyProgramInfo", {"pid": pid}), "getLoyaltyProgramInfo", 404)
    assert pid not in [item["id"] for item in writer.ok("getLPList", query={"limit": 100})["items"]]


def test_a_taken_name_is_a_409_and_changes_nothing(writer: Writer, seeded: World) -> None:
    data = seeded.programs[0]
    before = reads(writer, data.id, data.members.contact_ids[0])
    message = writer.error(writer.call("createNewLP", body={"name": data.program.name}), "createNewLP", 409,
                           "duplicate_parameter")
    assert data.program.name in message
    other = writer.done("createNewLP", body={"name": "Another"})
    writer.error(writer.call("updateLoyaltyProgram", {"pid": other["id"]}, {"name": data.program.name}),
                 "updateLoyaltyProgram", 409)
    writer.error(writer.call("partiallyUpdateLoyaltyProgram", {"pid": other["id"]}, {"name": data.program.name}),
                 "partiallyUpdateLoyaltyProgram", 409)
    writer.done("deleteLoyaltyProgram", {"pid": other["id"]})
    assert reads(writer, data.id, data.members.contact_ids[0]) == before


def test_unknown_programs_are_404_naming_pid(writer: Writer) -> None:
    path = {"pid": UNKNOWN_UUID}
    for operation_id, body in (("updateLoyaltyProgram", {"name": "x"}), ("partiallyUpdateLoyaltyProgram", {}),
                               ("deleteLoyaltyProgram", None), ("publishLoyaltyProgram", None),
                               ("subscribeToLoyaltyProgram", {"contactId": 1})):
        message = writer.error(writer.call(operation_id, path, body), operation_id, 404, "document_not_found")
        assert UNKNOWN_UUID in message and "pid" in message


def test_a_409_can_be_asked_for(writer: Writer) -> None:
    response = writer.call("createNewLP", body={"name": "Whatever"}, headers={"Prefer": "code=409"})
    writer.error(response, "createNewLP", 409)
    assert "Whatever" not in [item["name"] for item in writer.ok("getLPList", query={"limit": 100})["items"]]


# ----------------------------------------------------------------------------- publish and enrol


def test_the_setup_flow_create_publish_enrol(writer: Writer) -> None:
    pid = writer.done("createNewLP", body={"name": "Flow"})["id"]
    message = writer.error(writer.call("subscribeToLoyaltyProgram", {"pid": pid}, {"contactId": 12345}),
                           "subscribeToLoyaltyProgram", 422)
    assert "not published" in message
    published = writer.done("publishLoyaltyProgram", {"pid": pid})
    assert published["state"] == "active" and writer.ok("getLoyaltyProgramInfo", {"pid": pid}) == published
    body = {"contactId": 12345, "loyaltySubscriptionId": "cust_abc123", "creationDate": "2025-03-01T10:00:00.000Z"}
    subscription = writer.done("subscribeToLoyaltyProgram", {"pid": pid}, body)
    assert subscription["contactId"] == 12345 and subscription["loyaltyProgramId"] == pid
    assert subscription["loyaltySubscriptionId"] == "cust_abc123"
    assert subscription["createdAt"] == "2025-03-01T10:00:00.000Z" and subscription["versionId"] == 1
    info = writer.ok("getParameterSubscriptionInfo", {"pid": pid}, {"loyaltySubscriptionId": "cust_abc123"})
    assert info["members"][0]["memberContactId"] == 12345 and info["balance"]["balances"] == []


def test_enrolling_starts_at_zero_and_shows_in_every_read(writer: Writer, seeded: World) -> None:
    data = in_state(seeded, "active")
    contact = free_contact(data)
    definition = next(d for d in data.definitions if not d.internal)
    count = writer.ok("getContactBalances", {"pid": data.id}, {"balanceDefinitionId": definition.id})["count"]
    subscription = writer.done("subscribeToLoyaltyProgram", {"pid": data.id}, {"contactId": contact})
    assert subscription["loyaltySubscriptionId"].startswith(data.program.pattern.split("#")[0])
    balances = writer.ok("getSubscriptionBalances", {"pid": data.id, "cid": contact})
    assert [item["balanceDefinitionId"] for item in balances["balance"]] == [
        d.id for d in data.definitions if not d.internal]
    assert {item["value"] for item in balances["balance"]} == {0}
    tier = writer.ok("getSubscriptionTier", {"pid": data.id, "cid": contact})
    entry = data.tiers_of(data.primary_tier_group)[0]
    assert tier["currentBalance"] == 0 and tier["tierId"] == (entry.id if entry.threshold == 0 else None)
    page = writer.ok("getContactBalances", {"pid": data.id}, {"balanceDefinitionId": definition.id, "limit": 500})
    assert page["count"] == count + 1
    row = next(row for row in page["balances"] if row["contactId"] == contact)
    assert row == {"contactId": contact, "loyaltySubscriptionId": subscription["loyaltySubscriptionId"],
                   "updatedAt": subscription["createdAt"], "value": 0}
    assert writer.ok("getSubscriptionTransactions", {"pid": data.id, "cid": contact}) == []


def test_enrolment_refusals_change_nothing(writer: Writer, seeded: World) -> None:
    data = in_state(seeded, "active")
    seeded_contact, taken = data.members.contact_ids[0], data.members.subscription_ids[1]
    contact = free_contact(data)
    before = reads(writer, data.id, seeded_contact)
    cases = [({"contactId": seeded_contact}, 422, "already subscribed"),
             ({"contactId": contact, "loyaltySubscriptionId": taken}, 400, taken),
             ({"contactId": contact, "creationDate": iso(seeded.reference_now + 86_400_000)}, 422, "creationDate")]
    for body, status, words in cases:
        message = writer.error(writer.call("subscribeToLoyaltyProgram", {"pid": data.id}, body),
                               "subscribeToLoyaltyProgram", status)
        assert words in message
    assert reads(writer, data.id, seeded_contact) == before
    writer.error(writer.get("getSubscriptionBalances", {"pid": data.id, "cid": contact}), "getSubscriptionBalances",
                 404)


def test_publishing_the_draft_program_shows_its_pending_records(writer: Writer, seeded: World) -> None:
    data = in_state(seeded, "draft")
    pending = {d.id for d in data.definitions if not d.published}
    active = {item["id"] for item in writer.ok("getBalanceDefinitionList", {"pid": data.id}, {"version": "active"})
              ["items"]}
    assert pending and not pending & active
    assert writer.done("publishLoyaltyProgram", {"pid": data.id})["state"] == "active"
    active = {item["id"] for item in writer.ok("getBalanceDefinitionList", {"pid": data.id}, {"version": "active"})
              ["items"]}
    assert pending <= active


# ----------------------------------------------------------------------------- members and unsubscribing


def test_subscription_members_are_added_listed_and_removed(writer: Writer, seeded: World) -> None:
    data = in_state(seeded, "active")
    owner, sid = data.members.contact_ids[0], data.members.subscription_ids[0]
    added = writer.done("subscribeMemberToASubscription", {"pid": data.id},
                        {"contactId": owner, "memberContactIds": [900001, 900002]})
    assert added["ownerContactId"] == owner and added["memberContactIds"] == [900001, 900002]
    added = writer.done("subscribeMemberToASubscription", {"pid": data.id},
                        {"loyaltySubscriptionId": sid, "memberContactIds": [900003]})
    assert added["memberContactIds"] == [900001, 900002, 900003]
    members = writer.ok("getParameterSubscriptionInfo", {"pid": data.id}, {"contactId": owner, "params": "members"})
    assert [row["memberContactId"] for row in members["members"]] == [owner, 900001, 900002, 900003]

    before = reads(writer, data.id, owner)
    message = writer.error(writer.call("subscribeMemberToASubscription", {"pid": data.id},
                                       {"contactId": owner, "memberContactIds": [900004, owner]}),
                           "subscribeMemberToASubscription", 409)
    assert "owner" in message
    writer.error(writer.call("deleteContactMembers", {"pid": data.id}, query={"memberContactIds": "900001,900009"}),
                 "deleteContactMembers", 404)
    writer.error(writer.call("deleteContactMembers", {"pid": data.id}, query={"memberContactIds": "abc"}),
                 "deleteContactMembers", 400)
    assert reads(writer, data.id, owner) == before

    writer.done("deleteContactMembers", {"pid": data.id}, query={"memberContactIds": "900001,900003"})
    members = writer.ok("getParameterSubscriptionInfo", {"pid": data.id}, {"contactId": owner, "params": "members"})
    assert [row["memberContactId"] for row in members["members"]] == [owner, 900002]


def test_unsubscribing_removes_the_member_from_every_read(writer: Writer, seeded: World) -> None:
    data = in_state(seeded, "active")
    definition = next(d for d in data.definitions if not d.internal)
    contact = data.members.contact_ids[2]
    count = writer.ok("getContactBalances", {"pid": data.id}, {"balanceDefinitionId": definition.id})["count"]
    assert writer.done("deleteContactSubscription", {"pid": data.id, "cid": contact}) is None
    page = writer.ok("getContactBalances", {"pid": data.id}, {"balanceDefinitionId": definition.id, "limit": 500})
    assert page["count"] == count - 1 and contact not in [row["contactId"] for row in page["balances"]]
    for operation_id in ("getSubscriptionBalances", "getSubscriptionTier", "getSubscriptionVouchers"):
        writer.error(writer.get(operation_id, {"pid": data.id, "cid": contact}), operation_id, 404)
    writer.error(writer.call("deleteContactSubscription", {"pid": data.id, "cid": contact}),
                 "deleteContactSubscription", 404)
    writer.error(writer.call("deleteContactSubscription", {"pid": data.id, "cid": "x"}),
                 "deleteContactSubscription", 400)


# ----------------------------------------------------------------------------- determinism and read-only


def _session(app: Starlette, contract: CompiledContract, validator: ResponseValidator) -> list[bytes]:
    with client_for(app) as client:
        writer = Writer(client, contract, validator)
        pid = writer.done("createNewLP", body={"name": "Same"})["id"]
        answers = [writer.call("publishLoyaltyProgram", {"pid": pid}).content]
        for contact in (5, 6, 7):
            answers.append(writer.call("subscribeToLoyaltyProgram", {"pid": pid}, {"contactId": contact}).content)
        answers.append(writer.call("subscribeMemberToASubscription", {"pid": pid},
                                   {"contactId": 5, "memberContactIds": [8]}).content)
        answers.append(writer.call("getParameterSubscriptionInfo", {"pid": pid}, query={"contactId": 5}).content)
        answers.append(writer.call("getLPList").content)
        return answers


def test_the_same_writes_give_the_same_bytes(contract: CompiledContract, validator: ResponseValidator) -> None:
    first = _session(create_app(make_settings()), contract, validator)
    assert first == _session(create_app(make_settings()), contract, validator)


def test_read_only_answers_405_to_every_program_write(contract: CompiledContract, validator: ResponseValidator
                                                     ) -> None:
    app = create_app(make_settings(read_only=True))
    world = world_of(app)
    data = in_state(world, "active")
    path = {"pid": data.id, "cid": data.members.contact_ids[0]}
    with client_for(app) as client:
        writer = Writer(client, contract, validator)
        before = reads(writer, data.id, data.members.contact_ids[0])
        for operation_id in WRITES:
            operation = writer.operation(operation_id)
            url = writer.url(operation_id, {p.name: path[p.name] for p in operation.path_params})
            response = client.request(operation.method, url, json={"name": "x", "contactId": 1},
                                      params={"memberContactIds": "1"})
            assert response.status_code == 405, (operation_id, response.text)
            assert response.json()["code"] == "method_not_allowed"
            assert operation.method not in response.headers["allow"]
        assert reads(writer, data.id, data.members.contact_ids[0]) == before


def test_writes_stay_in_their_organisation(contract: CompiledContract, validator: ResponseValidator) -> None:
    keys = (ApiKey("key-a", "acme"), ApiKey("key-b", "globex"))
    app = create_app(make_settings(api_keys=keys))
    with client_for(app, "key-a") as acme_client, client_for(app, "key-b") as globex_client:
        acme, globex = Writer(acme_client, contract, validator), Writer(globex_client, contract, validator)
        created = acme.done("createNewLP", body={"name": "Shared Name"})
        acme.done("publishLoyaltyProgram", {"pid": created["id"]})
        acme.done("subscribeToLoyaltyProgram", {"pid": created["id"]}, {"contactId": 5})
        globex.error(globex.get("getLoyaltyProgramInfo", {"pid": created["id"]}), "getLoyaltyProgramInfo", 404)
        globex.error(globex.call("subscribeToLoyaltyProgram", {"pid": created["id"]}, {"contactId": 6}),
                     "subscribeToLoyaltyProgram", 404)
        # Names are unique per organisation, not across them; the subscription shows its own organisation.
        other = globex.done("createNewLP", body={"name": "Shared Name"})
        globex.done("publishLoyaltyProgram", {"pid": other["id"]})
        theirs = globex.done("subscribeToLoyaltyProgram", {"pid": other["id"]}, {"contactId": 5})
        ours = acme.ok("getParameterSubscriptionInfo", {"pid": created["id"]}, {"contactId": 5})
        assert ours["balance"]["contactId"] == 5
        mine = acme.done("subscribeToLoyaltyProgram", {"pid": created["id"]}, {"contactId": 7})
        assert mine["organizationId"] != theirs["organizationId"]


def test_a_body_the_contract_refuses_changes_nothing(writer: Writer, seeded: World) -> None:
    data = in_state(seeded, "active")
    before = reads(writer, data.id, data.members.contact_ids[0])
    cases = [("createNewLP", {}, {"name": "x" * 129}, "name"),
             ("partiallyUpdateLoyaltyProgram", {"pid": data.id}, {"description": 5}, "description"),
             ("subscribeToLoyaltyProgram", {"pid": data.id}, {"contactId": 0}, "contactId"),
             ("subscribeMemberToASubscription", {"pid": data.id}, {"memberContactIds": [1]}, "contactId")]
    for operation_id, path, body, named in cases:
        message = writer.error(writer.call(operation_id, path, body), operation_id, 422)
        assert named in message, (operation_id, message)
    assert reads(writer, data.id, data.members.contact_ids[0]) == before
