"""The configuration of seeded programs: definitions, limits, tiers, rewards, code pools.

Three programs, in three states, so that both versions matter:

- the first is ``active``: everything it has is published. It is also the most
  recently created, so the program list in its default order (newest first)
  starts with it, and its points definition, edited last, heads its definition
  list: a newcomer's first calls show real balances;
- the second is ``draft``: published once, with edits not published yet (a new
  balance definition, a second tier group, a draft reward);
- the third is ``inactive``: never published, so its active version is empty and,
  as contacts enrol only in a published program, it has no members.

The active program also carries the documented forms that are alternatives to
the usual ones: a money definition whose credits expire on a yearly day
(``balanceExpirationDate``) instead of after a lifetime, a tier group evaluated on a
fixed day each year (schedules with ``scheduledDate``), and a reward whose
vouchers all expire on one date (``expirationDate``) instead of after a lifetime.

Names and texts come from Faker, every number and date from the same seeded
source; all dates fall before the reference clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mock_server.seeding.drafts import MemberColumns, Profile, ProgramDraft
from mock_server.seeding.random_source import Source
from mock_server.store.models import (
    DAY,
    HOUR,
    POINTS,
    PROGRAM_STATES,
    BalanceDefinition,
    BalanceLimit,
    CodeGenerator,
    CodePool,
    LoyaltyProgram,
    Meta,
    Reward,
    RewardLimit,
    Tier,
    TierGroup,
    add_period,
    freeze,
    iso,
    parse_iso,
    unit_scale,
)

PROGRAM_SUFFIXES = ("Rewards", "Club", "Perks", "Loyalty")
POINTS_NAMES = ("Reward Points", "Star Points", "Loyalty Points", "Shop Points")
MONEY_NAMES = ("Cashback", "Wallet", "Store Credit")
MONEY_UNITS = ("EUR", "USD", "GBP", "CAD", "AUD", "CHF")
TIER_THEMES = (
    ("Bronze", "Silver", "Gold", "Platinum"),
    ("Member", "Insider", "VIP", "Elite"),
    ("Explorer", "Adventurer", "Champion", "Legend"),
)
GROUP_NAMES = ("Status Levels", "Membership Tiers", "Member Levels")
# When each program was created, by state: the active one last (see the module docstring).
CREATION_WINDOWS = {
    "inactive": (parse_iso("2021-01-01T00:00:00Z"), parse_iso("2021-12-31T00:00:00Z")),
    "draft": (parse_iso("2022-01-01T00:00:00Z"), parse_iso("2023-06-30T00:00:00Z")),
    "active": (parse_iso("2023-07-01T00:00:00Z"), parse_iso("2024-06-30T00:00:00Z")),
}
# The yearly day money credits of the active program expire on, and that of its fixed-day tier evaluation.
YEARLY_EXPIRY = "01/01"
TIER_REVIEW_DAY = "01/01"
# A program's points definition was last edited within this span before the clock, the others before it
# (a definition added within the span has not been edited since).
LAST_EDIT_SPAN = 30 * DAY
# Vouchers of a fixed-expiry reward stay usable this long after its attribution window closes.
FIXED_VOUCHER_GRACE = 14 * DAY

POINTS_PROFILE = Profile(idle_share=0.05, mean_count=6.0, zero_share=0.08, mean_value=1200, typical_step=150)
MONEY_PROFILE = Profile(idle_share=0.3, mean_count=2.0, zero_share=0.2, mean_value=2500, typical_step=1500)
INTERNAL_PROFILE = Profile(idle_share=0.4, mean_count=1.5, zero_share=0.1, mean_value=300, typical_step=60)
# Not published yet, so nobody could earn any of it.
SIDE_PROFILE = Profile(idle_share=1.0, mean_count=1.0, zero_share=0.1, mean_value=200, typical_step=100)


def default_profile(unit: str) -> Profile:
    """How members are drawn on a definition created by a fixture."""
    return POINTS_PROFILE if unit == POINTS else MONEY_PROFILE


@dataclass(frozen=True, slots=True)
class _RewardTemplate:
    name: str
    description: str
    value_type: str
    unit: str  # "percentage", "POINTS", or "money" for the program's money unit
    value: int
    codes: str  # pool | generator | fixed
    pattern: str
    fixed_expiry: bool = False  # its vouchers all expire on one date rather than after a lifetime


REWARD_TEMPLATES = (
    _RewardTemplate("Free Shipping", "Free standard shipping on your next order", "free_shipping",
                    "percentage", 100, "generator", "SHIP-????-####"),
    _RewardTemplate("10% Off", "10% off your next order", "percentage", "percentage", 10, "pool", "TEN-####-????"),
    _RewardTemplate("5 Off Voucher", "5 off an order of 30 or more", "fixed_amount", "money", 5, "pool",
                    "FIVE-????-####"),
    _RewardTemplate("Birthday Gift", "A little something for your birthday", "percentage", "percentage", 15,
                    "fixed", "BDAY15"),
    _RewardTemplate("Double Points Weekend", "Earn twice the points all weekend", "multiplier", POINTS, 2,
                    "generator", "X2-#####"),
    _RewardTemplate("VIP Early Access", "Shop the new collection a day early", "access", "percentage", 0,
                    "generator", "EARLY-???###", fixed_expiry=True),
)
# State of each reward above, per program position; "draft" rewards are never published.
REWARD_STATES = (
    ("active", "active", "active", "inactive", "expired", "active"),
    ("active", "active", "expired", "active", "inactive", "draft"),
    ("draft", "draft", "draft", "draft", "draft", "draft"),
)


def seeded_programs(source: Source, now: int) -> list[ProgramDraft]:
    names: set[str] = set()
    return [_program(source, index, state, now, names) for index, state in enumerate(PROGRAM_STATES)]


def _program(source: Source, index: int, state: str, now: int, names: set[str]) -> ProgramDraft:
    rng, fake = source.rng, source.faker
    name = f"{fake.last_name()} {rng.choice(PROGRAM_SUFFIXES)}"
    while name in names:
        name = f"{fake.last_name()} {rng.choice(PROGRAM_SUFFIXES)}"
    names.add(name)
    created = source.between(*CREATION_WINDOWS[state])
    prefix = "".join(ch for ch in name.upper() if ch.isalpha())[:3]
    program = LoyaltyProgram(
        id=source.uuid(),
        index=index,
        name=name,
        description=f"{fake.catch_phrase()}.",
        meta=freeze({"industry": rng.choice(("fashion", "grocery", "beauty", "sports", "home"))}),
        state=state,
        subscription_pool_id=source.uuid(),
        subscription_generator_id=source.uuid(),
        pattern=f"{prefix}{index + 1}-########",
        code_count=rng.randint(1_000, 50_000),
        document_id=source.uuid(),
        birthday_attribute=rng.choice(("BIRTHDAY", "DATE_OF_BIRTH")),
        created_at=created,
        updated_at=source.between(created + 30 * DAY, now - 7 * DAY),
    )
    published = state != "inactive"
    definitions, profiles = _definitions(source, program, published, now)
    draft = ProgramDraft(
        program=program,
        definitions=definitions,
        profiles=profiles,
        limits=[limit for definition in definitions for limit in _limits(source, definition, now)],
        tier_groups=[],
        tiers=[],
        rewards=[],
        code_pools=[],
        code_generators=[],
        members=MemberColumns(len(definitions)),
        id_multiplier=_coprime_multiplier(source),
        id_offset=rng.randrange(10**8),
    )
    _rewards(source, draft, REWARD_STATES[index], now)
    _tier_groups(source, draft, index, now)
    return draft


def _coprime_multiplier(source: Source) -> int:
    # Odd and not a multiple of 5: coprime with every power of ten, so slot -> id is a bijection.
    while True:
        candidate = source.rng.randrange(1_000_001, 99_999_999, 2)
        if candidate % 5:
            return candidate


def _definition(
    source: Source,
    program: LoyaltyProgram,
    index: int,
    name: str,
    unit: str,
    *,
    internal: bool,
    lifetime: tuple[int, str] | None,
    published: bool,
    created: int,
    now: int,
    yearly_expiry: str | None = None,
    edited_last: bool = False,
) -> BalanceDefinition:
    rng = source.rng
    scale = unit_scale(unit)
    cap = 1_000_000 * scale if unit == POINTS else 10_000 * scale
    return BalanceDefinition(
        id=source.uuid(),
        program_id=program.id,
        index=index,
        name=name,
        description=f"{name} earned with {program.name}.",
        image_ref=f"https://img.loyalty.example/{program.id[:8]}/{name.lower().replace(' ', '-')}.png",
        meta=freeze({"isInternal": True} if internal else {}),
        unit=unit,
        min_amount=0,
        max_amount=cap,
        max_credit_amount_limit=cap,
        max_debit_amount_limit=cap,
        overtaking_strategy=rng.choice(("strict", "partial")),
        credit_rounding=rng.choice(("natural", "lower", "upper")),
        debit_rounding=rng.choice(("natural", "lower", "upper")),
        duration_value=lifetime[0] if lifetime else None,
        duration_unit=lifetime[1] if lifetime else None,
        duration_modifier="noModification" if lifetime else None,
        expiration_date=yearly_expiry,
        created_at=created,
        # The definition edited last is listed first (the list's default order is updatedAt, newest first).
        updated_at=source.between(now - LAST_EDIT_SPAN, now - DAY) if edited_last
        else source.between(created, now - LAST_EDIT_SPAN - DAY),
        published=published,
    )


def _definitions(
    source: Source, program: LoyaltyProgram, published: bool, now: int
) -> tuple[list[BalanceDefinition], dict[str, Profile]]:
    rng = source.rng
    start = program.created_at
    points = _definition(
        source, program, 0, rng.choice(POINTS_NAMES), POINTS, internal=False,
        lifetime=(rng.choice((12, 24)), "month"), published=published, created=start + DAY, now=now,
        edited_last=True,
    )
    money_unit = rng.choice(MONEY_UNITS)
    yearly = program.state == "active"  # its money credits lapse on a yearly day, not after a lifetime
    money = _definition(
        source, program, 1, rng.choice(MONEY_NAMES), money_unit, internal=False,
        lifetime=None if yearly else (6, "month"), published=published, created=start + 2 * DAY, now=now,
        yearly_expiry=YEARLY_EXPIRY if yearly else None,
    )
    made = [(points, POINTS_PROFILE), (money, MONEY_PROFILE)]
    if program.index < 2:
        internal = _definition(
            source, program, 2, "Engagement Score", POINTS, internal=True, lifetime=None,
            published=published, created=start + 3 * DAY, now=now,
        )
        made.append((internal, INTERNAL_PROFILE))
    if program.state == "draft":  # added after the last publication
        side = _definition(
            source, program, 3, "Referral Points", POINTS, internal=False, lifetime=(12, "month"),
            published=False, created=now - 20 * DAY, now=now,
        )
        made.append((side, SIDE_PROFILE))
    return [d for d, _ in made], {d.id: profile for d, profile in made}


def _limits(source: Source, definition: BalanceDefinition, now: int) -> list[BalanceLimit]:
    rng = source.rng
    created = definition.created_at + HOUR
    credit_cap = (5_000 if definition.unit == POINTS else 500) * definition.scale
    limits = [
        BalanceLimit(
            id=source.uuid(),
            balance_definition_id=definition.id,
            transaction_type="credit",
            constraint_type="amount",
            duration_value=1,
            duration_unit="day",
            value=credit_cap,
            sliding_schedule=True,
            created_at=created,
            updated_at=source.between(created, now - DAY),
            published=definition.published,
        )
    ]
    if rng.random() < 0.7:
        limits.append(
            BalanceLimit(
                id=source.uuid(),
                balance_definition_id=definition.id,
                transaction_type="debit",
                constraint_type="transaction",
                duration_value=rng.choice((1, 2)),
                duration_unit=rng.choice(("week", "month")),
                value=rng.choice((5, 10, 20)),
                sliding_schedule=rng.random() < 0.5,
                created_at=created,
                updated_at=source.between(created, now - DAY),
                published=definition.published,
            )
        )
    return limits



def _rewards(source: Source, draft: ProgramDraft, states: Sequence[str], now: int) -> None:
    rng = source.rng
    program = draft.program
    points, money = draft.definitions[0], draft.definitions[1]
    for template, state in zip(REWARD_TEMPLATES, states, strict=True):
        created = source.between(program.created_at + 10 * DAY, now - 60 * DAY)
        start = created + DAY
        if state == "expired":
            end = source.between(start + 30 * DAY, now - 10 * DAY)
        else:
            end = add_period(now, rng.randint(3, 18), "month")
        disabled = source.between(start + DAY, now - 5 * DAY) if state == "inactive" else None
        unit = money.unit if template.unit == "money" else template.unit
        reward_id = source.uuid()
        pool_id = generator_id = None
        if template.codes == "pool":
            pool_id = source.uuid()
            draft.code_pools.append(
                CodePool(pool_id, program.id, f"{template.name} codes", rng.randint(0, 5_000), template.pattern,
                         created, source.between(created, now - DAY))
            )
        elif template.codes == "generator":
            generator_id = source.uuid()
            draft.code_generators.append(
                CodeGenerator(generator_id, program.id, f"{template.name} generator",
                              f"Codes for {template.name}", template.pattern, created, created)
            )
        rule = _rule(source, program, reward_id, template.name, created) if rng.random() < 0.6 else None
        draft.rewards.append(
            Reward(
                id=reward_id,
                program_id=program.id,
                name=template.name,
                public_name=template.name,
                public_description=template.description,
                public_image=f"https://img.loyalty.example/{program.id[:8]}/rewards/{reward_id[:8]}.png",
                meta=freeze({"category": template.value_type}),
                state=state,
                start_date=start,
                end_date=end,
                disabled_at=disabled,
                unit=unit,
                value=template.value,
                value_type=template.value_type,
                balance_definition_id=points.id,
                code=template.pattern if template.codes == "fixed" else None,
                code_pool_id=pool_id,
                code_generator_id=generator_id,
                code_count=rng.randint(100, 50_000),
                expiration_value=rng.choice((30, 60, 90)),
                expiration_unit="day",
                attribution_per_consumer=rng.randint(1, 3),
                redeem_per_consumer=1,
                total_attribution=rng.choice((1_000, 10_000, 100_000)),
                total_redeem=rng.choice((1_000, 10_000, 100_000)),
                subtract_balance_value=rng.choice((0, 250, 500, 1_000)),
                limits=(
                    RewardLimit(source.uuid(), "attribution", rng.randint(1, 3), 1, "month", True, created, created),
                ),
                products=_products(source, created) if template.value_type == "fixed_amount" else (),
                rule=rule,
                trigger_id=rule["ruleId"] if rule else None,
                created_at=created,
                updated_at=source.between(created, now - DAY),
                published=state != "draft",
                expiration_date=end + FIXED_VOUCHER_GRACE if template.fixed_expiry else None,
            )
        )


def _products(source: Source, created: int) -> tuple[Meta, ...]:
    rng = source.rng
    return tuple(
        freeze({
            "productId": f"SKU-{rng.randint(10_000, 99_999)}",
            "imageRef": f"https://img.loyalty.example/products/{rng.randint(1_000, 9_999)}.png",
            "value": f"{rng.randint(10, 200)}.{rng.choice(('00', '50', '99'))}",
            "createdAt": iso(created),
        })
        for _ in range(rng.randint(1, 3))
    )


def _rule(source: Source, program: LoyaltyProgram, reward_id: str, name: str, created: int) -> Meta:
    stamp = iso(created)
    return freeze({
        "ruleId": source.uuid(),
        "name": f"Attribute {name}",
        "description": f"Gives {name} when an order is completed.",
        "ruleType": "reward_attribution",
        "isInternal": False,
        "loyaltyProgramId": program.id,
        "loyaltyVersionId": 1,
        "meta": {},
        "event": {"name": "order_completed", "source": "ecommerce"},
        "condition": {"lhs": {"eventProperty": "amount"}, "op": "gte", "rhs": {"number": 30}},
        "results": [
            {
                "action": "attribute_reward",
                "service": "offer",
                "parameters": [{"name": "rewardId", "value": {"string": reward_id}}],
            }
        ],
        "createdAt": stamp,
        "updatedAt": stamp,
    })


def _tier_groups(source: Source, draft: ProgramDraft, index: int, now: int) -> None:
    rng = source.rng
    program = draft.program
    published = program.state != "inactive"
    points, money = draft.definitions[0], draft.definitions[1]
    base = rng.choice((250, 500, 750))
    thresholds = (0, base, base * rng.choice((3, 4)), base * rng.choice((8, 10)))
    live_rewards = [reward.id for reward in draft.rewards if reward.state == "active"]
    top_rewards = tuple(live_rewards[:1])
    add_group(
        source, draft, rng.choice(GROUP_NAMES), points, list(zip(TIER_THEMES[index], thresholds, strict=True)),
        published=published, created=program.created_at + 5 * DAY, now=now,
        rewards_from=2, reward_ids=top_rewards, anniversary=True,
    )
    if index < 2:  # a second, money-based group; in the draft program it is not published yet
        add_group(
            source, draft, f"{money.name} Status", money, [("Standard", 0), ("Plus", 50), ("Premium", 200)],
            published=published and program.state == "active",
            created=program.created_at + 40 * DAY if program.state == "active" else now - 15 * DAY, now=now,
            rewards_from=3, reward_ids=(), review_day=TIER_REVIEW_DAY if program.state == "active" else None,
        )


def add_group(
    source: Source,
    draft: ProgramDraft,
    name: str,
    definition: BalanceDefinition,
    tiers: Sequence[tuple[str, int]],
    *,
    published: bool,
    created: int,
    now: int,
    rewards_from: int = 99,
    reward_ids: tuple[str, ...] = (),
    anniversary: bool = False,
    review_day: str | None = None,
    group_id: str | None = None,
) -> TierGroup:
    """Append a tier group and its tiers (lowest first) to the draft; tiers from `rewards_from` up get rewards.

    `anniversary`: members move down on their membership anniversary. `review_day` (dd/mm): members
    move up and down once a year, all on that day.
    """
    program = draft.program
    group_id = group_id or source.uuid()
    updated = source.between(created, now - DAY)
    made = [
        Tier(
            id=source.uuid(),
            group_id=group_id,
            program_id=program.id,
            name=tier_name,
            image_ref=f"https://img.loyalty.example/{program.id[:8]}/tiers/{tier_name.lower()}.png",
            threshold=threshold,
            balance_definition_id=definition.id,
            reward_ids=reward_ids if position >= rewards_from else (),
            created_at=created,
            updated_at=updated,
            published=published,
        )
        for position, (tier_name, threshold) in enumerate(tiers)
    ]
    schedule = freeze({"strategy": "membership_anniversary", "durationValue": 1, "durationUnit": "year",
                       "durationModifier": "end_of_period"})
    upgrade_strategy, downgrade_strategy = "real_time", "membership_anniversary" if anniversary else "real_time"
    upgrade_schedule, downgrade_schedule = None, schedule if anniversary else None
    if review_day is not None:
        yearly = freeze({"strategy": "membership_anniversary", "durationValue": 1, "durationUnit": "year",
                         "durationModifier": "start_of_period", "scheduledDate": review_day})
        upgrade_strategy = downgrade_strategy = "membership_anniversary"
        upgrade_schedule = downgrade_schedule = yearly
    group = TierGroup(
        id=group_id,
        program_id=program.id,
        name=name,
        balance_definition_id=definition.id,
        tier_ids=tuple(tier.id for tier in made),
        upgrade_strategy=upgrade_strategy,
        downgrade_strategy=downgrade_strategy,
        upgrade_schedule=upgrade_schedule,
        downgrade_schedule=downgrade_schedule,
        created_at=created,
        updated_at=updated,
        published=published,
    )
    draft.tier_groups.append(group)
    draft.tiers.extend(made)
    return group
