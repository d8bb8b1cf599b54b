"""The program and subscription writes through the official Python client (brevo-python 5.x), unchanged.

A merchant's set-up and enrolment flow: create a program, rename it, publish it, enrol contacts, attach
and detach subscription members, unenrol, delete; each step read back through the same client, and
each refusal raised as the client's typed error for the documented status.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from brevo import Brevo
from brevo.errors import BadRequestError, ConflictError, NotFoundError, UnprocessableEntityError

from mock_server.testing import RunningMock, running_mock
from tests.api.support import UNKNOWN_UUID, make_settings

NO_RETRY: Any = {"max_retries": 0}  # the client retries 409s twice by default


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(make_settings()) as running:
        yield running


@pytest.fixture()
def client(mock: RunningMock) -> Iterator[Brevo]:
    with httpx.Client(timeout=10) as http:
        yield Brevo(api_key=mock.api_key, base_url=mock.base_url, httpx_client=http)
    violations = mock.violations
    mock.state.reset()
    assert violations == []  # the client sent only what the contract knows


def test_the_program_lifecycle(client: Brevo) -> None:
    program = client.program.create_new_lp(name="VIP Club", description="Earn points", meta={"shop": "eu"})
    assert program.state == "inactive" and program.name == "VIP Club" and program.meta == {"shop": "eu"}
    pid = program.id
    assert client.program.get_loyalty_program_info(pid).state == "inactive"

    renamed = client.program.update_loyalty_program(pid, name="VIP Club 2")
    assert (renamed.name, renamed.description) == ("VIP Club 2", "")
    patched = client.program.partially_update_loyalty_program(pid, description="Now described")
    assert (patched.name, patched.description) == ("VIP Club 2", "Now described")
    assert client.program.get_loyalty_program_info(pid).description == "Now described"

    assert client.program.publish_loyalty_program(pid) is None
    assert client.program.get_loyalty_program_info(pid).state == "active"

    assert client.program.delete_loyalty_program(pid) is None
    with pytest.raises(NotFoundError):
        client.program.get_loyalty_program_info(pid)
    assert pid not in [p.id for p in client.program.get_lp_list(limit=100).items]


def test_enrolment_and_subscription_members(client: Brevo) -> None:
    pid = client.program.create_new_lp(name="Family Club").id
    with pytest.raises(UnprocessableEntityError) as refused:
        client.program.subscribe_to_loyalty_program(pid, contact_id=101)
    assert "not published" in refused.value.body.message
    client.program.publish_loyalty_program(pid)

    joined = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    owner = client.program.subscribe_to_loyalty_program(pid, contact_id=101, loyalty_subscription_id="cust_101",
                                                        creation_date=joined)
    assert (owner.contact_id, owner.loyalty_program_id, owner.loyalty_subscription_id) == (101, pid, "cust_101")
    assert owner.created_at == joined
    other = client.program.subscribe_to_loyalty_program(pid, contact_id=102)
    assert other.loyalty_subscription_id.startswith(client.program.get_loyalty_program_info(pid).pattern[:3])

    with pytest.raises(UnprocessableEntityError):
        client.program.subscribe_to_loyalty_program(pid, contact_id=101)
    with pytest.raises(BadRequestError):
        client.program.subscribe_to_loyalty_program(pid, contact_id=103, loyalty_subscription_id="cust_101")

    added = client.program.subscribe_member_to_a_subscription(pid, member_contact_ids=[201, 202], contact_id=101)
    assert (added.owner_contact_id, added.member_contact_ids) == (101, [201, 202])
    with pytest.raises(ConflictError):
        client.program.subscribe_member_to_a_subscription(pid, member_contact_ids=[101],
                                                          loyalty_subscription_id="cust_101",
                                                          request_options=NO_RETRY)
    info = client.program.get_parameter_subscription_info(pid, contact_id="101", params="members")
    assert [m.member_contact_id for m in info.members] == [101, 201, 202]

    assert client.program.delete_contact_members(pid, member_contact_ids="201") is None
    info = client.program.get_parameter_subscription_info(pid, contact_id="101", params="members")
    assert [m.member_contact_id for m in info.members] == [101, 202]
    with pytest.raises(NotFoundError):
        client.program.delete_contact_members(pid, member_contact_ids="201")

    balances = client.balance.get_subscription_balances(pid, "102")
    assert (balances.contact_id, balances.balance) == (102, [])
    assert client.program.delete_contact_subscription(pid, 102) is None
    with pytest.raises(NotFoundError):
        client.balance.get_subscription_balances(pid, "102")
    with pytest.raises(NotFoundError):
        client.program.delete_contact_subscription(pid, 102)


def test_refusals_are_the_clients_typed_errors(client: Brevo) -> None:
    name = client.program.get_lp_list().items[0].name
    with pytest.raises(ConflictError) as clash:
        client.program.create_new_lp(name=name, request_options=NO_RETRY)
    assert name in clash.value.body.message and clash.value.body.code == "duplicate_parameter"
    for call in (lambda: client.program.publish_loyalty_program(UNKNOWN_UUID),
                 lambda: client.program.update_loyalty_program(UNKNOWN_UUID, name="x"),
                 lambda: client.program.delete_loyalty_program(UNKNOWN_UUID),
                 lambda: client.program.subscribe_to_loyalty_program(UNKNOWN_UUID, contact_id=1)):
        with pytest.raises(NotFoundError):
            call()


def test_concurrent_enrolments_are_each_counted_once(mock: RunningMock) -> None:
    """32 threads enrol 32 contacts and all race for one more: every contact once, one winner of the race."""
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=64)) as http:
        client = Brevo(api_key=mock.api_key, base_url=mock.base_url, httpx_client=http)
        pid = client.program.create_new_lp(name="Crowd").id
        client.program.publish_loyalty_program(pid)

        def enrol(contact: int) -> str:
            try:
                client.program.subscribe_to_loyalty_program(pid, contact_id=contact, request_options=NO_RETRY)
            except UnprocessableEntityError:
                return "refused"
            return "enrolled"

        with ThreadPoolExecutor(max_workers=32) as pool:
            own = list(pool.map(enrol, range(1, 33)))
            race = list(pool.map(enrol, [500] * 32))
        assert own == ["enrolled"] * 32 and sorted(race) == ["enrolled"] + ["refused"] * 31
        table = mock.state.backends[mock.state.settings.api_keys[0].organisation].world.program(pid).members
        assert list(table.contact_ids) == [*range(1, 33), 500] and len(set(table.subscription_ids)) == 33
        for contact in (1, 17, 500):
            info = client.program.get_parameter_subscription_info(pid, contact_id=str(contact), params="members")
            assert [m.member_contact_id for m in info.members] == [contact]
    mock.state.reset()
