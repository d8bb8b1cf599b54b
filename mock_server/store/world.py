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
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Protocol

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
    TierGroup,
    iso,
    sorted_position,
)

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
        "_orders",
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
        self._by_subscription = {sub: position for position, sub in enumerate(subscription_ids)}
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

    def __len__(self) -> int:
        return len(self.contact_ids)

    def position(self, contact_id: int) -> int | None:
        """Where a contact sits in the table, or None when it is not subscribed."""
        return sorted_position(self.contact_ids, contact_id)

    def position_of_subscription(self, loyalty_subscription_id: str) -> int | None:
        return self._by_subscription.get(loyalty_subscription_id)

    def order(self, definition_index: int, sort_field: str) -> array:
        """Member positions ascending by `sort_field` (value or updatedAt), ties by contact id."""
        return self._orders[definition_index][sort_field]

    def transaction_count(self) -> int:
        return sum(sum(column) for column in self.counts)


def _order_by(column: array) -> array:
    # Positions are already in contact-id order, and sorted() is stable: ties keep it.
    return array("l", sorted(range(len(column)), key=column.__getitem__))


class ProgramData:
    """One program with its configuration, id indexes and members."""

    __slots__ = (
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

    @property
    def id(self) -> str:
        return self.program.id

    def visible(self, entity: Any, version: str) -> bool:
        """In the draft version everything is; in the active one, only what was published."""
        if version == "draft":
            return True
        return self.program.has_active_version and bool(entity.published)

    def limits_of(self, balance_definition_id: str) -> tuple[BalanceLimit, ...]:
        return tuple(limit for limit in self.limits if limit.balance_definition_id == balance_definition_id)

    def tiers_of(self, group: TierGroup) -> tuple[Tier, ...]:
        """The group's tiers, lowest first."""
        return tuple(self.tier_by_id[tier_id] for tier_id in group.tier_ids)

    def standing(self, group: TierGroup, value: int) -> tuple[Tier | None, Tier | None]:
        """(current tier, next tier) for a balance of `value` minor units on the group's definition.

        The current tier is the highest whose threshold the balance reaches (None below the
        lowest); the next one is the tier above it (None at the top).
        """
        scale = self.definition_by_id[group.balance_definition_id].scale
        tiers = self.tiers_of(group)
        reached = 0
        while reached < len(tiers) and tiers[reached].threshold * scale <= value:
            reached += 1
        current = tiers[reached - 1] if reached else None
        upcoming = tiers[reached] if reached < len(tiers) else None
        return current, upcoming

    @property
    def primary_tier_group(self) -> TierGroup | None:
        """The first tier group created: the one the member guide ranks members in."""
        return self.tier_groups[0] if self.tier_groups else None


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
    """Everything one organisation can read; immutable once built."""

    __slots__ = (
        "_by_name",
        "_cache",
        "_cache_size",
        "_lock",
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
        # Generated members are memoised: the cache is the only thing that changes
        # after build, and it only ever holds values the source would recompute.
        self._cache: OrderedDict[tuple[str, int], Member] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

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
        key = (data.id, position)
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
