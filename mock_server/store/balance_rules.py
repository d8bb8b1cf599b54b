"""The rules of balances: amounts and rounding, caps and limits, and how a transaction moves a ledger.

Pure functions and record methods' logic, no state: the balances backend
(`mock_server.backend.balances`) checks and commits, these decide. Every ledger
change keeps the invariants of the seeded world (see `mock_server.seeding.ledger`):

- the balance is completed credits minus completed debits;
- the active balances (what is left of each completed credit, oldest first) add up to it;
- the ledger's ``updated_at`` is the latest moment anything in it happened.

Reject reasons are the codes seeded histories already use, plus the per-operation caps:
``max_amount_exceeded`` (the balance cap), ``max_credit_amount_exceeded`` /
``max_debit_amount_exceeded`` (one transaction's cap), ``limit_exceeded`` (a balance
limit over its window) and ``insufficient_balance`` (a debit beyond what is there).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from mock_server.errors import InvalidParameter
from mock_server.store.expiry_rules import is_expiry
from mock_server.store.models import (
    POINTS,
    ActiveBalance,
    BalanceDefinition,
    BalanceLimit,
    Ledger,
    Member,
    Transaction,
    add_period,
    freeze,
    period_start,
    render_amount,
    unit_scale,
    yearly_day,
)
from mock_server.store.prefix import appended

# Amounts beyond this many minor units are refused: balances live in 64-bit columns.
MAX_MINOR = 10**15
_ROUNDING = {"natural": ROUND_HALF_UP, "upper": ROUND_CEILING, "lower": ROUND_FLOOR}


# ----------------------------------------------------------------------------- amounts


def to_minor(amount: float | int, scale: int, field: str, rounding: str = "natural") -> int:
    """A displayed amount (a JSON number) in minor units, rounded the definition's way (on its size)."""
    if type(amount) is int:  # nothing to round (most bodies): the general path's answer, without Decimal
        if abs(amount) * scale > MAX_MINOR:
            raise InvalidParameter(f"body.{field}: {amount} is beyond what the mock accepts (+/-{MAX_MINOR // scale})")
        return amount * scale
    try:
        exact = Decimal(str(amount)) * scale
    except InvalidOperation:
        exact = Decimal("NaN")
    if not exact.is_finite():
        raise InvalidParameter(f"body.{field}: {amount!r} is not a finite number")
    size = int(abs(exact).to_integral_value(rounding=_ROUNDING[rounding]))
    if size > MAX_MINOR:
        raise InvalidParameter(f"body.{field}: {amount} is beyond what the mock accepts (+/-{MAX_MINOR // scale})")
    return size if exact >= 0 else -size


# Spans (limit windows, credit lifetimes, ttl) beyond a century are refused: dates must stay renderable.
MAX_SPAN_YEARS = 100
_UNITS_PER_CENTURY = {"second": 100 * 366 * 86_400, "minute": 100 * 366 * 1440, "hour": 100 * 366 * 24,
                      "day": 100 * 366, "week": 100 * 53, "month": 100 * 12, "year": 100}


def check_span(value: int, unit: str, field: str) -> int:
    """`value` units, if that is at most `MAX_SPAN_YEARS` years (a 422 naming `field` otherwise)."""
    most = _UNITS_PER_CENTURY[unit]
    if value > most:
        raise InvalidParameter(f"body.{field}: {value} {unit}s is more than the mock accepts "
                               f"({most}, {MAX_SPAN_YEARS} years)")
    return value


def default_cap(unit: str) -> int:
    """The caps a definition gets when its body gives none (minor units), as seeded definitions have."""
    return (1_000_000 if unit == POINTS else 10_000) * unit_scale(unit)


# ----------------------------------------------------------------------------- limits


def window_start(limit: BalanceLimit, now: int) -> int:
    """Where a limit's window begins: `durationValue` units back (sliding), or the start of the
    current calendar period moved back `durationValue - 1` whole periods (calendar)."""
    if limit.sliding_schedule:
        return add_period(now, -limit.duration_value, limit.duration_unit)
    return add_period(period_start(now, limit.duration_unit), 1 - limit.duration_value, limit.duration_unit)


