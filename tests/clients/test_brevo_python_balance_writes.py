"""brevo-python 5.x's balance write methods, unchanged, against the mock over a real loopback server.

Each method gets its typed model back with the values the mock's world now holds, sends nothing the
contract does not know (the request journal records no violation), and a documented refusal comes
out as the client's typed error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from brevo import Brevo
from brevo.errors import NotFoundError, UnprocessableEntityError

from mock_server.fixtures import shipped_fixture
from mock_server.store.world import ProgramData, World
from mock_server.testing import RunningMock, running_mock
from tests.api.support import UNKNOWN_UUID, make_settings

WIDGET_PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"
NO_RETRY: Any = {"max_retries": 0}

@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(make_settings(fixtures=(shipped_fixture("widget-member"),))) as running:
        yield running


@pytest.fixture
def client(mock: RunningMock) -> Iterator[Brevo]:
    mock.reset()
    with httpx.Client(timeout=10) as http:
        yield Brevo(api_key=mock.api_key, base_url=mock.base_url, httpx_client=http)
    assert mock.violations == []


def _world(mock: RunningMock) -> World:
    return mock.state.backends[mock.state.settings.api_keys[0].organisation].world


def _active(world: World) -> ProgramData:
    return next(data for data in world.programs if data.program.state == "active" and len(data.members))


def _value(client: Brevo, pid: str, cid: int, bdid: str) -> float:
    totals = client.balance.get_subscription_balances(pid, str(cid), include_internal=True).balance or []
    return next(float(item.value) for item in totals if item.balance_definition_id == bdid)


def test_begin_complete_cancel_and_order_through_the_client(client: Brevo, mock: RunningMock):
    world = _world(mock)
    data = world.program(WIDGET_PID)
    assert data is not None
    bdid = data.definitions[0].id

    draft = client.balance.begin_transaction(WIDGET_PID, amount=100, balance_definition_id=bdid, contact_id=12345,
                                             meta={"orderId": "ORD-5"})
    assert (draft.status, draft.contact_id, draft.balance) == ("draft", 12345, None)
    done = client.balance.complete_transaction(WIDGET_PID, draft.id)
    assert (done.status, done.balance) == ("completed", 440)
    assert _value(client, WIDGET_PID, 12345, bdid) == 440

    debit = client.balance.begin_transaction(WIDGET_PID, amount=-40, balance_definition_id=bdid,
                                             loyalty_subscription_id="cust_abc123", auto_complete=True)
    assert (debit.transaction_type, debit.balance) == ("debit", 400)

    order = client.balance.create_balance_order(WIDGET_PID, amount=150, balance_definition_id=bdid, contact_id=12345,
                                                due_at="2026-11-03T00:00:00Z", source="user")
    cancelled = client.balance.cancel_transaction(WIDGET_PID, order.transactionid)
    assert cancelled.status == "cancelled" and _value(client, WIDGET_PID, 12345, bdid) == 400

    with pytest.raises(UnprocessableEntityError) as refused:
        client.balance.complete_transaction(WIDGET_PID, done.id, request_options=NO_RETRY)
    assert "not a draft" in refused.value.body.message
    with pytest.raises(NotFoundError):
        client.balance.cancel_transaction(WIDGET_PID, UNKNOWN_UUID, request_options=NO_RETRY)
    with pytest.raises(UnprocessableEntityError):
        client.balance.begin_transaction(WIDGET_PID, amount=5, balance_definition_id=bdid, contact_id=999_999_999,
                                         request_options=NO_RETRY)


def test_definitions_limits_and_member_balances_through_the_client(client: Brevo, mock: RunningMock):
    data = _active(_world(mock))
    pid, cid = data.id, data.members.contact_ids[0]

    created = client.balance.create_balance_definition(pid, name="Stamps", unit="POINTS", max_amount=90,
                                                       balance_option_amount_overtaking_strategy="partial")
    assert (created.name, created.max_amount, created.balance_option_amount_overtaking_strategy) == (
        "Stamps", 90, "partial")
    updated = client.balance.update_balance_definition(pid, created.id, name="Stamp card", unit="POINTS",
                                                       max_amount=120)
    assert (updated.name, updated.max_amount, updated.id) == ("Stamp card", 120, created.id)
    assert client.balance.get_balance_definition(pid, created.id).name == "Stamp card"

    limit = client.balance.create_balance_limit(pid, created.id, constraint_type="transaction", duration_unit="day",
                                                duration_value=1, transaction_type="credit", value=3)
    assert (limit.value, limit.balance_definition_id) == (3, created.id)
    changed = client.balance.update_balance_limit(pid, created.id, limit.id, constraint_type="amount",
                                                  duration_unit="week", duration_value=2, transaction_type="debit",
                                                  value=50, sliding_schedule=True)
    assert (changed.constraint_type, changed.value, changed.sliding_schedule) == ("amount", 50, True)
    client.balance.delete_balance_limit(pid, created.id, limit.id)
    with pytest.raises(NotFoundError):
        client.balance.get_balance_limit(pid, created.id, limit.id, request_options=NO_RETRY)

    opened = client.balance.create_subscription_balances(pid, str(cid), balance_definition_id=created.id)
    assert (opened.contact_id, opened.balance_definition_id, float(opened.amount)) == (cid, created.id, 0)
    with pytest.raises(UnprocessableEntityError):
        client.balance.create_subscription_balances(pid, str(cid), balance_definition_id=created.id,
                                                    request_options=NO_RETRY)

    client.balance.delete_balance_definition(pid, created.id)
    with pytest.raises(NotFoundError):
        client.balance.get_balance_definition(pid, created.id, request_options=NO_RETRY)
