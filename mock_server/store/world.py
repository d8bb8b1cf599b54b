"""The world one organisation sees: programs, their configuration and their members.

A `World` is built once by `mock_server.seeding.build_world` and never changes
afterwards. Configuration (definitions, tiers, rewards ...) is held as frozen
records with id indexes. Members are held column-wise in a `MemberTable` (one
compact array per field, one entry per subscribed contact), so that 100,000
contacts per program cost a few megabytes; a member's transactions, active
balances and vouchers are produced on demand by a `MemberSource` and kept in a
small LRU cache. Every lookup is an index or a bisection: no request scans all
contacts.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mock_server.store.history import HistoryCache, LedgerHistory
from mock_server.store.models import (
    REFERENCE_NOW,
    BalanceDefinition,
    BalanceLimit,
    CodeGenerator,
    CodePool,
    LoyaltyProgram,
    Member,
    Reward,
    Tier,
    TierAssignment,
    TierGroup,
    iso,
    sorted_position,
)

if TYPE_CHECKING:
    from mock_server.seeding.drafts import MemberColumns

CONTACT_BALANCE_SORT_FIELDS = ("updatedAt", "value")


class MemberTable:
    """Subscribed contacts of one program, one array per column, sorted by contact id.

    Per balance definition (by its index in the program) the table holds each
    member's balance (minor units), transaction count and last update, plus the
    member positions pre-sorted by value and by update time (ties by contact id),
    so a page of contact balances is a slice.
    """

    __slots__ = (
        "_by_subscription",
        "_order_keys",
        "_orders",
        "attached",
        "contact_ids",
        "counts",
        "fixture_contacts",
        "subscribed_at",
        "subscription_ids",
        "updated_at",
        "values",
    )

    def __init__(
        self,
        contact_ids: array,
        subscription_ids: list[str],
        subscribed_at: array,
        values: Sequence[array],
        counts: Sequence[array],
        updated_at: Sequence[array],
        fixture_contacts: Sequence[int] = (),
    ) -> None:
        size = len(contact_ids)
        columns = (subscription_ids, subscribed_at, *values, *counts, *updated_at)
        if any(len(column) != size for column in columns):
            raise ValueError("member columns differ in length")
        if any(contact_ids[i] >= contact_ids[i + 1] for i in range(size - 1)):
            raise ValueError("contact ids must be strictly increasing")
        self.contact_ids = contact_ids
        self.subscription_ids = subscription_ids
        # loyaltySubscriptionId -> contact id (not position: positions move when members come and go)
        self._by_subscription = dict(zip(subscription_ids, contact_ids, strict=True))
        if len(self._by_subscription) != size:
            raise ValueError("loyaltySubscriptionIds must be unique within a program")
        self.subscribed_at = subscribed_at
        self.values = tuple(values)
        self.counts = tuple(counts)
        self.updated_at = tuple(updated_at)
        self.fixture_contacts = tuple(fixture_contacts)
        self._orders = tuple(
            {"value": _order_by(values[d]), "updatedAt": _order_by(updated_at[d])} for d in range(len(values))
        )
        # Contacts attached to a member's subscription (`Member.subscription_members`) -> that owner's
        # contact id: a contact has one place in a program, as an owner or attached to one owner.
        self.attached: dict[int, int] = {}
        self._order_keys: dict[tuple[int, str], list[int]] = {}  # see `_keys_of`

    def __len__(self) -> int:
        return len(self.contact_ids)

    def position(self, contact_id: int) -> int | None:
        """Where a contact sits in the table, or None when it is not subscribed."""
        return sorted_position(self.contact_ids, contact_id)

    def position_of_subscription(self, loyalty_subscription_id: str) -> int | None:
        contact_id = self._by_subscription.get(loyalty_subscription_id)
        return None if contact_id is None else self.position(contact_id)

    def order(self, definition_index: int, sort_field: str) -> array:
        """Member positions ascending by `sort_field` (value or updatedAt), ties by contact id."""
        return self._orders[definition_index][sort_field]

    def transaction_count(self) -> int:
        return sum(sum(column) for column in self.counts)

    def owner_of(self, contact_id: int) -> int | None:
        """The owner of the subscription `contact_id` is attached to, or None."""
        return self.attached.get(contact_id)

    # ------------------------------------------------------------ changes
    # Only a backend's fork calls these, on a table it owns (`copy()`), never on the
    # seeded base, which other forks share.

    def copy(self) -> MemberTable:
        """An independent table with the same rows (columns and orders copied)."""
        twin = object.__new__(MemberTable)
        twin.contact_ids = array(self.contact_ids.typecode, self.contact_ids)
        twin.subscription_ids = list(self.subscription_ids)
        twin._by_subscription = dict(self._by_subscription)
        twin.subscribed_at = array(self.subscribed_at.typecode, self.subscribed_at)
        twin.values = tuple(array(c.typecode, c) for c in self.values)
        twin.counts = tuple(array(c.typecode, c) for c in self.counts)
        twin.updated_at = tuple(array(c.typecode, c) for c in self.updated_at)
        twin.fixture_contacts = self.fixture_contacts
        twin.attached = dict(self.attached)
        twin._orders = tuple({field: array("l", order) for field, order in orders.items()}
                             for orders in self._orders)
        twin._order_keys = {}
        return twin

    def set_summary(self, position: int, definition_index: int, value: int, count: int, updated_at: int) -> None:
        """A member's balance, transaction count and last change on one definition; orders follow."""
        d = definition_index
        self.counts[d][position] = count
        values, stamps = self.values[d], self.updated_at[d]
        if values[position] != value:
            self._move(d, "value", values, position, value)
        if stamps[position] != updated_at:
            self._move(d, "updatedAt", stamps, position, updated_at)

    def _move(self, d: int, field: str, column: array, position: int, new: int) -> None:
        """One member's entry of `column` changed: taken out of its order and put back by bisection."""
        keys = self._order_keys.get((d, field)) or self._keys_of(d, field, column)
        order = self._orders[d][field]
        at = bisect_left(keys, column[position] * _KEY_STRIDE + position)
        del keys[at], order[at]
        column[position] = new
        key = new * _KEY_STRIDE + position
        at = bisect_left(keys, key)
        keys.insert(at, key)
        order.insert(at, position)

    def _keys_of(self, d: int, field: str, column: array) -> list[int]:
        """The sort keys of an order, aligned with it: (column value, position) as one int, so that bisection
        compares plain ints. Made on the first change of a table (a seeded table never has them) and
        dropped when positions shift."""
        keys = self._order_keys.get((d, field))
        if keys is None:
            keys = self._order_keys[(d, field)] = [column[p] * _KEY_STRIDE + p for p in self._orders[d][field]]
        return keys

    def insert(self, contact_id: int, subscription_id: str, subscribed_at: int) -> int:
        """A new member with nothing on any definition; returns its position (later positions shift by one)."""
        if subscription_id in self._by_subscription:
            raise ValueError(f"loyaltySubscriptionId {subscription_id!r} is taken")
        position = bisect_left(self.contact_ids, contact_id)
        if position < len(self.contact_ids) and self.contact_ids[position] == contact_id:
            raise ValueError(f"contact {contact_id} is already a member")
        insert_member_row(self, position, contact_id, subscription_id, subscribed_at)
        self._by_subscription[subscription_id] = contact_id
        self._order_keys.clear()
        # Later positions moved up by one: renumber the orders (their relative order holds), then place the
        # newcomer by its key, as `_order_by` would have (O(members) per order, no re-sort).
        for d, orders in enumerate(self._orders):
            for field, column in (("value", self.values[d]), ("updatedAt", self.updated_at[d])):
                order = array("l", [p + 1 if p >= position else p for p in orders[field]])
                insort(order, position, key=lambda p, column=column: (column[p], p))
                orders[field] = order
        return position

    def remove(self, position: int) -> None:
        """A member leaves the program (later positions shift back by one)."""
        del self._by_subscription[self.subscription_ids[position]]
        self._order_keys.clear()
        for column in (self.contact_ids, self.subscription_ids, self.subscribed_at,
                       *self.values, *self.counts, *self.updated_at):
            del column[position]
        for orders in self._orders:
            for field, order in orders.items():
                orders[field] = array("l", [p - 1 if p > position else p for p in order if p != position])

    def add_definition(self) -> None:
        """A definition created after the members: everyone starts at zero on it."""
        size = len(self)
        self.values = (*self.values, array("q", bytes(8 * size)))
        self.counts = (*self.counts, array("l", [0]) * size)
        self.updated_at = (*self.updated_at, array("q", self.subscribed_at))
        self._orders = (*self._orders, {"value": _order_by(self.values[-1]),
                                        "updatedAt": _order_by(self.updated_at[-1])})


