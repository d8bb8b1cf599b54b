"""`Timeline`: everything the organisation's clock drives, run in time order when it is moved on.

`Backend.advance_clock(to)` calls `Timeline.run_until(to)` inside one write. The window from where
the timeline last ran (its cursor; the clock's start after a reset) to `to` is walked in steps of
at most `STEP` (so a tier entered during a move has its monthly anniversary found in a later
step). Each step gathers the items due in it, sorts them by (moment, kind, program, contact) and
runs them one by one; each emits its events at its own moment (the clock is moved there first).

Where due items come from, without scanning every member on every move:

- seeded members no write touched: the program's `SeededAgenda` (one pass over the seed, kept
  across resets) for credits, vouchers and tiers, and an `AnniversaryIndex` of the member table
  for subscription anniversaries (bisections);
- members a write (or an earlier step) changed: their own records, read whole (their number is
  bounded by the writes made).

The jobs, and the events each emits (`Backend.emit(name, program_id, contact_id, **objects)`;
amounts are minor units of the definition: divide by `definition.scale`; moments are epoch ms):

=================================  ===============================================================
event (what runs it, when)         objects
=================================  ===============================================================
balance_expiration_reminder        program, definition, subscription, value, expires_at
  `REMINDER_DAYS` before credits lapse: one per definition and expiry moment, value = their sum
voucher_expiration_reminder        program, subscription, member, voucher, reward, expires_at
  `REMINDER_DAYS` before an unused voucher expires
balance_value_expired              program, definition, subscription, member, transaction, value,
  at a credit's expiry, one per credit   balance (the member's balance after it)
balance_minimum_value_reached      program, definition, member, value
  right after, when the lapses took the balance from above the definition's minAmount to it or below
tier_association_updated           program, subscription, member, group, tier, previous_tier
  right after, for each tier group on that definition whose tier for the member changed (its
  real-time directions: a scheduled one only records the tier held)
voucher_expired                    program, subscription, member, voucher, reward
  at an unused voucher's expirationDate
membership_anniversary_reminder    program, subscription, anniversary_at, years
  `REMINDER_DAYS` before each yearly anniversary of the subscription
subscription_month_anniversary     program, subscription, months
  each month after subscribing, except the 12th, 24th ... (the year anniversary fires then)
subscription_year_anniversary      program, subscription, years
tier_anniversary_reminder          program, subscription, group, tier, since, anniversary_at, years
  `REMINDER_DAYS` before each yearly anniversary of entering the tier held
tier_association_month_anniversary program, subscription, group, tier, since, months (not 12, 24 ...)
tier_association_year_anniversary  program, subscription, group, tier, since, years
tier_association_updated           program, subscription, member, group, tier, previous_tier
  a scheduled evaluation (`TIER_REVIEW`) of a group's upgrade and/or downgrade on its schedule
  (`store.tier_changes.review_moments`), when the member's balance reaches another tier in a
  direction evaluated; only members with a recorded tier can move (others hold what the balance gives)
=================================  ===============================================================

At one moment they run in the order above (reminders, expiries, anniversaries, tier evaluations),
then by program and contact id. A job that changes a member (a lapse, an evaluation) queues that
member's evaluations still due in the step (`_queue_reviews`).

`program` is the `LoyaltyProgram`, `definition` a `BalanceDefinition`, `subscription` the member's
`Subscription`, `member` its `Member` as the job left it, `transaction` the `Transaction` showing
the expiry (the credit now `expired`, or the expiry debit of a partly spent credit), `voucher` a
`Voucher`, `reward` its `Reward` (None if gone), `group` a `TierGroup`, `tier`/`previous_tier`
`Tier` or None (below every tier), `since` when the member entered the tier.

A group moves members in real time or on a schedule, per direction (`mock_server.store.tier_changes`):
a lapse moves a member in the real-time directions at once, and in the scheduled ones at their
evaluation.

Atomic: the whole move is one write; jobs change copies kept aside (`_pending`) and the changed
members are committed at the end, so a failure leaves the world, the clock, the ids and the
events as they were.
"""

