"""The program and subscription writes of the backend (`backend.programs`), read back through the read handlers."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.backend import Backend
from mock_server.errors import ApiError, BadRequest, Conflict, InvalidParameter, NoContent, UnknownResource
from mock_server.seeding import build_world
from mock_server.store.models import iso
from mock_server.store.program_rules import generated_subscription_id
from mock_server.store.world import ProgramData, World
from tests.support.handlers import contract_handlers

READ = contract_handlers()
UNKNOWN_PID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=1, contacts=20)


@pytest.fixture()
def backend(world: World) -> Backend:
    return Backend(world)


def in_state(backend: Backend, state: str) -> ProgramData:
    return next(data for data in backend.world.programs if data.program.state == state)


def program(backend: Backend, pid: str) -> dict[str, Any]:
    return READ["getLoyaltyProgramInfo"](backend.world, {"pid": pid})


def account(backend: Backend, pid: str, contact_id: int) -> dict[str, Any]:
    return READ["getParameterSubscriptionInfo"](backend.world, {"pid": pid, "contactId": str(contact_id)})


def contact_balances(backend: Backend, pid: str, bdid: str) -> dict[str, Any]:
    return READ["getContactBalances"](backend.world, {"pid": pid, "balanceDefinitionId": bdid, "limit": 500})


def active_definitions(backend: Backend, pid: str) -> list[str]:
    """The ids the active version's definition list shows."""
    body = READ["getBalanceDefinitionList"](backend.world, {"pid": pid, "version": "active"})
    return [item["id"] for item in body["items"]]


def free_contact(data: ProgramData) -> int:
    """A contact id no member of the program has (between two seeded ones, or after the last)."""
    taken = set(data.members.contact_ids)
    return next(cid for cid in range(1, 10**6) if cid not in taken)


def snapshot(backend: Backend) -> Any:
    """Everything a refused write must leave as it was: clock, ids, programs and every member's record."""
    world = backend.world
    return (
        backend.clock.now(), backend.ids.issued, backend.writes, world.summary(sample=100),
        [[world.member_at(data, p) for p in range(len(data.members))] for data in world.programs],
        [dict(data.members.attached) for data in world.programs],
    )


def refused(backend: Backend, error: type[ApiError], call: Any, *args: Any, **kwargs: Any) -> ApiError:
    before = snapshot(backend)
    with pytest.raises(error) as raised:
        call(*args, **kwargs)
    assert snapshot(backend) == before, "a refused write changed the world"
    return raised.value


# ----------------------------------------------------------------------------- programs


def test_a_created_program_is_inactive_empty_and_readable(backend: Backend) -> None:
    count = len(backend.world.programs)
    data = backend.programs.create("VIP Club", "Earn points", meta={"tier": "gold"})
    body = program(backend, data.id)
    assert body["state"] == "inactive"
    assert (body["name"], body["description"], body["meta"]) == ("VIP Club", "Earn points", {"tier": "gold"})
    assert body["createdAt"] == body["updatedAt"] == iso(backend.clock.now())
    assert body["pattern"].count("#") == 8 and body["pattern"].startswith("VIP")
    assert len(backend.world.programs) == count + 1
    listed = READ["getLPList"](backend.world, {})["items"]
    assert data.id in [item["id"] for item in listed]
    with pytest.raises(NoContent):  # the documented 204 of a program without definitions
        READ["getBalanceDefinitionList"](backend.world, {"pid": data.id})


def test_a_program_name_is_unique(backend: Backend) -> None:
    seeded = backend.world.programs[0].program.name
    error = refused(backend, Conflict, backend.programs.create, seeded)
    assert error.status == 409 and seeded in error.message
    other = backend.programs.create("Second")
    refused(backend, Conflict, backend.programs.update, other.id, seeded)
    refused(backend, Conflict, backend.programs.change, other.id, {"name": seeded})
    # Keeping its own name is no clash.
    assert backend.programs.update(other.id, "Second", "now described").program.description == "now described"


