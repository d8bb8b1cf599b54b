"""The balances backend: definitions, limits, member balances, transactions and orders, called directly.

Expectations come from the world (its seeded records, read through the read handlers as a client
would see them) and from the documented rules, never from the answer under test.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.backend import Backend
from mock_server.errors import InvalidParameter, UnknownResource
from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.routes.balance import transaction_answer
from mock_server.seeding import build_world
from mock_server.store.models import Member, add_period
from mock_server.store.models import iso as _iso
from mock_server.store.tier_changes import newly_reached_tiers
from mock_server.store.world import ProgramData
from tests.backend.support import current_member
from tests.support.handlers import contract_handlers
from tests.support.invariants import check_member_balances, check_tier

WORLD = build_world(seed=1, contacts=20)
WIDGET = build_world(seed=1, contacts=5, fixtures=[load_fixture(shipped_fixture("widget-member"))])
READ = contract_handlers()


# ------------------------------------------------------------------ helpers


def _program(world_or_backend: Any, state: str) -> ProgramData:
    world = getattr(world_or_backend, "world", world_or_backend)
    return next(data for data in world.programs if data.program.state == state)


def _now(backend: Backend, pid: str) -> ProgramData:
    data = backend.world.program(pid)
    assert data is not None
    return data


def _funded(data: ProgramData, index: int = 0, minimum: int = 200) -> Member:
    """A member with at least `minimum` on definition `index`, and credit room left."""
    for position in range(len(data.members)):
        value = data.members.values[index][position]
        if minimum <= value <= data.definitions[index].max_amount - 10_000:
            return WORLD.member_at(data, position)
    raise AssertionError("no funded member")


def _publish(backend: Backend, pid: str) -> None:
    """What the programs area's publish does to configuration (not part of this area)."""
    data = _now(backend, pid)
    backend.put_program(data.replace(
        program=replace(data.program, state="active"),
        definitions=tuple(replace(d, published=True) for d in data.definitions),
        limits=tuple(replace(limit, published=True) for limit in data.limits),
    ))


def _balance(backend: Backend, pid: str, contact_id: int, bdid: str) -> float:
    body = READ["getSubscriptionBalances"](backend.world, {"pid": pid, "cid": contact_id, "includeInternal": True})
    return next(item["value"] for item in body["balance"] if item["balanceDefinitionId"] == bdid)


def _history(backend: Backend, pid: str, contact_id: int, bdid: str) -> list[dict[str, Any]]:
    return READ["getTransactionHistoryApi"](backend.world, {
        "pid": pid, "contactId": contact_id, "balanceDefinitionId": bdid, "limit": 500,
    })["transactionHistory"]


def _contact_balances(backend: Backend, pid: str, bdid: str, sort_field: str, sort: str) -> list[dict[str, Any]]:
    return READ["getContactBalances"](backend.world, {
        "pid": pid, "balanceDefinitionId": bdid, "sortField": sort_field, "sort": sort, "limit": 500,
        "includeInternal": True,
    })["balances"]


def _reads(backend: Backend, pid: str, contact_id: int, bdid: str) -> Any:
    """Everything a client could read about one member and one balance."""
    params = {"pid": pid, "contactId": contact_id, "balanceDefinitionId": bdid, "includeInternal": True}
    return (
        READ["getSubscriptionBalances"](backend.world, {"pid": pid, "cid": contact_id, "includeInternal": True}),
        _history(backend, pid, contact_id, bdid),
        READ["getActiveBalancesApi"](backend.world, params),
        _contact_balances(backend, pid, bdid, "value", "desc"),
        _contact_balances(backend, pid, bdid, "updatedAt", "asc"),
        READ["getBalanceDefinitionList"](backend.world, {"pid": pid}),
        READ["getLoyaltyProgramInfo"](backend.world, {"pid": pid}),
        backend.clock.now(),
        backend.ids.issued,
    )


def _check_invariants(backend: Backend, pid: str, contact_id: int) -> None:
    """The world's rules for one member (tests/support/invariants.py), through the read handlers."""
    data = _now(backend, pid)
    rows = {d.id: {row["contactId"]: row for row in _contact_balances(backend, pid, d.id, "value", "asc")}
            for d in data.definitions if not d.deleted}
    check_member_balances(READ, backend.world, data, contact_id, {d: found[contact_id] for d, found in rows.items()})
    check_tier(READ, backend.world, data, contact_id, rows)


