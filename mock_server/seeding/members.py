"""Members: their eager summaries at build time, their full records on demand.

`draw_members` fills a program's member columns: contact ids, subscription
ids and dates, and per balance definition only (balance, transaction count,
last change). It is the hot loop of seeding (100,000 contacts x 3 programs x
a few definitions), so it sticks to plain arithmetic on local names.

`SeededMembers` is the world's `MemberSource`: it rebuilds one member's
ledgers and vouchers from the member's own generator (or takes what a fixture
fixed), always identically.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

from mock_server.seeding.drafts import MemberOverride, Profile, ProgramDraft
from mock_server.seeding.ledger import generate_ledger, window_start
from mock_server.seeding.random_source import Source, fill_digits, member_random
from mock_server.seeding.vouchers import generate_vouchers
from mock_server.store.models import DAY, HOUR, Ledger, Member, Subscription
from mock_server.store.world import ProgramData

Progress = Callable[[int], None]  # called with the number of members drawn since the last call
PROGRESS_STEP = 10_000


def draw_members(draft: ProgramDraft, source: Source, contacts: int, now: int, progress: Progress) -> None:
    """Subscribe `contacts` seeded contacts to the program and draw their summaries."""
    rng = source.rng
    rnd = rng.random
    columns = draft.members
    program = draft.program
    # Contact ids grow by 1 to 3: programs share many contacts but not all.
    contact_id = rng.randint(1, 400)
    first_day = program.created_at + DAY
    last_day = now - 2 * DAY
    span = last_day - first_day
    for i in range(contacts):
        columns.contact_ids.append(contact_id)
        contact_id += 1 + int(rnd() * 3)
        columns.subscribed_at.append(first_day + int(rnd() * span))
        columns.subscription_ids.append(fill_digits(program.pattern, draft.subscription_number()))
        if (i + 1) % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    progress(contacts % PROGRESS_STEP)
    for d, definition in enumerate(draft.definitions):
        _draw_summaries(
            rng.random, draft.profiles[definition.id], columns.subscribed_at,
            window_start(definition, 0, now), now,
            columns.values[d], columns.counts[d], columns.updated_at[d],
        )


def _draw_summaries(
    rnd: Callable[[], float],
    profile: Profile,
    subscribed: list[int],
    window: int,
    now: int,
    values: list[int],
    counts: list[int],
    updated: list[int],
) -> None:
    log = math.log
    idle, zero = profile.idle_share, profile.zero_share
    mean_count, mean_value, max_count = profile.mean_count, profile.mean_value, profile.max_count
    end = now - HOUR
    for subscribed_at in subscribed:
        if rnd() < idle:
            values.append(0)
            counts.append(0)
            updated.append(subscribed_at)
            continue
        counts.append(min(max_count, 1 + int(-mean_count * log(1.0 - rnd()))))
        values.append(0 if rnd() < zero else 1 + int(-mean_value * log(1.0 - rnd())))
        start = subscribed_at if subscribed_at > window else window
        updated.append(start + int(rnd() * (end - start)))


class SeededMembers:
    """Rebuilds members from the salt and the fixtures' decisions (a `MemberSource`).

    A member's history is drawn from the configuration the world was seeded with (its
    definitions and rewards as they were then), never from the program's current revision:
    a definition changed or a reward created through the API later must not rewrite the past
    of members no write touched.
    """

    __slots__ = ("_definitions", "_now", "_overrides", "_patterns", "_profiles", "_rewards", "_salt")

    def __init__(self, salt: int, now: int, drafts: list[ProgramDraft]) -> None:
        self._salt = salt
        self._now = now
        self._profiles = MappingProxyType({d.program.id: dict(d.profiles) for d in drafts})
        self._definitions = MappingProxyType({d.program.id: {x.id: x for x in d.definitions} for d in drafts})
        self._rewards = MappingProxyType({d.program.id: tuple(d.rewards) for d in drafts})
        self._overrides: Mapping[str, Mapping[int, MemberOverride]] = MappingProxyType(
            {d.program.id: dict(d.overrides) for d in drafts}
        )
        self._patterns = MappingProxyType(
            {
                d.program.id: {
                    **{pool.id: pool.pattern for pool in d.code_pools},
                    **{generator.id: generator.pattern for generator in d.code_generators},
                }
                for d in drafts
            }
        )

    def member(self, data: ProgramData, position: int) -> Member:
        table = data.members
        program = data.program
        contact_id = table.contact_ids[position]
        subscribed_at = table.subscribed_at[position]
        override = self._overrides[program.id].get(contact_id)
        profiles = self._profiles[program.id]
        ledgers: list[Ledger] = []
        seeded = self._definitions[program.id]
        for d, definition in enumerate(data.definitions):
            fixed = override.ledgers.get(definition.id) if override else None
            if fixed is not None:
                ledgers.append(fixed)
                continue
            if definition.id not in profiles:  # created through the API after seeding: nothing on it yet
                ledgers.append(Ledger(definition.id, 0, subscribed_at, (), ()))
                continue
            ledgers.append(
                generate_ledger(
                    member_random(self._salt, program.index, contact_id, f"balance:{d}"),
                    seeded[definition.id],
                    profiles[definition.id],
                    subscribed_at=subscribed_at,
                    count=table.counts[d][position],
                    value=table.values[d][position],
                    updated_at=table.updated_at[d][position],
                    now=self._now,
                    owner=contact_id,
                )
            )
        if override is not None and override.vouchers is not None:
            vouchers = override.vouchers
        else:
            vouchers = generate_vouchers(
                member_random(self._salt, program.index, contact_id, "vouchers"),
                contact_id,
                subscribed_at,
                self._rewards[program.id],
                self._patterns[program.id],
                self._now,
            )
        last_change = max([subscribed_at, *(ledger.updated_at for ledger in ledgers)])
        subscription = Subscription(
            program.id, contact_id, table.subscription_ids[position], subscribed_at, last_change
        )
        return Member(subscription, tuple(ledgers), vouchers)
