"""Tier groups, tiers, and tiers given by hand: the rules of the tier writes.

A group ranks members on one balance definition (the one its tiers' access
conditions name); its tiers are kept lowest threshold first, and two tiers of a
group never share a threshold, so a member's tier always follows from the
balance (`ProgramData.standing`), moved in the group's real-time directions and, in
its scheduled ones, on their schedule (`mock_server.store.tier_changes`). A tier given
by hand holds until that balance next changes (`TierAssignment`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from mock_server.errors import Conflict, InvalidParameter, UnknownResource
from mock_server.store.models import EMPTY_META, REAL_TIME, Member, Tier, TierAssignment, TierGroup, freeze
from mock_server.store.queries import norm_id
from mock_server.store.tier_changes import restrategised
from mock_server.store.world import ProgramData

if TYPE_CHECKING:
    from mock_server.backend.state import Backend



class Tiers:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    # ------------------------------------------------------------------ groups

    def create_group(self, pid: str, body: Mapping[str, Any]) -> tuple[ProgramData, TierGroup]:
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            name = body["name"]
            _unique_group_name(data, name, None)
            if body.get("tierOrder"):
                raise InvalidParameter(f"Invalid body field 'tierOrder': a new tier group has no tiers yet, "
                                       f"got {list(body['tierOrder'])}; create its tiers, then order them")
            upgrade, downgrade = body.get("upgradeStrategy", REAL_TIME), body.get("downgradeStrategy", REAL_TIME)
            now = backend.stamp()
            group = TierGroup(
                id=backend.new_id(),
                program_id=data.id,
                name=name,
                balance_definition_id="",  # taken from its first tier's access condition
                tier_ids=(),
                upgrade_strategy=upgrade,
                downgrade_strategy=downgrade,
                upgrade_schedule=_schedule(upgrade, body.get("upgradeSchedule"), "upgradeSchedule"),
                downgrade_schedule=_schedule(downgrade, body.get("downgradeSchedule"), "downgradeSchedule"),
                created_at=now,
                updated_at=now,
                published=False,
            )
            data = backend.edit_config(data, now, tier_groups=(*data.tier_groups, group))
            return data, group

    def update_group(self, pid: str, gid: str, body: Mapping[str, Any]) -> tuple[ProgramData, TierGroup]:
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            group = _group(data, gid)
            _unique_group_name(data, body["name"], group.id)
            order = tuple(norm_id(tier_id) for tier_id in body["tierOrder"])
            if sorted(order) != sorted(group.tier_ids):
                raise InvalidParameter(
                    f"Invalid body field 'tierOrder': it must list exactly the tiers of group {group.id} "
                    f"({', '.join(group.tier_ids) or 'none'}), got {', '.join(order) or 'none'}")
            if order != group.tier_ids:
                thresholds = [data.tier_by_id[tier_id].threshold for tier_id in order]
                raise InvalidParameter(
                    "Invalid body field 'tierOrder': tiers are ranked by their thresholds, lowest first "
                    f"({', '.join(group.tier_ids)}); the order given has thresholds {thresholds}")
            upgrade, downgrade = body["upgradeStrategy"], body["downgradeStrategy"]
            now = backend.stamp()
            changed = replace(
                group,
                name=body["name"],
                upgrade_strategy=upgrade,
                downgrade_strategy=downgrade,
                upgrade_schedule=_schedule(upgrade, body.get("upgradeSchedule", _kept(group.upgrade_schedule)),
                                           "upgradeSchedule"),
                downgrade_schedule=_schedule(downgrade,
                                             body.get("downgradeSchedule", _kept(group.downgrade_schedule)),
                                             "downgradeSchedule"),
                updated_at=now,
            )
            data = backend.edit_config(data, now, tier_groups=_swap(data.tier_groups, changed))
            if (upgrade, downgrade) != (group.upgrade_strategy, group.downgrade_strategy):
                data = self._restrategised(data, changed, now)
            return data, changed

    def delete_group(self, pid: str, gid: str) -> None:
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            group = _group(data, gid)
            if group.tier_ids:
                raise Conflict(f"Tier group {group.id} still holds {len(group.tier_ids)} tier(s) "
                               f"({', '.join(group.tier_ids)}): delete them first")
            now = backend.stamp()
            backend.edit_config(data, now, tier_groups=tuple(g for g in data.tier_groups if g.id != group.id))

    def _restrategised(self, data: ProgramData, group: TierGroup, now: int) -> ProgramData:
        """Members holding a recorded tier in a group whose strategies changed: moved at once in its new
        real-time directions, so what they hold from now on starts there (seeded members record none)."""
        backend = self.backend
        for member in backend.world.changed_members(data.id):
            moved = restrategised(data, group, member, now)
            if moved is not None:
                data = backend.writable(data)
                backend.put_member(data, moved)
        return data

    # ------------------------------------------------------------------- tiers

    def create_tier(self, pid: str, gid: str, body: Mapping[str, Any]) -> tuple[ProgramData, Tier]:
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            group = _group(data, gid)
            definition_id, threshold = _condition(data, group, body["accessConditions"])
            reward_ids = _rewards(data, body.get("tierRewards", ()))
            _free_threshold(data, group, threshold, None)
            now = backend.stamp()
            tier = Tier(
                id=backend.new_id(),
                group_id=group.id,
                program_id=data.id,
                name=body["name"],
                image_ref=body.get("imageRef", ""),
                threshold=threshold,
                balance_definition_id=definition_id,
                reward_ids=reward_ids,
                created_at=now,
                updated_at=now,
                published=False,
            )
            tiers = (*data.tiers, tier)
            ranked = _ranked(group, tiers, definition_id, now)
            data = backend.edit_config(data, now, tiers=tiers, tier_groups=_swap(data.tier_groups, ranked))
            return data, tier

    def update_tier(self, pid: str, tid: str, body: Mapping[str, Any]) -> tuple[ProgramData, Tier]:
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            tier = _tier(data, tid)
            group = data.group_by_id[tier.group_id]
            definition_id, threshold = _condition(data, group, body["accessConditions"], ignoring=tier.id)
            reward_ids = _rewards(data, body["tierRewards"])
            _free_threshold(data, group, threshold, tier.id)
            now = backend.stamp()
            changed = replace(tier, name=body["name"], image_ref=body.get("imageRef", tier.image_ref),
                              threshold=threshold, balance_definition_id=definition_id, reward_ids=reward_ids,
                              updated_at=now)
            tiers = _swap(data.tiers, changed)
            ranked = _ranked(group, tiers, definition_id, now)
            data = backend.edit_config(data, now, tiers=tiers, tier_groups=_swap(data.tier_groups, ranked))
            return data, changed

    def delete_tier(self, pid: str, tid: str) -> None:
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            tier = _tier(data, tid)
            group = data.group_by_id[tier.group_id]
            now = backend.stamp()
            emptied = replace(group, tier_ids=tuple(t for t in group.tier_ids if t != tier.id), updated_at=now)
            backend.edit_config(data, now, tiers=tuple(t for t in data.tiers if t.id != tier.id),
                                tier_groups=_swap(data.tier_groups, emptied))

    # ------------------------------------------------------------- by hand

    def assign(self, pid: str, contact_id: int, tid: str) -> tuple[ProgramData, Member, TierAssignment]:
        """Put a member on a tier whatever the balance (addSubscriptionToTier)."""
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            member = backend.member(data, contact_id, "cid")
            tier = _tier(data, tid)
            group = data.group_by_id[tier.group_id]
            current, _ = data.standing_of(group, member)
            if current is not None and current.id == tier.id:
                raise Conflict(f"Contact {contact_id} is already on tier {tier.id} ({tier.name!r}) "
                               f"of tier group {group.id}")
            now = backend.stamp()
            value = member.ledgers[data.definition_by_id[group.balance_definition_id].index].value
            assignment = TierAssignment(backend.new_id(), group.id, tier.id, value, now)
            assignments = {**member.tier_assignments, group.id: assignment}
            changed = replace(member, tier_assignments=MappingProxyType(assignments))
            data = backend.writable(data)
            backend.put_member(data, changed)
            backend.emit("tier_association_updated", data.id, contact_id, program=data, member=changed, group=group,
                         tier=tier, previous_tier=current)
            return data, changed, assignment


# ------------------------------------------------------------------ checks


def _group(data: ProgramData, gid: str) -> TierGroup:
    group = data.group_by_id.get(norm_id(gid))
    if group is None:
        raise UnknownResource("Tier group", "gid", gid)
    return group


def _tier(data: ProgramData, tid: str) -> Tier:
    tier = data.tier_by_id.get(norm_id(tid))
    if tier is None:
        raise UnknownResource("Tier", "tid", tid)
    return tier


def _unique_group_name(data: ProgramData, name: str, own_id: str | None) -> None:
    for group in data.tier_groups:
        if group.id != own_id and group.name.casefold() == name.casefold():
            raise Conflict(f"A tier group named {group.name!r} already exists in program {data.id} ({group.id})")


def _condition(data: ProgramData, group: TierGroup, conditions: Sequence[Mapping[str, Any]],
               ignoring: str | None = None) -> tuple[str, int]:
    """The (definition, threshold) a tier's access conditions name: one condition, on the group's definition."""
    if len(conditions) != 1:
        raise InvalidParameter(f"Invalid body field 'accessConditions': a tier is entered on one balance, "
                               f"so give exactly one condition (got {len(conditions)})")
    raw = conditions[0]["balanceDefinitionId"]
    definition = data.definition_by_id.get(norm_id(raw))
    if definition is None or definition.deleted:  # a deleted definition is kept (deletedAt) but names nothing
        raise UnknownResource("Balance definition", "accessConditions[0].balanceDefinitionId", raw)
    others = [t for t in group.tier_ids if t != ignoring]
    if others and group.balance_definition_id and definition.id != group.balance_definition_id:
        raise InvalidParameter(
            f"Invalid body field 'accessConditions[0].balanceDefinitionId': the tiers of group {group.id} are "
            f"entered on balance definition {group.balance_definition_id}, not {definition.id}")
    return definition.id, int(conditions[0]["minimumValue"])


def _free_threshold(data: ProgramData, group: TierGroup, threshold: int, own_id: str | None) -> None:
    for tier_id in group.tier_ids:
        tier = data.tier_by_id[tier_id]
        if tier.id != own_id and tier.threshold == threshold:
            raise InvalidParameter(
                f"Invalid body field 'accessConditions[0].minimumValue': tier {tier.id} ({tier.name!r}) of group "
                f"{group.id} already starts at {threshold}; thresholds are unique in a group")


def _rewards(data: ProgramData, items: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    found = []
    for index, item in enumerate(items):
        reward = data.reward_by_id.get(norm_id(item["rewardId"]))
        if reward is None:
            raise UnknownResource("Reward", f"tierRewards[{index}].rewardId", item["rewardId"])
        found.append(reward.id)
    return tuple(dict.fromkeys(found))


def _schedule(strategy: str, given: Mapping[str, Any] | None, field: str) -> Mapping[str, Any] | None:
    """A scheduled strategy's schedule (kept with the strategy's name, as reads show it); none in real time."""
    if strategy == REAL_TIME:
        if given:
            raise InvalidParameter(f"Invalid body field '{field}': a real_time strategy has no schedule")
        return None
    return freeze({"strategy": strategy, **(given or {})})


def _kept(schedule: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored schedule as a body would give it (without the strategy, which the body states)."""
    if schedule is None:
        return None
    return {key: value for key, value in schedule.items() if key != "strategy"}


def _ranked(group: TierGroup, tiers: Sequence[Tier], definition_id: str, now: int) -> TierGroup:
    """The group with its tiers ordered lowest threshold first, on the definition they are entered on."""
    own = sorted((t for t in tiers if t.group_id == group.id), key=lambda t: (t.threshold, t.id))
    return replace(group, tier_ids=tuple(t.id for t in own), balance_definition_id=definition_id, updated_at=now)


def _swap(records: Sequence[Any], changed: Any) -> tuple[Any, ...]:
    return tuple(changed if record.id == changed.id else record for record in records)


__all__ = ["EMPTY_META", "Tiers"]