def _check_ledger(backend: Backend, pid: str, contact_id: int, bdid: str) -> None:
    """The README's rules for one member and balance, through the reads."""
    history = _history(backend, pid, contact_id, bdid)
    completed = sum(tx["amount"] if tx["transactionType"] == "credit" else -tx["amount"]
                    for tx in history if tx["status"] == "completed")
    active = READ["getActiveBalancesApi"](backend.world, {
        "pid": pid, "contactId": contact_id, "balanceDefinitionId": bdid, "limit": 500, "includeInternal": True,
    })
    value = _balance(backend, pid, contact_id, bdid)
    assert value == pytest.approx(completed)
    assert value == pytest.approx(sum(item["amount"] for item in active["activeBalances"]))
    assert all(item["amount"] > 0 for item in active["activeBalances"])
    for sort_field in ("value", "updatedAt"):
        rows = _contact_balances(backend, pid, bdid, sort_field, "asc")
        assert [row["value"] for row in rows if row["contactId"] == contact_id] == [value]
        keys = [(row[sort_field], row["contactId"]) for row in rows]
        assert keys == sorted(keys)
    _check_invariants(backend, pid, contact_id)


# ------------------------------------------------------------------ transactions


def test_a_draft_moves_nothing_and_its_completion_moves_every_read():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    definition = data.definitions[0]
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, definition.id
    before = _balance(backend, pid, cid, bdid)

    draft = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=120, contact_id=cid,
                                               meta={"orderId": "ORD-1"})
    assert draft.transaction.status == "draft" and draft.balance is None
    assert "balance" not in transaction_answer(draft)
    assert _balance(backend, pid, cid, bdid) == before
    newest_tx = _history(backend, pid, cid, bdid)[0]
    assert (newest_tx["id"], newest_tx["status"], newest_tx["amount"], newest_tx["meta"]) == (
        draft.transaction.id, "draft", 120, {"orderId": "ORD-1"})

    done = backend.balances.complete_transaction(pid, draft.transaction.id)
    assert done.transaction.status == "completed"
    assert transaction_answer(done)["balance"] == before + 120 == _balance(backend, pid, cid, bdid)
    newest = READ["getActiveBalancesApi"](backend.world, {"pid": pid, "contactId": cid, "balanceDefinitionId": bdid,
                                                          "sort": "desc"})["activeBalances"][0]
    completed_at = done.transaction.completed_at
    assert newest["amount"] == 120
    expected = add_period(completed_at, definition.duration_value, definition.duration_unit)
    assert newest["expiresAt"] == _iso(expected)
    _check_ledger(backend, pid, cid, bdid)


def test_auto_complete_credits_at_once_and_a_negative_amount_debits_oldest_credits_first():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    before = _balance(backend, pid, cid, bdid)
    oldest = member.ledgers[0].active_balances[0]

    credit = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=30, contact_id=cid,
                                                auto_complete=True)
    assert credit.transaction.status == "completed" and transaction_answer(credit)["balance"] == before + 30

    debit = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=-1, contact_id=cid,
                                               auto_complete=True)
    assert debit.transaction.transaction_type == "debit" and debit.transaction.amount == 1
    assert transaction_answer(debit)["balance"] == before + 29
    active = current_member(backend, pid, cid).ledgers[0].active_balances
    assert active[0].id == oldest.id and active[0].amount == oldest.amount - 1  # the oldest credit paid
    _check_ledger(backend, pid, cid, bdid)


def test_transaction_type_wins_over_the_sign_and_the_subscription_id_names_the_member():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, bdid = data.id, data.definitions[0].id
    subscription = member.subscription.loyalty_subscription_id

    result = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5, transaction_type="debit",
                                                loyalty_subscription_id=subscription)
    assert (result.contact_id, result.transaction.transaction_type, result.transaction.amount) == (
        member.contact_id, "debit", 5)
    with pytest.raises(InvalidParameter, match="different members"):
        other = WORLD.member_at(data, 0 if member.contact_id != data.members.contact_ids[0] else 1)
        backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5, contact_id=other.contact_id,
                                           loyalty_subscription_id=subscription)


