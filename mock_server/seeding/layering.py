"""Applying fixtures to the seeded drafts, before the world is frozen.

Things are matched by name inside their program and created when absent; a
fixture may add to what exists but not contradict it (an existing balance
definition keeps its unit, an existing member its subscription date), because
seeded histories were drawn from those values. Everything a fixture creates
draws its ids from the world's random source, after all seeded draws, so
loading a fixture never changes the ids of seeded things.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from mock_server.fixtures import (
    DefinitionSpec,
    Fixture,
    MemberSpec,
    OfferSpec,
    ProgramSpec,
    TierGroupSpec,
    TransactionSpec,
    VoucherSpec,
)
from mock_server.seeding.catalog import add_group, default_profile
from mock_server.seeding.drafts import MemberColumns, MemberOverride, ProgramDraft
from mock_server.seeding.ledger import LedgerError, draw_updated_at, generate_ledger, settle, window_start
from mock_server.seeding.random_source import Source, fill_digits, member_random
from mock_server.store.models import (
    DAY,
    EMPTY_META,
    MINUTE,
    POINTS,
    BalanceDefinition,
    CodePool,
    Ledger,
    LoyaltyProgram,
    Reward,
    RewardLimit,
    Transaction,
    Voucher,
    add_period,
    freeze,
    iso,
    unit_scale,
)

DEFAULT_TARGET_TRANSACTIONS = 4


class _Layer:
    """One fixture being applied to the drafts of one world."""

    def __init__(self, fixture: Fixture, drafts: list[ProgramDraft], source: Source, now: int) -> None:
        self.fixture = fixture
        self.drafts = drafts
        self.source = source
        self.now = now

    def fail(self, location: str, problem: str) -> Exception:
        return self.fixture.error(location, problem)

    def apply(self) -> None:
        for spec in self.fixture.programs:
            draft = self.program(spec)
            for definition in spec.definitions:
                self.definition(draft, definition)
            for group in spec.tier_groups:
                self.tier_group(draft, group)
            for offer in spec.offers:
                self.offer(draft, offer)
            for member in spec.members:
                self.member(draft, member)

    # ----------------------------------------------------------------- config

    def program(self, spec: ProgramSpec) -> ProgramDraft:
        for draft in self.drafts:
            if draft.program.name == spec.name:
                program = draft.program
                for field, wanted, current in (
                    ("id", spec.id, program.id), ("state", spec.state, program.state),
                    ("pattern", spec.pattern, program.pattern),
                ):
                    if wanted is not None and wanted != current:
                        raise self.fail(
                            f"{spec.location}.{field}",
                            f"is {wanted!r} but program {spec.name!r} already exists with {current!r}",
                        )
                if spec.description is not None:
                    draft.program = replace(program, description=spec.description)
                return draft
        if spec.id is not None and any(draft.program.id == spec.id for draft in self.drafts):
            raise self.fail(f"{spec.location}.id", f"{spec.id} is already the id of another program")
        source = self.source
        created = add_period(self.now, -2, "year")
        prefix = "".join(ch for ch in spec.name.upper() if ch.isalpha())[:3] or "LP"
        program = LoyaltyProgram(
            id=spec.id or source.uuid(),
            index=len(self.drafts),
            name=spec.name,
            description=spec.description or f"{spec.name}, from fixture {self.fixture.name}.",
            meta=freeze({"fixture": self.fixture.name}),
            state=spec.state or "active",
            subscription_pool_id=source.uuid(),
            subscription_generator_id=source.uuid(),
            pattern=spec.pattern or f"{prefix}-########",
            code_count=1_000,
            document_id=source.uuid(),
            birthday_attribute="BIRTHDAY",
            created_at=created,
            updated_at=created + 30 * DAY,
        )
        draft = ProgramDraft(
            program=program, definitions=[], profiles={}, limits=[], tier_groups=[], tiers=[], rewards=[],
            code_pools=[], code_generators=[], members=MemberColumns(0), id_multiplier=7, id_offset=0,
        )
        self.drafts.append(draft)
        return draft

    def definition(self, draft: ProgramDraft, spec: DefinitionSpec) -> BalanceDefinition:
        found = _by_name(draft.definitions, spec.name)
        if found is not None:
            checks = [("unit", spec.unit, found.unit), ("internal", spec.internal, found.internal)]
            if spec.expiry_given:
                current: Any = (found.duration_value, found.duration_unit) if found.duration_value else None
                if found.expiration_date is not None:  # a yearly expiry day is never a lifetime
                    current = f"yearly expiry on {found.expiration_date}"
                checks.append(("expiry", spec.expiry, current))
            for field, wanted, current in checks:
                if wanted is not None and wanted != current:
                    raise self.fail(
                        f"{spec.location}.{field}",
                        f"is {wanted!r} but balance definition {spec.name!r} already has {current!r}",
                    )
            if spec.description is not None:
                found = replace(found, description=spec.description)
                draft.definitions[found.index] = found
            return found
        unit = spec.unit or POINTS
        scale = unit_scale(unit)
        cap = (1_000_000 if unit == POINTS else 10_000) * scale
        created = draft.program.created_at + DAY
        definition = BalanceDefinition(
            id=self.source.uuid(),
            program_id=draft.program.id,
            index=len(draft.definitions),
            name=spec.name,
            description=spec.description or f"{spec.name} of {draft.program.name}.",
            image_ref=f"https://img.loyalty.example/{draft.program.id[:8]}/{spec.name.lower().replace(' ', '-')}.png",
            meta=freeze({"isInternal": True} if spec.internal else {}),
            unit=unit,
            min_amount=0,
            max_amount=cap,
            max_credit_amount_limit=cap,
            max_debit_amount_limit=cap,
            overtaking_strategy="strict",
            credit_rounding="natural",
            debit_rounding="natural",
            duration_value=spec.expiry[0] if spec.expiry else None,
            duration_unit=spec.expiry[1] if spec.expiry else None,
            duration_modifier="noModification" if spec.expiry else None,
            expiration_date=None,
            created_at=created,
            updated_at=created,
            published=draft.program.has_active_version,
        )
        draft.definitions.append(definition)
        draft.profiles[definition.id] = default_profile(unit)
        draft.members.add_definition()
        return definition

    def tier_group(self, draft: ProgramDraft, spec: TierGroupSpec) -> None:
        definition = _by_name(draft.definitions, spec.definition)
        if definition is None:
            raise self.fail(
                f"{spec.location}.balanceDefinition",
                f"names {spec.definition!r}, which is not a balance definition of {draft.program.name!r}",
            )
        tiers = [(tier.name, tier.threshold) for tier in spec.tiers]
        existing = _by_name(draft.tier_groups, spec.name)
        place = len(draft.tier_groups)
        if existing is not None:  # the fixture's tiers replace the group's, and the group keeps its place
            place = draft.tier_groups.index(existing)
            draft.tier_groups.remove(existing)
            draft.tiers = [tier for tier in draft.tiers if tier.group_id != existing.id]
        group = add_group(
            self.source, draft, spec.name, definition, tiers,
            published=draft.program.has_active_version, created=draft.program.created_at + 2 * DAY,
            now=self.now, group_id=existing.id if existing is not None else None,
        )
        draft.tier_groups.insert(place, draft.tier_groups.pop())
        assert draft.tier_groups[place] is group

    def offer(self, draft: ProgramDraft, spec: OfferSpec) -> None:
        existing = _by_name(draft.rewards, spec.name)
        value = _plain_number(spec.value) if spec.value is not None else None
        if existing is not None:
            changes: dict[str, Any] = {}
            for field, wanted in (
                ("public_name", spec.public_name), ("public_description", spec.public_description),
                ("state", spec.state), ("value", value), ("unit", spec.unit), ("code", spec.code),
            ):
                if wanted is not None:
                    changes[field] = wanted
            if "state" in changes:
                changes["published"] = changes["state"] != "draft"
            draft.rewards[draft.rewards.index(existing)] = replace(existing, **changes)
            return
        source = self.source
        created = add_period(self.now, -90, "day")
        reward_id = source.uuid()
        pool_id = None
        if spec.code is None:
            pool_id = source.uuid()
            prefix = "".join(ch for ch in spec.name.upper() if ch.isalnum())[:6] or "CODE"
            draft.code_pools.append(
                CodePool(pool_id, draft.program.id, f"{spec.name} codes",
                         spec.codes if spec.codes is not None else 100, f"{prefix}-####", created, created)
            )
        unit = spec.unit or "percentage"
        state = spec.state or "active"
        draft.rewards.append(
            Reward(
                id=reward_id,
                program_id=draft.program.id,
                name=spec.name,
                public_name=spec.public_name or spec.name,
                public_description=spec.public_description or "",
                public_image=f"https://img.loyalty.example/{draft.program.id[:8]}/rewards/{reward_id[:8]}.png",
                meta=freeze({"fixture": self.fixture.name}),
                state=state,
                start_date=created,
                end_date=add_period(self.now, 1, "year") if state != "expired" else self.now - DAY,
                disabled_at=self.now - DAY if state == "inactive" else None,
                unit=unit,
                value=value if value is not None else 0,
                value_type="percentage" if unit == "percentage" else "fixed_amount",
                balance_definition_id=draft.definitions[0].id if draft.definitions else None,
                code=spec.code,
                code_pool_id=pool_id,
                code_generator_id=None,
                code_count=spec.codes if spec.codes is not None else 100,
                expiration_value=90,
                expiration_unit="day",
                attribution_per_consumer=1,
                redeem_per_consumer=1,
                total_attribution=10_000,
                total_redeem=10_000,
                subtract_balance_value=0,
                limits=(RewardLimit(source.uuid(), "attribution", 1, 1, "month", True, created, created),),
                products=(),
                rule=None,
                trigger_id=None,
                created_at=created,
                updated_at=created,
                published=state != "draft",
            )
        )

    # ---------------------------------------------------------------- members

    def member(self, draft: ProgramDraft, spec: MemberSpec) -> None:
        program = draft.program
        if not program.has_active_version:
            raise self.fail(
                spec.location,
                f"cannot subscribe contact {spec.contact_id}: program {program.name!r} was never published "
                f"(state {program.state!r}), and contacts enrol only in a published program",
            )
        columns = draft.members
        position = columns.position(spec.contact_id)
        if spec.loyalty_subscription_id is not None:
            holder = columns.subscription_ids.index(spec.loyalty_subscription_id) if (
                spec.loyalty_subscription_id in columns.subscription_ids) else None
            if holder is not None and holder != position:
                raise self.fail(
                    f"{spec.location}.loyaltySubscriptionId",
                    f"{spec.loyalty_subscription_id!r} already belongs to contact {columns.contact_ids[holder]}",
                )
        if position is None:
            subscribed = spec.subscribed_at if spec.subscribed_at is not None else self._default_subscription(spec)
            subscription_id = spec.loyalty_subscription_id or fill_digits(
                draft.program.pattern, draft.subscription_number()
            )
            position = columns.insert(spec.contact_id, subscription_id, subscribed)
        else:
            if spec.subscribed_at is not None and spec.subscribed_at != columns.subscribed_at[position]:
                raise self.fail(
                    f"{spec.location}.subscribedAt",
                    f"cannot change: contact {spec.contact_id} is already subscribed since "
                    f"{iso(columns.subscribed_at[position])}",
                )
            if spec.loyalty_subscription_id is not None:
                columns.subscription_ids[position] = spec.loyalty_subscription_id
        if spec.contact_id not in draft.fixture_contacts:
            draft.fixture_contacts.append(spec.contact_id)
        subscribed = columns.subscribed_at[position]
        override = draft.overrides.setdefault(spec.contact_id, MemberOverride())
        for balance in spec.balances:
            definition = _by_name(draft.definitions, balance.definition)
            if definition is None:
                raise self.fail(
                    f"{balance.location}.balanceDefinition",
                    f"names {balance.definition!r}, which is not a balance definition of {draft.program.name!r}",
                )
            if balance.transactions is not None:
                ledger = self.explicit_ledger(definition, balance.transactions, subscribed, balance.location)
            else:
                ledger = self.target_ledger(draft, definition, spec.contact_id, subscribed, balance.balance,
                                            balance.transaction_count, balance.location)
            override.ledgers[definition.id] = ledger
            columns.values[definition.index][position] = ledger.value
            columns.counts[definition.index][position] = len(ledger.transactions)
            columns.updated_at[definition.index][position] = ledger.updated_at
        if spec.vouchers is not None:
            made = [self.voucher(draft, spec.contact_id, subscribed, voucher) for voucher in spec.vouchers]
            override.vouchers = tuple(sorted(made, key=lambda voucher: (voucher.created_at, voucher.id)))

    def _default_subscription(self, spec: MemberSpec) -> int:
        """A year before the clock, or a day before the member's first dated event."""
        moments = [self.now - 365 * DAY]
        for balance in spec.balances:
            moments.extend(tx.created_at - DAY for tx in balance.transactions or () if tx.created_at is not None)
        moments.extend(v.created_at - DAY for v in spec.vouchers or () if v.created_at is not None)
        return min(moments)

    def target_ledger(
        self, draft: ProgramDraft, definition: BalanceDefinition, contact_id: int, subscribed: int,
        balance: Decimal, count: int | None, location: str,
    ) -> Ledger:
        value = self.minor(balance, definition, f"{location}.balance")
        if count is None:
            count = DEFAULT_TARGET_TRANSACTIONS if value else 0
        rng = member_random(self.source.salt, draft.program.index, contact_id, f"fixture:{definition.index}")
        start = window_start(definition, subscribed, self.now)
        updated = draw_updated_at(rng, start, self.now) if count else subscribed
        return generate_ledger(
            rng, definition, draft.profiles[definition.id],
            subscribed_at=subscribed, count=count, value=value, updated_at=updated, now=self.now, owner=contact_id,
        )

    def explicit_ledger(
        self, definition: BalanceDefinition, specs: tuple[TransactionSpec, ...], subscribed: int, location: str
    ) -> Ledger:
        created = [spec.created_at for spec in specs]
        if specs and created[0] is None:  # evenly spread between the subscription and a day before the clock
            step = max(0, (self.now - DAY - subscribed) // (len(specs) + 1))
            created = [subscribed + (i + 1) * step for i in range(len(specs))]
        made = []
        for i, spec in enumerate(specs):
            moment = created[i]
            assert moment is not None
            if moment < subscribed:
                raise self.fail(f"{spec.location}.createdAt",
                                f"is before the member's subscription ({iso(subscribed)})")
            following = created[i + 1] if i + 1 < len(specs) else self.now
            settled = min(moment + 5 * MINUTE, following)
            made.append(self.transaction(definition, spec, moment, settled))
        try:
            return settle(definition, made, self.source.uuid, subscribed)
        except LedgerError as error:
            raise self.fail(f"{location}.transactions", f"cannot be settled: {error}") from None

    def transaction(
        self, definition: BalanceDefinition, spec: TransactionSpec, created: int, settled: int
    ) -> Transaction:
        amount = self.minor(spec.amount, definition, f"{spec.location}.amount")
        expiry = None
        if spec.type == "credit" and spec.status in ("completed", "expired"):
            expiry = spec.expires_at if spec.expires_at is not None else definition.credit_expiry(settled)
            if spec.status == "completed" and expiry is not None and expiry <= self.now:
                raise self.fail(
                    spec.location,
                    f"is a completed credit that lapses on {iso(expiry)}, before the reference clock; "
                    "give it status 'expired' or a later expiresAt",
                )
            if spec.status == "expired" and (expiry is None or expiry > self.now):
                raise self.fail(
                    spec.location,
                    "is an expired credit, so it needs an expiresAt before the reference clock "
                    f"(got {iso(expiry) if expiry is not None else 'none: the definition never expires credits'})",
                )
        return Transaction(
            id="",
            balance_definition_id=definition.id,
            transaction_type=spec.type,
            amount=amount,
            status=spec.status,
            created_at=created,
            completed_at=settled if spec.status in ("completed", "expired") else None,
            cancelled_at=settled if spec.status == "cancelled" else None,
            rejected_at=settled if spec.status == "rejected" else None,
            reject_reason=spec.reject_reason,
            balance_expiration_date=expiry,
            meta=spec.meta,
        )

    def voucher(self, draft: ProgramDraft, contact_id: int, subscribed: int, spec: VoucherSpec) -> Voucher:
        reward = _by_name(draft.rewards, spec.offer)
        if reward is None:
            raise self.fail(f"{spec.location}.offer",
                            f"names {spec.offer!r}, which is not an offer of {draft.program.name!r}")
        created = spec.created_at if spec.created_at is not None else max(subscribed, self.now - 7 * DAY)
        expires = spec.expires_at if spec.expires_at is not None else reward.voucher_expiry(created)
        if expires <= created:
            if spec.expires_at is None:  # the offer's fixed expiry date
                raise self.fail(f"{spec.location}.createdAt",
                                f"is after {iso(expires)}, when every voucher of offer {reward.name!r} expires")
            raise self.fail(f"{spec.location}.expiresAt", "must be after the voucher's creation")
        return Voucher(
            id=self.source.uuid(),
            contact_id=contact_id,
            reward_id=reward.id,
            code=spec.code,
            created_at=created,
            updated_at=spec.consumed_at if spec.consumed_at is not None else created,
            valid_from=created,
            expiration_date=expires,
            consumed_at=spec.consumed_at,
            meta=spec.meta if spec.meta else EMPTY_META,
            unit=reward.unit,
            value=reward.value,
        )

    def minor(self, amount: Decimal, definition: BalanceDefinition, location: str) -> int:
        scaled = amount * definition.scale
        if scaled != scaled.to_integral_value():
            allowed = "whole numbers" if definition.scale == 1 else "at most two decimals"
            raise self.fail(location, f"is {amount}, but {definition.unit} amounts take {allowed}")
        return int(scaled)


def _by_name(records: list[Any], name: str) -> Any:
    """The record called `name`, or None."""
    for record in records:
        if record.name == name:
            return record
    return None


def _plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def apply_fixtures(fixtures: tuple[Fixture, ...], drafts: list[ProgramDraft], source: Source, now: int) -> None:
    """Layer each fixture, in order, on the drafts (later fixtures see what earlier ones did)."""
    for fixture in fixtures:
        _Layer(fixture, drafts, source, now).apply()
