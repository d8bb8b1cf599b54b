"""Building a world: seeded programs and members, then fixtures on top, then freezing.

    build_world(seed, contacts, fixtures, organisation) -> World

The same (seed, contacts, fixtures, organisation) always gives the same world,
down to the bytes of every response: all randomness comes from one source seeded
by (seed, organisation), and all dates are relative to `REFERENCE_NOW`, never the
wall clock. Only members' summaries are drawn up front; their histories are
regenerated on demand from per-member generators (see `ledger` and `members`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mock_server.fixtures import Fixture
from mock_server.seeding.catalog import seeded_programs
from mock_server.seeding.layering import apply_fixtures
from mock_server.seeding.members import SeededMembers, draw_members
from mock_server.seeding.random_source import Source
from mock_server.store.models import REFERENCE_NOW, REFERENCE_NOW_ISO
from mock_server.store.world import World

__all__ = ["REFERENCE_NOW", "REFERENCE_NOW_ISO", "build_world"]


def build_world(
    seed: int,
    contacts: int,
    fixtures: Sequence[Fixture] = (),
    organisation: str = "default",
    progress: Callable[[int, int], None] | None = None,
) -> World:
    """The world of one organisation; `contacts` seeded members per published seeded program.

    A program never published (state ``inactive``) has no members: contacts enrol
    only once a program is published. `progress(done, total)` is called as members
    are drawn (total = contacts x published seeded programs). Fixture problems
    raise `FixtureError`.
    """
    if contacts < 0:
        raise ValueError(f"contacts must be >= 0, got {contacts}")
    now = REFERENCE_NOW
    source = Source(seed, organisation)
    drafts = seeded_programs(source, now)
    enrolled = {draft.program.id: contacts if draft.program.has_active_version else 0 for draft in drafts}
    total = sum(enrolled.values())
    done = 0

    def advance(step: int) -> None:
        nonlocal done
        done += step
        if progress is not None and step:
            progress(done, total)

    for draft in drafts:
        draw_members(draft, source, enrolled[draft.program.id], now, advance)
    apply_fixtures(tuple(fixtures), drafts, source, now)
    return World(
        organisation=organisation,
        seed=seed,
        contacts=contacts,
        programs=[draft.freeze() for draft in drafts],
        source=SeededMembers(source.salt, now, drafts),
    )
