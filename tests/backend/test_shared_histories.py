"""A ledger's revisions share their history (`Prefix`, store/prefix.py) instead of each write copying it.

What a client relies on: every answer and every read is byte for byte what the same writes gave when each
write copied the member's history into a new tuple, and a ledger revision, once made, never changes
(a read holding it, the history cache keyed by it, a refused write, another organisation's fork writing
the same member). The reference run below keeps the very same rules and only turns what they return into
tuples, the representation before the change.
"""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mock_server.backend.balances as balances_module
from mock_server.backend import Backend
from mock_server.errors import ApiError
from mock_server.routes.balance import transaction_answer
from mock_server.seeding import build_world
from mock_server.store.models import HOUR, Ledger
from mock_server.store.prefix import Prefix
from mock_server.store.world import ProgramData
from tests.backend.support import current_member
from tests.support.handlers import contract_handlers

WORLD = build_world(seed=1, contacts=20)
READ = contract_handlers()

# (kind, amount, option): a credit or debit completed at once, a draft, completing or cancelling the n-th draft,
# a refused request (amount 0), the clock moved on (credits given a lifetime of minutes lapse).
STEPS = st.lists(st.one_of(
    st.tuples(st.sampled_from(["credit", "debit", "draft"]), st.integers(-80, 80).filter(bool),
              st.sampled_from([None, 30, 600])),
    st.tuples(st.sampled_from(["complete", "cancel"]), st.integers(0, 9), st.none()),
    st.tuples(st.just("refused"), st.just(0), st.none()),
    st.tuples(st.just("clock"), st.integers(1, 12), st.none()),
), min_size=1, max_size=30)


def _tuples(ledger: Ledger) -> Ledger:
    return replace(ledger, transactions=tuple(ledger.transactions), active_balances=tuple(ledger.active_balances))


def _program(backend: Backend) -> ProgramData:
    return next(data for data in backend.world.programs if data.program.state == "active")


def _reads(backend: Backend, pid: str, contact_id: int, bdid: str) -> bytes:
    """What a client reads of the member's balance: history both ways, active balances, its total."""
    ids = {"pid": pid, "contactId": contact_id, "balanceDefinitionId": bdid, "limit": 500, "includeInternal": True}
    return orjson.dumps([
        READ["getTransactionHistoryApi"](backend.world, ids),
        READ["getTransactionHistoryApi"](backend.world, {**ids, "sort": "desc", "status": "completed"}),
        READ["getActiveBalancesApi"](backend.world, ids),
        READ["getSubscriptionBalances"](backend.world, {"pid": pid, "cid": contact_id, "includeInternal": True}),
    ])


def _run(backend: Backend, steps: list[tuple[str, int, int | None]], kept: list[tuple[Ledger, Ledger]]) -> list[bytes]:
    """The steps on one member; every answer and read as bytes. `kept`: each ledger revision seen, with a copy
    of it in tuples made when it was seen."""
    data = _program(backend)
    pid, bdid, index = data.id, data.definitions[0].id, data.definitions[0].index
    contact_id = data.members.contact_ids[0]
    drafts: list[str] = []
    out: list[bytes] = []
    for kind, amount, option in steps:
        try:
            if kind in ("credit", "debit", "draft", "refused"):
                result = backend.balances.begin_transaction(
                    pid, balance_definition_id=bdid, amount=abs(amount) if kind != "debit" else -abs(amount),
                    contact_id=contact_id, auto_complete=kind in ("credit", "debit"),
                    balance_expiry_minutes=option if kind == "credit" else None,
                    meta={"step": len(out)})
                if kind == "draft":
                    drafts.append(result.transaction.id)
            elif kind == "clock":
                backend.advance_clock(backend.clock.now() + amount * HOUR)
                result = None
            else:
                if not drafts:
                    continue
                tid = drafts[amount % len(drafts)]
                write = backend.balances.complete_transaction if kind == "complete" else None
                result = (write or backend.balances.cancel_transaction)(pid, tid)
            out.append(orjson.dumps(transaction_answer(result)) if result is not None else b"clock")
        except ApiError as error:  # refused: nothing changes
            out.append(f"{error.status} {error}".encode())
        ledger = current_member(backend, pid, contact_id).ledgers[index]
        kept.append((ledger, _tuples(ledger)))
        out.append(_reads(backend, pid, contact_id, bdid))
    return out


@settings(max_examples=40, deadline=None)
@given(STEPS)
def test_answers_and_reads_are_those_of_ledgers_copied_into_tuples(steps):
    kept: list[tuple[Ledger, Ledger]] = []
    shared = _run(Backend(WORLD), steps, kept)
    with pytest.MonkeyPatch.context() as patch:  # the same rules; what they return turned into tuples
        for name in ("apply_completed", "with_transaction", "with_replaced"):
            rule = getattr(balances_module, name)
            patch.setattr(balances_module, name, lambda *args, rule=rule, **kw: _tuples(rule(*args, **kw)))
        copied = _run(Backend(WORLD), steps, [])
    assert shared == copied
    for revision, as_tuples in kept:  # no later write changed what an earlier revision reads
        assert revision == as_tuples and tuple(revision.transactions) == as_tuples.transactions
        assert tuple(revision.active_balances) == as_tuples.active_balances
    if any(kind in ("credit", "debit", "draft") for kind, _, _ in steps):  # the shared histories were exercised
        assert any(isinstance(revision.transactions, Prefix) for revision, _ in kept)


def test_two_organisations_writing_one_shared_member_each_see_only_their_own_writes():
    """A fork made from a written world shares its members' histories: both extend the same revision."""
    first = Backend(WORLD)
    data = _program(first)
    pid, bdid = data.id, data.definitions[0].id
    contact_id = WORLD.member_at(data, 0).contact_id
    for amount in (5, 6, 7):
        first.balances.begin_transaction(pid, balance_definition_id=bdid, amount=amount, contact_id=contact_id,
                                         auto_complete=True)
    before = current_member(first, pid, contact_id).ledgers[0]
    second = Backend(first.world)  # forks the written world: the member's records are shared
    ours = first.balances.begin_transaction(pid, balance_definition_id=bdid, amount=11, contact_id=contact_id,
                                            auto_complete=True)
    theirs = second.balances.begin_transaction(pid, balance_definition_id=bdid, amount=13, contact_id=contact_id,
                                               auto_complete=True)
    for backend, result in ((first, ours), (second, theirs)):
        ledger = current_member(backend, pid, contact_id).ledgers[0]
        assert tuple(ledger.transactions) == (*before.transactions, result.transaction)
        assert ledger.active_balances[:-1] == tuple(before.active_balances)
        assert ledger.active_balances[-1].amount == result.transaction.amount
        assert ledger.value == before.value + result.transaction.amount
    assert before == _tuples(before) and before.transactions[-1].amount == 7  # the revision both extended
