"""What falls due, found without looking at every member on every clock move.

- `AnniversaryIndex`: many contacts' anchor moments (when they subscribed, when they entered a
  tier), sorted by their place in the month (or the year), so the monthly or yearly anniversaries
  falling in a window are two bisections per calendar month (or year) the window touches.
- `SeededAgenda`: the due moments of a program's seeded members (credits expiring, vouchers
  expiring, the reminders before them, and each member's tier and since when), drawn once from
  the seed by generating every member. Seeded members are generated on demand, so this is the one
  full pass the clock needs: about 0.2 ms a member (0.2 s at 1,000 contacts, some 20 s at
  100,000), once per program and backend, kept across resets (it depends on the seed only).
  The items sit in compact parallel arrays sorted by moment; the clock only moves forward, so a
  cursor walks them.
"""

from __future__ import annotations

import calendar
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mock_server.store.expiry_rules import REMINDER, tier_since
from mock_server.store.models import DAY
from mock_server.store.world import ProgramData, World

# Kinds of due items, in the order they run when they share a moment.
BALANCE_REMINDER, VOUCHER_REMINDER, BALANCE_EXPIRY, VOUCHER_EXPIRY = 0, 1, 2, 3
MEMBERSHIP_REMINDER, SUBSCRIPTION_MONTH, SUBSCRIPTION_YEAR = 4, 5, 6
TIER_REMINDER, TIER_MONTH, TIER_YEAR = 7, 8, 9


