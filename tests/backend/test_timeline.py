"""Moving an organisation's clock on (`Backend.advance_clock`): what time drives, in time order.

Expectations come from the records as they were before the move (which credits and vouchers
expire, when members subscribed) and from the documented rules, read back through the read
handlers as a client would see them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from mock_server.backend import Backend, Event
from mock_server.backend.clock import Clock
from mock_server.seeding import build_world
from mock_server.store.expiry_rules import REMINDER, anniversary, expire_ledger
from mock_server.store.models import DAY, HOUR, MINUTE, Member, Transaction, add_period, iso
from mock_server.store.world import ProgramData
from tests.backend.support import current_member
from tests.support.handlers import contract_handlers

WORLD = build_world(seed=1, contacts=20)
READ = contract_handlers()


def _backend() -> tuple[Backend, list[Event]]:
    seen: list[Event] = []
    return Backend(WORLD, listeners=[lambda _org, events: seen.extend(events)]), seen


def _active_program(backend: Backend) -> ProgramData:
    return next(data for data in backend.world.programs if data.program.state == "active")


def _empty_member(data: ProgramData, index: int = 0) -> int:
    """A member with nothing on definition `index` (so a new credit is its only one)."""
    for position in range(len(data.members)):
        if data.members.values[index][position] == 0:
            return data.members.contact_ids[position]
    raise AssertionError("no member without balance")


def _balance(backend: Backend, pid: str, contact: int, definition_id: str) -> float:
    totals = READ["getSubscriptionBalances"](backend.world, {"pid": pid, "cid": contact, "includeInternal": True})
    return next(entry["value"] for entry in totals["balance"] if entry["balanceDefinitionId"] == definition_id)


def _history(backend: Backend, pid: str, contact: int, definition_id: str) -> list[dict[str, Any]]:
    return READ["getTransactionHistoryApi"](backend.world, {
        "pid": pid, "contactId": contact, "balanceDefinitionId": definition_id, "limit": 500, "offset": 0,
    })["transactionHistory"]


def _active(backend: Backend, pid: str, contact: int, definition_id: str) -> list[dict[str, Any]]:
    return READ["getActiveBalancesApi"](backend.world, {
        "pid": pid, "contactId": contact, "balanceDefinitionId": definition_id, "limit": 500, "offset": 0,
        "includeInternal": True,
    })["activeBalances"]


def _check_ledgers(backend: Backend) -> None:
    """Every member of every program: balance = completed credits - completed debits = sum of the active
    balances = the member table's column, and nothing active has expired by now."""
    now = backend.clock.now()
    for data in backend.world.programs:
        for position in range(len(data.members)):
            member = backend.world.member_at(data, position)
            for d, ledger in enumerate(member.ledgers):
                completed = sum(tx.signed_amount for tx in ledger.transactions if tx.status == "completed")
                remaining = sum(active.amount for active in ledger.active_balances)
                assert completed == ledger.value == remaining == data.members.values[d][position] >= 0
                assert all(active.expires_at is None or active.expires_at > now for active in ledger.active_balances)


# ------------------------------------------------------------------ credits


def test_an_untouched_credit_lapses_whole_and_the_balance_drops_by_exactly_it():
    backend, seen = _backend()
    data = _active_program(backend)
    definition = data.definitions[0]
    contact = _empty_member(data)
    result = backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, amount=120,
                                                contact_id=contact, auto_complete=True, balance_expiry_minutes=60)
    credit = result.transaction
    before = _balance(backend, data.id, contact, definition.id)
    assert before == 120
    seen.clear()

    backend.advance_clock(backend.clock.now() + 2 * HOUR)

    assert _balance(backend, data.id, contact, definition.id) == before - 120
    shown = {tx["id"]: tx for tx in _history(backend, data.id, contact, definition.id)}
    assert shown[credit.id]["status"] == "expired"
    assert shown[credit.id]["balanceExpirationDate"] == iso(credit.balance_expiration_date)
    assert _active(backend, data.id, contact, definition.id) == []
    expired = [event for event in seen if event.name == "balance_value_expired" and event.contact_id == contact]
    assert len(expired) == 1
    event = expired[0]
    assert (event.at, event.objects["value"], event.objects["balance"]) == (credit.balance_expiration_date, 120, 0)
    assert event.objects["transaction"].id == credit.id and event.objects["definition"].id == definition.id
    _check_ledgers(backend)