def test_put_replaces_the_details_and_patch_changes_only_those_given(backend: Backend) -> None:
    data = backend.programs.create("Club", "first text", meta={"a": 1})
    patched = backend.programs.change(data.id, {"description": "second text"})
    assert (patched.program.name, patched.program.description) == ("Club", "second text")
    assert dict(patched.program.meta) == {"a": 1}
    assert backend.programs.change(data.id, {}).program.description == "second text"
    replaced = backend.programs.update(data.id, "Club Renamed")
    body = program(backend, data.id)
    assert (body["name"], body["description"], body["meta"]) == ("Club Renamed", "", {})
    assert body["updatedAt"] == iso(backend.clock.now()) and body["createdAt"] < body["updatedAt"]
    assert replaced.program.state == "inactive"
    # The old name is free again.
    assert backend.programs.create("Club").program.name == "Club"


def test_details_do_not_need_a_publish(backend: Backend) -> None:
    active = in_state(backend, "active")
    assert backend.programs.change(active.id, {"description": "new"}).program.state == "active"


def test_an_unknown_program_is_a_404_naming_pid(backend: Backend) -> None:
    programs = backend.programs
    for call, args in ((programs.update, (UNKNOWN_PID, "x")), (programs.change, (UNKNOWN_PID, {})),
                       (programs.delete, (UNKNOWN_PID,)), (programs.publish, (UNKNOWN_PID,)),
                       (programs.subscribe, (UNKNOWN_PID, 1)), (programs.unsubscribe, (UNKNOWN_PID, 1))):
        error = refused(backend, UnknownResource, call, *args)
        assert error.param == "pid" and UNKNOWN_PID in error.message


def test_deleting_a_program_removes_it_and_its_members(backend: Backend) -> None:
    active = in_state(backend, "active")
    contact = active.members.contact_ids[0]
    backend.programs.delete(active.id)
    assert backend.world.program(active.id) is None
    with pytest.raises(UnknownResource):
        program(backend, active.id)
    with pytest.raises(UnknownResource):
        account(backend, active.id, contact)
    assert backend.world.stats()["contacts"] == sum(len(d.members) for d in backend.world.programs)
    # Its name can be used again, and the seeded world is untouched.
    assert backend.programs.create(active.program.name).program.state == "inactive"
    assert backend.base.program(active.id) is not None


# ----------------------------------------------------------------------------- publishing


def test_publishing_activates_and_publishes_every_pending_record(backend: Backend) -> None:
    draft = in_state(backend, "draft")
    pending = [d.id for d in draft.definitions if not d.published]
    assert pending, "the seeded draft program has an unpublished definition"
    listed = active_definitions(backend, draft.id)
    assert not set(pending) & set(listed)
    changed = backend.programs.publish(draft.id)
    assert program(backend, draft.id)["state"] == "active"
    for records in (changed.definitions, changed.limits, changed.tier_groups, changed.tiers, changed.rewards):
        assert all(record.published for record in records)
    listed = active_definitions(backend, draft.id)
    assert set(pending) <= set(listed)
    groups = READ["getListOfTierGroups"](backend.world, {"pid": draft.id, "version": "active"})["items"]
    assert len(groups) == len(draft.tier_groups)
    # Members keep their balances: publishing changes configuration flags only.
    contact = draft.members.contact_ids[0]
    assert backend.world.member(changed, contact).ledgers == backend.base.member(draft, contact).ledgers


def test_publishing_a_new_program_shows_its_active_version(backend: Backend) -> None:
    data = backend.programs.create("Fresh")
    assert not backend.world.program(data.id).program.has_active_version
    assert backend.programs.publish(data.id).program.state == "active"
    assert backend.programs.publish(data.id).program.state == "active"  # publishing again is accepted


def test_a_config_change_after_publishing_waits_for_the_next_publish(backend: Backend) -> None:
    active = in_state(backend, "active")
    with backend.writing():
        backend.edit_config(active, backend.stamp())  # what a definition, tier or reward write does
    assert program(backend, active.id)["state"] == "draft"
    assert backend.programs.publish(active.id).program.state == "active"
    assert program(backend, active.id)["state"] == "active"
    assert in_state(backend, "inactive").program.after_config_change(1).state == "inactive"


# ----------------------------------------------------------------------------- subscribing


def test_a_program_never_published_refuses_enrollment(backend: Backend) -> None:
    data = backend.programs.create("Closed")
    error = refused(backend, InvalidParameter, backend.programs.subscribe, data.id, 42)
    assert error.status == 422 and "not published" in error.message
    backend.programs.publish(data.id)
    assert backend.programs.subscribe(data.id, 42).contact_id == 42


