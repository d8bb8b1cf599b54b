"""The rules of issuing and redeeming vouchers: who may receive a reward, when a voucher may be used.

Each check raises the documented refusal with a message naming what is at fault; none changes
anything. Counting windows follow the reward's limits: a sliding limit counts the last
``durationValue durationUnit`` up to now, a fixed one the current calendar period (this day,
week from Monday, month, year; ``durationValue`` of them, ending with the current one).
Caps of 0 mean "no cap" (rewards created through the API start without caps).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime

from mock_server.errors import ExpectationFailed, InvalidParameter, PreconditionFailed
from mock_server.seeding.random_source import fill_pattern
from mock_server.store.models import DAY, HOUR, Member, Reward, RewardLimit, Voucher, add_period, iso
from mock_server.store.world import ProgramData

DEFAULT_CODE_PATTERN = "????-####"  # a reward with no code, pool nor generator
LATEST = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last moment an ISO date (and the API) can show


def window_start(limit: RewardLimit, now: int) -> int:
    """Where the counting window of `limit` starts (exclusive when sliding, inclusive when fixed)."""
    if limit.sliding_schedule:
        return add_period(now, -limit.duration_value, limit.duration_unit)
    start = _period_start(now, limit.duration_unit)
    return add_period(start, -(limit.duration_value - 1), limit.duration_unit) if limit.duration_value > 1 else start


def _period_start(now: int, unit: str) -> int:
    if unit == "hour":
        return now - now % HOUR
    day = now - now % DAY
    if unit == "day":
        return day
    if unit == "week":  # 1970-01-01 was a Thursday: Monday is 3 days before
        return day - ((now // DAY + 3) % 7) * DAY
    moment = datetime.fromtimestamp(now / 1000, tz=UTC)
    first = moment.replace(month=1 if unit == "year" else moment.month, day=1, hour=0, minute=0, second=0,
                           microsecond=0)
    return int(first.timestamp()) * 1000


def _in_window(limit: RewardLimit, moment: int, now: int) -> bool:
    start = window_start(limit, now)
    return (moment > start if limit.sliding_schedule else moment >= start) and moment <= now


def _of_reward(vouchers: Iterable[Voucher], reward: Reward) -> list[Voucher]:
    return [voucher for voucher in vouchers if voucher.reward_id == reward.id]


def check_attribution(reward: Reward, member: Member, now: int) -> None:
    """422 unless `member` may receive a voucher of `reward` at `now`."""
    if reward.state != "active":
        raise InvalidParameter(f"Reward {reward.id} is {reward.state}: only an active reward issues vouchers")
    if not reward.published:
        raise InvalidParameter(f"Reward {reward.id} is not published yet: publish the loyalty program first")
    if now < reward.start_date or now > reward.end_date:
        raise InvalidParameter(
            f"Reward {reward.id} issues vouchers from {iso(reward.start_date)} to {iso(reward.end_date)} only"
        )
    held = _of_reward(member.vouchers, reward)
    if reward.attribution_per_consumer and len(held) >= reward.attribution_per_consumer:
        raise InvalidParameter(
            f"Contact {member.contact_id} already holds {len(held)} voucher(s) of reward {reward.id}, "
            f"its attributionPerConsumer"
        )
    for limit in reward.limits:
        if limit.type != "attribution":
            continue
        recent = sum(1 for voucher in held if _in_window(limit, voucher.created_at, now))
        if recent >= limit.limit_value:
            raise InvalidParameter(
                f"Contact {member.contact_id} reached the limit {limit.id} of reward {reward.id}: "
                f"{limit.limit_value} voucher(s) per {limit.duration_value} {limit.duration_unit}"
            )
    if reward.total_attribution and reward.attributed >= reward.total_attribution:
        raise InvalidParameter(f"Reward {reward.id} reached its totalAttribution of {reward.total_attribution}")


def check_redeemable(voucher: Voucher, revoked: bool, open_redemption: str | None, now: int) -> None:
    """412 unless the voucher itself may be used at `now` (`open_redemption`: another open request for it)."""
    if revoked:
        raise PreconditionFailed(f"Voucher {voucher.id} was revoked")
    reason = voucher.unusable_reason(now)
    if reason is not None:
        raise PreconditionFailed(f"Voucher {voucher.id} {reason}")
    if open_redemption is not None:
        raise PreconditionFailed(f"Voucher {voucher.id} already has an open redemption {open_redemption}")


def check_redemption_caps(reward: Reward, member: Member, now: int) -> None:
    """417 when the member (or everyone) redeemed this reward as often as it allows."""
    redeemed = [voucher for voucher in _of_reward(member.vouchers, reward) if voucher.consumed_at is not None]
    if reward.redeem_per_consumer and len(redeemed) >= reward.redeem_per_consumer:
        raise ExpectationFailed(
            f"Contact {member.contact_id} already redeemed reward {reward.id} {len(redeemed)} time(s), "
            f"its redeemPerConsumer"
        )
    for limit in reward.limits:
        if limit.type != "redeem":
            continue
        recent = sum(1 for voucher in redeemed if _in_window(limit, voucher.consumed_at or 0, now))
        if recent >= limit.limit_value:
            raise ExpectationFailed(
                f"Contact {member.contact_id} reached the redeem limit {limit.id} of reward {reward.id}: "
                f"{limit.limit_value} per {limit.duration_value} {limit.duration_unit}"
            )
    if reward.total_redeem and reward.redeemed >= reward.total_redeem:
        raise ExpectationFailed(f"Reward {reward.id} reached its totalRedeem of {reward.total_redeem}")


def draw_code(data: ProgramData, reward: Reward, voucher_id: str) -> str:
    """The code of a new voucher: the reward's fixed code, else one following its pool's or generator's pattern.

    Drawn from the voucher's own id, so the same request sequence gives the same codes.
    """
    if reward.code:
        return reward.code
    pool = data.pool_by_id.get(reward.code_pool_id or "")
    generator = data.generator_by_id.get(reward.code_generator_id or "")
    pattern = pool.pattern if pool else generator.pattern if generator else DEFAULT_CODE_PATTERN
    return fill_pattern(pattern, random.Random(voucher_id))
