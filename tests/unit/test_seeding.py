"""What a seeded world must contain, and that it is the same every time."""

import re

import orjson
import pytest

from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.seeding import REFERENCE_NOW, build_world
from mock_server.store.models import CURRENCY_UNITS, POINTS, iso, next_yearly
from tests.support.handlers import contract_handlers

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HANDLERS = contract_handlers()


def _snapshot(world) -> bytes:
    """Summary plus full member records of a few members per program, as JSON bytes."""
    parts = [world.summary(sample=10)]
    for data in world.programs:
        for contact in list(data.members.contact_ids)[:5]:
            parts.append(HANDLERS["getSubscriptionTransactions"](world, {"pid": data.id, "cid": contact}))
            parts.append(HANDLERS["getParameterSubscriptionInfo"](world, {"pid": data.id, "contactId": str(contact)}))
    return orjson.dumps(parts)


@pytest.fixture(scope="module")
def world():
    return build_world(42, 200)


def test_same_inputs_give_byte_identical_worlds():
    widget = load_fixture(shipped_fixture("widget-member"))
    assert _snapshot(build_world(42, 60, [widget])) == _snapshot(build_world(42, 60, [widget]))


def test_seed_and_organisation_change_the_world():
    base = _snapshot(build_world(1, 20))
    assert _snapshot(build_world(2, 20)) != base
    assert _snapshot(build_world(1, 20, organisation="acme")) != base


def test_fixtures_do_not_move_seeded_ids():
    plain = build_world(9, 40).summary(sample=40)
    layered = build_world(9, 40, [load_fixture(shipped_fixture("widget-member"))]).summary(sample=40)
    assert layered["programs"][:3] == plain["programs"]


def test_three_programs_in_varied_states_with_one_active(world):
    states = [data.program.state for data in world.programs]
    assert len(states) == 3
    assert "active" in states
    assert len(set(states)) == 3
    assert len({data.program.name for data in world.programs}) == 3


def test_ids_are_uuid4_and_dates_precede_the_clock(world):
    for data in world.programs:
        program = data.program
        assert UUID4.match(program.id)
        assert program.created_at < program.updated_at < REFERENCE_NOW
        for record in (*data.definitions, *data.limits, *data.tier_groups, *data.tiers, *data.rewards):
            assert UUID4.match(record.id)
            assert record.created_at <= record.updated_at < REFERENCE_NOW


def test_each_program_has_points_money_limits_and_sometimes_an_internal_definition(world):
    internal_seen = False
    for data in world.programs:
        units = [d.unit for d in data.definitions]
        assert units[0] == POINTS
        assert any(unit in CURRENCY_UNITS for unit in units)
        for definition in data.definitions:
            assert data.limits_of(definition.id), f"{definition.name} has no limit"
        internal_seen |= any(d.internal and d.meta["isInternal"] is True for d in data.definitions)
    assert internal_seen


def test_tier_groups_are_ordered_and_start_at_zero(world):
    for data in world.programs:
        group = data.primary_tier_group
        assert group is not None
        assert group.balance_definition_id == data.definitions[0].id  # the points definition
        thresholds = [tier.threshold for tier in data.tiers_of(group)]
        assert thresholds[0] == 0
        assert thresholds == sorted(set(thresholds))


def test_rewards_reference_existing_pools_and_generators(world):
    for data in world.programs:
        assert data.rewards
        for reward in data.rewards:
            modes = [reward.code is not None, reward.code_pool_id is not None, reward.code_generator_id is not None]
            assert modes.count(True) == 1
            if reward.code_pool_id:
                assert reward.code_pool_id in data.pool_by_id
            if reward.code_generator_id:
                assert reward.code_generator_id in data.generator_by_id


def test_versions_differ_between_program_states(world):
    by_state = {data.program.state: data for data in world.programs}
    active, draft, inactive = by_state["active"], by_state["draft"], by_state["inactive"]
    assert all(active.visible(d, "active") for d in active.definitions)
    assert not any(inactive.visible(d, "active") for d in inactive.definitions)
    assert any(not draft.visible(r, "active") for r in draft.rewards)
    assert any(not draft.visible(d, "active") for d in draft.definitions)
    assert all(draft.visible(d, "draft") for d in draft.definitions)


