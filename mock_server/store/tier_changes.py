"""How a member's tier moves: with its balance in a group's real-time directions, on a schedule in the others.

A tier group moves members up (`upgradeStrategy`) and down (`downgradeStrategy`) either in real time
(`real_time`: the moment a completed transaction, or a lapsing credit, moves the balance across a
threshold) or on a schedule (`membership_anniversary`, `tier_anniversary`): then a balance change does
not move the member in that direction; the group re-evaluates it on the direction's schedule
(`review_moments`), when the organisation's clock reaches it (`mock_server.backend.timeline`).

What a member holds is read by `ProgramData.standing_of`; this module records it:

- `with_held_tiers`: after a balance change, the tier held in each group with a scheduled direction
  (the tier before, moved by the real-time directions), so later changes start from it;
- `reviewed`: a scheduled evaluation, moving the member to the tier its balance reaches in the
  directions evaluated;
- `newly_reached_tiers`: the tiers crossed upwards by one change (tier rewards react to them);
- `settled_tiers`: both for a write (the held tiers recorded, and what moved), where the member stood in each
  group read once.

Seeded members hold the tier their balance gave at the reference time (the seeded world was evaluated
then); from there writes and the clock move them, as they move every member.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from types import MappingProxyType

from mock_server.store.expiry_rules import anniversaries, tier_since
from mock_server.store.models import DAY, REAL_TIME, Member, Tier, TierAssignment, TierGroup
from mock_server.store.world import ProgramData

UPGRADE, DOWNGRADE = "upgrade", "downgrade"
TIER_ANNIVERSARY = "tier_anniversary"  # a schedule counted from entering the tier held (else: from subscribing)


@dataclass(frozen=True, slots=True)
class TierMove:
    """A member's tier in one group moved by a change: the tier it held before, and the one it holds after."""

    group: TierGroup
    before: Tier | None
    after: Tier | None


def newly_reached_tiers(data: ProgramData, before: Member, after: Member) -> list[Tier]:
    """Tiers `after` stands on or passed that `before` was below, group by group (creation order), lowest
    first within a group: a jump over several tiers lists each. Where each stands is the tier it holds
    (`ProgramData.standing_of`: a tier given by hand, a scheduled upgrade not made yet)."""
    return reached_tiers(data, tier_moves(data, before, after))


def reached_tiers(data: ProgramData, moves: Iterable[TierMove]) -> list[Tier]:
    """`newly_reached_tiers` from the moves of a change (`tier_moves`, `settled_tiers`)."""
    reached: list[Tier] = []
    for move in moves:
        tiers = data.tiers_of(move.group)
        low = tiers.index(move.before) + 1 if move.before is not None else 0
        high = tiers.index(move.after) + 1 if move.after is not None else 0
        reached.extend(tiers[low:high])
    return reached


def tier_moves(data: ProgramData, before: Member, after: Member) -> list[TierMove]:
    """The groups (creation order) where the tier `after` holds is not the one `before` held."""
    moves: list[TierMove] = []
    for group, index in _tiered_groups(data):
        _judged(data, group, moves, before.ledgers[index].value, before.tier_assignments.get(group.id),
                after.ledgers[index].value, after.tier_assignments.get(group.id))
    return moves


def _tiered_groups(data: ProgramData) -> Iterator[tuple[TierGroup, int]]:
    """The groups with tiers (creation order), each with the ledger index of the balance it counts."""
    for group in data.tier_groups:
        definition = data.definition_by_id.get(group.balance_definition_id)
        if definition is not None and group.tier_ids:
            yield group, definition.index


def _judged(data: ProgramData, group: TierGroup, moves: list[TierMove], old_value: int,
            old_record: TierAssignment | None, new_value: int, new_record: TierAssignment | None) -> None:
    """Append the group's move to `moves` if the member's tier there changed between the two states."""
    if old_value == new_value and old_record == new_record:
        return  # standing follows the balance and the tier record: neither moved
    old = data.standing_with(group, old_value, old_record)[0]
    new = data.standing_with(group, new_value, new_record)[0]
    if _id(old) != _id(new):
        moves.append(TierMove(group, old, new))


def scheduled(group: TierGroup) -> bool:
    """Whether one of the group's directions waits for a schedule."""
    return not (group.upgrades_live and group.downgrades_live)


def with_held_tiers(data: ProgramData, before: Member, after: Member, now: int) -> Member:
    """`after` (the member once its balances moved, at `now`) with the tier it holds recorded in every group
    that has a scheduled direction and counts a balance that moved: the tier held before, moved by the
    group's real-time directions. Nothing is recorded for a member without a record that holds what its balance
    reaches (that is what no record means), nor in real-time groups."""
    return settled_tiers(data, before, after, now)[0]


