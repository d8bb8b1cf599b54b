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
    """Tiers `after` stands on or passed that `before` was below, group by group (creation order), lowest
    first within a group: a jump over several tiers lists each. A tier given by hand counts as where the
    member stood (`ProgramData.standing_of`)."""
    reached: list[Tier] = []
    for group in data.tier_groups:
        definition = data.definition_by_id.get(group.balance_definition_id)
        if definition is None or (before.ledgers[definition.index].value == after.ledgers[definition.index].value
                                  and before.tier_assignments == after.tier_assignments):
            continue  # standing follows the balance (and a tier given by hand): neither moved
        tiers = data.tiers_of(group)
        old, _ = data.standing_of(group, before)
        new, _ = data.standing_of(group, after)
        low = tiers.index(old) + 1 if old is not None else 0
        high = tiers.index(new) + 1 if new is not None else 0
        reached.extend(tiers[low:high])
    return reached