def insert_member_row(columns: MemberTable | MemberColumns, position: int, contact_id: int, subscription_id: str,
                      subscribed_at: int) -> None:
    """A member at `position` of every column (a program's table or a seeding draft's), nothing on any definition."""
    columns.contact_ids.insert(position, contact_id)
    columns.subscription_ids.insert(position, subscription_id)
    columns.subscribed_at.insert(position, subscribed_at)
    for d in range(len(columns.values)):
        columns.values[d].insert(position, 0)
        columns.counts[d].insert(position, 0)
        columns.updated_at[d].insert(position, subscribed_at)


# An order's sort key (value, position) as one int: value * stride + position (positions are below the stride).
_KEY_STRIDE = 1 << 32


def _order_by(column: array) -> array:
    # Positions are already in contact-id order, and sorted() is stable: ties keep it.
    return array("l", sorted(range(len(column)), key=column.__getitem__))


class ProgramData:
    """One program with its configuration, id indexes and members."""

    __slots__ = (
        "_limits_in_force",
        "_limits_of",
        "_tiers_of",
        "code_generators",
        "code_pools",
        "definition_by_id",
        "definitions",
        "generator_by_id",
        "group_by_id",
        "limit_by_id",
        "limits",
        "members",
        "pool_by_id",
        "program",
        "rendered",
        "reward_by_id",
        "rewards",
        "tier_by_id",
        "tier_groups",
        "tiers",
    )

    def __init__(
        self,
        program: LoyaltyProgram,
        definitions: Sequence[BalanceDefinition],
        limits: Sequence[BalanceLimit],
        tier_groups: Sequence[TierGroup],
        tiers: Sequence[Tier],
        rewards: Sequence[Reward],
        code_pools: Sequence[CodePool],
        code_generators: Sequence[CodeGenerator],
        members: MemberTable,
    ) -> None:
        self.program = program
        self.definitions = tuple(definitions)
        self.limits = tuple(limits)
        self.tier_groups = tuple(tier_groups)
        self.tiers = tuple(tiers)
        self.rewards = tuple(rewards)
        self.code_pools = tuple(code_pools)
        self.code_generators = tuple(code_generators)
        self.members = members
        self.definition_by_id = _index(self.definitions)
        self.limit_by_id = _index(self.limits)
        self.group_by_id = _index(self.tier_groups)
        self.tier_by_id = _index(self.tiers)
        self.reward_by_id = _index(self.rewards)
        self.pool_by_id = _index(self.code_pools)
        self.generator_by_id = _index(self.code_generators)
        # Static records as the API renders them, filled on first use (mock_server/routes/rendered.py).
        self.rendered: dict[Hashable, Any] = {}
        # group id -> (group, its tiers, their thresholds in minor units): see `_ranked`
        self._tiers_of: dict[str, tuple[TierGroup, tuple[Tier, ...], tuple[int, ...] | None]] = {}
        self._limits_of: dict[str, tuple[BalanceLimit, ...]] = {}  # definition id -> its limits
        self._limits_in_force: dict[str, tuple[BalanceLimit, ...]] = {}  # definition id -> its published limits

    @property
    def id(self) -> str:
        return self.program.id

    def replace(self, **changes: Any) -> ProgramData:
        """A new revision of this program with some parts changed (the rest shared, as frozen records are).

        The new revision starts with no rendered fragments: what a write changed is rendered anew, so
        no cache needs invalidating by hand. `members` is shared unless given.
        """
        parts = {name: getattr(self, name) for name in _PROGRAM_PARTS}
        unknown = set(changes) - set(parts)
        if unknown:
            raise TypeError(f"ProgramData has no part {sorted(unknown)}")
        parts.update(changes)
        return ProgramData(**parts)

    def visible(self, entity: Any, version: str) -> bool:
        """In the draft version everything is; in the active one, only what was published. Deleted: never."""
        if getattr(entity, "deleted_at", None) is not None:
            return False
        if version == "draft":
            return True
        return self.program.has_active_version and bool(entity.published)

    def limits_of(self, balance_definition_id: str) -> tuple[BalanceLimit, ...]:
        """A definition's limits (kept: `limits` is fixed for this revision of the program)."""
        found = self._limits_of.get(balance_definition_id)
        if found is None:
            found = tuple(limit for limit in self.limits if limit.balance_definition_id == balance_definition_id)
            self._limits_of[balance_definition_id] = found
        return found

    def limits_in_force(self, balance_definition_id: str) -> tuple[BalanceLimit, ...]:
        """A definition's published limits, the ones a transaction is judged by (kept, as `limits_of`)."""
        found = self._limits_in_force.get(balance_definition_id)
        if found is None:
            found = tuple(limit for limit in self.limits_of(balance_definition_id) if limit.published)
            self._limits_in_force[balance_definition_id] = found
        return found

    def tiers_of(self, group: TierGroup) -> tuple[Tier, ...]:
        """The group's tiers, lowest first (kept per group record: a changed group or tier is a new revision)."""
        return self._ranked(group)[1]

    def _ranked(self, group: TierGroup) -> tuple[TierGroup, tuple[Tier, ...], tuple[int, ...] | None]:
        """(the group, its tiers lowest first, their thresholds in minor units of the group's definition, None
        without one), kept per group record for this revision of the program."""
        kept = self._tiers_of.get(group.id)
        if kept is not None and kept[0] is group:
            return kept
        tiers = tuple(self.tier_by_id[tier_id] for tier_id in group.tier_ids)
        definition = self.definition_by_id.get(group.balance_definition_id)
        thresholds = None if definition is None else tuple(tier.threshold * definition.scale for tier in tiers)
        kept = (group, tiers, thresholds)
        if self.group_by_id.get(group.id) is group:
            self._tiers_of[group.id] = kept
        return kept

    def standing(self, group: TierGroup, value: int) -> tuple[Tier | None, Tier | None]:
        """(current tier, next tier) for a balance of `value` minor units on the group's definition.

        The current tier is the highest whose threshold the balance reaches (None below the
        lowest); the next one is the tier above it (None at the top).
        """
        _, tiers, thresholds = self._ranked(group)
        if thresholds is None:
            raise KeyError(group.balance_definition_id)
        reached = 0
        while reached < len(tiers) and thresholds[reached] <= value:
            reached += 1
        current = tiers[reached - 1] if reached else None
        upcoming = tiers[reached] if reached < len(tiers) else None
        return current, upcoming

    def standing_of(self, group: TierGroup, member: Member) -> tuple[Tier | None, Tier | None]:
        """(current tier, next tier) of a member in a group: the tier it holds, and the one above.

        Without a recorded tier (`TierAssignment`) the member holds what its balance reaches
        (`standing`): every seeded member was evaluated at the reference time, every direction of a
        real-time group follows the balance. A tier given by hand holds while the balance is what it
        was then. Otherwise the recorded tier, moved by the group's real-time directions towards the
        balance's (`moved`): a scheduled direction waits for its evaluation (`store/tier_changes.py`).
        """
        if not group.tier_ids:  # a group created without tiers yet ranks nobody
            return None, None
        value = member.ledgers[self.definition_by_id[group.balance_definition_id].index].value
        return self.standing_with(group, value, member.tier_assignments.get(group.id))

    def standing_with(self, group: TierGroup, value: int, assigned: TierAssignment | None
                      ) -> tuple[Tier | None, Tier | None]:
        """`standing_of` for a member whose balance on the group's definition is `value` and whose tier record
        in the group is `assigned` (None: none), without the member record (a write judges the member it is
        about to commit)."""
        if not group.tier_ids:
            return None, None
        if assigned is None or (assigned.tier_id is not None and assigned.tier_id not in group.tier_ids):
            return self.standing(group, value)
        held = self.tier_by_id[assigned.tier_id] if assigned.tier_id is not None else None
        if not (assigned.by_hand and assigned.balance == value):
            held = self.moved(group, held, self.standing(group, value)[0])
        tiers = self.tiers_of(group)
        rank = group.tier_ids.index(held.id) if held is not None else -1
        return held, tiers[rank + 1] if rank + 1 < len(tiers) else None

    @staticmethod
    def moved(group: TierGroup, held: Tier | None, reached: Tier | None) -> Tier | None:
        """Where a member holding `held` stands once its balance reaches `reached`, moving only in the
        group's real-time directions (the others wait for their schedule)."""
        to, at = _rank(group, reached), _rank(group, held)
        return reached if (to > at and group.upgrades_live) or (to < at and group.downgrades_live) else held

    @property
    def primary_tier_group(self) -> TierGroup | None:
        """The first tier group created: the one the member guide ranks members in."""
        return self.tier_groups[0] if self.tier_groups else None