def settled_tiers(data: ProgramData, before: Member, after: Member, now: int) -> tuple[Member, list[TierMove]]:
    """(`with_held_tiers(data, before, after, now)`, the `tier_moves` from `before` to it), reading where the
    member stood in each group once: a write records the held tiers, then tells events and tier rewards
    what moved."""
    assignments = None
    moves: list[TierMove] = []
    for group, index in _tiered_groups(data):
        old_value, value = before.ledgers[index].value, after.ledgers[index].value
        kept = before.tier_assignments.get(group.id)
        record = after.tier_assignments.get(group.id)
        if old_value == value and kept == record:
            continue  # standing follows the balance and the tier record: neither moved
        held = data.standing_with(group, old_value, kept)[0]
        if old_value != value and scheduled(group):
            recorded = False
            reached, _ = data.standing(group, value)
            tier = data.moved(group, held, reached)
            if kept is not None or _id(tier) != _id(reached):
                # else: holding what the balance reaches, as without a record: nothing to record (the common case)
                if _id(tier) == _id(held):
                    since = kept.created_at if kept is not None and kept.tier_id == _id(held) else None
                    if since is None:
                        since = tier_since(data, group, before)[1] or now
                else:
                    since = now
                assignments = assignments if assignments is not None else dict(after.tier_assignments)
                record = assignments[group.id] = TierAssignment("", group.id, _id(tier), value, since, by_hand=False)
                recorded = True
            # What `standing_with(group, value, record)` would read back, without reading it again: the tier just
            # recorded (already moved in the live directions), or, with no record, what the balance reaches.
            now_held = tier if recorded or record is None else data.standing_with(group, value, record)[0]
        else:
            now_held = data.standing_with(group, value, record)[0]
        if _id(held) != _id(now_held):
            moves.append(TierMove(group, held, now_held))
    if assignments is None:
        return after, moves
    return replace(after, tier_assignments=MappingProxyType(assignments)), moves


def restrategised(data: ProgramData, group: TierGroup, member: Member, now: int) -> Member | None:
    """The member once `group` (as in `data`) took new strategies: what it held moved at once in the new
    real-time directions, recorded again (dropped in a real-time group); None when nothing is to record.
    A tier given by hand is kept while the balance is what it was."""
    record = member.tier_assignments.get(group.id)
    definition = data.definition_by_id.get(group.balance_definition_id)
    if record is None or definition is None or not group.tier_ids:
        return None
    value = member.ledgers[definition.index].value
    if record.by_hand and record.balance == value:
        return None
    assignments = dict(member.tier_assignments)
    if scheduled(group):
        held, _ = data.standing_of(group, member)
        since = record.created_at if record.tier_id == _id(held) else now
        assignments[group.id] = TierAssignment("", group.id, _id(held), value, since, by_hand=False)
    else:
        del assignments[group.id]  # real time: the member holds what its balance reaches
    return replace(member, tier_assignments=MappingProxyType(assignments))


def reviewed(data: ProgramData, group: TierGroup, member: Member, directions: frozenset[str],
             now: int) -> tuple[Member, Tier | None, Tier | None] | None:
    """A scheduled evaluation of `directions` at `now`: (the member moved, its tier before, its tier now), or
    None when it stays. A tier given by hand is kept while the balance is what it was (as in real time)."""
    definition = data.definition_by_id.get(group.balance_definition_id)
    if not group.tier_ids or definition is None:
        return None
    value = member.ledgers[definition.index].value
    record = member.tier_assignments.get(group.id)
    if record is None or (record.by_hand and record.balance == value):
        return None  # holding what the balance gives (no record), or a tier given by hand
    held, _ = data.standing_of(group, member)
    reached, _ = data.standing(group, value)
    ranks = {tier.id: rank for rank, tier in enumerate(data.tiers_of(group))}
    have = ranks[held.id] if held is not None else -1
    get = ranks[reached.id] if reached is not None else -1
    if not ((UPGRADE in directions and get > have) or (DOWNGRADE in directions and get < have)):
        return None
    assignments = {**member.tier_assignments,
                   group.id: TierAssignment("", group.id, _id(reached), value, now, by_hand=False)}
    return replace(member, tier_assignments=MappingProxyType(assignments)), held, reached


def review_moments(group: TierGroup, direction: str, subscribed_at: int, since: int | None, start: int,
                   end: int) -> list[int]:
    """When `direction` of the group is evaluated in (start, end], for a member subscribed at `subscribed_at`
    holding its tier since `since` (None: no tier). Nothing in real time (every change is evaluated).

    - a `scheduledDate` (DD/MM): every year on that day at 00:00 UTC, for every member (29/02 falls on the
      28th in common years);
    - otherwise every `durationValue` `durationUnit` (1 year when the schedule gives none) from the anchor:
      the subscription (`membership_anniversary`) or entering the tier held (`tier_anniversary`; the
      subscription for a member below every tier). Months and years are calendar ones, the day kept inside
      shorter months. `durationModifier` is shown as given and shifts nothing.
    """
    strategy = group.upgrade_strategy if direction == UPGRADE else group.downgrade_strategy
    if strategy == REAL_TIME or end <= start:
        return []
    schedule = (group.upgrade_schedule if direction == UPGRADE else group.downgrade_schedule) or {}
    day = schedule.get("scheduledDate")
    if isinstance(day, str) and len(day) == 5:
        on, month = int(day[:2]), int(day[3:])
        found = []
        for year in range(time.gmtime(max(start, 0) // 1000).tm_year, time.gmtime(end // 1000).tm_year + 1):
            moment = calendar.timegm((year, month, min(on, calendar.monthrange(year, month)[1]), 0, 0, 0)) * 1000
            if start < moment <= end:
                found.append(moment)
        return found
    anchor = since if strategy == TIER_ANNIVERSARY and since is not None else subscribed_at
    count = int(schedule.get("durationValue") or 1)
    unit = schedule.get("durationUnit") or "year"
    if unit in ("day", "week"):
        period = count * DAY * (7 if unit == "week" else 1)
        first = max(1, (start - anchor) // period)
        return [anchor + k * period for k in range(first, (end - anchor) // period + 1) if anchor + k * period > start]
    months = count * (12 if unit == "year" else 1)
    return [moment for moment, _ in anniversaries(anchor, start, end, months)]


def _id(tier: Tier | None) -> str | None:
    return tier.id if tier is not None else None
