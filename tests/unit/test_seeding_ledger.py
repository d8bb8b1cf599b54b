"""Turning a balance summary into a history: FIFO settlement and the generator's edge cases."""

import random
from dataclasses import replace

import pytest

from mock_server.seeding.catalog import POINTS_PROFILE
from mock_server.seeding.ledger import LedgerError, generate_ledger, settle, window_start
from mock_server.store.models import (
    DAY,
    REFERENCE_NOW,
    BalanceDefinition,
    Transaction,
    add_period,
    freeze,
)

NOW = REFERENCE_NOW
POINTS_DEF = BalanceDefinition(
    id="def", program_id="p", index=0, name="Points", description="", image_ref="", meta=freeze({}),
    unit="POINTS", min_amount=0, max_amount=1_000_000, max_credit_amount_limit=1_000_000,
    max_debit_amount_limit=1_000_000, overtaking_strategy="strict", credit_rounding="natural",
    debit_rounding="natural", duration_value=12, duration_unit="month", duration_modifier="noModification",
    expiration_date=None, created_at=0, updated_at=0, published=True,
)


def _tx(kind, amount, at, status="completed", expires=None):
    return Transaction(
        id="", balance_definition_id="def", transaction_type=kind, amount=amount, status=status, created_at=at,
        completed_at=at if status in ("completed", "expired") else None, cancelled_at=None, rejected_at=None,
        reject_reason=None, balance_expiration_date=expires, meta=freeze({}),
    )


def _ids():
    counter = iter(range(1000))
    return lambda: f"id-{next(counter)}"


def test_settle_consumes_oldest_credits_first():
    history = [
        _tx("credit", 100, 1, expires=NOW + 1),
        _tx("credit", 50, 2, expires=NOW + 2),
        _tx("debit", 120, 3),
        _tx("credit", 30, 4, status="cancelled"),
        _tx("credit", 40, 5, expires=NOW + 3),
    ]
    ledger = settle(POINTS_DEF, history, _ids(), subscribed_at=0)
    assert ledger.value == 70
    assert [(a.amount, a.expires_at) for a in ledger.active_balances] == [(30, NOW + 2), (40, NOW + 3)]
    assert all(tx.id for tx in ledger.transactions)
    assert ledger.updated_at == 5


def test_settle_ignores_expired_credits_and_refuses_overdrafts():
    expired = _tx("credit", 500, 1, status="expired", expires=10)
    ledger = settle(POINTS_DEF, [expired, _tx("credit", 20, 20, expires=NOW + 1)], _ids(), subscribed_at=0)
    assert ledger.value == 20
    assert ledger.updated_at == 20
    with pytest.raises(LedgerError, match="exceeds"):
        settle(POINTS_DEF, [_tx("credit", 10, 1), _tx("debit", 11, 2)], _ids(), subscribed_at=0)


def test_settle_of_nothing_is_zero_since_subscription():
    ledger = settle(POINTS_DEF, [], _ids(), subscribed_at=123)
    assert (ledger.value, ledger.updated_at, ledger.transactions, ledger.active_balances) == (0, 123, (), ())


def test_window_start_keeps_counted_credits_alive_at_the_clock():
    subscribed = NOW - 5 * 365 * DAY
    start = window_start(POINTS_DEF, subscribed, NOW)
    assert add_period(start, 12, "month") > NOW
    never = replace(POINTS_DEF, duration_value=None, duration_unit=None)
    assert window_start(never, subscribed, NOW) == subscribed


@pytest.mark.parametrize(
    ("count", "value"),
    [(1, 1), (1, 0), (2, 0), (3, 0), (5, 1), (40, 7), (12, 250_000), (60, 3_000)],
)
def test_generated_ledger_matches_its_summary(count, value):
    subscribed = NOW - 3 * 365 * DAY
    updated = NOW - 3 * DAY
    ledger = generate_ledger(
        random.Random(count * 1000 + value), POINTS_DEF, POINTS_PROFILE,
        subscribed_at=subscribed, count=count, value=value, updated_at=updated, now=NOW,
    )
    assert len(ledger.transactions) == count
    assert ledger.value == value
    assert ledger.updated_at == updated
    assert sum(a.amount for a in ledger.active_balances) == value


def test_generated_ledger_without_transactions_must_be_zero():
    with pytest.raises(LedgerError):
        generate_ledger(random.Random(1), POINTS_DEF, POINTS_PROFILE, subscribed_at=0, count=0, value=5,
                        updated_at=0, now=NOW)
    empty = generate_ledger(random.Random(1), POINTS_DEF, POINTS_PROFILE, subscribed_at=77, count=0, value=0,
                            updated_at=77, now=NOW)
    assert empty.transactions == () and empty.updated_at == 77