def test_a_partly_spent_credit_lapses_by_its_remainder_after_a_reminder():
    backend, seen = _backend()
    data = _active_program(backend)
    definition = data.definitions[0]
    contact = _empty_member(data)
    lifetime = 8 * DAY
    credit = backend.balances.begin_transaction(
        data.id, balance_definition_id=definition.id, amount=100, contact_id=contact, auto_complete=True,
        balance_expiry_minutes=lifetime // MINUTE).transaction
    backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, amount=-30, contact_id=contact,
                                       auto_complete=True)
    seen.clear()

    backend.advance_clock(backend.clock.now() + 9 * DAY)

    assert _balance(backend, data.id, contact, definition.id) == 0
    history = _history(backend, data.id, contact, definition.id)
    by_id = {tx["id"]: tx for tx in history}
    assert by_id[credit.id]["status"] == "completed"  # what was spent stays spent
    lapse = [tx for tx in history if tx["meta"].get("source") == "balance_expiration"]
    assert len(lapse) == 1
    assert (lapse[0]["transactionType"], lapse[0]["status"], lapse[0]["amount"]) == ("debit", "completed", 70)
    assert lapse[0]["meta"]["expiredTransactionId"] == credit.id
    assert lapse[0]["completedAt"] == iso(credit.balance_expiration_date)
    mine = [(event.name, event.at, event.objects.get("value")) for event in seen if event.contact_id == contact
            and event.name.startswith("balance_")]
    expiry = credit.balance_expiration_date
    assert mine == [("balance_expiration_reminder", expiry - REMINDER, 70), ("balance_value_expired", expiry, 70),
                    ("balance_minimum_value_reached", expiry, 0)]  # down to the floor (minAmount 0)
    _check_ledgers(backend)


def test_every_seeded_credit_due_lapses_once_and_the_ledgers_still_add_up():
    backend, seen = _backend()
    start = backend.clock.now()
    end = add_period(start, 14, "month")
    expected: Counter[tuple[str, int, str, int]] = Counter()
    for data in WORLD.programs:
        for position in range(len(data.members)):
            member = WORLD.member_at(data, position)
            for ledger in member.ledgers:
                for active in ledger.active_balances:
                    if active.expires_at is not None and start < active.expires_at <= end:
                        expected[(data.id, member.contact_id, ledger.balance_definition_id, active.amount)] += 1
    assert expected, "the seeded world has credits lapsing within 14 months"

    backend.advance_clock(end)

    lapsed = Counter((event.program_id, event.contact_id, event.objects["definition"].id, event.objects["value"])
                     for event in seen if event.name == "balance_value_expired")
    assert lapsed == expected
    moments = [event.at for event in seen]
    assert moments == sorted(moments) and moments[-1] <= end
    _check_ledgers(backend)


def test_a_tier_lost_to_an_expiry_is_reported_with_the_tier_before_and_after():
    backend, seen = _backend()
    backend.advance_clock(add_period(backend.clock.now(), 30, "month"))
    moves = [event for event in seen if event.name == "tier_association_updated"]
    assert moves, "some seeded member drops a tier as its credits lapse"
    for event in moves:
        data = backend.world.program(event.program_id)
        assert data is not None
        group = event.objects["group"]
        previous, tier = event.objects["previous_tier"], event.objects["tier"]
        assert previous is not None and (tier is None or tier.threshold < previous.threshold)
        assert group.tier_ids and (tier is None or tier.group_id == group.id)
    # After the move, a member's tier read follows its balance (the guide's rule).
    for event in moves[:10]:
        data = backend.world.program(event.program_id)
        assert data is not None
        member = current_member(backend, data.id, event.contact_id or 0)
        standing, _ = data.standing_of(event.objects["group"], member)
        assert standing is not None or event.objects["tier"] is None


# ------------------------------------------------------------------ vouchers


