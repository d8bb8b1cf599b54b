"""The entities of a loyalty world, as frozen records, and the few value rules they share.

Conventions used everywhere in the store:

- Times are integer milliseconds since the Unix epoch (UTC). `iso` renders them the
  way Brevo does: ``2026-01-01T00:00:00.000Z``.
- Amounts are integers in *minor units* of their balance definition: points are
  counted one by one (scale 1), money in hundredths (scale 100), so sums are exact.
  `render_amount` turns them into JSON numbers (ints for points, 2-decimal floats
  for money).
- Free-form ``meta`` objects are frozen (`freeze`) and thawed back into plain
  dicts (`thaw`) when a handler renders them.
- Ids are lower-case UUID strings.
"""

from __future__ import annotations

import calendar
import time
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

# The fixed "now" of every world: dates are drawn before it, expiry is judged against it.
REFERENCE_NOW_ISO = "2026-11-01T00:00:00.000Z"
REFERENCE_NOW = calendar.timegm((2026, 11, 1, 0, 0, 0)) * 1000

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

POINTS = "POINTS"
CURRENCY_UNITS = (
    "EUR", "USD", "MXN", "GBP", "INR", "CAD", "SGD", "RON", "JPY", "MYR", "CLP", "PEN", "MAD", "AUD", "CHF",
    "BRL",
)
BALANCE_UNITS = (POINTS, *CURRENCY_UNITS)

PROGRAM_STATES = ("active", "draft", "inactive")
TRANSACTION_STATUSES = ("draft", "completed", "rejected", "cancelled", "expired")
TRANSACTION_TYPES = ("credit", "debit")
VERSIONS = ("active", "draft")
REAL_TIME = "real_time"  # a tier group direction (upgrade or downgrade) that moves members as the balance moves

Meta = Mapping[str, Any]
EMPTY_META: Meta = MappingProxyType({})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)


# --------------------------------------------------------------------------- values


