"""`settled_tiers` reads where a member stands once per group for speed: its moves must be what
`ProgramData.standing_of` says of the member before and of the member it returns, for any balance change
and any tier record (none, given by hand, held in a scheduled group)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.seeding import build_world
from mock_server.store.models import TierAssignment
from mock_server.store.tier_changes import settled_tiers, tier_moves

WORLD = build_world(seed=3, contacts=30)
PROGRAMS = [data for data in WORLD.programs if data.tier_groups and len(data.members)]


def _id(tier):
    return tier.id if tier is not None else None


@st.composite
def records(draw: st.DrawFn, data, member) -> dict[str, TierAssignment]:
    found = {}
    for group in data.tier_groups:
        kind = draw(st.sampled_from(["none", "by_hand", "held"]))
        if kind == "none" or not group.tier_ids:
            continue
        tier_id = draw(st.sampled_from([*group.tier_ids, None])) if kind == "held" else draw(
            st.sampled_from(group.tier_ids))
        definition = data.definition_by_id[group.balance_definition_id]
        value = member.ledgers[definition.index].value
        balance = value if draw(st.booleans()) else draw(st.integers(0, 10**7))
        found[group.id] = TierAssignment("", group.id, tier_id, balance, 5, by_hand=kind == "by_hand")
    return found


@st.composite
def changes(draw: st.DrawFn):
    data = draw(st.sampled_from(PROGRAMS))
    member = WORLD.member_at(data, draw(st.integers(0, len(data.members) - 1)))
    before = replace(member, tier_assignments=MappingProxyType(draw(records(data, member))))
    ledgers = list(before.ledgers)
    for index in draw(st.lists(st.integers(0, len(ledgers) - 1), max_size=3, unique=True)):
        ledgers[index] = replace(ledgers[index], value=draw(st.integers(0, 10**7)))
    after = replace(before, ledgers=tuple(ledgers))
    if draw(st.booleans()):  # a change of the tier records too (the general case; a balance write keeps them)
        after = replace(after, tier_assignments=MappingProxyType(draw(records(data, after))))
    return data, before, after


@settings(max_examples=300, deadline=None)
@given(changes())
def test_the_moves_of_a_change_are_where_the_member_stood_before_and_stands_after(change) -> None:
    data, before, after = change
    settled, moves = settled_tiers(data, before, after, now=10**12)
    expected = []
    for group in data.tier_groups:
        if data.definition_by_id.get(group.balance_definition_id) is None:
            continue
        old, new = data.standing_of(group, before)[0], data.standing_of(group, settled)[0]
        if _id(old) != _id(new):
            expected.append((group.id, _id(old), _id(new)))
    assert [(move.group.id, _id(move.before), _id(move.after)) for move in moves] == expected
    assert [(move.group.id, _id(move.before), _id(move.after))
            for move in tier_moves(data, before, settled)] == expected
    assert settled.ledgers == after.ledgers