def test_subscribing_starts_every_balance_at_zero_on_the_entry_tier(backend: Backend) -> None:
    active = in_state(backend, "active")
    contact = free_contact(active)
    before = {d.id: contact_balances(backend, active.id, d.id)["count"] for d in active.definitions}
    member = backend.programs.subscribe(active.id, contact, meta={"source": "shop"})
    data = backend.world.program(active.id)
    assert [ledger.balance_definition_id for ledger in member.ledgers] == [d.id for d in data.definitions]
    assert all(ledger.value == 0 and not ledger.transactions for ledger in member.ledgers)
    for definition in data.definitions:
        if definition.internal:
            continue
        page = contact_balances(backend, active.id, definition.id)
        assert page["count"] == before[definition.id] + 1
        row = next(row for row in page["balances"] if row["contactId"] == contact)
        assert row["value"] == 0 and row["loyaltySubscriptionId"] == member.subscription.loyalty_subscription_id
    balances = READ["getSubscriptionBalances"](backend.world, {"pid": active.id, "cid": contact})
    assert {item["value"] for item in balances["balance"]} == {0}
    group = data.primary_tier_group
    entry = data.tiers_of(group)[0]
    tier = READ["getSubscriptionTier"](backend.world, {"pid": active.id, "cid": contact})
    assert tier["currentBalance"] == 0
    assert tier["tierId"] == (entry.id if entry.threshold == 0 else None)
    assert account(backend, active.id, contact)["members"] == [
        {"memberContactId": contact, "createdAt": iso(backend.clock.now()), "updatedAt": iso(backend.clock.now())}]
    assert dict(member.subscription.meta) == {"source": "shop"}


def test_a_contact_is_subscribed_once(backend: Backend) -> None:
    active = in_state(backend, "active")
    seeded = active.members.contact_ids[3]
    error = refused(backend, InvalidParameter, backend.programs.subscribe, active.id, seeded)
    assert str(seeded) in error.message and "already subscribed" in error.message


def test_a_subscription_id_belongs_to_one_contact(backend: Backend) -> None:
    active = in_state(backend, "active")
    taken = active.members.subscription_ids[0]
    error = refused(backend, BadRequest, backend.programs.subscribe, active.id, free_contact(active), taken)
    assert error.status == 400 and taken in error.message
    member = backend.programs.subscribe(active.id, free_contact(active), "cust_abc123")
    assert member.subscription.loyalty_subscription_id == "cust_abc123"
    assert READ["getParameterSubscriptionInfo"](
        backend.world, {"pid": active.id, "loyaltySubscriptionId": "cust_abc123"})["balance"]["contactId"] == (
        member.contact_id)


def test_generated_subscription_ids_follow_the_pattern_and_never_collide(backend: Backend) -> None:
    active = in_state(backend, "active")
    made = [backend.programs.subscribe(active.id, free_contact(backend.world.program(active.id)))
            for _ in range(30)]
    ids = [m.subscription.loyalty_subscription_id for m in made]
    prefix = active.program.pattern.split("#")[0]
    assert all(sid.startswith(prefix) and sid[len(prefix):].isdigit() for sid in ids)
    table = backend.world.program(active.id).members
    assert len(set(table.subscription_ids)) == len(table)
    # A drawn number that a seeded member holds is drawn again.
    seeded = active.members.subscription_ids[0]
    number = int(seeded[len(prefix):])
    following = f"{prefix}{(number + 1) % 10**8:08d}"
    assert active.members.position_of_subscription(following) is None  # (the seeded ids are scattered)
    draws = iter([f"{number:032x}", f"{(number + 1) % 10**8:032x}"])
    assert generated_subscription_id(active, lambda: next(draws)) == following


