"""The reward writes through the official Python client (brevo-python 5.x), unchanged, over a real server.

Create a reward, attribute a voucher, see codes-count go down, redeem and complete it, validate,
revoke; each refusal comes out as the client's typed error for its status (404 NotFoundError,
412 PreconditionFailedError, 417 ExpectationFailedError, 422 UnprocessableEntityError), and the
client sends nothing the contract does not know.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from brevo import Brevo
from brevo.errors import (
    ExpectationFailedError,
    NotFoundError,
    PreconditionFailedError,
    UnprocessableEntityError,
)

from mock_server.backend import Backend
from mock_server.store.models import Member, Reward
from mock_server.store.reward_rules import check_attribution
from mock_server.store.world import ProgramData
from mock_server.testing import RunningMock, running_mock
from tests.api.support import UNKNOWN_UUID, make_settings

NO_RETRY: Any = {"max_retries": 0}


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(make_settings()) as running:
        yield running


@pytest.fixture(scope="module")
def client(mock: RunningMock) -> Iterator[Brevo]:
    with httpx.Client(timeout=10) as http:
        yield Brevo(api_key=mock.api_key, base_url=mock.base_url, httpx_client=http)


@pytest.fixture(autouse=True)
def fresh(mock: RunningMock) -> None:
    mock.reset()


@pytest.fixture
def backend(mock: RunningMock) -> Backend:
    return mock.state.backends[mock.state.settings.api_keys[0].organisation]


def program(backend: Backend) -> ProgramData:
    seeded = next(data for data in backend.base.programs if data.program.state == "active")
    data = backend.world.program(seeded.id)
    assert data is not None
    return data


def pooled(backend: Backend, **changes: Any) -> Reward:
    """An active reward with a code pool, made free and uncapped (test setup, as a fixture could)."""
    data = program(backend)
    reward = next(r for r in data.rewards if r.state == "active" and r.code_pool_id)
    changed = replace(reward, **{"subtract_balance_value": 0, "attribution_per_consumer": 0, "limits": (),
                                 "redeem_per_consumer": 0, **changes})
    backend.put_program(data.replace(rewards=tuple(changed if r.id == reward.id else r for r in data.rewards)))
    return changed


def holder(backend: Backend, reward: Reward) -> Member:
    data = program(backend)
    for position in range(len(data.members)):
        member = backend.world.member_at(data, position)
        if not any(voucher.reward_id == reward.id for voucher in member.vouchers):
            check_attribution(reward, member, backend.clock.now())
            return member
    raise AssertionError("no member without a voucher of the reward")


def test_attribute_redeem_complete_with_the_official_client(client: Brevo, backend: Backend,
                                                            mock: RunningMock) -> None:
    reward = pooled(backend)
    member = holder(backend, reward)
    pid = program(backend).id
    before = client.reward.get_code_count(pid, reward.code_pool_id or "").count
    voucher = client.reward.create_voucher(pid, reward_id=reward.id, contact_id=member.contact_id,
                                           meta={"campaign": "spring"})
    assert (voucher.reward_id, voucher.contact_id) == (reward.id, member.contact_id)
    assert client.reward.get_code_count(pid, reward.code_pool_id or "").count == before - 1
    held = client.reward.get_voucher_for_a_contact(pid, contact_id=member.contact_id)
    assert voucher.id in {row.id for row in held.contact_rewards}

    assert client.reward.validate_reward(pid, attributed_reward_id=voucher.id).authorize is True
    opened = client.reward.redeem_voucher(pid, attributed_reward_id=voucher.id)
    assert (opened.status, opened.reward_attribution_id) == ("draft", voucher.id)
    done = client.reward.complete_redeem_transaction(pid, opened.id or "")
    assert done.status == "completed"
    assert client.reward.validate_reward(pid, attributed_reward_id=voucher.id).authorize is False
    held = client.reward.get_voucher_for_a_contact(pid, contact_id=member.contact_id)
    assert next(row for row in held.contact_rewards if row.id == voucher.id).consumed_at is not None

    with pytest.raises(PreconditionFailedError):
        client.reward.redeem_voucher(pid, attributed_reward_id=voucher.id, request_options=NO_RETRY)
    with pytest.raises(UnprocessableEntityError):
        client.reward.complete_redeem_transaction(pid, opened.id or "", request_options=NO_RETRY)
    assert mock.violations == []


def test_a_created_reward_and_a_revoked_voucher(client: Brevo, backend: Backend, mock: RunningMock) -> None:
    pid = program(backend).id
    created = client.reward.create_reward(pid, name="Free coffee", public_name="Coffee on us")
    assert (created.name, created.public_name) == ("Free coffee", "Coffee on us")
    assert client.reward.get_reward_information(pid, created.id or "").name == "Free coffee"

    reward = pooled(backend)
    member = holder(backend, reward)
    voucher = client.reward.create_voucher(pid, reward_id=reward.id, contact_id=member.contact_id)
    assert client.reward.revoke_vouchers(pid, attributed_reward_ids=voucher.id) is None
    held = client.reward.get_voucher_for_a_contact(pid, contact_id=member.contact_id)
    assert voucher.id not in {row.id for row in held.contact_rewards}
    with pytest.raises(NotFoundError):
        client.reward.revoke_vouchers(pid, attributed_reward_ids=voucher.id, request_options=NO_RETRY)
    assert mock.violations == []


def test_refusals_come_out_as_the_clients_typed_errors(client: Brevo, backend: Backend) -> None:
    pid = program(backend).id
    with pytest.raises(NotFoundError):
        client.reward.create_voucher(pid, reward_id=UNKNOWN_UUID, contact_id=1, request_options=NO_RETRY)
    reward = pooled(backend, redeem_per_consumer=1)
    member = holder(backend, reward)
    first = client.reward.create_voucher(pid, reward_id=reward.id, contact_id=member.contact_id)
    second = client.reward.create_voucher(pid, reward_id=reward.id, contact_id=member.contact_id)
    first_open = client.reward.redeem_voucher(pid, attributed_reward_id=first.id)
    second_open = client.reward.redeem_voucher(pid, reward_id=reward.id, contact_id=member.contact_id)
    assert second_open.reward_attribution_id == second.id  # the first one is being redeemed already
    assert client.reward.complete_redeem_transaction(pid, first_open.id or "").status == "completed"
    with pytest.raises(ExpectationFailedError):  # redeemPerConsumer 1 is reached
        client.reward.complete_redeem_transaction(pid, second_open.id or "", request_options=NO_RETRY)
    data = program(backend)
    backend.put_program(data.replace(code_pools=tuple(
        replace(pool, code_count=0) if pool.id == reward.code_pool_id else pool for pool in data.code_pools)))
    with pytest.raises(UnprocessableEntityError):
        client.reward.create_voucher(pid, reward_id=reward.id, contact_id=member.contact_id, request_options=NO_RETRY)