class Completions:
    """A ledger's completed transactions by kind, ascending by completion, with running amount totals:
    what a limit's window holds is two bisections, whatever the length of the history.

    Built once from a ledger (`of`), then carried along by the backend as its own completions append to
    it (the clock never goes back, so a completion is always the latest).
    """

    __slots__ = ("ledger", "times", "totals")

    def __init__(self, ledger: Ledger, times: dict[str, list[int]], totals: dict[str, list[int]]) -> None:
        self.ledger = ledger  # the ledger this describes
        self.times = times  # kind -> completion moments, ascending
        self.totals = totals  # kind -> running sums of amounts, one more entry than `times` (starts at 0)

    @classmethod
    def of(cls, ledger: Ledger) -> Completions:
        done = sorted((tx.completed_at, tx.transaction_type, tx.amount) for tx in ledger.transactions
                      if tx.status == "completed" and tx.completed_at is not None and not is_expiry(tx))
        times: dict[str, list[int]] = {"credit": [], "debit": []}
        totals: dict[str, list[int]] = {"credit": [0], "debit": [0]}
        for moment, kind, amount in done:
            times[kind].append(moment)
            totals[kind].append(totals[kind][-1] + amount)
        return cls(ledger, times, totals)

    def moved_to(self, ledger: Ledger, completed: Transaction | None = None) -> Completions:
        """The same completions describing `ledger` (the next state of this one), plus `completed` if given."""
        if completed is not None and completed.completed_at is not None:
            times = self.times[completed.transaction_type]
            if times and completed.completed_at < times[-1]:
                return Completions.of(ledger)  # not the latest: start over rather than misplace it
            times.append(completed.completed_at)
            totals = self.totals[completed.transaction_type]
            totals.append(totals[-1] + completed.amount)
        self.ledger = ledger
        return self

    def within(self, kind: str, start: int, end: int) -> tuple[int, int]:
        """(count, summed amount) of `kind` completions in the window (start, end]."""
        times, totals = self.times[kind], self.totals[kind]
        # A write's window ends now, after every completion: one bisection (each probe can be a cache miss).
        high = len(times) if not times or times[-1] <= end else bisect_right(times, end)
        low = bisect_right(times, start)
        return high - low, totals[high] - totals[low]


def breaches(limit: BalanceLimit, completions: Completions, kind: str, amount: int, now: int) -> bool:
    """Whether one more `kind` transaction of `amount` would go past the limit in its window."""
    if limit.transaction_type != kind:
        return False
    count, total = completions.within(kind, window_start(limit, now), now)
    if limit.constraint_type == "transaction":
        return count + 1 > limit.value
    return total + amount > limit.value


def verdict(
    definition: BalanceDefinition,
    limits: Iterable[BalanceLimit],
    ledger: Ledger,
    kind: str,
    amount: int,
    now: int,
    completions: Completions | None = None,
) -> tuple[int, str | None]:
    """(amount that would move, reject reason or None) for a transaction applied now.

    The overtaking strategy only governs the balance cap (`maxAmount`): `partial` credits what
    still fits, `strict` refuses. Per-transaction caps (judged on what would be credited) and
    balance limits always refuse.
    """
    if kind == "credit":
        room = definition.max_amount - ledger.value
        if amount > room:
            if definition.overtaking_strategy != "partial" or room <= 0:
                return amount, "max_amount_exceeded"
            amount = room
        if amount > definition.max_credit_amount_limit:
            return amount, "max_credit_amount_exceeded"
    else:
        if amount > definition.max_debit_amount_limit:
            return amount, "max_debit_amount_exceeded"
        if amount > ledger.value - definition.min_amount:
            return amount, "insufficient_balance"
    for limit in limits:
        if completions is None:
            completions = Completions.of(ledger)
        if breaches(limit, completions, kind, amount, now):
            return amount, "limit_exceeded"
    return amount, None


# ----------------------------------------------------------------------------- ledgers


def find_transaction(ledger: Ledger, transaction_id: str) -> Transaction | None:
    for tx in ledger.transactions:
        if tx.id == transaction_id:
            return tx
    return None


def with_transaction(ledger: Ledger, tx: Transaction) -> Ledger:
    """The ledger with a new transaction that does not move the balance (draft, rejected)."""
    return replace(ledger, transactions=appended(ledger.transactions, tx),
                   updated_at=max(ledger.updated_at, tx.last_event_at))


def with_replaced(ledger: Ledger, tx: Transaction) -> Ledger:
    """The ledger with one of its transactions in a new state that does not move the balance."""
    transactions = tuple(tx if old.id == tx.id else old for old in ledger.transactions)
    return replace(ledger, transactions=transactions, updated_at=max(ledger.updated_at, tx.last_event_at))


def apply_completed(ledger: Ledger, tx: Transaction, active_id: str, *, known: bool) -> Ledger:
    """The balance after a completed transaction (`known`: one of the ledger's, else appended as new).

    A credit adds an active balance (id `active_id`) expiring as the transaction says; a debit
    consumes active balances oldest first. The caller has checked that a debit fits.
    """
    if tx.status != "completed" or tx.completed_at is None:
        raise ValueError(f"transaction {tx.id} is not completed")
    # A new record is appended to the histories the ledger's revisions share (`Prefix`), not copied with them all.
    transactions = (tuple(tx if old.id == tx.id else old for old in ledger.transactions) if known
                    else appended(ledger.transactions, tx))
    active: Sequence[ActiveBalance]
    if tx.transaction_type == "credit":
        active = appended(ledger.active_balances,
                          ActiveBalance(active_id, tx.amount, tx.completed_at, tx.balance_expiration_date))
        value = ledger.value + tx.amount
    else:
        active = tuple(consume(ledger.active_balances, tx.amount))
        value = ledger.value - tx.amount
    return Ledger(ledger.balance_definition_id, value, max(ledger.updated_at, tx.last_event_at), transactions, active)


