"""Rewards and vouchers through the backend: issue, pay, redeem, complete, revoke, validate, create.

Every expectation is read from the world before the write (pool sizes, balances, vouchers) or
from the reads the API answers with (codes-count, the guide's usable vouchers, offers), never
from the write's own answer alone.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.backend import Backend
from mock_server.backend.rewards import VoucherRef
from mock_server.errors import (
    ApiError,
    ExpectationFailed,
    InsufficientBalance,
    InvalidParameter,
    MissingParameter,
    PreconditionFailed,
    UnknownResource,
)
from mock_server.routes.member import get_subscription_vouchers
from mock_server.routes.reward import get_code_count, get_reward_information, get_reward_page_api, redemption_item
from mock_server.seeding import build_world
from mock_server.store.models import DAY, Member, Reward, parse_iso
from mock_server.store.reward_rules import check_attribution
from mock_server.store.world import ProgramData, World
from tests.support.handlers import contract_handlers
from tests.support.invariants import ALL, check_member_balances, check_tier, check_vouchers

UNKNOWN = "00000000-0000-4000-8000-000000000000"  # a well-formed id that names nothing


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=1, contacts=20)


@pytest.fixture
def backend(world: World) -> Backend:
    return Backend(world)


# ----------------------------------------------------------------- helpers


def live_program(backend: Backend) -> ProgramData:
    """The program as writes left it, of a program published in the seeded world."""
    seeded = next(data for data in backend.base.programs if data.program.state == "active")
    data = backend.world.program(seeded.id)
    assert data is not None
    return data


def adjust_reward(backend: Backend, reward_id: str, **changes: Any) -> Reward:
    """Test setup: one reward of the live program reconfigured (as a fixture could)."""
    data = live_program(backend)
    reward = replace(data.reward_by_id[reward_id], **changes)
    backend.put_program(data.replace(rewards=tuple(reward if r.id == reward_id else r for r in data.rewards)))
    return reward


def set_pool(backend: Backend, pool_id: str, count: int) -> None:
    data = live_program(backend)
    backend.put_program(data.replace(code_pools=tuple(
        replace(pool, code_count=count) if pool.id == pool_id else pool for pool in data.code_pools)))


def pool_reward(backend: Backend) -> Reward:
    data = live_program(backend)
    return next(r for r in data.rewards if r.state == "active" and r.code_pool_id)


def free_reward(backend: Backend) -> Reward:
    """An active reward without a price, made uncapped, so any member may receive it (and several times)."""
    data = live_program(backend)
    reward = next(r for r in data.rewards if r.state == "active" and r.code_pool_id is None)
    return adjust_reward(backend, reward.id, subtract_balance_value=0, attribution_per_consumer=0, limits=(),
                         redeem_per_consumer=0)


def members(backend: Backend) -> list[Member]:
    data = live_program(backend)
    return [backend.world.member_at(data, position) for position in range(len(data.members))]


def eligible(backend: Backend, reward: Reward, min_value: int = 0) -> Member:
    now = backend.clock.now()
    for member in members(backend):
        ledger = member.ledger(reward.balance_definition_id or "")
        try:
            check_attribution(reward, member, now)
        except InvalidParameter:
            continue
        if ledger is None or ledger.value >= min_value:
            return member
    raise AssertionError("no eligible member in the seeded world")


def member_now(backend: Backend, contact_id: int) -> Member:
    found = backend.world.member(live_program(backend), contact_id)
    assert found is not None
    return found


def codes_count(backend: Backend, pool_id: str) -> int:
    return get_code_count(backend.world, {"pid": live_program(backend).id, "cpid": pool_id})["count"]


def usable_ids(backend: Backend, contact_id: int) -> list[str]:
    rows = get_subscription_vouchers(backend.world, {"pid": live_program(backend).id, "cid": contact_id})
    return [row["id"] for row in rows]


def snapshot(backend: Backend, contact_id: int) -> tuple[Any, ...]:
    """Everything a refused write must leave as it was."""
    data = live_program(backend)
    return (
        member_now(backend, contact_id),
        tuple((pool.id, pool.code_count) for pool in data.code_pools),
        tuple(data.rewards),
        backend.clock.now(),
        backend.ids.issued,
        backend.writes,
    )


def issue(backend: Backend, reward: Reward, member: Member, **kwargs: Any) -> str:
    _, voucher = backend.rewards.create_voucher(live_program(backend).id, reward.id,
                                                contact_id=member.contact_id, **kwargs)
    return voucher.id


# ----------------------------------------------------------------- issuing


def test_an_attribution_takes_one_code_of_the_pool(backend: Backend) -> None:
    reward = pool_reward(backend)
    set_pool(backend, reward.code_pool_id or "", 50)
    adjust_reward(backend, reward.id, subtract_balance_value=0)
    reward = live_program(backend).reward_by_id[reward.id]
    member = eligible(backend, reward)
    before = codes_count(backend, reward.code_pool_id or "")
    _, voucher = backend.rewards.create_voucher(live_program(backend).id, reward.id, contact_id=member.contact_id)
    assert codes_count(backend, reward.code_pool_id or "") == before - 1
    held = member_now(backend, member.contact_id).vouchers
    assert held[-1] == voucher and held[:-1] == member.vouchers
    pattern = live_program(backend).pool_by_id[reward.code_pool_id or ""].pattern
    assert re.fullmatch("".join("[0-9]" if c == "#" else "[A-Z]" if c == "?" else re.escape(c) for c in pattern),
                        voucher.code)
    assert voucher.id in usable_ids(backend, member.contact_id)


def test_codes_count_goes_down_by_one_per_attribution(backend: Backend) -> None:
    reward = pool_reward(backend)
    set_pool(backend, reward.code_pool_id or "", 10)
    adjust_reward(backend, reward.id, subtract_balance_value=0, attribution_per_consumer=0, limits=())
    reward = live_program(backend).reward_by_id[reward.id]
    member = eligible(backend, reward)
    for left in (9, 8, 7):
        issue(backend, reward, member)
        assert codes_count(backend, reward.code_pool_id or "") == left


def test_an_empty_pool_refuses_and_changes_nothing(backend: Backend) -> None:
    reward = pool_reward(backend)
    adjust_reward(backend, reward.id, subtract_balance_value=0, attribution_per_consumer=0, limits=())
    reward = live_program(backend).reward_by_id[reward.id]
    set_pool(backend, reward.code_pool_id or "", 1)
    member = eligible(backend, reward)
    issue(backend, reward, member)
    before = snapshot(backend, member.contact_id)
    with pytest.raises(InvalidParameter, match="no code left"):
        issue(backend, reward, member)
    assert snapshot(backend, member.contact_id) == before
    assert codes_count(backend, reward.code_pool_id or "") == 0


def test_a_given_code_is_used_and_takes_nothing_from_the_pool(backend: Backend) -> None:
    reward = pool_reward(backend)
    adjust_reward(backend, reward.id, subtract_balance_value=0)
    reward = live_program(backend).reward_by_id[reward.id]
    member = eligible(backend, reward)
    before = codes_count(backend, reward.code_pool_id or "")
    _, voucher = backend.rewards.create_voucher(live_program(backend).id, reward.id, contact_id=member.contact_id,
                                                code="SHOP-OWN-1")
    assert voucher.code == "SHOP-OWN-1"
    assert codes_count(backend, reward.code_pool_id or "") == before


def test_the_price_is_a_completed_debit_of_the_balance(backend: Backend) -> None:
    reward = free_reward(backend)
    reward = adjust_reward(backend, reward.id, subtract_balance_value=5)
    data = live_program(backend)
    definition = data.definition_by_id[reward.balance_definition_id or ""]
    price = 5 * definition.scale
    member = eligible(backend, reward, min_value=price)
    ledger = member.ledgers[definition.index]
    issue(backend, reward, member)
    after = member_now(backend, member.contact_id).ledgers[definition.index]
    debit = after.transactions[-1]
    assert after.value == ledger.value - price
    assert (debit.transaction_type, debit.status, debit.amount) == ("debit", "completed", price)
    assert after.transactions[:-1] == ledger.transactions
    assert sum(active.amount for active in after.active_balances) == after.value
    credits = sum(tx.amount for tx in after.transactions if tx.counts and tx.transaction_type == "credit")
    debits = sum(tx.amount for tx in after.transactions if tx.counts and tx.transaction_type == "debit")
    assert credits - debits == after.value
    table = live_program(backend).members
    position = table.position(member.contact_id)
    assert position is not None
    assert table.values[definition.index][position] == after.value  # what contact-balances reads


def test_a_price_above_the_balance_is_refused_and_changes_nothing(backend: Backend) -> None:
    reward = free_reward(backend)
    data = live_program(backend)
    definition = data.definition_by_id[reward.balance_definition_id or ""]
    member = members(backend)[0]
    too_much = member.ledgers[definition.index].value // definition.scale + 1
    adjust_reward(backend, reward.id, subtract_balance_value=too_much)
    before = snapshot(backend, member.contact_id)
    with pytest.raises(InsufficientBalance, match=definition.id):
        issue(backend, reward, member)
    assert snapshot(backend, member.contact_id) == before


def test_attribution_per_consumer_caps_the_member(backend: Backend) -> None:
    reward = free_reward(backend)
    member = eligible(backend, reward)
    held = sum(1 for v in member.vouchers if v.reward_id == reward.id)
    adjust_reward(backend, reward.id, attribution_per_consumer=held + 1)
    issue(backend, reward, member)
    before = snapshot(backend, member.contact_id)
    with pytest.raises(InvalidParameter, match="attributionPerConsumer"):
        issue(backend, reward, member)
    assert snapshot(backend, member.contact_id) == before


def test_a_reward_limit_counts_the_attributions_of_its_window(backend: Backend) -> None:
    data = live_program(backend)
    template = next(r for r in data.rewards if r.limits)
    reward = free_reward(backend)
    limit = replace(template.limits[0], type="attribution", limit_value=1, duration_value=1, duration_unit="day",
                    sliding_schedule=True)
    adjust_reward(backend, reward.id, limits=(limit,))
    reward = live_program(backend).reward_by_id[reward.id]
    member = eligible(backend, reward)
    issue(backend, reward, member)
    with pytest.raises(InvalidParameter, match=limit.id):
        issue(backend, reward, member)


def test_total_attribution_caps_the_reward(backend: Backend) -> None:
    reward = free_reward(backend)
    adjust_reward(backend, reward.id, total_attribution=1)
    reward = live_program(backend).reward_by_id[reward.id]
    first, second = members(backend)[:2]
    issue(backend, reward, first)
    with pytest.raises(InvalidParameter, match="totalAttribution"):
        issue(backend, reward, second)


@pytest.mark.parametrize("state", ["inactive", "expired", "draft"])
def test_only_an_active_reward_issues_vouchers(backend: Backend, state: str) -> None:
    reward = free_reward(backend)
    adjust_reward(backend, reward.id, state=state)
    member = members(backend)[0]
    with pytest.raises(InvalidParameter, match=f"is {state}"):
        issue(backend, reward, member)


def test_unknown_reward_and_unknown_member_are_404_naming_the_field(backend: Backend) -> None:
    pid = live_program(backend).id
    reward = free_reward(backend)
    with pytest.raises(UnknownResource) as error:
        backend.rewards.create_voucher(pid, UNKNOWN, contact_id=members(backend)[0].contact_id)
    assert error.value.param == "rewardId"
    with pytest.raises(UnknownResource) as error:
        backend.rewards.create_voucher(pid, reward.id, contact_id=999_999_999)
    assert error.value.param == "contactId"
    with pytest.raises(UnknownResource) as error:
        backend.rewards.create_voucher(pid, reward.id, loyalty_subscription_id="nobody-here")
    assert error.value.param == "loyaltySubscriptionId"


def test_the_holder_may_be_named_by_subscription_id(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[3]
    _, voucher = backend.rewards.create_voucher(
        live_program(backend).id, reward.id, loyalty_subscription_id=member.subscription.loyalty_subscription_id)
    assert voucher.contact_id == member.contact_id


def test_validity_comes_from_the_reward_and_the_backend_clock(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[0]
    _, voucher = backend.rewards.create_voucher(live_program(backend).id, reward.id, contact_id=member.contact_id)
    assert voucher.created_at == backend.clock.now() == voucher.valid_from
    assert voucher.expiration_date == voucher.valid_from + reward.expiration_value * DAY  # seeded lifetimes are days
    later = voucher.created_at + 10 * DAY
    _, dated = backend.rewards.create_voucher(live_program(backend).id, reward.id, contact_id=member.contact_id,
                                              valid_from=later)
    assert (dated.valid_from, dated.expiration_date) == (later, later + reward.expiration_value * DAY)
    with pytest.raises(InvalidParameter, match="expirationDate"):
        backend.rewards.create_voucher(live_program(backend).id, reward.id, contact_id=member.contact_id,
                                       expiration_date=backend.clock.now() - DAY)


def test_moments_past_year_9999_are_refused_and_change_nothing(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[0]
    before = snapshot(backend, member.contact_id)
    late = parse_iso("9999-12-30T00:00:00Z")
    with pytest.raises(InvalidParameter, match="9999-12-31"):
        issue(backend, reward, member, valid_from=late)  # 90 days of validity would end in year 10000
    with pytest.raises(InvalidParameter, match="1970-01-01"):
        issue(backend, reward, member, valid_from=parse_iso("0001-01-01T00:00:00Z"))
    voucher_id = issue(backend, reward, member)
    with pytest.raises(InvalidParameter, match="ttl"):
        backend.rewards.redeem_voucher(live_program(backend).id, VoucherRef(attributed_reward_id=voucher_id),
                                       ttl=10**15)
    assert snapshot(backend, member.contact_id)[0].vouchers[:-1] == before[0].vouchers


# ----------------------------------------------------------------- redeeming


def test_redeem_then_complete_consumes_the_voucher(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[1]
    voucher_id = issue(backend, reward, member)
    pid = live_program(backend).id
    opened = backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id), meta={"till": 4})
    assert opened.status == "draft" and opened.voucher_id == voucher_id
    assert voucher_id in usable_ids(backend, member.contact_id)  # not consumed until completed
    done = backend.rewards.complete_redeem_transaction(pid, opened.id)
    assert (done.status, done.completed_at) == ("completed", backend.clock.now())
    consumed = next(v for v in member_now(backend, member.contact_id).vouchers if v.id == voucher_id)
    assert consumed.consumed_at == done.completed_at
    assert voucher_id not in usable_ids(backend, member.contact_id)
    assert redemption_item(done)["rewardAttributionId"] == voucher_id
    with pytest.raises(InvalidParameter, match="completed"):
        backend.rewards.complete_redeem_transaction(pid, opened.id)


def test_auto_complete_consumes_at_once(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[1]
    voucher_id = issue(backend, reward, member)
    done = backend.rewards.redeem_voucher(live_program(backend).id,
                                          VoucherRef(reward_id=reward.id, contact_id=member.contact_id),
                                          auto_complete=True)
    assert done.status == "completed"
    assert voucher_id not in usable_ids(backend, member.contact_id)


def test_a_consumed_voucher_is_412_and_changes_nothing(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[2]
    voucher_id = issue(backend, reward, member)
    pid = live_program(backend).id
    backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id), auto_complete=True)
    before = snapshot(backend, member.contact_id)
    with pytest.raises(PreconditionFailed, match="was redeemed"):
        backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id))
    assert snapshot(backend, member.contact_id) == before


def test_an_expired_seeded_voucher_is_412_when_its_holder_is_named(backend: Backend) -> None:
    now = backend.clock.now()
    holder, voucher = next((m, v) for m in members(backend) for v in m.vouchers
                           if v.consumed_at is None and v.expiration_date <= now)
    with pytest.raises(PreconditionFailed, match="expired"):
        backend.rewards.redeem_voucher(live_program(backend).id,
                                       VoucherRef(attributed_reward_id=voucher.id, contact_id=holder.contact_id))


def test_a_voucher_with_an_open_redemption_is_412(backend: Backend) -> None:
    reward = free_reward(backend)
    voucher_id = issue(backend, reward, members(backend)[1])
    pid = live_program(backend).id
    opened = backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id))
    with pytest.raises(PreconditionFailed, match=opened.id):
        backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id))


def test_an_unknown_voucher_or_redemption_is_404(backend: Backend) -> None:
    pid = live_program(backend).id
    with pytest.raises(UnknownResource) as error:
        backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=UNKNOWN))
    assert error.value.param == "attributedRewardId"
    with pytest.raises(UnknownResource) as error:
        backend.rewards.redeem_voucher(pid, VoucherRef(code="NO-SUCH-CODE"))
    assert error.value.param == "code"
    with pytest.raises(UnknownResource) as error:
        backend.rewards.complete_redeem_transaction(pid, UNKNOWN)
    assert error.value.param == "tid"
    with pytest.raises(MissingParameter):
        backend.rewards.redeem_voucher(pid, VoucherRef(reward_id=free_reward(backend).id))


def test_a_lapsed_redemption_cannot_be_completed(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[1]
    voucher_id = issue(backend, reward, member)
    pid = live_program(backend).id
    opened = backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id), ttl=1)
    issue(backend, reward, member)  # one write: the logical clock moves past the ttl
    with pytest.raises(InvalidParameter, match="expired"):
        backend.rewards.complete_redeem_transaction(pid, opened.id)
    again = backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id))
    assert again.id != opened.id


def test_redeem_per_consumer_is_417(backend: Backend) -> None:
    reward = free_reward(backend)
    adjust_reward(backend, reward.id, redeem_per_consumer=1)
    reward = live_program(backend).reward_by_id[reward.id]
    member = next(m for m in members(backend) if not any(v.reward_id == reward.id for v in m.vouchers))
    first, second = issue(backend, reward, member), issue(backend, reward, member)
    pid = live_program(backend).id
    backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=first), auto_complete=True)
    before = snapshot(backend, member.contact_id)
    with pytest.raises(ExpectationFailed, match="redeemPerConsumer"):
        backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=second))
    assert snapshot(backend, member.contact_id) == before
    assert backend.rewards.validate_reward(pid, VoucherRef(attributed_reward_id=second)) is False


def test_a_code_held_by_several_contacts_needs_its_holder(backend: Backend) -> None:
    reward = free_reward(backend)
    adjust_reward(backend, reward.id, code="SAME-FOR-ALL")
    reward = live_program(backend).reward_by_id[reward.id]
    one, two = members(backend)[4:6]
    issue(backend, reward, one)
    issue(backend, reward, two)
    pid = live_program(backend).id
    with pytest.raises(InvalidParameter, match="several contacts"):
        backend.rewards.redeem_voucher(pid, VoucherRef(code="SAME-FOR-ALL"))
    done = backend.rewards.redeem_voucher(pid, VoucherRef(code="SAME-FOR-ALL", contact_id=two.contact_id),
                                          auto_complete=True)
    assert done.contact_id == two.contact_id


# ----------------------------------------------------------------- revoking and validating


def test_revoke_removes_the_vouchers_and_a_revoked_one_is_412(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[6]
    kept, gone_a, gone_b = (issue(backend, reward, member) for _ in range(3))
    pid = live_program(backend).id
    backend.rewards.revoke_vouchers(pid, [gone_a, gone_b.upper(), gone_a])  # named twice: revoked once
    held = [v.id for v in member_now(backend, member.contact_id).vouchers]
    assert kept in held and gone_a not in held and gone_b not in held
    assert gone_a not in usable_ids(backend, member.contact_id)
    assert [v.id for v in member_now(backend, member.contact_id).revoked] == [gone_a, gone_b]
    with pytest.raises(PreconditionFailed, match="revoked"):
        backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=gone_a))
    with pytest.raises(UnknownResource, match="already revoked"):
        backend.rewards.revoke_vouchers(pid, [gone_a])
    assert backend.rewards.validate_reward(pid, VoucherRef(attributed_reward_id=gone_a)) is False


def test_revoke_with_an_unknown_id_revokes_nothing(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[6]
    voucher_id = issue(backend, reward, member)
    before = snapshot(backend, member.contact_id)
    with pytest.raises(UnknownResource) as error:
        backend.rewards.revoke_vouchers(live_program(backend).id, [voucher_id, UNKNOWN])
    assert error.value.param == "attributedRewardIds"
    assert snapshot(backend, member.contact_id) == before


def test_validate_answers_without_changing_anything(backend: Backend) -> None:
    reward = free_reward(backend)
    member = members(backend)[7]
    voucher_id = issue(backend, reward, member)
    pid = live_program(backend).id
    before = snapshot(backend, member.contact_id)
    assert backend.rewards.validate_reward(pid, VoucherRef(attributed_reward_id=voucher_id)) is True
    assert backend.rewards.validate_reward(
        pid, VoucherRef(reward_id=reward.id, contact_id=member.contact_id)) is True
    assert snapshot(backend, member.contact_id) == before
    backend.rewards.redeem_voucher(pid, VoucherRef(attributed_reward_id=voucher_id), auto_complete=True)
    assert backend.rewards.validate_reward(pid, VoucherRef(attributed_reward_id=voucher_id)) is False
    with pytest.raises(UnknownResource):
        backend.rewards.validate_reward(pid, VoucherRef(attributed_reward_id=UNKNOWN))


# ----------------------------------------------------------------- creating rewards, tiers


def test_a_created_reward_shows_in_offers_and_reward_information(backend: Backend) -> None:
    data = live_program(backend)
    _, reward = backend.rewards.create_reward(data.id, "Free coffee", public_name="Coffee on us",
                                              public_description="One coffee")
    params = {"pid": data.id, "version": "draft", "state": "all", "offset": 0, "limit": 100}
    page = get_reward_page_api(backend.world, params)
    listed = {item["id"]: item for item in page["items"]}
    assert listed[reward.id]["state"] == "active"
    assert page["totalCount"] == len(data.rewards) + 1
    detail = get_reward_information(backend.world, {"pid": data.id, "rid": reward.id, "version": "draft"})
    assert (detail["name"], detail["publicName"], detail["publicDescription"]) == (
        "Free coffee", "Coffee on us", "One coffee")
    assert detail["generator"]["pattern"] == "FREECO-####"
    assert "balanceDefinitionId" not in detail and "subtractBalanceValue" not in detail  # free: no balance
    with pytest.raises(UnknownResource):  # not in the active version until the program is published again
        get_reward_information(backend.world, {"pid": data.id, "rid": reward.id, "version": "active"})
    assert live_program(backend).program.state == "draft"


def test_a_created_reward_issues_vouchers_once_published(backend: Backend) -> None:
    data = live_program(backend)
    _, reward = backend.rewards.create_reward(data.id, "Birthday gift")
    member = members(backend)[0]
    with pytest.raises(InvalidParameter, match="not published"):
        issue(backend, reward, member)
    backend.programs.publish(data.id)
    _, voucher = backend.rewards.create_voucher(data.id, reward.id, contact_id=member.contact_id)
    assert re.fullmatch(r"BIRTHD-[0-9]{4}", voucher.code)
    detail = get_reward_information(backend.world, {"pid": data.id, "rid": reward.id, "version": "active"})
    assert detail["id"] == reward.id


def test_creating_a_reward_leaves_seeded_vouchers_as_they_were(backend: Backend) -> None:
    before = [m.vouchers for m in members(backend)]
    backend.rewards.create_reward(live_program(backend).id, "Late addition")
    assert [m.vouchers for m in members(backend)] == before


def test_on_tiers_reached_gives_the_tier_rewards(backend: Backend) -> None:
    reward = free_reward(backend)
    data = live_program(backend)
    tier = replace(data.tiers[0], reward_ids=(reward.id, UNKNOWN))
    member = members(backend)[8]
    with backend.writing():  # as a balance transaction calls it: inside its write, after its stamp
        backend.stamp()
        given = backend.rewards.on_tiers_reached(data.id, member.contact_id, [tier])
    assert given is not None
    fresh = given.vouchers[len(member.vouchers):]
    assert [v.reward_id for v in fresh] == [reward.id]
    assert fresh[0].meta["tierId"] == tier.id
    stored = member_now(backend, member.contact_id)
    assert stored.vouchers[-1] == fresh[0]
    assert stored.ledgers == member.ledgers  # a gift: nothing debited
    assert live_program(backend).reward_by_id[reward.id].attributed == 1


def test_on_tiers_reached_skips_a_reward_it_may_not_give(backend: Backend) -> None:
    reward = free_reward(backend)
    adjust_reward(backend, reward.id, state="inactive")
    data = live_program(backend)
    tier = replace(data.tiers[0], reward_ids=(reward.id,))
    member = members(backend)[8]
    with backend.writing():
        backend.stamp()
        given = backend.rewards.on_tiers_reached(data.id, member.contact_id, [tier])
    assert given == member == member_now(backend, member.contact_id)


# ----------------------------------------------------------------- determinism and isolation


def test_the_same_requests_give_the_same_records(world: World) -> None:
    def run(backend: Backend) -> list[Any]:
        reward = free_reward(backend)
        member = members(backend)[9]
        out: list[Any] = [issue(backend, reward, member, meta={"n": 1})]
        out.append(backend.rewards.redeem_voucher(live_program(backend).id,
                                                  VoucherRef(attributed_reward_id=out[0]), auto_complete=True))
        out.append(member_now(backend, member.contact_id))
        return out

    assert run(Backend(world)) == run(Backend(world))


def test_reset_forgets_issued_vouchers(backend: Backend) -> None:
    reward = free_reward(backend)
    voucher_id = issue(backend, reward, members(backend)[0])
    backend.reset()
    with pytest.raises(UnknownResource):
        backend.rewards.validate_reward(live_program(backend).id, VoucherRef(attributed_reward_id=voucher_id))


# ----------------------------------------------------------------- any sequence of reward writes

H = contract_handlers()
STEPS = st.lists(
    st.tuples(st.sampled_from(["attribute", "redeem", "complete", "revoke", "validate", "create"]),
              st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6)),
    min_size=1, max_size=25,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_read_agrees_after_any_sequence_of_reward_writes(world: World, steps: list[tuple[str, int, int]]) -> None:
    """Random writes, refused or not; a refusal changes nothing; afterwards every member's reads agree."""
    backend = Backend(world)
    pid = live_program(backend).id
    contacts = list(live_program(backend).members.contact_ids)
    issued: list[str] = []
    opened: list[str] = []
    for kind, a, b in steps:
        data = live_program(backend)
        rewards = [r for r in data.rewards if r.state == "active"]
        contact = contacts[a % len(contacts)]
        before = snapshot(backend, contact)
        try:
            if kind == "attribute":
                issued.append(issue(backend, rewards[b % len(rewards)], member_now(backend, contact)))
            elif kind == "create":
                backend.rewards.create_reward(pid, f"Reward {a}")
            elif issued and kind in ("redeem", "validate", "revoke"):
                ref = VoucherRef(attributed_reward_id=issued[b % len(issued)])
                if kind == "redeem":
                    opened.append(backend.rewards.redeem_voucher(pid, ref, auto_complete=a % 2 == 0).id)
                elif kind == "validate":
                    backend.rewards.validate_reward(pid, ref)
                else:
                    backend.rewards.revoke_vouchers(pid, [issued[b % len(issued)]])
            elif opened and kind == "complete":
                backend.rewards.complete_redeem_transaction(pid, opened[b % len(opened)])
        except ApiError:
            assert snapshot(backend, contact) == before
    data = live_program(backend)
    listed: dict[str, dict[int, dict]] = {}
    for definition in data.definitions:
        page = H["getContactBalances"](backend.world, {"pid": pid, "balanceDefinitionId": definition.id,
                                                       "includeInternal": True, **ALL})
        listed[definition.id] = {entry["contactId"]: entry for entry in page["balances"]}
    for contact in contacts:
        check_member_balances(H, backend.world, data, contact, {d: rows[contact] for d, rows in listed.items()})
        check_tier(H, backend.world, data, contact, listed)
        check_vouchers(H, backend.world, data, contact)
    for pool in data.code_pools:
        assert H["getCodeCount"](backend.world, {"pid": pid, "cpid": pool.id})["count"] >= 0


def test_a_member_enrolled_through_the_api_receives_redeems_and_pays(backend: Backend) -> None:
    """The purchase flow's voucher steps on a member the seed never had."""
    data = live_program(backend)
    reward = free_reward(backend)
    contact = max(data.members.contact_ids) + 1
    backend.programs.subscribe(data.id, contact)
    _, voucher = backend.rewards.create_voucher(data.id, reward.id, contact_id=contact)
    assert usable_ids(backend, contact) == [voucher.id]
    done = backend.rewards.redeem_voucher(data.id, VoucherRef(attributed_reward_id=voucher.id, contact_id=contact),
                                          auto_complete=True)
    assert done.status == "completed" and usable_ids(backend, contact) == []
    adjust_reward(backend, reward.id, subtract_balance_value=1)
    with pytest.raises(InsufficientBalance):  # enrolled at 0 on every balance
        backend.rewards.create_voucher(data.id, reward.id, contact_id=contact)