def test_a_voucher_is_reminded_then_expires_and_leaves_the_usable_ones():
    backend, seen = _backend()
    data = _active_program(backend)
    reward = next(reward for reward in data.rewards if reward.state == "active" and not reward.code_pool_id
                  and not reward.subtract_balance_value and reward.expiration_date is None)
    contact = next(cid for cid in data.members.contact_ids
                   if all(held.reward_id != reward.id for held in current_member(backend, data.id, cid).vouchers))
    expiry = backend.clock.now() + 10 * DAY
    _, voucher = backend.rewards.create_voucher(data.id, reward.id, contact_id=contact, expiration_date=expiry)
    usable = READ["getSubscriptionVouchers"](backend.world, {"pid": data.id, "cid": contact})
    assert voucher.id in [item["id"] for item in usable]
    seen.clear()

    backend.advance_clock(expiry + HOUR)

    mine = [(event.name, event.at) for event in seen if event.name.startswith("voucher_")
            and event.objects["voucher"].id == voucher.id]
    assert mine == [("voucher_expiration_reminder", expiry - REMINDER), ("voucher_expired", expiry)]
    usable = READ["getSubscriptionVouchers"](backend.world, {"pid": data.id, "cid": contact})
    assert voucher.id not in [item["id"] for item in usable]


# ------------------------------------------------------------------ anniversaries


def test_a_new_member_has_its_month_and_year_anniversaries_on_calendar_dates():
    backend, seen = _backend()
    data = _active_program(backend)
    contact = max(data.members.contact_ids) + 7
    member = backend.programs.subscribe(data.id, contact)
    joined = member.subscription.created_at
    seen.clear()

    backend.advance_clock(add_period(joined, 13, "month") + HOUR)

    mine = [event for event in seen if event.contact_id == contact]
    months = [(event.at, event.objects["months"]) for event in mine if event.name == "subscription_month_anniversary"]
    assert months == [(anniversary(joined, k), k) for k in (*range(1, 12), 13)]
    years = [(event.at, event.objects["years"]) for event in mine if event.name == "subscription_year_anniversary"]
    assert years == [(add_period(joined, 1, "year"), 1)]
    reminders = [event.at for event in mine if event.name == "membership_anniversary_reminder"]
    assert reminders == [add_period(joined, 1, "year") - REMINDER]
    assert all(event.objects["subscription"].loyalty_subscription_id == member.subscription.loyalty_subscription_id
               for event in mine)


def test_seeded_members_have_their_monthly_anniversary_in_each_month():
    backend, seen = _backend()
    start = backend.clock.now()
    assert iso(start).startswith("2026-11-01T00:00:00")
    backend.advance_clock(start + 30 * DAY)
    months = Counter((event.program_id, event.contact_id) for event in seen
                     if event.name in ("subscription_month_anniversary", "subscription_year_anniversary"))
    members = {(data.id, contact) for data in WORLD.programs for contact in data.members.contact_ids}
    # November, 30 days: exactly one monthly date of every member (the 31st falls on the 30th)
    assert set(months) == members and set(months.values()) == {1}


# ------------------------------------------------------------------ the move itself


def test_the_clock_never_goes_back_and_a_refused_move_changes_nothing():
    backend, seen = _backend()
    backend.advance_clock(backend.clock.now() + DAY)
    now, writes, events = backend.clock.now(), backend.writes, len(seen)
    with pytest.raises(ValueError, match="never goes back"):
        backend.advance_clock(now - 1)
    assert (backend.clock.now(), backend.writes, len(seen)) == (now, writes, events)


def test_a_failing_move_rolls_everything_back(monkeypatch: pytest.MonkeyPatch):
    backend, seen = _backend()
    data = _active_program(backend)
    contact = _empty_member(data)
    definition = data.definitions[0]
    backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, amount=50, contact_id=contact,
                                       auto_complete=True, balance_expiry_minutes=5)
    now, issued, events = backend.clock.now(), backend.ids.issued, len(seen)
    member = current_member(backend, data.id, contact)
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("boom")
        return expire_ledger(*args, **kwargs)

    monkeypatch.setattr("mock_server.backend.timeline.expire_ledger", failing)
    with pytest.raises(RuntimeError):
        backend.advance_clock(now + 60 * DAY)
    assert (backend.clock.now(), backend.ids.issued, len(seen)) == (now, issued, events)
    assert current_member(backend, data.id, contact) is member
    monkeypatch.undo()
    backend.advance_clock(now + 60 * DAY)  # and the same move then runs
    assert _balance(backend, data.id, contact, definition.id) == 0