def test_cancel_voids_a_draft_and_finished_transactions_refuse_both_actions():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    before = _balance(backend, pid, cid, bdid)

    draft = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=40, contact_id=cid)
    cancelled = backend.balances.cancel_transaction(pid, draft.transaction.id)
    assert cancelled.transaction.status == "cancelled" and cancelled.transaction.cancelled_at is not None
    assert _balance(backend, pid, cid, bdid) == before
    with pytest.raises(InvalidParameter, match="is cancelled, not a draft"):
        backend.balances.complete_transaction(pid, draft.transaction.id)

    done = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=40, contact_id=cid,
                                              auto_complete=True)
    with pytest.raises(InvalidParameter, match="cannot be cancelled; refund it with a debit"):
        backend.balances.cancel_transaction(pid, done.transaction.id)
    with pytest.raises(InvalidParameter, match="is completed, not a draft"):
        backend.balances.complete_transaction(pid, done.transaction.id)
    assert _balance(backend, pid, cid, bdid) == before + 40
    with pytest.raises(UnknownResource, match="parameter 'tid'"):
        backend.balances.complete_transaction(pid, "00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"amount": 0}, InvalidParameter, "non-zero"),
    ({"amount": 0.2}, InvalidParameter, "rounds to 0"),
    ({"contact_id": 999_999_999}, InvalidParameter, "not subscribed"),
    ({"contact_id": None, "loyalty_subscription_id": "nobody"}, InvalidParameter, "LoyaltySubscriptionId"),
    ({"balance_definition_id": "00000000-0000-4000-8000-000000000000"}, UnknownResource, "balanceDefinitionId"),
    ({"event_time": "yesterday"}, InvalidParameter, "eventTime"),
])
def test_a_refused_transaction_changes_no_read(change, error, match):
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    if data.definitions[0].credit_rounding == "upper" and change.get("amount") == 0.2:
        change = {"amount": -0.2} if data.definitions[0].debit_rounding != "upper" else {"amount": 0}
    before = _reads(backend, pid, cid, bdid)
    arguments = {"balance_definition_id": bdid, "amount": 10, "contact_id": cid, **change}
    with pytest.raises(error, match=match):
        backend.balances.begin_transaction(pid, **arguments)
    assert _reads(backend, pid, cid, bdid) == before


def test_programs_and_definitions_must_be_published_for_transactions():
    backend = Backend(WORLD)
    inactive = _program(backend, "inactive")  # never published, so nobody could enrol
    with pytest.raises(InvalidParameter, match="is not published"):
        backend.balances.begin_transaction(inactive.id, balance_definition_id=inactive.definitions[0].id,
                                           amount=10, contact_id=WORLD.member_at(_program(backend, "active"), 0)
                                           .contact_id)
    draft = _program(backend, "draft")
    pending = next(d for d in draft.definitions if not d.published)
    with pytest.raises(InvalidParameter, match="not published yet"):
        backend.balances.begin_transaction(draft.id, balance_definition_id=pending.id, amount=10,
                                           contact_id=WORLD.member_at(draft, 0).contact_id)
    assert backend.writes == 0


def test_a_debit_beyond_the_balance_is_recorded_rejected_and_moves_nothing():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    before = _balance(backend, pid, cid, bdid)

    result = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=-(before + 1),
                                                contact_id=cid, auto_complete=True)
    assert (result.transaction.status, result.transaction.reject_reason) == ("rejected", "insufficient_balance")
    assert result.balance is None and _balance(backend, pid, cid, bdid) == before
    assert _history(backend, pid, cid, bdid)[0]["rejectReason"] == "insufficient_balance"
    # A draft that fit when created is judged again at completion.
    draft = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=-before, contact_id=cid)
    backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=-1, contact_id=cid, auto_complete=True)
    late = backend.balances.complete_transaction(pid, draft.transaction.id)
    assert (late.transaction.status, late.transaction.reject_reason) == ("rejected", "insufficient_balance")
    _check_ledger(backend, pid, cid, bdid)


def _definition(backend: Backend, pid: str, **fields: Any) -> str:
    body = {"name": "Capped", "unit": "POINTS", **fields}
    _, definition = backend.balances.create_definition(pid, body)
    _publish(backend, pid)
    return definition.id


def test_the_balance_cap_refuses_strictly_or_credits_what_fits():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid, cid = data.id, WORLD.member_at(data, 0).contact_id
    strict = _definition(backend, pid, maxAmount=100, balanceOptionAmountOvertakingStrategy="strict")
    partial = _definition(backend, pid, maxAmount=100, balanceOptionAmountOvertakingStrategy="partial")

    refused = backend.balances.begin_transaction(pid, balance_definition_id=strict, amount=150, contact_id=cid,
                                                 auto_complete=True)
    assert (refused.transaction.status, refused.transaction.reject_reason) == ("rejected", "max_amount_exceeded")
    capped = backend.balances.begin_transaction(pid, balance_definition_id=partial, amount=150, contact_id=cid,
                                                auto_complete=True)
    assert (capped.transaction.status, capped.transaction.amount, capped.balance) == ("completed", 100, 100)
    full = backend.balances.begin_transaction(pid, balance_definition_id=partial, amount=1, contact_id=cid,
                                              auto_complete=True)
    assert full.transaction.reject_reason == "max_amount_exceeded"
    assert (_balance(backend, pid, cid, strict), _balance(backend, pid, cid, partial)) == (0, 100)
    _check_ledger(backend, pid, cid, partial)


