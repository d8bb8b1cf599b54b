"""A member's transactions on one balance definition, made to add up to a given summary.

Seeding draws, for every member and definition, only a summary: the balance,
the number of transactions and the time of the last change. `generate_ledger`
turns such a summary into the full history, deterministically from the
member's own random generator, so that:

- completed credits minus completed debits equal the balance exactly;
- the active balances (what is left of each completed credit once debits have
  consumed credits oldest first) add up to the same balance;
- the latest moment anything happened in the history is the summary's
  ``updatedAt`` (or the subscription date when there is no history);
- ``expired`` credits lapsed before the reference clock, and before any counted
  transaction, so no debit ever drew on them; completed credits expire after it.

A credit lapses when its definition says (`BalanceDefinition.credit_expiry`): after
its lifetime, or, with a yearly expiry day (``balanceExpirationDate``), at the next
midnight of that day; the window below then opens the day after the last one.

Timeline of one ledger::

    subscribed ... [expired credits] ... window start ... [everything else] ... updatedAt
                                          ^ counted credits start here, so they are still alive now
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from mock_server.seeding.drafts import Profile
from mock_server.seeding.random_source import uuid4_from
from mock_server.store.models import (
    DAY,
    HOUR,
    MINUTE,
    ActiveBalance,
    BalanceDefinition,
    Ledger,
    Meta,
    Transaction,
    add_period,
    freeze,
    previous_yearly,
)

NOISE_SHARE = 0.25  # transactions that never counted (draft, cancelled, rejected, expired)
EXPIRED_SHARE = 0.35  # of those, the ones that are expired credits (when the timeline allows)
REJECT_REASONS = ("max_amount_exceeded", "limit_exceeded", "insufficient_balance", "invalid_contact")
CREDIT_SOURCES = ("order", "order", "order", "signup_bonus", "birthday", "referral", "manual_adjustment")
DEBIT_SOURCES = ("reward_redemption", "reward_redemption", "order_return", "manual_adjustment")


class LedgerError(ValueError):
    """A history that cannot be settled (a debit larger than the balance available at its time)."""


def window_start(definition: BalanceDefinition, subscribed_at: int, now: int) -> int:
    """Earliest moment a counted transaction may have: its credit must still be alive at `now`."""
    if definition.expiration_date is not None:  # credits since the last expiry day live until the next one
        return max(subscribed_at, previous_yearly(now, definition.expiration_date) + DAY)
    if definition.duration_value is None or definition.duration_unit is None:
        return subscribed_at
    return max(subscribed_at, add_period(now, -definition.duration_value, definition.duration_unit) + DAY)


def draw_updated_at(rng: random.Random, start: int, now: int) -> int:
    """The last-change moment of an active member: some time between `start` and an hour before now."""
    end = now - HOUR
    return start if end <= start else start + int(rng.random() * (end - start))


def generate_ledger(
    rng: random.Random,
    definition: BalanceDefinition,
    profile: Profile,
    *,
    subscribed_at: int,
    count: int,
    value: int,
    updated_at: int,
    now: int,
    owner: int | None = None,
) -> Ledger:
    """The full history behind (value, count, updated_at); see the module docstring for the rules.

    `owner`, the member's contact id, is carried by the transactions' ids (see `uuid4_from`).
    """
    if count == 0:
        if value != 0:
            raise LedgerError("a balance other than zero needs transactions")
        return Ledger(definition.id, 0, subscribed_at, (), ())
    start = window_start(definition, subscribed_at, now)
    counted, kinds = _split(rng, definition, count, value, subscribed_at, start)
    steps = _steps(rng, counted, value, profile.typical_step, definition.max_amount)
    expired_count = kinds.count("expired")
    rest_kinds = ["counted"] * counted + [kind for kind in kinds if kind != "expired"]
    # Noise lands anywhere among the counted transactions, whose own order is kept.
    rng.shuffle(rest_kinds)
    transactions: list[Transaction] = []
    transactions.extend(_expired_credits(rng, definition, profile, expired_count, subscribed_at, start))
    transactions.extend(_rest(rng, definition, profile, rest_kinds, iter(steps), start, updated_at))
    ledger = settle(definition, transactions, lambda: uuid4_from(rng, owner), subscribed_at)
    if ledger.value != value or ledger.updated_at != updated_at:  # a bug, never a data problem
        raise AssertionError(f"ledger drifted from its summary: {ledger.value} != {value}")
    return ledger


def _split(
    rng: random.Random, definition: BalanceDefinition, count: int, value: int, subscribed_at: int, start: int
) -> tuple[int, list[str]]:
    """How many transactions count, and the kind of each one that does not."""
    noise = sum(1 for _ in range(count) if rng.random() < NOISE_SHARE)
    if value > 0:
        noise = min(noise, count - 1)  # a positive balance needs at least one counted credit
    counted = count - noise
    if value == 0 and counted == 1:  # a single counted transaction cannot net to zero
        counted, noise = (2, count - 2) if count >= 2 else (0, count)
    can_expire = _expired_end(definition, start) - subscribed_at > 2 * DAY
    kinds = []
    for _ in range(noise):
        draw = rng.random()
        if can_expire and draw < EXPIRED_SHARE:
            kinds.append("expired")
        else:
            kinds.append(rng.choice(("draft", "cancelled", "cancelled", "rejected")))
    if counted == 0 and kinds and all(kind == "expired" for kind in kinds):
        kinds[-1] = "cancelled"  # the last change must fall at updatedAt, after the window start
    return counted, kinds


def _expired_end(definition: BalanceDefinition, start: int) -> int:
    """Latest completion of an expired credit, so that it lapsed a day before the window start."""
    if definition.expiration_date is not None:  # completed before an expiry day at least a day before start
        return previous_yearly(start - DAY, definition.expiration_date) - 2 * DAY
    if definition.duration_value is None or definition.duration_unit is None:
        return -(2**62)
    return add_period(start, -definition.duration_value, definition.duration_unit) - 2 * DAY


def _steps(rng: random.Random, counted: int, value: int, typical: int, cap: int) -> list[int]:
    """Signed amounts of the counted transactions: a walk of running balances, all >= 0, ending at value."""
    if counted == 0:
        return []
    cap = max(cap, value + 2)
    running: list[int] = []
    previous = 0
    for j in range(1, counted):
        level = value * j // counted + int((rng.random() - 0.3) * 2 * typical)
        level = max(1, min(cap, level))
        if level == previous:
            level = previous + 1 if previous + 1 <= cap else previous - 1
        running.append(level)
        previous = level
    if running and running[-1] == value:  # the last step would move nothing
        before = running[-2] if len(running) > 1 else 0
        running[-1] = next(c for c in (value + 1, value + 2, value - 1) if c >= 1 and c != before and c != value)
    running.append(value)
    levels = [0, *running]
    return [levels[i + 1] - levels[i] for i in range(counted)]


def _credit_meta(rng: random.Random) -> Meta:
    source = rng.choice(CREDIT_SOURCES)
    if source == "order":
        return freeze({"source": source, "orderId": f"ORD-{rng.randint(100000, 999999)}"})
    return freeze({"source": source})


def _debit_meta(rng: random.Random) -> Meta:
    return freeze({"source": rng.choice(DEBIT_SOURCES)})


def _expired_credits(
    rng: random.Random,
    definition: BalanceDefinition,
    profile: Profile,
    count: int,
    subscribed_at: int,
    start: int,
) -> list[Transaction]:
    if count == 0:
        return []
    end = _expired_end(definition, start)
    moments = sorted(subscribed_at + int(rng.random() * (end - subscribed_at)) for _ in range(count))
    credits = []
    for created in moments:
        completed = min(end, created + MINUTE + int(rng.random() * DAY))
        credits.append(
            Transaction(
                id="",
                balance_definition_id=definition.id,
                transaction_type="credit",
                amount=rng.randint(1, 2 * profile.typical_step),
                status="expired",
                created_at=created,
                completed_at=completed,
                cancelled_at=None,
                rejected_at=None,
                reject_reason=None,
                balance_expiration_date=definition.credit_expiry(completed),
                meta=_credit_meta(rng),
            )
        )
    return credits


def _rest(
    rng: random.Random,
    definition: BalanceDefinition,
    profile: Profile,
    kinds: Sequence[str],
    steps: Iterator[int],
    start: int,
    updated_at: int,
) -> list[Transaction]:
    """Counted and not-counted transactions between the window start and updatedAt, in time order."""
    total = len(kinds)
    moments = sorted(start + int(rng.random() * (updated_at - start)) for _ in range(total))
    made = []
    for j, kind in enumerate(kinds):
        created = moments[j]
        bound = moments[j + 1] if j + 1 < total else updated_at
        settled = min(created + MINUTE + int(rng.random() * 2 * DAY), bound)
        if j == total - 1:  # the last change of the ledger happens exactly at updatedAt
            settled = updated_at
            if kind == "draft":
                created = updated_at
        if kind == "counted":
            step = next(steps)
            kind_type, amount, status = ("credit" if step > 0 else "debit"), abs(step), "completed"
        else:
            kind_type = "credit" if rng.random() < 0.7 else "debit"
            amount, status = rng.randint(1, 2 * profile.typical_step), kind
        made.append(_transaction(rng, definition, kind_type, amount, status, created, settled))
    return made


def _transaction(
    rng: random.Random,
    definition: BalanceDefinition,
    kind: str,
    amount: int,
    status: str,
    created: int,
    settled: int,
) -> Transaction:
    completed = settled if status == "completed" else None
    expiry = definition.credit_expiry(settled) if completed is not None and kind == "credit" else None
    return Transaction(
        id="",
        balance_definition_id=definition.id,
        transaction_type=kind,
        amount=amount,
        status=status,
        created_at=created,
        completed_at=completed,
        cancelled_at=settled if status == "cancelled" else None,
        rejected_at=settled if status == "rejected" else None,
        reject_reason=rng.choice(REJECT_REASONS) if status == "rejected" else None,
        balance_expiration_date=expiry,
        meta=_credit_meta(rng) if kind == "credit" else _debit_meta(rng),
    )


def settle(
    definition: BalanceDefinition,
    transactions: Sequence[Transaction],
    new_id: Callable[[], str],
    subscribed_at: int,
) -> Ledger:
    """Ids, balance, last change and active balances of a history given oldest first.

    Transactions with an empty id get one from `new_id`. Debits consume the
    oldest remaining completed credit first; a debit larger than what is
    available at its time raises `LedgerError`.
    """
    with_ids = tuple(tx if tx.id else replace(tx, id=new_id()) for tx in transactions)
    queue: deque[list[Any]] = deque()  # [credit, remaining]
    value = 0
    counted = sorted((tx for tx in with_ids if tx.counts), key=lambda tx: tx.completed_at or tx.created_at)
    for tx in counted:
        if tx.transaction_type == "credit":
            queue.append([tx, tx.amount])
            value += tx.amount
            continue
        owed = tx.amount
        if owed > value:
            raise LedgerError(f"debit {tx.id} of {owed} exceeds the {value} available when it completed")
        value -= owed
        while owed:
            head = queue[0]
            used = min(owed, head[1])
            head[1] -= used
            owed -= used
            if head[1] == 0:
                queue.popleft()
    active = tuple(
        ActiveBalance(
            id=new_id(), amount=remaining, created_at=credit.completed_at, expires_at=credit.balance_expiration_date
        )
        for credit, remaining in queue
    )
    updated = max((tx.last_event_at for tx in with_ids), default=subscribed_at)
    return Ledger(definition.id, value, updated, with_ids, active)