from __future__ import annotations

from bisect import insort
from typing import TYPE_CHECKING, Any

from mock_server.backend.agenda import (
    BALANCE_EXPIRY,
    BALANCE_REMINDER,
    MEMBERSHIP_REMINDER,
    SUBSCRIPTION_MONTH,
    SUBSCRIPTION_YEAR,
    TIER_MONTH,
    TIER_REMINDER,
    TIER_REVIEW,
    TIER_YEAR,
    VOUCHER_EXPIRY,
    VOUCHER_REMINDER,
    AnniversaryIndex,
    SeededAgenda,
    seeded_agenda,
)
from mock_server.store.balance_rules import with_ledger
from mock_server.store.expiry_rules import REMINDER, anniversaries, expire_ledger, tier_since
from mock_server.store.models import DAY, Member, Subscription, Tier
from mock_server.store.tier_changes import (
    DOWNGRADE,
    UPGRADE,
    newly_reached_tiers,
    review_moments,
    reviewed,
    scheduled,
    with_held_tiers,
)
from mock_server.store.world import MemberTable, ProgramData, World

if TYPE_CHECKING:
    from mock_server.backend.state import Backend

STEP = 28 * DAY  # at most a month: anniversaries of a tier entered during a move are found in a later step

# A due item: (moment, kind, program index, contact id, ref) -> detail. The key orders the run; ref is a
# definition index, ("i", voucher index) of a seeded member, ("id", voucher id), 0, or a tier group id.
Key = tuple[int, int, int, int, Any]
OneOff = tuple[int, int, Any, int]  # (moment, kind, ref, amount) of a member's credit or voucher


class _State:
    """What the timeline has run in one world (a reset starts a new one)."""

    def __init__(self, world: World, cursor: int) -> None:
        self.world = world
        self.cursor = cursor  # everything due up to here has run
        self.seeded_next: dict[str, int] = {}  # program id -> first seeded item not run yet
        self.subscriptions: dict[str, tuple[MemberTable, AnniversaryIndex]] = {}
        # (program id, contact) -> (record, its one-off due items, its tiers): what `_facts` found for a record
        self.facts: dict[tuple[str, int], tuple[Member, list[OneOff], list[tuple[str, str, int]]]] = {}