def test_per_transaction_caps_refuse():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid, cid = data.id, WORLD.member_at(data, 0).contact_id
    bdid = _definition(backend, pid, maxCreditAmountLimit=50, maxDebitAmountLimit=5)
    over = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=51, contact_id=cid,
                                              auto_complete=True)
    assert over.transaction.reject_reason == "max_credit_amount_exceeded"
    backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=50, contact_id=cid, auto_complete=True)
    debit = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=-6, contact_id=cid)
    assert debit.transaction.status == "draft"  # judged when it would move the balance
    done = backend.balances.complete_transaction(pid, debit.transaction.id)
    assert (done.transaction.status, done.transaction.reject_reason) == ("rejected", "max_debit_amount_exceeded")
    assert done.transaction.rejected_at is not None and done.balance is None
    _check_ledger(backend, pid, cid, bdid)


def test_a_published_limit_counts_completed_transactions_in_its_window():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid, cid = data.id, WORLD.member_at(data, 0).contact_id
    bdid = _definition(backend, pid)
    body = {"transactionType": "credit", "constraintType": "transaction", "durationValue": 1, "durationUnit": "day",
            "value": 2, "slidingSchedule": True}
    _, limit = backend.balances.create_limit(pid, bdid, body)
    for _ in range(3):  # not published yet: no limit
        backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1, contact_id=cid,
                                           auto_complete=True)
    _publish(backend, pid)
    refused = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1, contact_id=cid,
                                                 auto_complete=True)
    assert refused.transaction.reject_reason == "limit_exceeded"
    # An amount cap of 10 over the day: 3 already credited, 7 more fit, 8 do not.
    backend.balances.update_limit(pid, bdid, limit.id, {**body, "constraintType": "amount", "value": 10})
    assert backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=8, contact_id=cid,
                                              auto_complete=True).transaction.reject_reason == "limit_exceeded"
    assert backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=7, contact_id=cid,
                                              auto_complete=True).transaction.status == "completed"
    # Debits are not capped by a credit limit; deleting the limit lifts it.
    backend.balances.delete_limit(pid, bdid, limit.id)
    assert backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5, contact_id=cid,
                                              auto_complete=True).transaction.status == "completed"
    with pytest.raises(UnknownResource, match="blid"):
        backend.balances.delete_limit(pid, bdid, limit.id)


def test_a_draft_past_its_ttl_cannot_be_completed_but_can_be_cancelled():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    draft = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5, contact_id=cid, ttl=10)
    assert transaction_answer(draft)["expirationDate"] == _iso(draft.transaction.created_at + 10_000)
    for _ in range(10):  # each accepted write moves the logical clock one second
        backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1, contact_id=cid)
    before = _reads(backend, pid, cid, bdid)
    with pytest.raises(InvalidParameter, match="expired at"):
        backend.balances.complete_transaction(pid, draft.transaction.id)
    assert _reads(backend, pid, cid, bdid) == before
    assert backend.balances.cancel_transaction(pid, draft.transaction.id).transaction.status == "cancelled"


def test_balance_expiry_in_minutes_sets_the_credit_lifetime_when_auto_completed():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid, cid, bdid = data.id, WORLD.member_at(data, 0).contact_id, data.definitions[0].id
    result = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5, contact_id=cid,
                                                auto_complete=True, balance_expiry_minutes=90)
    assert result.transaction.balance_expiration_date == result.transaction.completed_at + 90 * 60_000
    active = current_member(backend, pid, cid).ledgers[0].active_balances[-1]
    assert active.expires_at == result.transaction.balance_expiration_date


# ------------------------------------------------------------------ tiers


def test_a_completion_moves_the_guide_tier_from_silver_to_gold_and_tells_the_listener():
    backend = Backend(WIDGET)
    data = WIDGET.program_by_name("Storefront Rewards")
    assert data is not None
    bdid = data.definitions[0].id
    tier = READ["getSubscriptionTier"]
    assert tier(backend.world, {"pid": data.id, "cid": 12345})["tierName"] == "Silver"
    heard: list[tuple[str, int, list[str]]] = []

    class Listener:
        def on_tiers_reached(self, program_id: str, contact_id: int, tiers: list) -> None:
            heard.append((program_id, contact_id, [t.name for t in tiers]))

    backend.rewards = Listener()  # type: ignore[attr-defined]
    draft = backend.balances.begin_transaction(data.id, balance_definition_id=bdid, amount=160, contact_id=12345)
    assert tier(backend.world, {"pid": data.id, "cid": 12345})["tierName"] == "Silver"
    backend.balances.complete_transaction(data.id, draft.transaction.id)
    after = tier(backend.world, {"pid": data.id, "cid": 12345})
    assert (after["tierName"], after["currentBalance"], after["nextTierName"]) == ("Gold", 500, "Platinum")
    assert heard == [(data.id, 12345, ["Gold"])]