def _month_key(anchor: int) -> int:
    """Where `anchor` sits in its month: (day - 1) days plus its time of day."""
    return (time.gmtime(anchor // 1000).tm_mday - 1) * DAY + anchor % DAY


def _year_key(anchor: int) -> int:
    """Where `anchor` sits in its year, as (month - 1) * 31 + (day - 1) days plus its time of day (monotonic)."""
    tm = time.gmtime(anchor // 1000)
    return ((tm.tm_mon - 1) * 31 + tm.tm_mday - 1) * DAY + anchor % DAY


def _in_month(year: int, month: int) -> Callable[[int], int]:
    last = calendar.monthrange(year, month)[1]
    start = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000

    def moment(key: int) -> int:  # the day kept inside the month (the 31st is the 30th in April)
        return start + min(key // DAY, last - 1) * DAY + key % DAY
    return moment


def _in_year(year: int) -> Callable[[int], int]:
    def moment(key: int) -> int:
        days = key // DAY
        month, day = days // 31 + 1, days % 31 + 1
        day = min(day, calendar.monthrange(year, month)[1])  # 29/02 falls on the 28th in common years
        return calendar.timegm((year, month, day, 0, 0, 0)) * 1000 + key % DAY
    return moment


class AnniversaryIndex:
    """Anchors of contacts, by their place in the month and in the year (each order built on first use)."""

    __slots__ = ("_orders", "anchors", "contacts", "payloads")

    def __init__(self, anchors: Sequence[int], contacts: Sequence[int], payloads: Sequence[str] | None = None) -> None:
        self.anchors = array("q", anchors)
        self.contacts = array("q", contacts)
        self.payloads = list(payloads) if payloads is not None else None  # e.g. the tier held since the anchor
        self._orders: dict[int, tuple[array, array]] = {}  # step (1 or 12) -> (keys sorted, positions)

    def _order(self, step: int) -> tuple[array, array]:
        found = self._orders.get(step)
        if found is None:
            key = _month_key if step == 1 else _year_key
            keys = [key(anchor) for anchor in self.anchors]
            positions = sorted(range(len(keys)), key=lambda p: (keys[p], self.contacts[p]))
            found = self._orders[step] = (array("q", (keys[p] for p in positions)), array("l", positions))
        return found

    def due(self, start: int, end: int, step: int) -> list[tuple[int, int, int]]:
        """(moment, count, position) of every anniversary in (start, end], every `step` months (1 or 12);
        count is months (step 1) or years (step 12) since the anchor, at least 1."""
        if end <= start or not len(self.anchors):
            return []
        keys, positions = self._order(step)
        first, last = time.gmtime((start + 1) // 1000), time.gmtime(end // 1000)
        periods: list[tuple[int, Callable[[int], int]]] = []
        if step == 1:
            for index in range(first.tm_year * 12 + first.tm_mon - 1, last.tm_year * 12 + last.tm_mon):
                year, month = divmod(index, 12)
                periods.append((index, _in_month(year, month + 1)))
        else:
            periods = [(year, _in_year(year)) for year in range(first.tm_year, last.tm_year + 1)]
        found = []
        for period, moment_of in periods:
            low, high = bisect_right(keys, start, key=moment_of), bisect_right(keys, end, key=moment_of)
            for i in range(low, high):
                position = positions[i]
                anchor = time.gmtime(self.anchors[position] // 1000)
                count = period - (anchor.tm_year * 12 + anchor.tm_mon - 1 if step == 1 else anchor.tm_year)
                if count >= 1:
                    found.append((moment_of(keys[i]), count, position))
        return found


@dataclass
class SeededAgenda:
    """One program's seeded members' one-off due items (sorted by moment) and their tiers' anchors."""

    moments: array = field(default_factory=lambda: array("q"))
    kinds: array = field(default_factory=lambda: array("b"))
    contacts: array = field(default_factory=lambda: array("q"))
    refs: array = field(default_factory=lambda: array("l"))  # balance definition index, or voucher index
    amounts: array = field(default_factory=lambda: array("q"))  # minor units of a balance item
    tiers: dict[str, AnniversaryIndex] = field(default_factory=dict)  # group id -> (since, contact, tier id)

    def __len__(self) -> int:
        return len(self.moments)

    def first_after(self, moment: int) -> int:
        """The first item due strictly after `moment`."""
        return bisect_right(self.moments, moment)


def seeded_agenda(base: World, data: ProgramData) -> SeededAgenda:
    """Every seeded member generated once: what falls due after the world's reference time."""
    after = base.reference_now
    raw: list[tuple[int, int, int, int, int]] = []
    tier_rows: dict[str, tuple[list[int], list[int], list[str]]] = {
        group.id: ([], [], []) for group in data.tier_groups if group.tier_ids}
    for position in range(len(data.members)):
        member = base.member_at(data, position)
        contact = member.contact_id
        for d, ledger in enumerate(member.ledgers):
            for active in ledger.active_balances:
                if active.expires_at is None or active.expires_at <= after:
                    continue
                raw.append((active.expires_at, BALANCE_EXPIRY, contact, d, active.amount))
                if active.expires_at - REMINDER > after:
                    raw.append((active.expires_at - REMINDER, BALANCE_REMINDER, contact, d, active.amount))
        for v, voucher in enumerate(member.vouchers):
            if voucher.consumed_at is not None or voucher.expiration_date <= after:
                continue
            raw.append((voucher.expiration_date, VOUCHER_EXPIRY, contact, v, 0))
            if voucher.expiration_date - REMINDER > after:
                raw.append((voucher.expiration_date - REMINDER, VOUCHER_REMINDER, contact, v, 0))
        for group_id, (anchors, contacts, tier_ids) in tier_rows.items():
            tier, since = tier_since(data, data.group_by_id[group_id], member)
            if tier is not None and since is not None:
                anchors.append(since)
                contacts.append(contact)
                tier_ids.append(tier.id)
    raw.sort()
    agenda = SeededAgenda()
    for moment, kind, contact, ref, amount in raw:
        agenda.moments.append(moment)
        agenda.kinds.append(kind)
        agenda.contacts.append(contact)
        agenda.refs.append(ref)
        agenda.amounts.append(amount)
    agenda.tiers = {group_id: AnniversaryIndex(*rows) for group_id, rows in tier_rows.items()}
    return agenda