def _run(sequence: list[int]) -> tuple[list[tuple[Any, ...]], bytes]:
    backend, seen = _backend()
    data = _active_program(backend)
    definition = data.definitions[0]
    contact = _empty_member(data)
    for days in sequence:
        backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, amount=days,
                                           contact_id=contact, auto_complete=True, balance_expiry_minutes=days * 1440)
        backend.advance_clock(backend.clock.now() + days * DAY)
    events = [(event.seq, event.name, event.at, event.program_id, event.contact_id,
               getattr(event.objects.get("transaction"), "id", None)) for event in seen]
    reads = [READ["getContactBalances"](backend.world, {"pid": data.id, "balanceDefinitionId": definition.id,
                                                           "limit": 500, "offset": 0})]
    for position in range(0, len(data.members), 5):
        cid = data.members.contact_ids[position]
        reads.append(_history(backend, data.id, cid, definition.id))
    return events, orjson.dumps(reads)


def test_the_same_moves_give_the_same_events_and_the_same_bytes():
    sequence = [3, 45, 200]
    first, second = _run(sequence), _run(sequence)
    assert first == second
    assert len(first[0]) > 100


def test_a_real_clock_moved_on_keeps_running_from_there():
    clock = Clock(0, "real")
    before = clock.now()
    clock.move_to(before + 30 * DAY)
    assert clock.now() >= before + 30 * DAY
    assert clock.offset >= 30 * DAY - 1000
    with pytest.raises(ValueError):
        clock.move_to(before)


def test_transactions_expiring_at_the_same_moment_lapse_together():
    tx = Transaction(id="a", balance_definition_id="d", transaction_type="credit", amount=5, status="completed",
                     created_at=0, completed_at=0, cancelled_at=None, rejected_at=None, reject_reason=None,
                     balance_expiration_date=DAY, meta={})
    twin = Transaction(id="b", balance_definition_id="d", transaction_type="credit", amount=7, status="completed",
                       created_at=0, completed_at=0, cancelled_at=None, rejected_at=None, reject_reason=None,
                       balance_expiration_date=DAY, meta={})
    from mock_server.store.models import ActiveBalance, Ledger

    ledger = Ledger("d", 12, 0, (tx, twin), (ActiveBalance("x", 5, 0, DAY), ActiveBalance("y", 7, 0, DAY)))
    after, lapsed = expire_ledger(ledger, DAY, lambda: "new")
    assert after.value == 0 and after.active_balances == ()
    assert sorted(item.transaction.id for item in lapsed) == ["a", "b"]
    assert {tx.status for tx in after.transactions} == {"expired"}
    assert expire_ledger(ledger, DAY - 1, lambda: "new") == (ledger, [])


def test_no_reminder_before_a_short_lived_credit_existed():
    backend, seen = _backend()
    data = _active_program(backend)
    definition = data.definitions[0]
    contact = _empty_member(data)
    backend.advance_clock(backend.clock.now() + 10 * DAY)  # the timeline ran up to here
    backend.clock.move_to(backend.clock.now() + 20 * DAY)  # as the wall clock would, with no move
    credit = backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, amount=5,
                                                contact_id=contact, auto_complete=True,
                                                balance_expiry_minutes=3 * 1440).transaction
    seen.clear()
    backend.advance_clock(backend.clock.now() + 4 * DAY)
    mine = [(event.name, event.at) for event in seen if event.contact_id == contact and event.program_id == data.id
            and event.name.startswith("balance_")]
    assert mine == [("balance_value_expired", credit.balance_expiration_date),
                    ("balance_minimum_value_reached", credit.balance_expiration_date)]


def test_a_move_generates_only_the_seeded_members_something_is_due_for(monkeypatch: pytest.MonkeyPatch):
    from mock_server.seeding.members import SeededMembers

    backend, seen = _backend()
    backend.advance_clock(backend.clock.now() + HOUR)  # the first move draws the agenda from the seed, once
    generated: list[int] = []
    original = SeededMembers.member

    def counting(self: SeededMembers, data: ProgramData, position: int) -> Member:
        generated.append(data.members.contact_ids[position])
        return original(self, data, position)

    monkeypatch.setattr(SeededMembers, "member", counting)
    seen.clear()
    backend.advance_clock(backend.clock.now() + 20 * DAY)
    # Only a credit or voucher falling due needs the member's record; anniversaries and reminders do not.
    needing = {event.contact_id for event in seen if event.name in ("balance_value_expired", "voucher_expired",
                                                                     "voucher_expiration_reminder")}
    assert generated and set(generated) <= needing
    assert len(generated) < sum(len(data.members) for data in WORLD.programs) / 2