def test_newly_reached_tiers_lists_every_threshold_crossed_upwards_only():
    data = WIDGET.program_by_name("Storefront Rewards")
    assert data is not None
    member = WIDGET.member(data, 12345)
    assert member is not None

    def at(value: int) -> Member:
        return replace(member, ledgers=(replace(member.ledgers[0], value=value), *member.ledgers[1:]))

    assert [t.name for t in newly_reached_tiers(data, at(340), at(1000))] == ["Gold", "Platinum"]
    assert newly_reached_tiers(data, at(1000), at(340)) == []
    assert newly_reached_tiers(data, at(340), at(499)) == []


def test_a_fixture_members_historic_draft_is_completable_by_its_id():
    backend = Backend(WIDGET)
    data = WIDGET.program_by_name("Storefront Rewards")
    assert data is not None
    bdid = data.definitions[0].id
    draft = next(tx for tx in _history(backend, data.id, 12345, bdid) if tx["status"] == "draft")
    result = backend.balances.complete_transaction(data.id, draft["id"])
    assert result.balance == 340 + draft["amount"]
    _check_ledger(backend, data.id, 12345, bdid)


# ------------------------------------------------------------------ any sequence


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["begin", "begin", "complete", "cancel"]), st.integers(-400, 400).filter(bool),
              st.booleans(), st.integers(0, 50)),
    min_size=1, max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPERATIONS)
def test_any_sequence_keeps_balance_history_and_active_credits_in_agreement(operations):
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    drafts: list[str] = []
    for action, amount, auto, pick in operations:
        if action == "begin":
            result = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=amount,
                                                        contact_id=cid, auto_complete=auto)
            if result.transaction.status == "draft":
                drafts.append(result.transaction.id)
        elif drafts:
            tid = drafts.pop(pick % len(drafts))
            if action == "complete":
                backend.balances.complete_transaction(pid, tid)
            else:
                backend.balances.cancel_transaction(pid, tid)
        _check_ledger(backend, pid, cid, bdid)


def test_the_same_writes_give_the_same_answers():
    def run() -> list[dict[str, Any]]:
        backend = Backend(WORLD)
        data = _program(backend, "active")
        pid, cid, bdid = data.id, _funded(data).contact_id, data.definitions[0].id
        first = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=12, contact_id=cid)
        return [
            transaction_answer(first),
            transaction_answer(backend.balances.complete_transaction(pid, first.transaction.id)),
            transaction_answer(backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=-3,
                                                                  contact_id=cid, auto_complete=True)),
        ]

    assert run() == run()


def test_reset_forgets_the_transactions_written():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid, cid, bdid = data.id, _funded(data).contact_id, data.definitions[0].id
    draft = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=12, contact_id=cid)
    backend.reset()
    with pytest.raises(UnknownResource, match="Transaction"):
        backend.balances.complete_transaction(pid, draft.transaction.id)


# ------------------------------------------------------------------ definitions


def test_a_new_definition_gives_every_member_a_zero_balance_and_waits_for_publish():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid = data.id
    changed = _funded(data)
    backend.balances.begin_transaction(pid, balance_definition_id=data.definitions[0].id, amount=3,
                                       contact_id=changed.contact_id, auto_complete=True)
    _, definition = backend.balances.create_definition(pid, {"name": "Stars", "unit": "EUR", "maxAmount": 50.5})
    now = _now(backend, pid)
    assert now.program.state == "draft"  # published, with an edit pending
    assert definition.index == len(data.definitions) and definition.max_amount == 5050
    assert definition.max_credit_amount_limit == 5050  # the caps default to the balance cap
    rows = _contact_balances(backend, pid, definition.id, "value", "desc")
    assert len(rows) == len(data.members) and {row["value"] for row in rows} == {0}
    for position in range(len(now.members)):
        member = backend.world.member_at(now, position)
        assert [ledger.balance_definition_id for ledger in member.ledgers] == [d.id for d in now.definitions]
    assert _balance(backend, pid, changed.contact_id, data.definitions[0].id) == (
        changed.ledgers[0].value + 3)
    listed = {item["id"] for item in READ["getBalanceDefinitionList"](backend.world, {"pid": pid,
                                                                                      "version": "active"})["items"]}
    assert definition.id not in listed
    assert definition.id in {item["id"] for item in READ["getBalanceDefinitionList"](backend.world,
                                                                                     {"pid": pid})["items"]}
    with pytest.raises(InvalidParameter, match="not published yet"):
        backend.balances.begin_transaction(pid, balance_definition_id=definition.id, amount=1,
                                           contact_id=changed.contact_id)


@pytest.mark.parametrize(("body", "match"), [
    ({"balanceAvailabilityDurationValue": 3}, "go together"),
    ({"balanceAvailabilityDurationValue": 3, "balanceAvailabilityDurationUnit": "month",
      "balanceExpirationDate": "31/12"}, "not both"),
    ({"balanceAvailabilityDurationModifier": "endOfPeriod"}, "needs a credit lifetime"),
    ({"minAmount": -1}, "below 0"),
    ({"minAmount": 10, "maxAmount": 5}, "at least minAmount"),
    ({"balanceExpirationDate": "31/02"}, "no day of the year"),
])
def test_contradictory_definition_rules_are_refused(body, match):
    backend = Backend(WORLD)
    pid = _program(backend, "active").id
    with pytest.raises(InvalidParameter, match=match):
        backend.balances.create_definition(pid, {"name": "Bad", "unit": "POINTS", **body})
    assert backend.world.program(pid) is WORLD.program(pid)