def test_members_have_pattern_ids_and_many_transactions(world):
    stats = world.stats()
    # Two of the three programs were published; contacts enrol only in those.
    assert stats["contacts"] == 2 * 200
    assert stats["transactions"] > 2 * 200 * 5
    for data in world.programs:
        table = data.members
        if not data.program.has_active_version:
            assert len(table) == 0
            continue
        prefix = data.program.pattern.split("-")[0]
        assert table.contact_ids[0] >= 1
        assert len(set(table.subscription_ids)) == len(table)
        assert all(re.fullmatch(rf"{prefix}-\d{{8}}", sub) for sub in table.subscription_ids)


def test_all_statuses_and_both_types_occur(world):
    statuses, kinds = set(), set()
    data = world.programs[0]
    for position in range(len(data.members)):
        member = world.member_at(data, position)
        for ledger in member.ledgers:
            for tx in ledger.transactions:
                statuses.add(tx.status)
                kinds.add(tx.transaction_type)
    assert statuses == {"draft", "completed", "rejected", "cancelled", "expired"}
    assert kinds == {"credit", "debit"}


def test_progress_reports_up_to_the_total():
    calls = []
    build_world(3, 25_000, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (50_000, 50_000)  # the never-published program draws no members
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_zero_contacts_is_a_valid_world():
    empty = build_world(1, 0)
    assert empty.stats() == {"programs": 3, "contacts": 0, "transactions": 0}
    with pytest.raises(ValueError):
        build_world(1, -1)


def test_the_active_program_carries_the_alternative_expiry_and_schedule_forms(world):
    """A yearly expiry day, scheduled tier moves on a fixed day, a fixed voucher expiry (issue 11)."""
    data = next(d for d in world.programs if d.program.state == "active")
    yearly = [d for d in data.definitions if d.expiration_date is not None]
    assert yearly and all(re.fullmatch(r"\d{2}/\d{2}", d.expiration_date) for d in yearly)
    assert all(d.duration_value is None and d.duration_unit is None for d in yearly)  # exclusive forms
    scheduled = [g for g in data.tier_groups if g.upgrade_schedule is not None]
    assert scheduled
    for group in scheduled:
        assert group.upgrade_strategy != "real_time" and group.downgrade_strategy != "real_time"
        for schedule in (group.upgrade_schedule, group.downgrade_schedule):
            assert re.fullmatch(r"\d{2}/\d{2}", schedule["scheduledDate"])
    fixed = [r for r in data.rewards if r.expiration_date is not None and r.issues_vouchers]
    assert fixed
    issued = 0
    for position in range(len(data.members)):
        for voucher in world.member_at(data, position).vouchers:
            reward = data.reward_by_id[voucher.reward_id]
            if reward in fixed:
                issued += 1
                assert voucher.expiration_date == reward.expiration_date > voucher.created_at
    assert issued, "no voucher of a fixed-expiry reward was issued"


def test_yearly_expiry_lapses_credits_on_that_day(world):
    data = next(d for d in world.programs if d.program.state == "active")
    definition = next(d for d in data.definitions if d.expiration_date is not None)
    statuses = set()
    for position in range(len(data.members)):
        ledger = world.member_at(data, position).ledgers[definition.index]
        for tx in ledger.transactions:
            if tx.transaction_type == "credit" and tx.status in ("completed", "expired"):
                statuses.add(tx.status)
                day = iso(tx.balance_expiration_date)
                assert day[5:10] == f"{definition.expiration_date[3:]}-{definition.expiration_date[:2]}"
                assert day.endswith("T00:00:00.000Z")
                assert tx.completed_at < tx.balance_expiration_date <= tx.completed_at + 366 * 86_400_000
        for active in ledger.active_balances:
            # Every credit still alive lapses on the first such day after the clock.
            assert active.expires_at == next_yearly(REFERENCE_NOW, definition.expiration_date)
    assert statuses == {"completed", "expired"}  # credits both still alive and lapsed on the day