def test_an_enrollment_date_is_kept_and_must_lie_in_the_past(backend: Backend) -> None:
    active = in_state(backend, "active")
    contact = free_contact(active)
    ahead = iso(backend.clock.now() + 60_000)
    error = refused(backend, InvalidParameter, backend.programs.subscribe, active.id, contact, None, ahead)
    assert "creationDate" in error.message
    error = refused(backend, InvalidParameter, backend.programs.subscribe, active.id, contact, None,
                    "0001-01-01T00:00:00Z")
    assert "creationDate" in error.message and "1970" in error.message
    member = backend.programs.subscribe(active.id, contact, None, "2025-03-01T10:00:00.000Z")
    assert iso(member.subscription.created_at) == "2025-03-01T10:00:00.000Z"
    row = next(r for r in contact_balances(backend, active.id, active.definitions[0].id)["balances"]
               if r["contactId"] == contact)
    assert row["updatedAt"] == "2025-03-01T10:00:00.000Z"


# ----------------------------------------------------------------------------- unsubscribing


def test_unsubscribing_removes_the_member_everywhere(backend: Backend) -> None:
    active = in_state(backend, "active")
    definition = next(d for d in active.definitions if not d.internal)
    contact = next(c for p, c in enumerate(active.members.contact_ids) if active.members.values[definition.index][p])
    count = contact_balances(backend, active.id, definition.id)["count"]
    backend.programs.unsubscribe(active.id, contact)
    page = contact_balances(backend, active.id, definition.id)
    assert page["count"] == count - 1 and contact not in [row["contactId"] for row in page["balances"]]
    with pytest.raises(UnknownResource):
        account(backend, active.id, contact)
    error = refused(backend, UnknownResource, backend.programs.unsubscribe, active.id, contact)
    assert error.param == "cid"
    # Enrolled again, the contact starts from nothing.
    again = backend.programs.subscribe(active.id, contact)
    assert all(ledger.value == 0 for ledger in again.ledgers) and again.vouchers == ()


# ----------------------------------------------------------------------------- subscription members


def test_attached_members_show_in_account_info(backend: Backend) -> None:
    active = in_state(backend, "active")
    owner = active.members.contact_ids[0]
    outsiders = [c for c in range(900_001, 900_004)]
    member = backend.programs.add_subscription_members(active.id, outsiders[:2], contact_id=owner)
    assert [a.contact_id for a in member.subscription_members] == outsiders[:2]
    sid = active.members.subscription_ids[0]
    member = backend.programs.add_subscription_members(active.id, outsiders[1:], loyalty_subscription_id=sid)
    assert [a.contact_id for a in member.subscription_members] == outsiders
    listed = [row["memberContactId"] for row in account(backend, active.id, owner)["members"]]
    assert listed == [owner, *outsiders]
    # Attaching the same contacts again changes nothing.
    moment = backend.clock.now()
    assert backend.programs.add_subscription_members(active.id, outsiders, contact_id=owner) == member
    assert backend.clock.now() == moment


def test_attaching_the_owner_or_a_contact_placed_elsewhere_is_a_conflict(backend: Backend) -> None:
    active = in_state(backend, "active")
    owner, other = active.members.contact_ids[0], active.members.contact_ids[1]
    error = refused(backend, Conflict, backend.programs.add_subscription_members, active.id, [900_001, owner],
                    contact_id=owner)
    assert error.status == 409 and "owner" in error.message
    refused(backend, Conflict, backend.programs.add_subscription_members, active.id, [other], contact_id=owner)
    backend.programs.add_subscription_members(active.id, [900_001], contact_id=owner)
    refused(backend, Conflict, backend.programs.add_subscription_members, active.id, [900_001], contact_id=other)
    # An attached contact cannot enroll on its own while attached.
    refused(backend, InvalidParameter, backend.programs.subscribe, active.id, 900_001)


def test_the_subscription_must_exist_and_be_named_consistently(backend: Backend) -> None:
    active = in_state(backend, "active")
    error = refused(backend, UnknownResource, backend.programs.add_subscription_members, active.id, [900_001],
                    contact_id=free_contact(active))
    assert error.param == "contactId"
    error = refused(backend, UnknownResource, backend.programs.add_subscription_members, active.id, [900_001],
                    loyalty_subscription_id="nobody")
    assert error.param == "loyaltySubscriptionId"
    refused(backend, BadRequest, backend.programs.add_subscription_members, active.id, [900_001],
            contact_id=active.members.contact_ids[0], loyalty_subscription_id=active.members.subscription_ids[1])