def test_replacing_a_definition_resets_what_the_body_leaves_out():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid = data.id
    _, created = backend.balances.create_definition(pid, {"name": "Stars", "unit": "POINTS", "maxAmount": 10,
                                                          "balanceOptionCreditRounding": "upper"})
    backend.balances.update_definition(pid, created.id, {"name": "Big stars", "unit": "POINTS"})
    read = READ["getBalanceDefinition"](backend.world, {"pid": pid, "bdid": created.id})
    assert (read["name"], read["maxAmount"], read["balanceOptionCreditRounding"]) == (
        "Big stars", 1_000_000, "natural")
    assert read["createdAt"] != read["updatedAt"]
    seeded = data.definitions[0]
    with pytest.raises(InvalidParameter, match="unit cannot change"):
        backend.balances.update_definition(pid, seeded.id, {"name": seeded.name, "unit": "EUR"})


def test_a_deleted_definition_vanishes_from_reads_and_the_others_stay_aligned():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid = data.id
    member = _funded(data)
    _, first = backend.balances.create_definition(pid, {"name": "One", "unit": "POINTS"})
    _, second = backend.balances.create_definition(pid, {"name": "Two", "unit": "POINTS"})
    _publish(backend, pid)
    backend.balances.begin_transaction(pid, balance_definition_id=second.id, amount=7, contact_id=member.contact_id,
                                       auto_complete=True)
    before = {d.id: _balance(backend, pid, member.contact_id, d.id) for d in data.definitions}
    backend.balances.delete_definition(pid, first.id)

    with pytest.raises(UnknownResource):
        READ["getBalanceDefinition"](backend.world, {"pid": pid, "bdid": first.id})
    with pytest.raises(UnknownResource):
        READ["getContactBalances"](backend.world, {"pid": pid, "balanceDefinitionId": first.id})
    listed = [item["id"] for item in READ["getBalanceDefinitionList"](backend.world, {"pid": pid})["items"]]
    assert first.id not in listed and second.id in listed
    totals = READ["getSubscriptionBalances"](backend.world, {"pid": pid, "cid": member.contact_id,
                                                             "includeInternal": True})["balance"]
    assert first.id not in {item["balanceDefinitionId"] for item in totals}
    assert {d: _balance(backend, pid, member.contact_id, d) for d in before} == before
    assert _balance(backend, pid, member.contact_id, second.id) == 7
    with pytest.raises(UnknownResource, match="bdid"):
        backend.balances.delete_definition(pid, first.id)
    with pytest.raises(UnknownResource, match="balanceDefinitionId"):
        backend.balances.begin_transaction(pid, balance_definition_id=first.id, amount=1,
                                           contact_id=member.contact_id)


def test_a_definition_ranking_a_tier_group_cannot_be_deleted():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    group = data.tier_groups[0]
    with pytest.raises(InvalidParameter, match="tier group"):
        backend.balances.delete_definition(data.id, group.balance_definition_id)
    assert backend.world.program(data.id) is data


# ------------------------------------------------------------------ member balances and orders


def test_a_balance_opens_once_on_a_definition_created_after_the_subscription():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid, cid = data.id, WORLD.member_at(data, 0).contact_id
    _, definition = backend.balances.create_definition(pid, {"name": "Later", "unit": "POINTS"})
    opened = backend.balances.open_balance(pid, cid, definition.id)
    assert (opened.amount, opened.contact_id) == (0, cid)
    assert current_member(backend, pid, cid).ledgers[definition.index].opened_at == opened.created_at
    with pytest.raises(InvalidParameter, match="already has a balance"):
        backend.balances.open_balance(pid, cid, definition.id)
    with pytest.raises(InvalidParameter, match="already has a balance"):
        backend.balances.open_balance(pid, _funded(data).contact_id, data.definitions[0].id)
    with pytest.raises(UnknownResource, match="cid"):
        backend.balances.open_balance(pid, 999_999_999, definition.id)


