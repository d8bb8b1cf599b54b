"""brevo-python 5.x drives the seven tier writes unchanged, and gets the client's own errors back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from brevo import Brevo
from brevo.core.api_error import ApiError
from brevo.errors import NotFoundError, UnprocessableEntityError

from mock_server.settings import Settings
from mock_server.store.world import ProgramData, World
from mock_server.testing import RunningMock, running_mock

NO_RETRY: Any = {"max_retries": 0}


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(Settings(access_log=False, contacts=30)) as running:
        yield running


@pytest.fixture
def client(mock: RunningMock) -> Brevo:
    mock.reset()
    return Brevo(api_key=mock.api_key, base_url=mock.base_url)


def ranked(world: World) -> ProgramData:
    return next(data for data in world.programs if len(data.members) and data.primary_tier_group
                and len(data.primary_tier_group.tier_ids) >= 2)


def test_a_tier_group_made_filled_ordered_and_removed(client: Brevo, mock: RunningMock):
    data = ranked(mock.state.worlds["default"])
    bdid = data.definitions[0].id
    group = client.tier.create_tier_group(data.id, name="Client metals", request_options=NO_RETRY)
    low = client.tier.create_tier_for_tier_group(
        data.id, group.id, name="Low", access_conditions=[{"balance_definition_id": bdid, "minimum_value": 0}],
        request_options=NO_RETRY)
    high = client.tier.create_tier_for_tier_group(
        data.id, group.id, name="High", access_conditions=[{"balance_definition_id": bdid, "minimum_value": 900}],
        request_options=NO_RETRY)
    renamed = client.tier.update_tier_group(data.id, group.id, name="Client metals 2",
                                            tier_order=[low.tier_id, high.tier_id], upgrade_strategy="real_time",
                                            downgrade_strategy="real_time", request_options=NO_RETRY)
    assert renamed.name == "Client metals 2" and renamed.tier_order == [low.tier_id, high.tier_id]
    moved = client.tier.update_tier(data.id, high.tier_id, name="Higher", tier_rewards=[],
                                    access_conditions=[{"balance_definition_id": bdid, "minimum_value": 1000}],
                                    request_options=NO_RETRY)
    assert moved.access_conditions[0].minimum_value == 1000
    shown = client.tier.get_tier_group(data.id, group.id, version="draft", request_options=NO_RETRY)
    assert shown.tier_order == [low.tier_id, high.tier_id]
    for tier_id in (low.tier_id, high.tier_id):
        client.tier.delete_tier(data.id, tier_id, request_options=NO_RETRY)
    client.tier.delete_tier_group(data.id, group.id, request_options=NO_RETRY)
    with pytest.raises(NotFoundError):
        client.tier.get_tier_group(data.id, group.id, version="draft", request_options=NO_RETRY)
    assert mock.violations == []


def test_a_member_put_on_a_tier_by_hand(client: Brevo, mock: RunningMock):
    world = mock.state.worlds["default"]
    data = ranked(world)
    contact = data.members.contact_ids[0]
    group = data.primary_tier_group
    current, _ = data.standing_of(group, world.member(data, contact))
    target = group.tier_ids[0] if current is not None and current.id == group.tier_ids[-1] else group.tier_ids[-1]
    assigned = client.tier.add_subscription_to_tier(data.id, str(contact), target, request_options=NO_RETRY)
    assert assigned.contact_id == contact and assigned.group_id == group.id
    with pytest.raises(ApiError) as again:
        client.tier.add_subscription_to_tier(data.id, str(contact), target, request_options=NO_RETRY)
    assert again.value.status_code == 409


def test_refusals_are_the_clients_typed_errors(client: Brevo, mock: RunningMock):
    data = ranked(mock.state.worlds["default"])
    group = data.primary_tier_group
    taken = data.tier_by_id[group.tier_ids[0]]
    with pytest.raises(UnprocessableEntityError):
        client.tier.create_tier_for_tier_group(
            data.id, group.id, name="Twin",
            access_conditions=[{"balance_definition_id": taken.balance_definition_id,
                                "minimum_value": taken.threshold}], request_options=NO_RETRY)
    with pytest.raises(NotFoundError):
        client.tier.delete_tier(data.id, "00000000-0000-4000-8000-000000000000", request_options=NO_RETRY)
