"""Tier groups move members in real time or on their schedule, per direction (upgrade, downgrade).

The seeded active program has both kinds: its primary group upgrades in real time and downgrades on
the member's yearly subscription anniversary; its wallet group moves members both ways once a year on
01/01 (`scheduledDate`). What a client sees is read through the read handlers; what the clock runs is
seen in the events (`tier_association_updated`).
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from typing import Any

import orjson
import pytest

from mock_server.backend import Backend, Event
from mock_server.backend.timeline import STEP
from mock_server.errors import ApiError
from mock_server.seeding import build_world
from mock_server.store.expiry_rules import anniversary
from mock_server.store.models import DAY, HOUR, MINUTE, Tier, TierGroup
from mock_server.store.world import ProgramData
from tests.backend.support import current_member
from tests.support.handlers import contract_handlers

WORLD = build_world(seed=1, contacts=20)
READ = contract_handlers()
NEW_YEAR = calendar.timegm((2027, 1, 1, 0, 0, 0)) * 1000
LONG_LIVED = 3 * 365 * 1440  # minutes: credits that outlive every test's moves


def _backend() -> tuple[Backend, list[Event]]:
    seen: list[Event] = []
    return Backend(WORLD, listeners=[lambda _org, events: seen.extend(events)]), seen


def _program(backend: Backend) -> ProgramData:
    return next(data for data in backend.world.programs if data.program.state == "active")


def _groups(data: ProgramData) -> tuple[TierGroup, TierGroup]:
    primary, wallet = data.tier_groups
    assert primary.upgrades_live and not primary.downgrades_live
    assert not wallet.upgrades_live and not wallet.downgrades_live
    assert wallet.upgrade_schedule is not None and wallet.upgrade_schedule["scheduledDate"] == "01/01"
    return primary, wallet


def _held(backend: Backend, data: ProgramData, group: TierGroup, contact: int) -> str | None:
    """The tier account-info shows for the member in `group` (None: below every tier)."""
    info = READ["getParameterSubscriptionInfo"](backend.world, {"pid": data.id, "contactId": str(contact),
                                                                 "params": "tier"})
    return next((row["tierId"] for row in info["tier"] if row["groupId"] == group.id), None)


def _guide(backend: Backend, data: ProgramData, contact: int) -> dict[str, Any]:
    return READ["getSubscriptionTier"](backend.world, {"pid": data.id, "cid": contact})


def _tiers(data: ProgramData, group: TierGroup) -> tuple[Tier, ...]:
    return data.tiers_of(group)


def _with_value(data: ProgramData, definition: int, wanted: Any) -> int:
    """The first seeded member whose balance on definition `definition` (minor units) satisfies `wanted`."""
    for position in range(len(data.members)):
        if wanted(data.members.values[definition][position]):
            return data.members.contact_ids[position]
    raise AssertionError("no such member")


def _credit(backend: Backend, data: ProgramData, definition: int, contact: int, amount: float,
            lifetime: int = LONG_LIVED) -> None:
    result = backend.balances.begin_transaction(
        data.id, balance_definition_id=data.definitions[definition].id, amount=amount, contact_id=contact,
        auto_complete=True, balance_expiry_minutes=lifetime if amount > 0 else None)
    assert result.transaction.status == "completed", result.transaction


def _moves(seen: list[Event], contact: int, group: TierGroup) -> list[Event]:
    """The tier moves the clock made (a completed transaction's real-time moves are emitted with no source)."""
    return [event for event in seen if event.name == "tier_association_updated" and event.contact_id == contact
            and event.objects["group"].id == group.id and event.objects.get("source") == "schedule"]


def test_a_scheduled_upgrade_waits_for_its_date_then_moves_once():
    backend, seen = _backend()
    data = _program(backend)
    _, wallet = _groups(data)
    standard, plus, _ = _tiers(data, wallet)
    contact = _with_value(data, 1, lambda value: value == 0)
    assert _held(backend, data, wallet, contact) == standard.id

    _credit(backend, data, 1, contact, plus.threshold + 10)  # reaches Plus: the upgrade waits for 01/01

    assert _held(backend, data, wallet, contact) == standard.id
    assert not _moves(seen, contact, wallet)
    backend.advance_clock(NEW_YEAR - 1)
    assert _held(backend, data, wallet, contact) == standard.id
    assert not _moves(seen, contact, wallet)
    backend.advance_clock(NEW_YEAR + 40 * DAY)
    assert _held(backend, data, wallet, contact) == plus.id
    [event] = _moves(seen, contact, wallet)
    assert event.at == NEW_YEAR
    assert (event.objects["previous_tier"].id, event.objects["tier"].id) == (standard.id, plus.id)
    assert event.objects["program"].id == data.id and event.objects["subscription"].contact_id == contact
    assert event.objects["member"].contact_id == contact
    backend.advance_clock(NEW_YEAR + 400 * DAY)  # the next 01/01 has nothing left to move
    assert len(_moves(seen, contact, wallet)) == 1


def test_a_scheduled_downgrade_waits_for_the_membership_anniversary():
    backend, seen = _backend()
    data = _program(backend)
    primary, _ = _groups(data)
    bronze, silver, gold, _ = _tiers(data, primary)
    contact = _with_value(data, 0, lambda value: silver.threshold <= value < gold.threshold)
    member = current_member(backend, data.id, contact)
    value = member.ledgers[0].value
    assert _guide(backend, data, contact)["tierId"] == silver.id

    _credit(backend, data, 0, contact, -(value - silver.threshold + 1))  # below Silver: the drop waits

    guide = _guide(backend, data, contact)
    assert guide["currentBalance"] == silver.threshold - 1
    assert (guide["tierId"], guide["nextTierName"]) == (silver.id, gold.name)
    due = anniversary(member.subscription.created_at, 12)
    while due <= backend.clock.now():
        due = anniversary(due, 12)
    backend.advance_clock(due - 1)
    assert _guide(backend, data, contact)["tierId"] == silver.id
    assert not _moves(seen, contact, primary)
    backend.advance_clock(due + DAY)
    assert _guide(backend, data, contact)["tierId"] == bronze.id
    [event] = _moves(seen, contact, primary)
    assert event.at == due
    assert (event.objects["previous_tier"].id, event.objects["tier"].id) == (silver.id, bronze.id)


def test_real_time_directions_move_at_once_and_the_clock_has_nothing_to_redo():
    backend, seen = _backend()
    data = _program(backend)
    primary, _ = _groups(data)
    bronze, silver, _, _ = _tiers(data, primary)
    contact = _with_value(data, 0, lambda value: value < silver.threshold)
    value = current_member(backend, data.id, contact).ledgers[0].value
    _credit(backend, data, 0, contact, silver.threshold - value)  # upgrades are real-time: Silver now
    assert _guide(backend, data, contact)["tierId"] == silver.id
    backend.tiers.update_group(data.id, primary.id, {"name": primary.name, "tierOrder": list(primary.tier_ids),
                                                     "upgradeStrategy": "real_time",
                                                     "downgradeStrategy": "real_time",
                                                     "downgradeSchedule": None})
    _credit(backend, data, 0, contact, -1)  # and now downgrades too: Bronze now
    assert _guide(backend, data, contact)["tierId"] == bronze.id
    seen.clear()
    backend.advance_clock(backend.clock.now() + 400 * DAY)
    assert not _moves(seen, contact, primary)
    assert _guide(backend, data, contact)["tierId"] == bronze.id


def test_a_downgrade_on_the_tier_anniversary_counts_from_entering_the_tier():
    backend, seen = _backend()
    data = _program(backend)
    primary, _ = _groups(data)
    backend.tiers.update_group(data.id, primary.id, {"name": primary.name, "tierOrder": list(primary.tier_ids),
                                                     "upgradeStrategy": "real_time",
                                                     "downgradeStrategy": "tier_anniversary"})
    bronze, silver, _, _ = _tiers(data, primary)
    contact = _with_value(data, 0, lambda value: value == 0)
    _credit(backend, data, 0, contact, silver.threshold)
    entered = backend.clock.now()
    live = [e for e in seen if e.name == "tier_association_updated" and e.contact_id == contact
            and e.objects["group"].id == primary.id and "source" not in e.objects]
    assert [(e.objects["previous_tier"].id, e.objects["tier"].id) for e in live] == [(bronze.id, silver.id)]
    backend.advance_clock(entered + 100 * DAY)
    _credit(backend, data, 0, contact, -1)
    assert _guide(backend, data, contact)["tierId"] == silver.id
    backend.advance_clock(entered + 400 * DAY)
    [event] = _moves(seen, contact, primary)
    assert event.at == anniversary(entered, 12)
    assert event.objects["tier"].id == bronze.id
    assert _guide(backend, data, contact)["tierId"] == bronze.id


def test_a_real_time_downgrade_under_a_scheduled_upgrade_is_not_undone_by_a_credit():
    backend, _ = _backend()
    data = _program(backend)
    _, wallet = _groups(data)
    standard, plus, _ = _tiers(data, wallet)
    body = {"name": wallet.name, "tierOrder": list(wallet.tier_ids), "upgradeSchedule": None,
            "downgradeSchedule": None}
    backend.tiers.update_group(data.id, wallet.id, {**body, "upgradeStrategy": "real_time",
                                                    "downgradeStrategy": "real_time"})
    contact = _with_value(data, 1, lambda value: value == 0)
    _credit(backend, data, 1, contact, plus.threshold)
    assert _held(backend, data, wallet, contact) == plus.id
    backend.tiers.update_group(data.id, wallet.id, {**body, "upgradeStrategy": "membership_anniversary",
                                                    "downgradeStrategy": "real_time"})
    _credit(backend, data, 1, contact, -1)  # below Plus: down at once
    assert _held(backend, data, wallet, contact) == standard.id
    _credit(backend, data, 1, contact, 5)  # back above Plus: the upgrade waits for the schedule
    assert _held(backend, data, wallet, contact) == standard.id


def test_a_tier_given_by_hand_holds_then_the_strategies_apply():
    backend, _ = _backend()
    data = _program(backend)
    primary, _ = _groups(data)
    bronze, silver, gold, _ = _tiers(data, primary)
    contact = _with_value(data, 0, lambda value: 10 <= value < silver.threshold)
    backend.tiers.assign(data.id, contact, gold.id)
    assert _guide(backend, data, contact)["tierId"] == gold.id
    _credit(backend, data, 0, contact, -1)  # a balance change: downgrades wait for the anniversary
    assert _guide(backend, data, contact)["tierId"] == gold.id
    with pytest.raises(ApiError):
        backend.tiers.assign(data.id, contact, gold.id)  # already held: 409, as before
    backend.advance_clock(backend.clock.now() + 370 * DAY)  # the anniversary evaluates the drop
    assert _guide(backend, data, contact)["tierId"] == bronze.id


def test_a_failing_review_rolls_the_whole_move_back(monkeypatch: pytest.MonkeyPatch):
    backend, seen = _backend()
    data = _program(backend)
    _, wallet = _groups(data)
    standard, plus, _ = _tiers(data, wallet)
    contact = _with_value(data, 1, lambda value: value == 0)
    _credit(backend, data, 1, contact, plus.threshold)
    member = current_member(backend, data.id, contact)
    now, issued, events = backend.clock.now(), backend.ids.issued, len(seen)

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("mock_server.backend.timeline.reviewed", failing)
    with pytest.raises(RuntimeError):
        backend.advance_clock(NEW_YEAR + DAY)
    assert (backend.clock.now(), backend.ids.issued, len(seen)) == (now, issued, events)
    assert current_member(backend, data.id, contact) is member
    assert _held(backend, data, wallet, contact) == standard.id
    monkeypatch.undo()
    backend.advance_clock(NEW_YEAR + DAY)
    assert _held(backend, data, wallet, contact) == plus.id


def _run(steps: list[int]) -> tuple[list[tuple[Any, ...]], bytes]:
    backend, seen = _backend()
    data = _program(backend)
    primary, wallet = _groups(data)
    contacts = [data.members.contact_ids[p] for p in range(0, len(data.members), 3)]
    for index, contact in enumerate(contacts):
        _credit(backend, data, index % 2, contact, (60, 800, 1500)[index % 3] if index % 2 == 0 else 60)
        if index % 2:
            _credit(backend, data, 0, contact, -1)
    for days in steps:
        backend.advance_clock(backend.clock.now() + days * DAY)
    moves = [(event.seq, event.at, event.contact_id, event.objects["group"].id,
              getattr(event.objects["tier"], "id", None)) for event in seen if event.name == "tier_association_updated"]
    reads = [[_guide(backend, data, contact), _held(backend, data, wallet, contact)] for contact in contacts]
    return moves, orjson.dumps([reads, primary.id])


def test_the_same_writes_and_moves_give_the_same_tier_moves_and_reads():
    first, second = _run([30, 90, 400]), _run([30, 90, 400])
    assert first == second
    assert first[0], "some scheduled move happened"


def test_one_long_move_and_many_short_ones_make_the_same_tier_moves():
    one = _run([520])[0]
    many = _run([1] * 10 + [30] * 17)[0]
    assert [move[1:] for move in one] == [move[1:] for move in many]


def test_a_drop_held_by_a_lapse_is_evaluated_on_an_anniversary_later_in_the_same_move():
    """The lapse records the tier held; the anniversary a little later in the same move then evaluates it."""
    backend, seen = _backend()
    data = _program(backend)
    primary, _ = _groups(data)
    bronze, silver, _, _ = _tiers(data, primary)
    body = {"name": primary.name, "tierOrder": list(primary.tier_ids), "upgradeStrategy": "real_time"}
    backend.tiers.update_group(data.id, primary.id, {**body, "downgradeStrategy": "real_time",
                                                     "downgradeSchedule": None})
    start, now = backend.clock.start, backend.clock.now()
    for position in range(len(data.members)):
        contact = data.members.contact_ids[position]
        due = anniversary(data.members.subscribed_at[position], 12)
        while due <= now + DAY:
            due = anniversary(due, 12)
        if data.members.values[0][position] == 0 and (due - start) % STEP > 3 * HOUR:
            break
    else:
        raise AssertionError("no member fits")
    lapse = due - HOUR - (due - HOUR - now) % MINUTE
    _credit(backend, data, 0, contact, silver.threshold, lifetime=(lapse - now) // MINUTE)
    backend.tiers.update_group(data.id, primary.id, {**body, "downgradeStrategy": "membership_anniversary"})
    assert _guide(backend, data, contact)["tierId"] == silver.id

    backend.advance_clock(due + DAY)  # one move: the lapse holds Silver, the anniversary drops it

    [event] = _moves(seen, contact, primary)
    assert (event.at, event.objects["previous_tier"].id, event.objects["tier"].id) == (due, silver.id, bronze.id)
    assert _guide(backend, data, contact)["tierId"] == bronze.id


def test_a_strategy_switched_to_real_time_moves_members_at_once_and_back_keeps_them_there():
    backend, _ = _backend()
    data = _program(backend)
    primary, _ = _groups(data)
    bronze, silver, gold, _ = _tiers(data, primary)
    contact = _with_value(data, 0, lambda value: silver.threshold <= value < gold.threshold)
    value = current_member(backend, data.id, contact).ledgers[0].value
    _credit(backend, data, 0, contact, -(value - silver.threshold + 1))
    assert _guide(backend, data, contact)["tierId"] == silver.id  # the drop waits for the anniversary
    body = {"name": primary.name, "tierOrder": list(primary.tier_ids), "upgradeStrategy": "real_time"}
    backend.tiers.update_group(data.id, primary.id, {**body, "downgradeStrategy": "real_time",
                                                     "downgradeSchedule": None})
    assert _guide(backend, data, contact)["tierId"] == bronze.id  # real time now: down at once
    backend.tiers.update_group(data.id, primary.id, {**body, "downgradeStrategy": "membership_anniversary"})
    assert _guide(backend, data, contact)["tierId"] == bronze.id  # and it stays where it went


def test_credits_lapsing_on_the_review_day_are_evaluated_that_same_day():
    """Wallet credits lapse on 01/01 (the definition's yearly day), the day its group evaluates downgrades:
    the lapse records the tier held, the evaluation right after drops it."""
    backend, seen = _backend()
    data = _program(backend)
    _, wallet = _groups(data)
    standard, plus, _ = _tiers(data, wallet)
    backend.tiers.update_group(data.id, wallet.id, {"name": wallet.name, "tierOrder": list(wallet.tier_ids),
                                                    "upgradeStrategy": "real_time", "upgradeSchedule": None,
                                                    "downgradeStrategy": "membership_anniversary"})
    contact = _with_value(data, 1, lambda value: value == 0)
    result = backend.balances.begin_transaction(data.id, balance_definition_id=data.definitions[1].id,
                                                amount=plus.threshold, contact_id=contact, auto_complete=True)
    assert result.transaction.balance_expiration_date == NEW_YEAR
    assert _held(backend, data, wallet, contact) == plus.id  # upgrades are real-time now

    backend.advance_clock(NEW_YEAR + DAY)

    assert _held(backend, data, wallet, contact) == standard.id
    [event] = _moves(seen, contact, wallet)
    assert (event.at, event.objects["previous_tier"].id, event.objects["tier"].id) == (NEW_YEAR, plus.id, standard.id)


def test_a_scheduled_upgrade_gives_the_tier_rewards_at_its_moment():
    backend, _ = _backend()
    data = _program(backend)
    _, wallet = _groups(data)
    _, plus, _ = _tiers(data, wallet)
    reward = next(r for r in data.rewards if r.state == "active" and r.code_pool_id)
    reward = replace(reward, subtract_balance_value=0, attribution_per_consumer=0, limits=(), redeem_per_consumer=0)
    gifted = replace(plus, reward_ids=(reward.id,))
    backend.put_program(data.replace(rewards=tuple(reward if r.id == reward.id else r for r in data.rewards),
                                     tiers=tuple(gifted if t.id == plus.id else t for t in data.tiers)))
    data = _program(backend)
    contact = _with_value(data, 1, lambda value: value == 0)
    _credit(backend, data, 1, contact, plus.threshold + 10)
    held = len(current_member(backend, data.id, contact).vouchers)
    assert [v.reward_id for v in current_member(backend, data.id, contact).vouchers[held:]] == []  # not before 01/01

    backend.advance_clock(NEW_YEAR + 40 * DAY)

    given = current_member(backend, data.id, contact).vouchers[held:]
    assert [(v.reward_id, v.created_at, v.meta["tierId"]) for v in given] == [(reward.id, NEW_YEAR, plus.id)]
    assert backend.clock.now() == NEW_YEAR + 40 * DAY