def iso(ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 UTC with milliseconds and a Z.

    Every date of every record goes through here, so the pieces are looked up
    rather than formatted: the date of each day and the clock of each second of
    a day are formatted once (at most 86,400 clocks, and one string per day
    seen), the milliseconds come from a table. Five times faster than
    `time.strftime` on each call, with the same output.
    """
    day, of_day = divmod(ms, DAY)
    second, millis = divmod(of_day, SECOND)
    return ((_DATES.get(day) or _date_of(day)) + (_CLOCKS.get(second) or _clock_of(second))
            + _MILLIS[millis])


_DATES: dict[int, str] = {}  # day since the epoch -> "YYYY-MM-DDT"
_CLOCKS: dict[int, str] = {}  # second of the day -> "HH:MM:SS"
_MILLIS = tuple(f".{millis:03d}Z" for millis in range(1000))


def _date_of(day: int) -> str:
    text = _DATES[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
    return text


def _clock_of(second: int) -> str:
    # Every write's moment is a second not rendered yet (the logical clock moves a second per write): pieces.
    minute, seconds = divmod(second, 60)
    text = _CLOCKS[second] = _HOURS_MINUTES[minute] + _TWO_DIGITS[seconds]
    return text


_TWO_DIGITS = tuple(f"{number:02d}" for number in range(60))
_HOURS_MINUTES = tuple(f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))


def iso_or_none(ms: int | None) -> str | None:
    return None if ms is None else iso(ms)


def parse_iso(text: str) -> int:
    """An ISO 8601 date-time (``Z`` or offset; naive means UTC) as epoch milliseconds."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return from_datetime(value)


def from_datetime(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return delta.days * DAY + delta.seconds * SECOND + delta.microseconds // 1000


def unit_scale(unit: str) -> int:
    """Minor units per displayed unit: points are whole, money has cents."""
    return 1 if unit == POINTS else 100


def render_amount(minor: int, scale: int) -> int | float:
    """An amount in minor units as the JSON number the API shows."""
    if scale == 1:
        return minor
    return round(minor / scale, 2)


def add_period(ms: int, value: int, unit: str) -> int:
    """`ms` moved forward (or back, for a negative value) by a calendar period."""
    if unit == "hour":
        return ms + value * HOUR
    if unit == "day":
        return ms + value * DAY
    if unit == "week":
        return ms + value * 7 * DAY
    if unit not in ("month", "year"):
        raise ValueError(f"unknown period unit {unit!r}")
    day, of_day = divmod(ms, DAY)  # months move the day; the time of day stays
    return _months_later(day, value if unit == "month" else 12 * value) * DAY + of_day


def period_start(ms: int, unit: str) -> int:
    """The start (UTC) of the calendar hour, day, ISO week (Monday), month or year holding `ms`."""
    if unit == "hour":
        return ms - ms % HOUR
    day = ms // DAY
    if unit == "day":
        return day * DAY
    if unit == "week":
        return (day - (day + 3) % 7) * DAY  # the epoch's first day was a Thursday (weekday 3)
    return _period_start_day(day, unit == "month") * DAY


# Calendar arithmetic by whole days, remembered: a write's credit expiry needs it, and a run of writes
# keeps asking about the same few days (the clock moves a second per write).
@lru_cache(maxsize=4096)
def _months_later(day: int, months: int) -> int:
    """The day (since the epoch) `months` calendar months after `day`, kept inside its month (31/01 + 1 -> 28/02)."""
    moment = _EPOCH_DATE + timedelta(days=day)
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    moved = moment.replace(year=year, month=month + 1, day=min(moment.day, calendar.monthrange(year, month + 1)[1]))
    return (moved - _EPOCH_DATE).days


@lru_cache(maxsize=4096)
def _period_start_day(day: int, month: bool) -> int:
    """The first day of the month (else of the year) holding `day`, in days since the epoch."""
    moment = _EPOCH_DATE + timedelta(days=day)
    return (moment.replace(month=moment.month if month else 1, day=1) - _EPOCH_DATE).days


def yearly_day(day_month: str) -> tuple[int, int]:
    """(day, month) of a yearly ``dd/mm`` date; raises ValueError on anything else."""
    day_text, _, month_text = day_month.partition("/")
    day, month = int(day_text), int(month_text)
    if not (1 <= month <= 12 and 1 <= day <= 31 and len(day_text) == 2 and len(month_text) == 2):
        raise ValueError(f"not a dd/mm date: {day_month!r}")
    return day, month


def _yearly_at(year: int, day: int, month: int) -> int:
    # 29/02 falls on the 28th in common years: the day is kept inside its month.
    day = min(day, calendar.monthrange(year, month)[1])
    return calendar.timegm((year, month, day, 0, 0, 0)) * 1000


def next_yearly(ms: int, day_month: str) -> int:
    """The first midnight (UTC) of the yearly `day_month` strictly after `ms`."""
    day, month = yearly_day(day_month)
    year = datetime.fromtimestamp(ms / 1000, tz=UTC).year
    moment = _yearly_at(year, day, month)
    return moment if moment > ms else _yearly_at(year + 1, day, month)


def previous_yearly(ms: int, day_month: str) -> int:
    """The last midnight (UTC) of the yearly `day_month` at or before `ms`."""
    day, month = yearly_day(day_month)
    year = datetime.fromtimestamp(ms / 1000, tz=UTC).year
    moment = _yearly_at(year, day, month)
    return moment if moment <= ms else _yearly_at(year - 1, day, month)


def freeze(value: Any) -> Any:
    """A JSON-like value made immutable (dicts become read-only mappings, lists tuples)."""
    if type(value) in _JSON_SCALARS:  # most values: no ABC check (isinstance against Mapping is slow)
        return value
    if type(value) is dict or isinstance(value, Mapping):  # a body's dict skips the ABC check; flat items no call
        return MappingProxyType({str(key): item if type(item) in _JSON_SCALARS else freeze(item)
                                 for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of `freeze`: plain dicts and lists, ready for JSON encoding."""
    kind = type(value)  # exact types first: isinstance against the Mapping ABC is slow, per record read
    if kind in _JSON_SCALARS:
        return value
    if kind is MappingProxyType or kind is dict or isinstance(value, Mapping):
        return {key: item if type(item) in _JSON_SCALARS else thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


# ------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    id: str
    index: int  # position in the world, in creation order
    name: str
    description: str
    meta: Meta
    state: str  # inactive (never published) | active (published) | draft (published, edits pending)
    subscription_pool_id: str
    subscription_generator_id: str
    pattern: str  # '#' stands for a digit in loyaltySubscriptionIds
    code_count: int
    document_id: str
    birthday_attribute: str
    created_at: int
    updated_at: int

    @property
    def has_active_version(self) -> bool:
        """False until the program is first published."""
        return self.state != "inactive"

    def with_details(self, name: str, description: str, meta: Meta, now: int) -> LoyaltyProgram:
        """Renamed or redescribed: these take effect at once, they are not configuration to publish."""
        return replace(self, name=name, description=description, meta=meta, updated_at=now)

    def publish(self, now: int) -> LoyaltyProgram:
        """Published: active, its configuration in force for members (again, if it was already)."""
        return replace(self, state="active", updated_at=now)

    def after_config_change(self, now: int) -> LoyaltyProgram:
        """A definition, limit, tier or reward changed: once published, the change waits for the next publish."""
        return replace(self, state="draft" if self.state == "active" else self.state, updated_at=now)


@dataclass(frozen=True, slots=True)
class BalanceDefinition:
    id: str
    program_id: str
    index: int  # position in the program, in creation order
    name: str
    description: str
    image_ref: str
    meta: Meta
    unit: str
    min_amount: int  # minor units, like every amount below
    max_amount: int
    max_credit_amount_limit: int
    max_debit_amount_limit: int
    overtaking_strategy: str
    credit_rounding: str
    debit_rounding: str
    duration_value: int | None  # lifetime of a credit; None: credits never expire
    duration_unit: str | None
    duration_modifier: str | None
    expiration_date: str | None  # yearly dd/mm expiry (never combined with a duration)
    created_at: int
    updated_at: int
    published: bool
    # Set when deleted through the API: the record stays (members' ledgers stay aligned with the
    # program's definitions by position) but every read treats it as gone.
    deleted_at: int | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def internal(self) -> bool:
        return self.meta.get("isInternal") is True

    @property
    def scale(self) -> int:
        return unit_scale(self.unit)

    def credit_expiry(self, completed_at: int) -> int | None:
        """When a credit completed at `completed_at` lapses (None: never).

        A yearly expiry date lapses every credit at the next midnight of that day after it completed
        ("the balance expires when this date next appears in the calendar"). A lifetime ends that long
        after completion, moved to the start or the end of its period by the modifier.
        """
        if self.expiration_date is not None:
            return next_yearly(completed_at, self.expiration_date)
        if self.duration_value is None or self.duration_unit is None:
            return None
        moment = add_period(completed_at, self.duration_value, self.duration_unit)
        if self.duration_modifier == "startOfPeriod":
            return period_start(moment, self.duration_unit)
        if self.duration_modifier == "endOfPeriod":
            return add_period(period_start(moment, self.duration_unit), 1, self.duration_unit) - 1
        return moment


@dataclass(frozen=True, slots=True)
class BalanceLimit:
    id: str
    balance_definition_id: str
    transaction_type: str
    constraint_type: str  # transaction (a count) | amount (minor units)
    duration_value: int
    duration_unit: str
    value: int
    sliding_schedule: bool
    created_at: int
    updated_at: int
    published: bool


@dataclass(frozen=True, slots=True)
class TierGroup:
    id: str
    program_id: str
    name: str
    balance_definition_id: str  # every tier of the group is reached on this balance
    tier_ids: tuple[str, ...]  # lowest first
    upgrade_strategy: str
    downgrade_strategy: str
    # Schedules of the strategies that are not real time: every durationValue durationUnit from the
    # anniversary, or, with a scheduledDate (dd/mm), every year on that day for all members.
    upgrade_schedule: Meta | None
    downgrade_schedule: Meta | None
    created_at: int
    updated_at: int
    published: bool

    @property
    def upgrades_live(self) -> bool:
        """Members move up as soon as their balance reaches a higher tier (else: on the upgrade schedule)."""
        return self.upgrade_strategy == REAL_TIME

    @property
    def downgrades_live(self) -> bool:
        """Members move down as soon as their balance falls below their tier (else: on the downgrade schedule)."""
        return self.downgrade_strategy == REAL_TIME


@dataclass(frozen=True, slots=True)
class Tier:
    id: str
    group_id: str
    program_id: str
    name: str
    image_ref: str
    threshold: int  # accessConditions.minimumValue, in displayed units of the group's definition
    balance_definition_id: str
    reward_ids: tuple[str, ...]
    created_at: int
    updated_at: int
    published: bool


@dataclass(frozen=True, slots=True)
class CodePool:
    id: str
    program_id: str
    name: str
    code_count: int  # codes still in the pool
    pattern: str  # what its codes look like ('#' digit, '?' letter)
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class CodeGenerator:
    id: str
    program_id: str
    name: str
    description: str
    pattern: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class RewardLimit:
    id: str
    type: str  # attribution | redeem
    limit_value: int
    duration_value: int
    duration_unit: str
    sliding_schedule: bool
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Reward:
    """A reward, which the API also calls an offer."""

    id: str
    program_id: str
    name: str
    public_name: str
    public_description: str
    public_image: str
    meta: Meta
    state: str  # active | inactive | expired | draft
    start_date: int
    end_date: int
    disabled_at: int | None
    unit: str  # what `value` counts: "percentage", a currency, or POINTS
    value: float | int
    value_type: str
    balance_definition_id: str | None
    code: str | None  # a fixed code shared by every voucher, when the reward has one
    code_pool_id: str | None
    code_generator_id: str | None
    code_count: int
    expiration_value: int  # lifetime of an issued voucher, unless a fixed expiration date is set
    expiration_unit: str
    attribution_per_consumer: int
    redeem_per_consumer: int
    total_attribution: int
    total_redeem: int
    subtract_balance_value: int  # displayed units of the definition, debited on attribution
    limits: tuple[RewardLimit, ...]
    products: tuple[Meta, ...]
    rule: Meta | None
    trigger_id: str | None
    created_at: int
    updated_at: int
    published: bool
    expiration_date: int | None = None  # a fixed expiry of every issued voucher, instead of a lifetime
    # Vouchers issued and redemptions completed through the API (the seeded history is drawn per member,
    # lazily, so it is not counted): what `total_attribution` and `total_redeem` cap.
    attributed: int = 0
    redeemed: int = 0

    @property
    def issues_vouchers(self) -> bool:
        """Vouchers exist for rewards that went live at some point."""
        return self.state != "draft"

    def voucher_expiry(self, created_at: int) -> int:
        """When a voucher issued at `created_at` expires: the fixed date, or the end of its lifetime."""
        if self.expiration_date is not None:
            return self.expiration_date
        return add_period(created_at, self.expiration_value, self.expiration_unit)


# -------------------------------------------------------------------------- members


@dataclass(frozen=True, slots=True)
class Subscription:
    program_id: str
    contact_id: int
    loyalty_subscription_id: str
    created_at: int
    updated_at: int
    meta: Meta = field(default_factory=lambda: EMPTY_META)  # given at enrollment (seeded ones have none)

    def changed_at(self, moment: int) -> Subscription:
        """The same subscription, last changed at `moment` (`replace` by hand: a write's hot path)."""
        return Subscription(self.program_id, self.contact_id, self.loyalty_subscription_id, self.created_at, moment,
                            self.meta)


@dataclass(frozen=True, slots=True)
class SubscriptionMember:
    """Another contact attached to an owner's subscription (its balances are the owner's)."""

    contact_id: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str
    balance_definition_id: str
    transaction_type: str  # credit | debit
    amount: int  # minor units, always positive
    status: str
    created_at: int
    completed_at: int | None  # completed and expired
    cancelled_at: int | None
    rejected_at: int | None
    reject_reason: str | None
    balance_expiration_date: int | None  # credits that completed (and expired ones)
    meta: Meta
    event_time: int | None = None  # when the business event happened, as the client said
    expires_at: int | None = None  # a draft that is not completed by then can no longer be (ttl, order expiry)

    @property
    def counts(self) -> bool:
        """Only completed transactions move the balance (expired credits stopped counting)."""
        return self.status == "completed"

    @property
    def signed_amount(self) -> int:
        return self.amount if self.transaction_type == "credit" else -self.amount

    @classmethod
    def draft(cls, id: str, balance_definition_id: str, transaction_type: str, amount: int, now: int, meta: Meta,
              event_time: int | None = None, expires_at: int | None = None) -> Transaction:
        """A new transaction, not yet judged (a draft created at `now`). (Positional: a write's hot path.)"""
        return cls(id, balance_definition_id, transaction_type, amount, "draft", now, None, None, None, None, None,
                   meta, event_time, expires_at)

    def completed(self, amount: int, now: int, expiry: int | None) -> Transaction:
        """This transaction completed at `now`, moving `amount` (a credit lapsing at `expiry`); a completed
        transaction has no draft expiry. (`replace` by hand: a write's hot path.)"""
        return Transaction(self.id, self.balance_definition_id, self.transaction_type, amount, "completed",
                           self.created_at, now, self.cancelled_at, self.rejected_at, self.reject_reason, expiry,
                           self.meta, self.event_time, None)

    @property
    def last_event_at(self) -> int:
        """The latest moment this transaction changed, expiry included."""
        latest = self.created_at
        for moment in (self.completed_at, self.cancelled_at, self.rejected_at):
            if moment is not None and moment > latest:
                latest = moment
        if self.status == "expired" and self.balance_expiration_date is not None:
            return max(latest, self.balance_expiration_date)
        return latest


@dataclass(frozen=True, slots=True)
class ActiveBalance:
    """What is left of one completed credit once debits consumed credits oldest first."""

    id: str
    amount: int  # minor units
    created_at: int
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class Ledger:
    """A member's history on one balance definition, and what it adds up to.

    `transactions` and `active_balances` are tuples, or `Prefix`es (store/prefix.py) once a write added to
    them: immutable sequences the ledger's revisions share rather than each copying its history.
    """

    balance_definition_id: str
    value: int  # minor units: completed credits minus completed debits
    updated_at: int
    transactions: Sequence[Transaction]  # oldest first
    active_balances: Sequence[ActiveBalance]  # oldest first
    opened_at: int | None = None  # when createSubscriptionBalances opened it (a definition newer than the member)


@dataclass(frozen=True, slots=True)
class Voucher:
    id: str
    contact_id: int
    reward_id: str
    code: str
    created_at: int
    updated_at: int
    valid_from: int
    expiration_date: int
    consumed_at: int | None
    meta: Meta
    unit: str
    value: float | int

    def available(self, now: int = REFERENCE_NOW) -> bool:
        """Usable now: neither redeemed nor expired."""
        return self.consumed_at is None and self.expiration_date > now

    def unusable_reason(self, now: int) -> str | None:
        """Why the voucher cannot be redeemed at `now` (None: it can)."""
        if self.consumed_at is not None:
            return f"was redeemed at {iso(self.consumed_at)}"
        if self.valid_from > now:
            return f"is not valid before {iso(self.valid_from)}"
        if self.expiration_date <= now:
            return f"expired at {iso(self.expiration_date)}"
        return None

    def consume(self, now: int) -> Voucher:
        return replace(self, consumed_at=now, updated_at=now)


@dataclass(frozen=True, slots=True)
class Redemption:
    """A request to redeem one voucher: open (draft) until completed, or lapsed after its ttl."""

    id: str
    program_id: str
    contact_id: int
    voucher_id: str
    status: str  # draft | completed (an open one past `expires_at` reads as expired)
    meta: Meta
    created_at: int
    updated_at: int
    expires_at: int | None
    completed_at: int | None

    def status_at(self, now: int) -> str:
        if self.status == "draft" and self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return self.status

    def complete(self, now: int) -> Redemption:
        return replace(self, status="completed", completed_at=now, updated_at=now)


@dataclass(frozen=True, slots=True)
class TierAssignment:
    """The tier a member holds in a group when it is not simply the one its balance reaches.

    Given by hand (addSubscriptionToTier, `by_hand`): it holds while the member's balance on
    the group's definition stays what it was when the tier was given (`balance`); once that
    balance changes, the group's real-time directions move the member from it.

    Held (`by_hand` False), in a group with a scheduled direction: the tier as of the last
    evaluation, recorded at each change of the balance (`balance`) and at each scheduled
    evaluation; `tier_id` None is "below every tier". `ProgramData.standing_of` reads both.
    """

    id: str  # "" for a held tier (no API answer names it)
    group_id: str
    tier_id: str | None
    balance: int  # minor units, on the group's balance definition, when recorded
    created_at: int  # when the member entered the tier (a held tier kept through a balance change keeps it)
    by_hand: bool = True


@dataclass(frozen=True, slots=True)
class Member:
    """Everything about one subscribed contact of one program."""

    subscription: Subscription
    ledgers: tuple[Ledger, ...]  # aligned with the program's balance definitions
    vouchers: tuple[Voucher, ...]  # oldest first
    redemptions: tuple[Redemption, ...] = ()  # opened through the API, oldest first
    revoked: tuple[Voucher, ...] = ()  # withdrawn from `vouchers` (no read shows them; redeeming one is a 412)
    # Tiers given by hand, by tier group id (a shared empty mapping by default: a dataclass field
    # default must be hashable, a mapping proxy is not).
    tier_assignments: Mapping[str, TierAssignment] = field(default_factory=lambda: EMPTY_META)
    # Contacts attached to this subscription (never the owner), in the order they were attached.
    # Seeded members have none; `MemberTable.attached` indexes them by contact for the program.
    subscription_members: tuple[SubscriptionMember, ...] = ()

    @property
    def contact_id(self) -> int:
        return self.subscription.contact_id

    def with_ledgers(self, subscription: Subscription, ledgers: tuple[Ledger, ...]) -> Member:
        """The member with a new subscription record and ledgers (`replace` by hand: a write's hot path)."""
        return Member(subscription, ledgers, self.vouchers, self.redemptions, self.revoked, self.tier_assignments,
                      self.subscription_members)

    def with_subscription_members(self, contact_ids: Sequence[int], now: int) -> Member:
        """`contact_ids` attached (those attached already are left as they are)."""
        held = {attached.contact_id for attached in self.subscription_members}
        fresh = tuple(SubscriptionMember(cid, now, now) for cid in dict.fromkeys(contact_ids) if cid not in held)
        return replace(self, subscription_members=self.subscription_members + fresh) if fresh else self

    def without_subscription_members(self, contact_ids: Sequence[int]) -> Member:
        gone = set(contact_ids)
        kept = tuple(attached for attached in self.subscription_members if attached.contact_id not in gone)
        return replace(self, subscription_members=kept)

    def ledger(self, balance_definition_id: str) -> Ledger | None:
        for ledger in self.ledgers:
            if ledger.balance_definition_id == balance_definition_id:
                return ledger
        return None


def sorted_position(values: Sequence[int], value: int) -> int | None:
    """Where `value` sits in the sorted `values`, or None when it is absent (a binary search)."""
    position = bisect_left(values, value)
    if position < len(values) and values[position] == value:
        return position
    return None
