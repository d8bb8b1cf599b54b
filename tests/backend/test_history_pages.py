"""Transaction-history pages after writes: the same bytes as a page computed from the ledger without the cache.

The history read keeps each ledger revision's filtered orders and its records' JSON (store/history.py). A
stale or shared cache would show as a page that differs from one built here from the member's ledger as it
is now, by the rule the handler documents: filter by status and type, order by (createdAt, id), slice.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.backend import Backend
from mock_server.errors import ApiError
from mock_server.routes import all_handlers
from mock_server.routes.balance import transaction_item
from mock_server.seeding import build_world
from mock_server.store.models import DAY, BalanceDefinition, Member
from mock_server.store.world import ProgramData
from tests.backend.support import current_member

WORLD = build_world(seed=2, contacts=12)
HISTORY = all_handlers()["getTransactionHistoryApi"]
STATUSES = (None, "draft", "completed", "rejected", "cancelled", "expired")
KINDS = (None, "credit", "debit")
PAGES = ((0, 500), (0, 3), (2, 5), (40, 10))  # (offset, limit)


def _setting(backend: Backend) -> tuple[ProgramData, list[BalanceDefinition], Member]:
    """A published program, its definitions, and its member with the longest history on the first one."""
    data = next(d for d in backend.world.programs if d.program.state == "active" and len(d.members))
    definitions = [d for d in data.definitions if d.published and not d.deleted]
    counts = data.members.counts[definitions[0].index]
    position = max(range(len(data.members)), key=counts.__getitem__)
    return data, definitions, backend.world.member_at(data, position)


def _uncached(member: Member, data: ProgramData, definition: BalanceDefinition, query: dict[str, Any]) -> bytes:
    """The page as the documented rule gives it, from the member's ledger as it is now."""
    status, kind, subscription = query.get("status"), query.get("transactionType"), query.get("loyaltySubscriptionId")
    found = [tx for tx in member.ledgers[definition.index].transactions
             if (status is None or tx.status == status) and (kind is None or tx.transaction_type == kind)]
    if subscription not in (None, member.subscription.loyalty_subscription_id):
        found = []
    found.sort(key=lambda tx: (tx.created_at, tx.id), reverse=query["sort"] == "desc")
    shown = found[query["offset"]: query["offset"] + query["limit"]]
    return orjson.dumps({
        "loyaltyProgramId": data.id, "balanceDefinitionId": definition.id, "contactId": member.contact_id,
        "count": len(found), "transactionHistory": [transaction_item(tx, definition.scale) for tx in shown],
    })


def _queries(member: Member, data: ProgramData, definition: BalanceDefinition) -> list[dict[str, Any]]:
    base = {"pid": data.id, "contactId": member.contact_id, "balanceDefinitionId": definition.id,
            "sortField": "createdAt"}
    queries = []
    for status, kind, sort, (offset, limit) in product(STATUSES, KINDS, ("asc", "desc"), PAGES):
        query = {**base, "sort": sort, "offset": offset, "limit": limit}
        if status is not None:
            query["status"] = status
        if kind is not None:
            query["transactionType"] = kind
        queries.append(query)
    own = member.subscription.loyalty_subscription_id
    queries += [{**base, "sort": "desc", "offset": 0, "limit": 50, "loyaltySubscriptionId": subscription}
                for subscription in (own, "not-" + own)]
    return queries


def _check_pages(backend: Backend, pid: str, contact_id: int, definitions: list[BalanceDefinition]) -> None:
    """Every filter, direction and page of the member's history answers the uncached page's bytes."""
    data = backend.world.program(pid)
    assert data is not None
    member = backend.world.member(data, contact_id)
    assert member is not None
    for definition in definitions:
        for query in _queries(member, data, definition):
            assert orjson.dumps(HISTORY(backend.world, query)) == _uncached(member, data, definition, query), query


