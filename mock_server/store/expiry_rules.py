"""The rules of time passing: credits that lapse, reminders before, anniversaries, a tier's start.

Pure functions, no state: `mock_server.backend.timeline` decides when each applies and commits.

Expiry keeps the ledger invariants of `mock_server.store.balance_rules` (the balance is
completed credits minus completed debits, and the sum of the active balances):

- a credit that lapses untouched (its active balance is its whole amount) becomes ``expired``,
  as the seeded histories show them: it stops counting;
- a credit that debits partly consumed stays ``completed`` (what was spent was spent), and what
  was left of it leaves through a completed ``debit`` of that remainder, marked
  ``meta.source = "balance_expiration"`` with ``meta.expiredTransactionId``, at the expiry moment.
  Such debits are not the member's doing: balance limits do not count them (`is_expiry`).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from mock_server.store.models import (
    DAY,
    ActiveBalance,
    Ledger,
    Member,
    Tier,
    TierGroup,
    Transaction,
    freeze,
)
from mock_server.store.world import ProgramData

EXPIRY_SOURCE = "balance_expiration"
# Brevo sends the reminders "N days before"; N is configured in its console, not in the API: the mock uses 7.
REMINDER_DAYS = 7
REMINDER = REMINDER_DAYS * DAY
NEVER = 2**62  # a moment no clock reaches


def is_expiry(tx: Transaction) -> bool:
    """A debit the mock recorded because part of a credit lapsed (not counted by balance limits)."""
    return tx.transaction_type == "debit" and tx.meta.get("source") == EXPIRY_SOURCE


@dataclass(frozen=True, slots=True)
class Lapsed:
    """One credit's remainder that left a balance: the transaction that shows it, and how much (minor units)."""

    transaction: Transaction  # the credit, now `expired`, or the expiry debit of its remainder
    amount: int
    active: ActiveBalance


def expire_ledger(ledger: Ledger, moment: int, new_id: Callable[[], str]) -> tuple[Ledger, list[Lapsed]]:
    """The ledger once every active balance expiring at or before `moment` lapsed (each at its own expiry)."""
    due = [active for active in ledger.active_balances if active.expires_at is not None and active.expires_at <= moment]
    if not due:
        return ledger, []
    transactions = list(ledger.transactions)
    used: set[int] = set()
    lapsed: list[Lapsed] = []
    for active in sorted(due, key=lambda item: (item.expires_at or 0, item.created_at)):
        at = active.expires_at or moment
        place = _credit_of(transactions, active, used)
        credit = transactions[place] if place is not None else None
        if credit is not None and credit.amount == active.amount:
            gone = replace(credit, status="expired")
            transactions[place] = gone  # type: ignore[index]
        else:
            meta = {"source": EXPIRY_SOURCE, "expiredTransactionId": credit.id if credit is not None else None}
            gone = Transaction(
                id=new_id(), balance_definition_id=ledger.balance_definition_id, transaction_type="debit",
                amount=active.amount, status="completed", created_at=at, completed_at=at, cancelled_at=None,
                rejected_at=None, reject_reason=None, balance_expiration_date=None, meta=freeze(meta))
            transactions.append(gone)
        lapsed.append(Lapsed(gone, active.amount, active))
    left = tuple(active for active in ledger.active_balances if active not in due)
    value = ledger.value - sum(item.amount for item in lapsed)
    updated = max(ledger.updated_at, max(item.active.expires_at or moment for item in lapsed))
    return replace(ledger, value=value, updated_at=updated, transactions=tuple(transactions),
                   active_balances=left), lapsed


def _credit_of(transactions: list[Transaction], active: ActiveBalance, used: set[int]) -> int | None:
    """Where the completed credit an active balance is left of sits (completed then, expiring then)."""
    for place, tx in enumerate(transactions):
        if (place not in used and tx.transaction_type == "credit" and tx.status == "completed"
                and tx.completed_at == active.created_at and tx.balance_expiration_date == active.expires_at):
            used.add(place)
            return place
    return None


# ----------------------------------------------------------------------------- tiers


def tier_since(data: ProgramData, group: TierGroup, member: Member) -> tuple[Tier | None, int | None]:
    """(the member's tier in the group, when it entered it), replaying its history on the group's balance.

    A tier given by hand dates from when it was given; otherwise the last moment the running balance
    (completed transactions at their completion, expired credits until their expiry) moved into the
    range of the tier it holds now. No tier: (None, None).
    """
    current, _ = data.standing_of(group, member)
    if current is None:
        return None, None
    assigned = member.tier_assignments.get(group.id)
    if assigned is not None and assigned.tier_id == current.id:
        definition = data.definition_by_id[group.balance_definition_id]
        if member.ledgers[definition.index].value == assigned.balance:
            return current, assigned.created_at
    definition = data.definition_by_id[group.balance_definition_id]
    steps: list[tuple[int, int]] = []
    for tx in member.ledgers[definition.index].transactions:
        if tx.completed_at is None:
            continue
        if tx.status == "completed":
            steps.append((tx.completed_at, tx.signed_amount))
        elif tx.status == "expired" and tx.transaction_type == "credit":
            steps.append((tx.completed_at, tx.amount))
            if tx.balance_expiration_date is not None:
                steps.append((tx.balance_expiration_date, -tx.amount))
    steps.sort()
    value, since, held = 0, member.subscription.created_at, None
    for moment, delta in steps:
        value += delta
        tier, _ = data.standing(group, value)
        if (tier.id if tier else None) != held:
            held, since = (tier.id if tier else None), moment
    return current, since


# ----------------------------------------------------------------------------- anniversaries


@lru_cache(maxsize=4096)
def _month_start(index: int) -> tuple[int, int]:
    """(first moment, number of days) of the calendar month `index` (months since year 0)."""
    year, month = divmod(index, 12)
    if year > 9999:  # past what dates render: never due
        return NEVER, 31
    return calendar.timegm((year, month + 1, 1, 0, 0, 0)) * 1000, calendar.monthrange(year, month + 1)[1]


@lru_cache(maxsize=65536)
def _parts(moment: int) -> tuple[int, int, int]:
    """(month index, day of month, time of day in ms) of a moment (UTC)."""
    tm = time.gmtime(moment // 1000)
    return tm.tm_year * 12 + tm.tm_mon - 1, tm.tm_mday, moment % DAY


def month_index(moment: int) -> int:
    """Months since year 0 of the calendar month holding `moment` (UTC)."""
    return _parts(moment - moment % DAY)[0]


def anniversary(anchor: int, months: int) -> int:
    """`anchor` moved `months` calendar months on, the day kept inside its month (31 Jan + 1 month = 28 Feb)."""
    index, day, of_day = _parts(anchor)
    first, days = _month_start(index + months)
    return first + (min(day, days) - 1) * DAY + of_day


def anniversaries(anchor: int, start: int, end: int, step: int) -> list[tuple[int, int]]:
    """(moment, count) of every `step`-month anniversary of `anchor` in (start, end] (count: months or years)."""
    count = max(1, (month_index(start) - _parts(anchor)[0]) // step)
    found = []
    while True:
        moment = anniversary(anchor, count * step)
        if moment > end:
            return found
        if moment > start:
            found.append((moment, count))
        count += 1