class Timeline:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._seeded: dict[str, tuple[ProgramData, SeededAgenda]] = {}  # by the base's program: kept across resets
        self._state: _State | None = None
        self._pending: dict[tuple[str, int], Member] = {}
        # Tiers members reached at a scheduled upgrade: (moment, program id, contact, tiers), given their
        # rewards once the move's members are committed (the rewards service works on committed members).
        self._gifts: list[tuple[int, str, int, list[Tier]]] = []
        self._changed: dict[str, dict[int, Member]] = {}  # this step's members held as records, by program
        self._by_index: dict[int, ProgramData] = {}
        self._items: dict[Key, Any] = {}  # this step's due items, and the order they run in
        self._queue: list[Key] = []
        self._at, self._stop = 0, 0

    # ------------------------------------------------------------------ running

    def run_until(self, end: int) -> int:
        """Run everything due up to `end` (the caller holds `backend.writing()`); returns how many items ran."""
        state = self._current()
        self._pending, self._gifts = {}, []
        ran = 0
        start = state.cursor
        try:
            while start < end:
                stop = min(end, start + STEP)
                items = self._due(state, start, stop)
                self._items, self._queue, self._stop = items, sorted(items), stop
                self._at = 0
                while self._at < len(self._queue):  # jobs may queue later items of this step (`_queue_reviews`)
                    key = self._queue[self._at]
                    ran += self._run(key, items[key])
                    self._at += 1
                start = stop
            self._commit()
            self._give_tier_rewards()
        finally:
            self._pending, self._changed, self._by_index, self._gifts = {}, {}, {}, []
            self._items, self._queue = {}, []
        state.cursor = max(state.cursor, end)
        return ran

    def _current(self) -> _State:
        world = self.backend.world
        if self._state is None or self._state.world is not world:
            self._state = _State(world, self.backend.clock.start)
        return self._state

    def _commit(self) -> None:
        backend = self.backend
        by_program: dict[str, list[Member]] = {}
        for (program_id, _), member in self._pending.items():
            by_program.setdefault(program_id, []).append(member)
        for program_id, members in by_program.items():
            data = backend.world.program(program_id)
            if data is None:  # pragma: no cover - nothing deletes a program during a move
                continue
            data = backend.writable(data)
            for member in members:
                backend.put_member(data, member)

    def _give_tier_rewards(self) -> None:
        """The rewards of tiers reached at scheduled upgrades, as a real-time upgrade gives them, each at its moment."""
        backend = self.backend
        for moment, program_id, contact, tiers in sorted(self._gifts, key=lambda gift: gift[:3]):
            backend.rewards.on_tiers_reached(program_id, contact, tiers, at=moment)  # dated when it happened

    # ------------------------------------------------------------------ what is due

    def _due(self, state: _State, start: int, end: int) -> dict[Key, Any]:
        items: dict[Key, Any] = {}
        world = self.backend.world
        self._changed = {}
        self._by_index = {data.program.index: data for data in world.programs}
        for data in world.programs:
            if not len(data.members):
                continue
            changed = {member.contact_id: member for member in world.changed_members(data.id)}
            changed.update({cid: member for (pid, cid), member in self._pending.items() if pid == data.id})
            self._changed[data.id] = changed
            self._seeded_items(state, data, start, end, changed, items)
            self._anniversaries(state, data, start, end, changed, items)
            for member in changed.values():
                if data.members.position(member.contact_id) is not None:
                    self._member_items(state, data, member, start, end, items)
        return items

    def _seeded_items(self, state: _State, data: ProgramData, start: int, end: int, changed: dict[int, Member],
                      items: dict[Key, Any]) -> None:
        agenda = self._agenda(data.id)
        if agenda is None:
            return
        index = data.program.index
        at = state.seeded_next.get(data.id)
        if at is None:
            at = agenda.first_after(start)
        table = data.members
        while at < len(agenda) and agenda.moments[at] <= end:
            contact = agenda.contacts[at]
            if agenda.moments[at] > start and contact not in changed and table.position(contact) is not None:
                kind, ref = agenda.kinds[at], agenda.refs[at]
                if kind in (VOUCHER_EXPIRY, VOUCHER_REMINDER):
                    items[(agenda.moments[at], kind, index, contact, ("i", ref))] = None
                else:
                    key = (agenda.moments[at], kind, index, contact, ref)
                    items[key] = (items.get(key) or 0) + agenda.amounts[at]
            at += 1
        state.seeded_next[data.id] = at

    def _agenda(self, program_id: str) -> SeededAgenda | None:
        base = self.backend.base
        data = base.program(program_id)
        if data is None:  # created through the API: every member of it is a written one
            return None
        cached = self._seeded.get(program_id)
        if cached is None or cached[0] is not data:
            cached = self._seeded[program_id] = (data, seeded_agenda(base, data))
        return cached[1]

    def _anniversaries(self, state: _State, data: ProgramData, start: int, end: int, changed: dict[int, Member],
                       items: dict[Key, Any]) -> None:
        """Subscription anniversaries of every member (the table has their dates), tier ones of untouched seeded
        members (`changed` ones have theirs from their records)."""
        index = data.program.index
        table = data.members
        held = state.subscriptions.get(data.id)
        if held is None or held[0] is not table:
            held = (table, AnniversaryIndex(table.subscribed_at, table.contact_ids))
            state.subscriptions[data.id] = held
        subscriptions = held[1]
        for kind, step, shift in ((SUBSCRIPTION_MONTH, 1, 0), (SUBSCRIPTION_YEAR, 12, 0),
                                  (MEMBERSHIP_REMINDER, 12, REMINDER)):
            for moment, count, position in subscriptions.due(start + shift, end + shift, step):
                contact = subscriptions.contacts[position]
                if kind == SUBSCRIPTION_MONTH and count % 12 == 0:
                    continue
                items[(moment - shift, kind, index, contact, 0)] = {"count": count, "at": moment}
        agenda = self._agenda(data.id)
        if agenda is None:
            return
        for group_id, tiers in agenda.tiers.items():
            if group_id not in data.group_by_id:
                continue
            for kind, step, shift in ((TIER_MONTH, 1, 0), (TIER_YEAR, 12, 0), (TIER_REMINDER, 12, REMINDER)):
                for moment, count, position in tiers.due(start + shift, end + shift, step):
                    contact = tiers.contacts[position]
                    if contact in changed or table.position(contact) is None or \
                            (kind == TIER_MONTH and count % 12 == 0):
                        continue
                    items[(moment - shift, kind, index, contact, group_id)] = {
                        "count": count, "at": moment, "since": tiers.anchors[position],
                        "tier_id": tiers.payloads[position] if tiers.payloads else None}

    def _member_items(self, state: _State, data: ProgramData, member: Member, start: int, end: int,
                      items: dict[Key, Any]) -> None:
        """What falls due in (start, end] for a member held as a record (written, or changed by an earlier step)."""
        index, contact = data.program.index, member.contact_id
        cached = state.facts.get((data.id, contact))
        if cached is None or cached[0] is not member:  # records are immutable: facts hold until it is replaced
            cached = state.facts[(data.id, contact)] = (member, *_facts(data, member))
        _, one_offs, tiers = cached
        for moment, kind, ref, amount in one_offs:
            if start < moment <= end:
                key = (moment, kind, index, contact, ref)
                items[key] = (items.get(key) or 0) + amount if kind == BALANCE_REMINDER else amount
        for group_id, tier_id, since in tiers:
            for kind, step, shift in ((TIER_MONTH, 1, 0), (TIER_YEAR, 12, 0), (TIER_REMINDER, 12, REMINDER)):
                for moment, count in anniversaries(since, start + shift, end + shift, step):
                    if not (kind == TIER_MONTH and count % 12 == 0):
                        items[(moment - shift, kind, index, contact, group_id)] = {
                            "count": count, "at": moment, "since": since, "tier_id": tier_id}
        for key in _reviews(data, member, start, end):
            items[key] = None

    def _queue_reviews(self, data: ProgramData, member: Member, moment: int) -> None:
        """The scheduled tier evaluations of a member a job just changed, still due in this step (at this very
        moment too: an evaluation runs after the moment's lapses)."""
        for key in _reviews(data, member, moment - 1, self._stop):
            if key not in self._items:
                self._items[key] = None
                insort(self._queue, key, lo=self._at + 1)

    # ------------------------------------------------------------------ running one item

    def _member(self, data: ProgramData, contact: int) -> Member | None:
        found = self._pending.get((data.id, contact))
        return found if found is not None else self.backend.world.member(data, contact)

    def _subscription(self, data: ProgramData, contact: int) -> Subscription | None:
        """The member's subscription, from its record if held, else from the member table (no generation)."""
        found = self._pending.get((data.id, contact)) or self._changed.get(data.id, {}).get(contact)
        if found is not None:
            return found.subscription
        table = data.members
        position = table.position(contact)
        if position is None:
            return None
        created = table.subscribed_at[position]
        updated = max([created, *(column[position] for column in table.updated_at)])
        return Subscription(data.id, contact, table.subscription_ids[position], created, updated)

    def _run(self, key: Key, detail: Any) -> int:
        moment, kind, index, contact, ref = key
        data = self._program_at(index)
        if data is None:
            return 0
        backend = self.backend
        backend.clock.reach(moment)
        if kind == BALANCE_EXPIRY:
            return self._expire_credits(data, contact, ref, moment)
        if kind in (VOUCHER_EXPIRY, VOUCHER_REMINDER):
            return self._voucher(data, contact, ref, kind, moment)
        if kind == TIER_REVIEW:
            return self._review(data, contact, ref, moment)
        subscription = self._subscription(data, contact)
        if subscription is None:
            return 0
        program = data.program
        if kind == BALANCE_REMINDER:
            definition = data.definitions[ref]
            if definition.deleted:
                return 0
            backend.emit("balance_expiration_reminder", data.id, contact, program=program, definition=definition,
                         subscription=subscription, value=detail, expires_at=moment + REMINDER)
        elif kind in (SUBSCRIPTION_MONTH, SUBSCRIPTION_YEAR, MEMBERSHIP_REMINDER):
            if kind == SUBSCRIPTION_MONTH:
                backend.emit("subscription_month_anniversary", data.id, contact, program=program,
                             subscription=subscription, months=detail["count"])
            elif kind == SUBSCRIPTION_YEAR:
                backend.emit("subscription_year_anniversary", data.id, contact, program=program,
                             subscription=subscription, years=detail["count"])
            else:
                backend.emit("membership_anniversary_reminder", data.id, contact, program=program,
                             subscription=subscription, anniversary_at=detail["at"], years=detail["count"])
        else:
            group = data.group_by_id.get(ref)
            tier = data.tier_by_id.get(detail["tier_id"])
            if group is None or tier is None:
                return 0
            # A member a write or this move changed may have left the tier since the item was planned (e.g. a
            # lapse at the same moment); an untouched seeded member holds it still (and is not generated).
            changed = self._pending.get((data.id, contact)) or self._changed.get(data.id, {}).get(contact)
            held = data.standing_of(group, changed)[0] if changed is not None else tier
            if held is None or held.id != tier.id:
                return 0
            common = {"program": program, "subscription": subscription, "group": group, "tier": tier,
                      "since": detail["since"]}
            if kind == TIER_MONTH:
                backend.emit("tier_association_month_anniversary", data.id, contact, **common, months=detail["count"])
            elif kind == TIER_YEAR:
                backend.emit("tier_association_year_anniversary", data.id, contact, **common, years=detail["count"])
            else:
                backend.emit("tier_anniversary_reminder", data.id, contact, **common, anniversary_at=detail["at"],
                             years=detail["count"])
        return 1

    def _program_at(self, index: int) -> ProgramData | None:
        return self._by_index.get(index)

    def _expire_credits(self, data: ProgramData, contact: int, d: int, moment: int) -> int:
        definition = data.definitions[d]
        member = self._member(data, contact)
        if member is None or definition.deleted:
            return 0
        ledger, lapsed = expire_ledger(member.ledgers[d], moment, self.backend.new_id)
        if not lapsed:
            return 0
        after = with_held_tiers(data, member, with_ledger(member, d, ledger), moment)
        self._pending[(data.id, contact)] = after
        backend = self.backend
        for item in lapsed:
            backend.emit("balance_value_expired", data.id, contact, program=data.program, definition=definition,
                         subscription=after.subscription, member=after, transaction=item.transaction,
                         value=item.amount, balance=ledger.value)
        before_value = member.ledgers[d].value
        if ledger.value <= definition.min_amount < before_value:  # the lapse took the balance down to its floor
            backend.emit("balance_minimum_value_reached", data.id, contact, program=data.program,
                         definition=definition, member=after, value=ledger.value, source="schedule")
        for group in data.tier_groups:
            if group.balance_definition_id != definition.id or not group.tier_ids:
                continue
            before_tier, _ = data.standing_of(group, member)
            after_tier, _ = data.standing_of(group, after)
            if (before_tier.id if before_tier else None) != (after_tier.id if after_tier else None):
                backend.emit("tier_association_updated", data.id, contact, program=data.program,
                             subscription=after.subscription, member=after, group=group, tier=after_tier,
                             previous_tier=before_tier, source="schedule")
        self._queue_reviews(data, after, moment)
        return len(lapsed)

    def _review(self, data: ProgramData, contact: int, group_id: str, moment: int) -> int:
        """A scheduled tier evaluation: the directions of the group due now for the member, as it is now."""
        member = self._member(data, contact)
        group = data.group_by_id.get(group_id)
        if member is None or group is None:
            return 0
        directions = frozenset(direction for direction in (UPGRADE, DOWNGRADE)
                               if moment in _review_moments(group, member, direction, moment - 1, moment))
        moved = reviewed(data, group, member, directions, moment) if directions else None
        if moved is None:
            return 0
        after, before_tier, after_tier = moved
        self._pending[(data.id, contact)] = after
        reached = newly_reached_tiers(data, member, after)
        if reached:
            self._gifts.append((moment, data.id, contact, reached))
        self.backend.emit("tier_association_updated", data.id, contact, program=data.program,
                          subscription=after.subscription, member=after, group=group, tier=after_tier,
                          previous_tier=before_tier, source="schedule")
        self._queue_reviews(data, after, moment)
        return 1

    def _voucher(self, data: ProgramData, contact: int, ref: tuple[str, Any], kind: int, moment: int) -> int:
        member = self._member(data, contact)
        if member is None:
            return 0
        how, which = ref
        if how == "i":
            voucher = member.vouchers[which] if which < len(member.vouchers) else None
        else:
            voucher = next((item for item in member.vouchers if item.id == which), None)
        if voucher is None or voucher.consumed_at is not None:
            return 0
        reward = data.reward_by_id.get(voucher.reward_id)
        if kind == VOUCHER_EXPIRY:
            self.backend.emit("voucher_expired", data.id, contact, program=data.program,
                              subscription=member.subscription, member=member, voucher=voucher, reward=reward)
        else:
            self.backend.emit("voucher_expiration_reminder", data.id, contact, program=data.program,
                              subscription=member.subscription, member=member, voucher=voucher, reward=reward,
                              expires_at=voucher.expiration_date)
        return 1