def consume(active: Sequence[ActiveBalance], amount: int) -> list[ActiveBalance]:
    """Active balances after a debit of `amount`, taken from the oldest first."""
    if amount > sum(item.amount for item in active):
        raise ValueError(f"a debit of {amount} exceeds the active balances")
    left: list[ActiveBalance] = []
    owed = amount
    for item in active:
        if owed >= item.amount:
            owed -= item.amount
            continue
        left.append(replace(item, amount=item.amount - owed) if owed else item)
        owed = 0
    return left


def with_ledger(member: Member, index: int, ledger: Ledger) -> Member:
    """The member with ledger `index` replaced, its subscription's last change moved along."""
    ledgers = list(member.ledgers)
    ledgers[index] = ledger
    subscription = member.subscription
    if ledger.updated_at > subscription.updated_at:
        subscription = subscription.changed_at(ledger.updated_at)
    return member.with_ledgers(subscription, tuple(ledgers))


def balance_opened(definition: BalanceDefinition, member: Member, ledger: Ledger) -> bool:
    """Whether the member holds a balance on the definition: it existed when they subscribed, they
    have transactions on it, or it was opened since."""
    return (definition.created_at <= member.subscription.created_at or bool(ledger.transactions)
            or ledger.opened_at is not None)


# ----------------------------------------------------------------------------- configuration


def definition_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The rules of a balance definition from a create or replace body (fields left out take their
    defaults: a replace clears them), checked together; amounts in minor units."""
    unit = body["unit"]
    scale = unit_scale(unit)
    cap = default_cap(unit)

    def amount(field: str, default: int) -> int:
        return default if body.get(field) is None else to_minor(body[field], scale, field)

    minimum = amount("minAmount", 0)
    maximum = amount("maxAmount", cap)
    if minimum < 0:
        raise InvalidParameter(f"body.minAmount: {body['minAmount']} is below 0; balances never go negative")
    if maximum <= 0 or maximum < minimum:
        raise InvalidParameter(f"body.maxAmount: {render_amount(maximum, scale)} must be above 0 and at least "
                               f"minAmount ({render_amount(minimum, scale)})")
    credit = amount("maxCreditAmountLimit", maximum)
    debit = amount("maxDebitAmountLimit", maximum)
    for field, value in (("maxCreditAmountLimit", credit), ("maxDebitAmountLimit", debit)):
        if value <= 0:
            raise InvalidParameter(f"body.{field}: {render_amount(value, scale)} must be above 0")
    duration_value = body.get("balanceAvailabilityDurationValue")
    duration_unit = body.get("balanceAvailabilityDurationUnit")
    modifier = body.get("balanceAvailabilityDurationModifier")
    expiry_day = body.get("balanceExpirationDate") or None
    if (duration_value is None) != (duration_unit is None):
        raise InvalidParameter("body.balanceAvailabilityDurationValue and body.balanceAvailabilityDurationUnit "
                               "go together (give both or neither)")
    if duration_value is None and modifier is not None:
        raise InvalidParameter("body.balanceAvailabilityDurationModifier: it needs a credit lifetime "
                               "(balanceAvailabilityDurationValue and balanceAvailabilityDurationUnit)")
    if duration_value is not None and expiry_day is not None:
        raise InvalidParameter("body: give a credit lifetime (balanceAvailabilityDuration*) or a yearly "
                               "balanceExpirationDate, not both")
    if duration_value is not None:
        check_span(duration_value, duration_unit, "balanceAvailabilityDurationValue")
    if expiry_day is not None:
        day, month = yearly_day(expiry_day)
        if day > (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31):
            raise InvalidParameter(f"body.balanceExpirationDate: {expiry_day} is no day of the year")
    meta = body.get("meta")
    return {
        "name": body["name"],
        "description": body.get("description") or "",
        "image_ref": body.get("imageRef") or "",
        "meta": freeze(meta if isinstance(meta, Mapping) else {}),
        "unit": unit,
        "min_amount": minimum,
        "max_amount": maximum,
        "max_credit_amount_limit": credit,
        "max_debit_amount_limit": debit,
        "overtaking_strategy": body.get("balanceOptionAmountOvertakingStrategy") or "strict",
        "credit_rounding": body.get("balanceOptionCreditRounding") or "natural",
        "debit_rounding": body.get("balanceOptionDebitRounding") or "natural",
        "duration_value": duration_value,
        "duration_unit": duration_unit,
        "duration_modifier": (modifier or "noModification") if duration_value is not None else None,
        "expiration_date": expiry_day,
    }


def limit_fields(body: Mapping[str, Any], definition: BalanceDefinition) -> dict[str, Any]:
    """The fields of a balance limit from a create or replace body; an amount cap in minor units."""
    constraint = body["constraintType"]
    value = body["value"]
    if constraint == "transaction" and value > MAX_MINOR:
        raise InvalidParameter(f"body.value: {value} transactions is more than the mock accepts ({MAX_MINOR})")
    return {
        "transaction_type": body["transactionType"],
        "constraint_type": constraint,
        "duration_value": check_span(body["durationValue"], body["durationUnit"], "durationValue"),
        "duration_unit": body["durationUnit"],
        "value": to_minor(value, definition.scale, "value") if constraint == "amount" else int(value),
        "sliding_schedule": bool(body.get("slidingSchedule", False)),
    }