def test_an_order_is_a_draft_completed_or_cancelled_through_its_transaction():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    before = _balance(backend, pid, cid, bdid)
    order = backend.balances.create_order(pid, balance_definition_id=bdid, amount=25, contact_id=cid,
                                          due_at="2026-11-02T00:00:00Z", meta={"orderId": "ORD-9"})
    assert order.transaction.transaction.status == "draft" and order.amount == 25
    assert _balance(backend, pid, cid, bdid) == before
    done = backend.balances.complete_transaction(pid, order.transaction.transaction.id)
    assert done.balance == before + 25

    refund = backend.balances.create_order(pid, balance_definition_id=bdid, amount=-25, contact_id=cid,
                                           due_at="2026-11-02T00:00:00Z")
    assert (refund.amount, refund.transaction.transaction.transaction_type) == (-25, "debit")
    backend.balances.cancel_transaction(pid, refund.transaction.transaction.id)
    assert _balance(backend, pid, cid, bdid) == before + 25
    _check_ledger(backend, pid, cid, bdid)


def test_an_order_is_judged_when_completed_and_an_expired_one_is_refused():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    too_much = backend.balances.create_order(pid, balance_definition_id=bdid, amount=-(member.ledgers[0].value + 1),
                                             contact_id=cid, due_at="2026-11-02T00:00:00Z")
    assert too_much.transaction.transaction.status == "draft"
    refused = backend.balances.complete_transaction(pid, too_much.transaction.transaction.id)
    assert refused.transaction.reject_reason == "insufficient_balance"
    before = _reads(backend, pid, cid, bdid)
    with pytest.raises(InvalidParameter, match="expiresAt"):
        backend.balances.create_order(pid, balance_definition_id=bdid, amount=5, contact_id=cid,
                                      due_at="2026-11-02T00:00:00Z", expires_at="2026-10-01T00:00:00Z")
    assert _reads(backend, pid, cid, bdid) == before


def test_concurrent_credits_to_one_member_all_count():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    before, count = _balance(backend, pid, cid, bdid), len(member.ledgers[0].transactions)

    def credit() -> None:
        for _ in range(10):
            backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1, contact_id=cid,
                                               auto_complete=True)

    threads = [threading.Thread(target=credit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _balance(backend, pid, cid, bdid) == before + 80
    assert len(current_member(backend, pid, cid).ledgers[0].transactions) == count + 80
    assert backend.writes == 80
    _check_ledger(backend, pid, cid, bdid)


def test_a_tier_given_by_hand_is_where_newly_reached_tiers_start():
    backend = Backend(WIDGET)
    data = WIDGET.program_by_name("Storefront Rewards")
    assert data is not None
    group = data.tier_groups[0]
    bronze = data.tiers_of(group)[0]
    backend.tiers.assign(data.id, 12345, bronze.id)
    before = current_member(backend, data.id, 12345)
    backend.balances.begin_transaction(data.id, balance_definition_id=data.definitions[0].id, amount=200,
                                       contact_id=12345, auto_complete=True)
    after = current_member(backend, data.id, 12345)
    assert [t.name for t in newly_reached_tiers(_now(backend, data.id), before, after)] == ["Silver", "Gold"]


@pytest.mark.parametrize(("write", "match"), [
    (lambda b, pid, bdid, cid: b.balances.create_limit(pid, bdid, {
        "transactionType": "debit", "constraintType": "transaction", "durationValue": 1, "durationUnit": "day",
        "value": 14245259812216489639936}), "body.value"),
    (lambda b, pid, bdid, cid: b.balances.create_limit(pid, bdid, {
        "transactionType": "credit", "constraintType": "amount", "durationValue": 1, "durationUnit": "day",
        "value": 24560870944337847645507355148288}), "body.value"),
    (lambda b, pid, bdid, cid: b.balances.create_limit(pid, bdid, {
        "transactionType": "credit", "constraintType": "amount", "durationValue": 1012109980, "durationUnit": "month",
        "value": 5}), "body.durationValue"),
    (lambda b, pid, bdid, cid: b.balances.create_definition(pid, {
        "name": "Forever", "unit": "POINTS", "balanceAvailabilityDurationValue": 10**9,
        "balanceAvailabilityDurationUnit": "year"}), "balanceAvailabilityDurationValue"),
    (lambda b, pid, bdid, cid: b.balances.create_definition(pid, {"name": "Huge", "unit": "EUR", "maxAmount": 1e300}),
     "body.maxAmount"),
    (lambda b, pid, bdid, cid: b.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1e300,
                                                            contact_id=cid), "body.amount"),
    (lambda b, pid, bdid, cid: b.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5,
                                                            contact_id=cid, ttl=10**15), "body.ttl"),
    (lambda b, pid, bdid, cid: b.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5, contact_id=cid,
                                                            auto_complete=True, balance_expiry_minutes=10**15),
     "body.balanceExpiryInMinutes"),
])
def test_values_beyond_what_dates_and_columns_hold_are_refused_by_name(write, match):
    backend = Backend(WORLD)
    data = _program(backend, "active")
    cid, bdid = WORLD.member_at(data, 0).contact_id, data.definitions[0].id
    before = _reads(backend, data.id, cid, bdid)
    with pytest.raises(InvalidParameter, match=match):
        write(backend, data.id, bdid, cid)
    assert _reads(backend, data.id, cid, bdid) == before


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 19), st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=40))
def test_member_orders_stay_sorted_with_ties_by_contact_after_any_summary_changes(changes):
    table = _program(WORLD, "active").members.copy()
    for position, value, moment in changes:
        table.set_summary(position % len(table), 0, value, 1, moment)  # few distinct values: many ties
    for field, column in (("value", table.values[0]), ("updatedAt", table.updated_at[0])):
        assert list(table.order(0, field)) == sorted(range(len(table)), key=lambda p, c=column: (c[p], p))