def _facts(data: ProgramData, member: Member) -> tuple[list[OneOff], list[tuple[str, str, int]]]:
    """A member record's one-off due items (moment, kind, ref, amount) after its history, and (group, tier, since)."""
    one_offs: list[OneOff] = []
    for d, ledger in enumerate(member.ledgers):
        if data.definitions[d].deleted:
            continue
        for active in ledger.active_balances:
            if active.expires_at is not None:
                one_offs.append((active.expires_at, BALANCE_EXPIRY, d, active.amount))
                if active.expires_at - REMINDER >= active.created_at:  # not before the credit existed
                    one_offs.append((active.expires_at - REMINDER, BALANCE_REMINDER, d, active.amount))
    for voucher in member.vouchers:
        if voucher.consumed_at is None:
            one_offs.append((voucher.expiration_date, VOUCHER_EXPIRY, ("id", voucher.id), 0))
            if voucher.expiration_date - REMINDER >= voucher.created_at:
                one_offs.append((voucher.expiration_date - REMINDER, VOUCHER_REMINDER, ("id", voucher.id), 0))
    tiers: list[tuple[str, str, int]] = []
    for group in data.tier_groups:
        if not group.tier_ids or group.balance_definition_id not in data.definition_by_id:
            continue
        tier, since = tier_since(data, group, member)
        if tier is not None and since is not None:
            tiers.append((group.id, tier.id, since))
    return one_offs, tiers


def _review_moments(group: Any, member: Member, direction: str, start: int, end: int) -> list[int]:
    record = member.tier_assignments.get(group.id)
    since = record.created_at if record is not None and record.tier_id is not None else None
    return review_moments(group, direction, member.subscription.created_at, since, start, end)


def _reviews(data: ProgramData, member: Member, start: int, end: int) -> list[Key]:
    """Keys of the scheduled tier evaluations of a member in (start, end]: only a member with a recorded tier
    can move at one (without one it holds what its balance gives, `ProgramData.standing_of`)."""
    keys: list[Key] = []
    for group in data.tier_groups:
        if group.id not in member.tier_assignments or not group.tier_ids or not scheduled(group):
            continue
        for direction in (UPGRADE, DOWNGRADE):
            for moment in _review_moments(group, member, direction, start, end):
                keys.append((moment, TIER_REVIEW, data.program.index, member.contact_id, group.id))
    return keys
