"""A purchase through the API reaches the user's endpoint as Brevo's events, in order, with the right ids."""

from __future__ import annotations

import httpx

from mock_server.testing import RunningMock
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import PID, add_endpoint, credit, definition_id, deliveries, enrol, valid


def test_a_purchase_crossing_a_tier_delivers_the_balance_then_the_tier_event(
        mock: RunningMock, api: httpx.Client, receiver: Receiver) -> None:
    bdid = definition_id(api)
    enrol(api, 777)
    add_endpoint(api, receiver.url, events=["balance_value_updated", "tier_association_updated"])
    credit(api, 777, 300, bdid)  # 0 -> 300: Bronze -> Silver (250)
    tx = credit(api, 777, 250, bdid)  # 300 -> 550: Silver -> Gold (500)
    received = receiver.wait_count(4)
    names = [payload["event_name"] for payload in received]
    assert names == ["balance_value_updated", "tier_association_updated"] * 2
    updated, tier = (valid(payload) for payload in received[2:])
    assert updated["contact_id"] == 777 and tier["contact_id"] == 777
    assert updated["loyalty_program"]["id"] == PID
    assert updated["balance_definition"]["id"] == bdid
    assert updated["value"] == 550
    assert updated["transaction"] == {"id": tx["id"], "type": "credit", "value": 250, "status": "completed",
                                      "created_at": tx["createdAt"]}
    assert (tier["previous_tier"]["name"], tier["tier"]["name"], tier["direction"]) == ("Silver", "Gold", "upgrade")
    assert tier["tier_group"]["name"] == "VIP Levels"
    assert updated["event_date"] == tx["createdAt"]  # the organisation's clock at the write
    assert len({payload["event_id"] for payload in received}) == 4


def test_event_ids_are_the_same_for_the_same_requests(mock: RunningMock, api: httpx.Client,
                                                       receiver: Receiver) -> None:
    bdid = definition_id(api)
    add_endpoint(api, receiver.url, events=["subscription_created", "balance_value_updated"])
    runs = []
    for _ in range(2):
        enrol(api, 778)
        credit(api, 778, 10, bdid)
        runs.append(receiver.wait_count(2))
        receiver.clear()
        api.post("/__mock__/reset", headers={"X-Brevo-Mock": "1"})
    assert runs[0] == runs[1]  # byte-identical payloads: ids from (seed, organisation, sequence), clock dates


def test_a_refused_write_emits_nothing(mock: RunningMock, api: httpx.Client, receiver: Receiver) -> None:
    bdid = definition_id(api)
    add_endpoint(api, receiver.url)
    refused = api.post(f"/v3/loyalty/balance/programs/{PID}/transactions",
                       json={"contactId": 999_999, "balanceDefinitionId": bdid, "amount": 10, "autoComplete": True})
    assert refused.status_code == 422
    enrol(api, 779)  # an accepted write afterwards: the first and only event delivered
    first = receiver.wait_count(1)[0]
    assert first["event_name"] == "subscription_created" and first["contact_id"] == 779
    assert [entry["event"] for entry in deliveries(api, 1)] == ["subscription_created"]


def test_a_burst_of_writes_arrives_whole_and_in_order(mock: RunningMock, api: httpx.Client,
                                                      receiver: Receiver) -> None:
    add_endpoint(api, receiver.url, events=["subscription_created"])
    contacts = list(range(950, 1010))
    for contact in contacts:  # faster than one delivery each: several wait in the lane at once
        enrol(api, contact)
    assert [payload["contact_id"] for payload in receiver.wait_count(len(contacts))] == contacts
    journal = deliveries(api, len(contacts))
    assert [entry["outcome"] for entry in journal] == ["delivered"] * len(contacts)
    assert [entry["seq"] for entry in journal] == sorted(entry["seq"] for entry in journal)