def test_a_limit_window_counts_what_completed_in_it_whatever_the_history_length():
    """The carried-along completions agree with a plain count over the history, after many writes."""
    from mock_server.store.balance_rules import Completions

    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    drafts = [backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=2, contact_id=cid)
              for _ in range(5)]
    for step in range(30):
        backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1 if step % 3 else -1,
                                           contact_id=cid, auto_complete=True)
    for draft in drafts[:3]:  # created before the others, completed after them
        backend.balances.complete_transaction(pid, draft.transaction.id)
    ledger = current_member(backend, pid, cid).ledgers[0]
    carried = backend.balances._completions[(pid, cid, bdid)]
    assert carried.ledger is ledger
    now = backend.clock.now()
    for start in (now - 40_000, now - 10_000, now - 3_000, 0):
        for kind in ("credit", "debit"):
            done = [tx for tx in ledger.transactions if tx.status == "completed" and tx.transaction_type == kind
                    and start < tx.completed_at <= now]
            expected = (len(done), sum(tx.amount for tx in done))
            assert carried.within(kind, start, now) == expected == Completions.of(ledger).within(kind, start, now)


def test_another_area_records_a_completed_debit_inside_its_own_write():
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, definition = data.id, member.contact_id, data.definitions[0]
    before = _balance(backend, pid, cid, definition.id)
    with backend.writing():
        now = backend.stamp()
        result = backend.balances.record(data, member, definition, "debit", 10, now, {"source": "reward"})
    assert (result.transaction.status, result.balance) == ("completed", before - 10)
    assert _history(backend, pid, cid, definition.id)[0]["meta"] == {"source": "reward"}
    _check_ledger(backend, pid, cid, definition.id)


@pytest.mark.parametrize(("rules", "expires"), [
    ({"balanceAvailabilityDurationModifier": "endOfPeriod"}, "2026-12-31T23:59:59.999Z"),
    ({"balanceAvailabilityDurationModifier": "startOfPeriod"}, "2026-12-01T00:00:00.000Z"),
    ({"balanceAvailabilityDurationModifier": "noModification"}, "2026-12-01T00:00:0"),  # a month after, to the tick
])
def test_a_credit_lapses_as_its_definition_says(rules, expires):
    backend = Backend(WORLD)
    data = _program(backend, "active")
    pid, cid = data.id, WORLD.member_at(data, 0).contact_id
    bdid = _definition(backend, pid, balanceAvailabilityDurationValue=1, balanceAvailabilityDurationUnit="month",
                       **rules)
    result = backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=5, contact_id=cid,
                                                auto_complete=True)
    assert transaction_answer(result)["completedAt"].startswith("2026-11-01T00:00:0")  # the logical clock
    active = READ["getActiveBalancesApi"](backend.world, {"pid": pid, "contactId": cid, "balanceDefinitionId": bdid})
    assert active["activeBalances"][0]["expiresAt"].startswith(expires)


def test_a_transaction_another_area_added_to_a_ledger_is_found_by_its_id():
    """E.g. a reward's debit written by the rewards service: completing it is refused as completed, not unknown."""
    backend = Backend(WORLD)
    data = _program(backend, "active")
    member = _funded(data)
    pid, cid, bdid = data.id, member.contact_id, data.definitions[0].id
    backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1, contact_id=cid)  # indexed now
    current = current_member(backend, pid, cid)
    ledger = current.ledgers[0]
    debit = replace(ledger.transactions[-1], id="0e0e0e0e-0000-4000-8000-000000000001", transaction_type="debit",
                    status="completed", completed_at=backend.clock.now())
    from mock_server.store.balance_rules import apply_completed, with_ledger

    with backend.writing():
        backend.stamp()
        table = backend.writable(_now(backend, pid))
        backend.put_member(table, with_ledger(current, 0, apply_completed(ledger, debit, "x", known=False)))
    backend.balances.begin_transaction(pid, balance_definition_id=bdid, amount=1, contact_id=cid)
    with pytest.raises(InvalidParameter, match="is completed, not a draft"):
        backend.balances.complete_transaction(pid, debit.id)
