"""Rules of programs and subscriptions that span several records (see `mock_server.backend.programs`).

What one record decides alone is a method of that record (`LoyaltyProgram.publish`,
`Member.with_subscription_members` ...); what needs a whole program is here, as pure
functions from records to new records, so the backend only checks, stamps and commits.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import replace
from hashlib import blake2b
from typing import Any

from mock_server.seeding.random_source import fill_digits
from mock_server.store.models import Ledger, LoyaltyProgram, Member, Meta, Subscription
from mock_server.store.world import MemberTable, ProgramData

GENERATED_DIGITS = 8  # '#'s a generated subscription id has at least (as seeded patterns do)
DEFAULT_BIRTHDAY_ATTRIBUTE = "BIRTHDAY"


def organization_number(organisation: str) -> int:
    """The account's numeric id (`organizationId`): stable for a name, 7 digits, never 0."""
    digest = blake2b(f"organisation\x1f{organisation}".encode(), digest_size=8).digest()
    return 1_000_000 + int.from_bytes(digest, "big") % 9_000_000


def program_pattern(name: str, index: int) -> str:
    """The subscription id pattern of a new program, shaped like the seeded ones ('#' is a digit)."""
    prefix = "".join(char for char in name.upper() if "A" <= char <= "Z")[:3] or "LP"
    return f"{prefix}{index + 1}-" + "#" * GENERATED_DIGITS


def empty_members() -> MemberTable:
    return MemberTable(array("q"), [], array("q"), [], [], [])


def new_program(
    *, program_id: str, index: int, name: str, description: str, meta: Meta, document_id: str,
    pool_id: str, generator_id: str, now: int,
) -> ProgramData:
    """A program as created: inactive, nothing configured, nobody subscribed."""
    program = LoyaltyProgram(
        id=program_id,
        index=index,
        name=name,
        description=description,
        meta=meta,
        state="inactive",
        subscription_pool_id=pool_id,
        subscription_generator_id=generator_id,
        pattern=program_pattern(name, index),
        code_count=0,
        document_id=document_id,
        birthday_attribute=DEFAULT_BIRTHDAY_ATTRIBUTE,
        created_at=now,
        updated_at=now,
    )
    return ProgramData(program, (), (), (), (), (), (), (), empty_members())


def published(data: ProgramData, now: int) -> ProgramData:
    """The program after a publish: active, and every configuration record published.

    Only the `published` flags change (what the active version shows); a reward's own
    `state` is the reward's business and stays as it is.
    """
    return data.replace(
        program=data.program.publish(now),
        definitions=_all_published(data.definitions),
        limits=_all_published(data.limits),
        tier_groups=_all_published(data.tier_groups),
        tiers=_all_published(data.tiers),
        rewards=_all_published(data.rewards),
    )


def _all_published(records: tuple[Any, ...]) -> tuple[Any, ...]:
    if all(record.published for record in records):
        return records  # nothing pending: share the tuple (and let `replace` keep it)
    return tuple(record if record.published else replace(record, published=True) for record in records)


def new_member(data: ProgramData, contact_id: int, subscription_id: str, created_at: int, meta: Meta) -> Member:
    """A contact just subscribed: at 0 on every balance definition (tiers follow from the balance)."""
    subscription = Subscription(data.id, contact_id, subscription_id, created_at, created_at, meta)
    ledgers = tuple(Ledger(definition.id, 0, created_at, (), ()) for definition in data.definitions)
    return Member(subscription, ledgers, ())


def generated_subscription_id(data: ProgramData, draw: Callable[[], str]) -> str:
    """A loyaltySubscriptionId from the program's pattern that no member holds.

    The digits come from `draw` (the backend's deterministic ids), so the same requests make the
    same ids; a number already held (seeded, given in a body, generated before) is drawn again.
    A pattern without enough room for the members gets more digits, so a free id always exists.
    """
    pattern = data.program.pattern
    width = pattern.count("#")
    while 10 ** width < 4 * (len(data.members) + 1):
        pattern, width = pattern + "#", width + 1
    table = data.members
    while True:
        number = int(draw().replace("-", ""), 16) % 10 ** width
        candidate = fill_digits(pattern, number)
        if table.position_of_subscription(candidate) is None:
            return candidate