def test_pages_after_every_kind_of_write_answer_the_uncached_bytes():
    backend = Backend(WORLD)
    data, definitions, member = _setting(backend)
    pid, cid = data.id, member.contact_id
    balances = backend.balances
    _check_pages(backend, pid, cid, definitions)  # fills the cache for the seeded revision
    steps = [
        lambda d: balances.begin_transaction(pid, balance_definition_id=d.id, amount=7, contact_id=cid,
                                             auto_complete=True, meta={"orderId": "A-1"}),
        lambda d: balances.begin_transaction(pid, balance_definition_id=d.id, amount=3, contact_id=cid),
        lambda d: balances.complete_transaction(pid, _newest(backend, pid, cid, d, "draft")),
        lambda d: balances.begin_transaction(pid, balance_definition_id=d.id, amount=-2, contact_id=cid),
        lambda d: balances.cancel_transaction(pid, _newest(backend, pid, cid, d, "draft")),
        lambda d: balances.begin_transaction(pid, balance_definition_id=d.id, amount=-10**9, contact_id=cid,
                                             auto_complete=True),  # beyond the balance: recorded rejected
    ]
    for definition in definitions:
        for step in steps:
            step(definition)
            _check_pages(backend, pid, cid, definitions)
    statuses = {tx.status for ledger in current_member(backend, pid, cid).ledgers for tx in ledger.transactions}
    assert {"draft", "completed", "rejected", "cancelled"} <= statuses  # the steps covered each state
    # Credits lapse when the clock moves past them: many records of the ledger change at once.
    backend.advance_clock(backend.clock.now() + 3 * 365 * DAY)
    ledger = current_member(backend, pid, cid).ledgers[definitions[0].index]
    assert "expired" in {tx.status for tx in ledger.transactions}
    _check_pages(backend, pid, cid, definitions)
    backend.reset()
    _check_pages(backend, pid, cid, definitions)


def test_a_page_read_twice_reuses_its_order_and_records_until_a_write():
    backend = Backend(WORLD)
    data, definitions, member = _setting(backend)
    definition = definitions[0]
    query = {"pid": data.id, "contactId": member.contact_id, "balanceDefinitionId": definition.id,
             "sortField": "createdAt", "sort": "desc", "offset": 0, "limit": 500}
    first, again = HISTORY(backend.world, query), HISTORY(backend.world, query)
    assert first["transactionHistory"] and all(
        a is b for a, b in zip(first["transactionHistory"], again["transactionHistory"], strict=True))
    history = backend.world.history(data, member, definition.index)
    assert history.selection(None, None, True) is history.selection(None, None, True)

    backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, amount=5,
                                       contact_id=member.contact_id, auto_complete=True)
    after = HISTORY(backend.world, query)
    # The new credit is rendered; the records the write left as they were keep their JSON.
    assert after["count"] == first["count"] + 1
    assert all(a is b for a, b in zip(after["transactionHistory"][1:], first["transactionHistory"], strict=True))


def _newest(backend: Backend, pid: str, contact_id: int, definition: BalanceDefinition, status: str) -> str:
    ledger = current_member(backend, pid, contact_id).ledgers[definition.index]
    return next(tx.id for tx in reversed(ledger.transactions) if tx.status == status)


# One write of a random sequence: (kind, amount); "complete"/"cancel" act on the member's newest draft.
writes = st.tuples(st.sampled_from(["credit", "debit", "draft", "complete", "cancel"]),
                   st.integers(min_value=1, max_value=40))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(writes, min_size=1, max_size=8), which=st.integers(min_value=0, max_value=11))
def test_random_write_sequences_keep_every_page_uncached_equal(sequence, which):
    backend = Backend(WORLD)
    data, definitions, _ = _setting(backend)
    cid = data.members.contact_ids[which % len(data.members)]
    definition = definitions[0]
    for kind, amount in sequence:
        try:
            if kind in ("credit", "debit"):
                backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, contact_id=cid,
                                                   amount=amount if kind == "credit" else -amount,
                                                   auto_complete=True)
            elif kind == "draft":
                backend.balances.begin_transaction(data.id, balance_definition_id=definition.id, contact_id=cid,
                                                   amount=amount)
            else:
                drafts = [tx.id for tx in current_member(backend, data.id, cid).ledgers[definition.index].transactions
                          if tx.status == "draft"]
                if drafts:
                    action = backend.balances.complete_transaction if kind == "complete" else \
                        backend.balances.cancel_transaction
                    action(data.id, drafts[-1])
        except ApiError:
            pass  # a refused write (a cap, a limit, an expired draft) changes nothing: the pages must agree still
        _check_pages(backend, data.id, cid, [definition])
