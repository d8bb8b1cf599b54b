"""Properties of the history generator, over arbitrary summaries (balance, count, last change).

Whatever summary seeding draws, the generated history must add up to it and
respect the timeline rules: nothing before the subscription, nothing after the
last change, expired credits lapsed before the clock and before anything that
counts, completed credits still alive, and debits never overdrawing.
"""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.seeding.catalog import INTERNAL_PROFILE, MONEY_PROFILE, POINTS_PROFILE
from mock_server.seeding.ledger import generate_ledger, window_start
from mock_server.store.models import DAY, HOUR, REFERENCE_NOW, BalanceDefinition, freeze

NOW = REFERENCE_NOW
BASE = BalanceDefinition(
    id="def", program_id="p", index=0, name="Points", description="", image_ref="", meta=freeze({}),
    unit="POINTS", min_amount=0, max_amount=1_000_000, max_credit_amount_limit=1_000_000,
    max_debit_amount_limit=1_000_000, overtaking_strategy="strict", credit_rounding="natural",
    debit_rounding="natural", duration_value=None, duration_unit=None, duration_modifier=None,
    expiration_date=None, created_at=0, updated_at=0, published=True,
)
DEFINITIONS = st.sampled_from([
    (BASE, POINTS_PROFILE),
    (replace(BASE, duration_value=12, duration_unit="month"), POINTS_PROFILE),
    (replace(BASE, duration_value=1, duration_unit="year"), INTERNAL_PROFILE),
    (replace(BASE, unit="EUR", max_amount=1_000_000, duration_value=6, duration_unit="month"), MONEY_PROFILE),
    (replace(BASE, duration_value=3, duration_unit="week"), POINTS_PROFILE),
    # A yearly expiry day instead of a lifetime (the seeded active program's money definition).
    (replace(BASE, unit="EUR", expiration_date="01/01"), MONEY_PROFILE),
    (replace(BASE, expiration_date="29/02"), POINTS_PROFILE),
    (replace(BASE, expiration_date="15/06"), POINTS_PROFILE),
])


@st.composite
def summaries(draw):
    definition, profile = draw(DEFINITIONS)
    subscribed = NOW - draw(st.integers(min_value=2 * DAY, max_value=6 * 365 * DAY))
    count = draw(st.integers(min_value=0, max_value=60))
    value = 0 if count == 0 else draw(st.one_of(st.just(0), st.just(1), st.integers(0, 900_000)))
    start = window_start(definition, subscribed, NOW)
    updated = subscribed if count == 0 else draw(st.integers(min_value=start, max_value=NOW - HOUR))
    return definition, profile, subscribed, count, value, updated, draw(st.integers(0, 2**32))


@settings(max_examples=300, deadline=None)
@given(summaries())
def test_history_adds_up_and_respects_the_timeline(summary):
    definition, profile, subscribed, count, value, updated, seed = summary
    ledger = generate_ledger(
        random.Random(seed), definition, profile,
        subscribed_at=subscribed, count=count, value=value, updated_at=updated, now=NOW,
    )
    txs = ledger.transactions
    assert len(txs) == count
    assert ledger.value == value
    assert ledger.updated_at == updated
    assert sum(active.amount for active in ledger.active_balances) == value
    assert all(active.amount > 0 for active in ledger.active_balances)
    assert len({tx.id for tx in txs}) == count
    counted_starts = [tx.created_at for tx in txs if tx.status != "expired"]
    running = 0
    for tx in sorted((tx for tx in txs if tx.counts), key=lambda tx: tx.completed_at):
        running += tx.signed_amount
        assert running >= 0, "a debit overdrew the balance"
    for tx in txs:
        assert tx.amount > 0
        assert subscribed <= tx.created_at <= tx.last_event_at <= updated
        assert (tx.completed_at is not None) == (tx.status in ("completed", "expired"))
        assert (tx.cancelled_at is not None) == (tx.status == "cancelled")
        assert (tx.rejected_at is not None) == (tx.status == "rejected")
        assert (tx.reject_reason is not None) == (tx.status == "rejected")
        if tx.status in ("completed", "expired") and tx.transaction_type == "credit":
            # Every credit lapses when its definition says: after its lifetime, or on the next yearly day.
            assert tx.balance_expiration_date == definition.credit_expiry(tx.completed_at)
        if tx.status == "expired":
            assert tx.transaction_type == "credit"
            assert tx.balance_expiration_date < NOW
            assert tx.balance_expiration_date < min(counted_starts)
        elif tx.status == "completed" and tx.transaction_type == "credit":
            expiry = tx.balance_expiration_date
            assert (expiry is None) == (definition.duration_value is None and definition.expiration_date is None)
            assert expiry is None or expiry > NOW
        else:
            assert tx.balance_expiration_date is None
    # What is left of a credit lapses with it (active balances' expiresAt agree with the history).
    for active in ledger.active_balances:
        assert active.expires_at == definition.credit_expiry(active.created_at)
        assert active.expires_at is None or active.expires_at > NOW


@settings(max_examples=50, deadline=None)
@given(summaries())
def test_history_is_a_function_of_its_seed(summary):
    definition, profile, subscribed, count, value, updated, seed = summary

    def make():
        return generate_ledger(
            random.Random(seed), definition, profile,
            subscribed_at=subscribed, count=count, value=value, updated_at=updated, now=NOW,
        )

    assert make() == make()