def _rank(group: TierGroup, tier: Tier | None) -> int:
    """A tier's place in its group, lowest 0; -1 below every tier."""
    return group.tier_ids.index(tier.id) if tier is not None and tier.id in group.tier_ids else -1


_PROGRAM_PARTS = ("program", "definitions", "limits", "tier_groups", "tiers", "rewards", "code_pools",
                  "code_generators", "members")


def _index(records: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for record in records:
        if record.id in found:
            raise ValueError(f"duplicate id {record.id}")
        found[record.id] = record
    return found


class MemberSource(Protocol):
    """Produces a member's full record (ledgers, vouchers) from its row, deterministically."""

    def member(self, data: ProgramData, position: int) -> Member: ...


class World:
    """Everything one organisation can read.

    The seeded world is built once and never changes. A backend reads and writes a
    `fork()` of it: the fork shares every program of the seeded world until a write
    replaces that program (`put_program`), and keeps the members a write changed in
    its own overrides (`put_member`); untouched members are still generated from
    the seed, on demand.
    """

    __slots__ = (
        "_by_name",
        "_cache",
        "_cache_size",
        "_histories",
        "_lock",
        "_overrides",
        "_programs",
        "_source",
        "contacts",
        "organisation",
        "reference_now",
        "seed",
    )

    def __init__(
        self,
        *,
        organisation: str,
        seed: int,
        contacts: int,
        programs: Sequence[ProgramData],
        source: MemberSource,
        cache_size: int = 2048,
    ) -> None:
        self.organisation = organisation
        self.seed = seed
        self.contacts = contacts
        self.reference_now = REFERENCE_NOW
        self._programs = {data.id: data for data in programs}
        if len(self._programs) != len(programs):
            raise ValueError("duplicate program ids")
        self._by_name = {data.program.name: data for data in programs}
        self._source = source
        # Members a write changed (or created), by (program id, contact id): they win over the source.
        self._overrides: dict[tuple[str, int], Member] = {}
        # Generated members are memoised per program revision: the cache only ever holds
        # values the source would recompute for that revision.
        self._cache: OrderedDict[tuple[ProgramData, int], Member] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._histories = HistoryCache()  # history pages' orders and JSON, per ledger revision (store/history.py)

    def fork(self, organisation: str | None = None) -> World:
        """A world that starts equal to this one and takes changes without affecting it.

        `organisation` names the fork otherwise (a per-key world forked from the default organisation's).
        """
        twin = object.__new__(World)
        twin.organisation = self.organisation if organisation is None else organisation
        twin.seed = self.seed
        twin.contacts = self.contacts
        twin.reference_now = self.reference_now
        twin._programs = dict(self._programs)
        twin._by_name = dict(self._by_name)
        twin._source = self._source
        twin._overrides = dict(self._overrides)
        twin._cache = OrderedDict()
        twin._cache_size = self._cache_size
        twin._lock = threading.Lock()
        twin._histories = HistoryCache()
        return twin

    # -------------------------------------------------------------- lookups

    @property
    def programs(self) -> tuple[ProgramData, ...]:
        """Every program, in creation order."""
        return tuple(self._programs.values())

    def program(self, program_id: str) -> ProgramData | None:
        """A program by id (any letter case)."""
        return self._programs.get(program_id.lower())

    def program_by_name(self, name: str) -> ProgramData | None:
        return self._by_name.get(name)

    def member_at(self, data: ProgramData, position: int) -> Member:
        contact_id = data.members.contact_ids[position]
        changed = self._overrides.get((data.id, contact_id))
        if changed is not None:
            return changed
        key = (data, contact_id)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        member = self._source.member(data, position)
        with self._lock:
            self._cache[key] = member
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return member

    def member(self, data: ProgramData, contact_id: int) -> Member | None:
        """The subscribed contact `contact_id` of a program, or None."""
        position = data.members.position(contact_id)
        return None if position is None else self.member_at(data, position)

    def member_by_subscription(self, data: ProgramData, loyalty_subscription_id: str) -> Member | None:
        position = data.members.position_of_subscription(loyalty_subscription_id)
        return None if position is None else self.member_at(data, position)

    def history(self, data: ProgramData, member: Member, definition_index: int) -> LedgerHistory:
        """The member's ledger on a definition, as history pages read it (kept per ledger revision)."""
        return self._histories.of(data.id, member.contact_id, definition_index, member.ledgers[definition_index])

    # -------------------------------------------------------------- changes (a fork's, by its backend)

    def put_program(self, data: ProgramData) -> None:
        """Add a program, or replace it by a new revision (same id)."""
        previous = self._programs.get(data.id)
        if previous is not None and previous.program.name != data.program.name:
            self._by_name.pop(previous.program.name, None)
        self._programs[data.id] = data
        self._by_name[data.program.name] = data

    def drop_program(self, program_id: str) -> None:
        data = self._programs.pop(program_id)
        self._by_name.pop(data.program.name, None)
        for key in [key for key in self._overrides if key[0] == program_id]:
            del self._overrides[key]

    def put_member(self, data: ProgramData, member: Member) -> None:
        """A member as a write left it: its record, and its row of the program's (owned) member table."""
        position = data.members.position(member.contact_id)
        if position is None:
            raise KeyError(f"contact {member.contact_id} is not a member of program {data.id}")
        key = (data.id, member.contact_id)
        # The table's row mirrors the record last put here: a ledger that record holds too is already in it
        # (a write changes one ledger; the others are shared, as frozen records are).
        previous = self._overrides.get(key)
        kept = previous.ledgers if previous is not None else ()
        self._overrides[key] = member
        table = data.members
        for d, ledger in enumerate(member.ledgers):
            if d < len(kept) and kept[d] is ledger:
                continue
            table.set_summary(position, d, ledger.value, len(ledger.transactions), ledger.updated_at)

    def drop_member(self, data: ProgramData, contact_id: int) -> None:
        self._overrides.pop((data.id, contact_id), None)

    def changed_members(self, program_id: str) -> list[Member]:
        """The members of a program that writes changed or created."""
        return [member for (pid, _), member in self._overrides.items() if pid == program_id]

    # -------------------------------------------------------------- overview

    def stats(self) -> dict[str, int]:
        programs = self.programs
        return {
            "programs": len(programs),
            "contacts": sum(len(data.members) for data in programs),
            "transactions": sum(data.members.transaction_count() for data in programs),
        }

    def summary(self, sample: int = 5) -> dict[str, Any]:
        """The ids a client needs to call the API, for GET /__mock__/world."""
        return {
            "organisation": self.organisation,
            "seed": self.seed,
            "contacts": self.contacts,
            "referenceNow": iso(self.reference_now),
            "stats": self.stats(),
            "programs": [_program_summary(data, sample) for data in self.programs],
        }


def _program_summary(data: ProgramData, sample: int) -> dict[str, Any]:
    program = data.program
    table = data.members
    positions = [table.position(contact) for contact in table.fixture_contacts]
    chosen = [p for p in positions if p is not None]
    for position in range(len(table)):
        if len(chosen) >= len(table.fixture_contacts) + sample:
            break
        if position not in chosen:
            chosen.append(position)
    return {
        "id": program.id,
        "name": program.name,
        "state": program.state,
        "pattern": program.pattern,
        "balanceDefinitions": [
            {
                "id": definition.id,
                "name": definition.name,
                "unit": definition.unit,
                "internal": definition.internal,
                "published": definition.published,
                "limitIds": [limit.id for limit in data.limits_of(definition.id)],
            }
            for definition in data.definitions
            if not definition.deleted
        ],
        "tierGroups": [
            {
                "id": group.id,
                "name": group.name,
                "balanceDefinitionId": group.balance_definition_id,
                "tiers": [
                    {"id": tier.id, "name": tier.name, "threshold": tier.threshold}
                    for tier in data.tiers_of(group)
                ],
            }
            for group in data.tier_groups
        ],
        "rewards": [
            {"id": reward.id, "name": reward.name, "state": reward.state, "codePoolId": reward.code_pool_id}
            for reward in data.rewards
        ],
        "codePools": [{"id": pool.id, "name": pool.name, "count": pool.code_count} for pool in data.code_pools],
        "memberCount": len(table),
        "members": [
            {
                "contactId": table.contact_ids[position],
                "loyaltySubscriptionId": table.subscription_ids[position],
                "fixture": table.contact_ids[position] in table.fixture_contacts,
            }
            for position in chosen
        ],
    }