def test_detaching_members(backend: Backend) -> None:
    active = in_state(backend, "active")
    first, second = active.members.contact_ids[0], active.members.contact_ids[1]
    backend.programs.add_subscription_members(active.id, [900_001, 900_002], contact_id=first)
    backend.programs.add_subscription_members(active.id, [900_003], contact_id=second)
    error = refused(backend, UnknownResource, backend.programs.remove_subscription_members, active.id,
                    [900_001, 900_009])
    assert error.param == "memberContactIds" and "900009" in error.message
    backend.programs.remove_subscription_members(active.id, [900_001, 900_003])
    assert [row["memberContactId"] for row in account(backend, active.id, first)["members"]] == [first, 900_002]
    assert [row["memberContactId"] for row in account(backend, active.id, second)["members"]] == [second]
    # A detached contact may be attached elsewhere, or enroll itself.
    backend.programs.add_subscription_members(active.id, [900_001], contact_id=second)
    assert backend.programs.subscribe(active.id, 900_003).contact_id == 900_003


def test_unsubscribing_an_owner_frees_its_members(backend: Backend) -> None:
    active = in_state(backend, "active")
    owner = active.members.contact_ids[0]
    backend.programs.add_subscription_members(active.id, [900_001], contact_id=owner)
    backend.programs.unsubscribe(active.id, owner)
    refused(backend, UnknownResource, backend.programs.remove_subscription_members, active.id, [900_001])
    assert backend.programs.subscribe(active.id, 900_001).contact_id == 900_001


# ----------------------------------------------------------------------------- determinism and reset


def _story(backend: Backend) -> list[Any]:
    active = in_state(backend, "active")
    created = backend.programs.create("Story", meta={"k": "v"})
    backend.programs.publish(created.id)
    made = [backend.programs.subscribe(created.id, 7), backend.programs.subscribe(active.id, free_contact(active))]
    made.append(backend.programs.add_subscription_members(created.id, [8, 9], contact_id=7))
    return [created.program, *made, program(backend, created.id), account(backend, created.id, 7)]


def test_same_seed_and_writes_give_the_same_records(world: World) -> None:
    assert _story(Backend(world)) == _story(Backend(world))


def test_reset_forgets_every_write(backend: Backend) -> None:
    before = backend.world.summary()
    _story(backend)
    assert backend.world.summary() != before
    backend.reset()
    assert backend.world.summary() == before
    assert backend.programs.create("Story").program.created_at == backend.clock.start + 1000


def test_member_orders_stay_sorted_as_members_come_and_go(backend: Backend) -> None:
    """Subscribing and unsubscribing renumber the table's orders instead of re-sorting: same result."""
    active = in_state(backend, "active")
    seeded = list(active.members.contact_ids)
    for step, contact in enumerate([100_000, 1, seeded[5] + 1, 500_000, 2]):
        backend.programs.subscribe(active.id, contact, creation_date=iso(active.program.created_at + step))
    for contact in (seeded[0], seeded[-1], 1, seeded[7]):
        backend.programs.unsubscribe(active.id, contact)
    table = backend.world.program(active.id).members
    assert list(table.contact_ids) == sorted(table.contact_ids)
    for d in range(len(table.values)):
        for field, column in (("value", table.values[d]), ("updatedAt", table.updated_at[d])):
            expected = sorted(range(len(table)), key=lambda p, column=column: (column[p], p))
            assert list(table.order(d, field)) == expected, (d, field)
    for position, subscription_id in enumerate(table.subscription_ids):
        assert table.position_of_subscription(subscription_id) == position
    assert table.position_of_subscription(active.members.subscription_ids[0]) is None


def test_a_read_under_way_keeps_the_table_it_started_with(backend: Backend) -> None:
    """Subscribing and unsubscribing swap in a new member table: a revision being read never shifts."""
    active = in_state(backend, "active")
    backend.programs.subscribe(active.id, free_contact(active))  # the fork owns the program's table from now on
    held = backend.world.program(active.id)
    rows = (list(held.members.contact_ids), list(held.members.subscription_ids), list(held.members.values[0]))
    backend.programs.subscribe(active.id, free_contact(held))
    backend.programs.unsubscribe(active.id, active.members.contact_ids[0])
    assert (list(held.members.contact_ids), list(held.members.subscription_ids),
            list(held.members.values[0])) == rows
    assert backend.world.program(active.id).members is not held.members
