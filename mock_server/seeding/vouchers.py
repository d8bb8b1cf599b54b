"""A seeded member's vouchers, drawn lazily from the member's own generator.

Vouchers are only issued from rewards that exist in the program and went live
(not draft), inside the reward's attribution window and after the member
subscribed. Codes come from the reward: its fixed code, its code pool's
pattern or its code generator's pattern.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from mock_server.seeding.random_source import fill_pattern, uuid4_from
from mock_server.store.models import HOUR, Reward, Voucher, freeze

CONSUMED_SHARE = 0.35
SOURCES = ("tier_upgrade", "rule", "rule", "manual")
CHANNELS = ("web", "store", "app")


def voucher_code(reward: Reward, patterns: Mapping[str, str], rng: random.Random) -> str:
    """A code for one voucher of `reward`; `patterns` maps pool and generator ids to their pattern."""
    if reward.code:
        return reward.code
    pattern = patterns.get(reward.code_pool_id or "") or patterns.get(reward.code_generator_id or "")
    return fill_pattern(pattern or "????-####", rng)


def attribution_window(reward: Reward, subscribed_at: int, now: int) -> tuple[int, int]:
    """When a member could have received a voucher of `reward`."""
    start = max(subscribed_at, reward.start_date)
    end = min(now - HOUR, reward.end_date)
    if reward.disabled_at is not None:
        end = min(end, reward.disabled_at)
    return start, end


def generate_vouchers(
    rng: random.Random,
    contact_id: int,
    subscribed_at: int,
    rewards: Sequence[Reward],
    patterns: Mapping[str, str],
    now: int,
) -> tuple[Voucher, ...]:
    eligible = [reward for reward in rewards if reward.issues_vouchers]
    if not eligible:
        return ()
    draw = rng.random()
    wanted = 0 if draw < 0.5 else 1 if draw < 0.75 else 2 if draw < 0.9 else 3
    made = []
    for _ in range(wanted):
        reward = rng.choice(eligible)
        start, end = attribution_window(reward, subscribed_at, now)
        if end <= start:
            continue
        created = start + int(rng.random() * (end - start))
        expires = reward.voucher_expiry(created)
        consumed = None
        if rng.random() < CONSUMED_SHARE:
            consumed = created + int(rng.random() * (min(expires, now) - created))
        made.append(
            Voucher(
                id=uuid4_from(rng, contact_id),
                contact_id=contact_id,
                reward_id=reward.id,
                code=voucher_code(reward, patterns, rng),
                created_at=created,
                updated_at=consumed if consumed is not None else created,
                valid_from=created,
                expiration_date=expires,
                consumed_at=consumed,
                meta=freeze({"source": rng.choice(SOURCES), "channel": rng.choice(CHANNELS)}),
                unit=reward.unit,
                value=reward.value,
            )
        )
    made.sort(key=lambda voucher: (voucher.created_at, voucher.id))
    return tuple(made)
