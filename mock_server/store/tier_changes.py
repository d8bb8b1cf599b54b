"""Which tiers a member newly reached when its balances moved.

Tiers follow from balances (`ProgramData.standing`), so a member's tier changes the moment a
completed transaction moves the balance its group counts. What other parts of the mock react to
(tier rewards, and later the `tier_association_updated` webhook) is the list of tiers crossed
upwards by one change: `newly_reached_tiers`.
"""

from __future__ import annotations

from mock_server.store.models import Member, Tier
from mock_server.store.world import ProgramData


def newly_reached_tiers(data: ProgramData, before: Member, after: Member) -> list[Tier]:
    """Tiers `after` stands on or passed that `before` had not reached, group by group (creation order),
    lowest first within a group. A jump over several thresholds lists every tier crossed."""
    reached: list[Tier] = []
    for group in data.tier_groups:
        definition = data.definition_by_id.get(group.balance_definition_id)
        if definition is None or definition.deleted:
            continue
        old = before.ledgers[definition.index].value
        new = after.ledgers[definition.index].value
        if new <= old:
            continue
        scale = definition.scale
        reached.extend(tier for tier in data.tiers_of(group) if old < tier.threshold * scale <= new)
    return reached
