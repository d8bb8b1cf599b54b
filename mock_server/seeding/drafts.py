"""Mutable, build-time versions of a program: what seeding fills and fixtures edit, before freezing."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field

from mock_server.store.models import (
    BalanceDefinition,
    BalanceLimit,
    CodeGenerator,
    CodePool,
    Ledger,
    LoyaltyProgram,
    Reward,
    Tier,
    TierGroup,
    Voucher,
    sorted_position,
)
from mock_server.store.world import MemberTable, ProgramData, insert_member_row


@dataclass(frozen=True, slots=True)
class Profile:
    """How members' summaries on one balance definition are drawn. Amounts in minor units."""

    idle_share: float  # members who never transacted on it
    mean_count: float  # transactions of an active member, roughly
    zero_share: float  # active members whose completed transactions net to zero
    mean_value: int  # balance of an active member, roughly
    typical_step: int  # size of a usual transaction
    max_count: int = 60  # bounds the work of generating one member


@dataclass(slots=True)
class MemberOverride:
    """What fixtures decided for one member: whole ledgers per definition id, and maybe vouchers."""

    ledgers: dict[str, Ledger] = field(default_factory=dict)
    vouchers: tuple[Voucher, ...] | None = None


class MemberColumns:
    """The growing column store of a program's members, sorted by contact id."""

    __slots__ = ("contact_ids", "counts", "subscribed_at", "subscription_ids", "updated_at", "values")

    def __init__(self, definitions: int) -> None:
        self.contact_ids: list[int] = []
        self.subscription_ids: list[str] = []
        self.subscribed_at: list[int] = []
        self.values: list[list[int]] = [[] for _ in range(definitions)]
        self.counts: list[list[int]] = [[] for _ in range(definitions)]
        self.updated_at: list[list[int]] = [[] for _ in range(definitions)]

    def __len__(self) -> int:
        return len(self.contact_ids)

    def position(self, contact_id: int) -> int | None:
        return sorted_position(self.contact_ids, contact_id)

    def insert(self, contact_id: int, subscription_id: str, subscribed_at: int) -> int:
        """A new member with nothing on any definition; returns its position."""
        position = bisect_left(self.contact_ids, contact_id)
        insert_member_row(self, position, contact_id, subscription_id, subscribed_at)
        return position

    def add_definition(self) -> None:
        """A definition created after the members: everyone starts at zero on it."""
        self.values.append([0] * len(self))
        self.counts.append([0] * len(self))
        self.updated_at.append(list(self.subscribed_at))

    def freeze(self, fixture_contacts: list[int]) -> MemberTable:
        return MemberTable(
            contact_ids=array("q", self.contact_ids),
            subscription_ids=self.subscription_ids,
            subscribed_at=array("q", self.subscribed_at),
            values=[array("q", column) for column in self.values],
            counts=[array("l", column) for column in self.counts],
            updated_at=[array("q", column) for column in self.updated_at],
            fixture_contacts=fixture_contacts,
        )


@dataclass(slots=True)
class ProgramDraft:
    program: LoyaltyProgram
    definitions: list[BalanceDefinition]
    profiles: dict[str, Profile]  # by balance definition id
    limits: list[BalanceLimit]
    tier_groups: list[TierGroup]
    tiers: list[Tier]
    rewards: list[Reward]
    code_pools: list[CodePool]
    code_generators: list[CodeGenerator]
    members: MemberColumns
    # loyaltySubscriptionIds are the pattern filled with (multiplier * slot + offset) mod 10^digits:
    # a bijection, so they never collide however many members there are.
    id_multiplier: int = 1
    id_offset: int = 0
    id_slots_used: int = 0
    overrides: dict[int, MemberOverride] = field(default_factory=dict)  # by contact id
    fixture_contacts: list[int] = field(default_factory=list)

    def subscription_number(self) -> int:
        """The number behind the next pattern-made loyaltySubscriptionId."""
        modulus = 10 ** max(1, self.program.pattern.count("#"))
        number = (self.id_multiplier * self.id_slots_used + self.id_offset) % modulus
        self.id_slots_used += 1
        return number

    def freeze(self) -> ProgramData:
        return ProgramData(
            program=self.program,
            definitions=self.definitions,
            limits=self.limits,
            tier_groups=self.tier_groups,
            tiers=self.tiers,
            rewards=self.rewards,
            code_pools=self.code_pools,
            code_generators=self.code_generators,
            members=self.members.freeze(self.fixture_contacts),
        )
