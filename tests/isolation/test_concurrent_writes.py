"""64 connections credit one member at once: the balance and the history count come out exact."""

from __future__ import annotations

import threading

import httpx

from mock_server.fixtures import shipped_fixture
from mock_server.settings import Settings
from mock_server.testing import running_mock

PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"  # the widget program
CONTACT = 12345
CONNECTIONS = 64
CREDITS_EACH = 6


def test_concurrent_credits_to_one_member_are_all_counted_once():
    settings = Settings(access_log=False, contacts=10, fixtures=(shipped_fixture("widget-member"),))
    with running_mock(settings) as mock:
        definition = mock.state.worlds["default"].program(PID).definitions[0].id
        query = {"contactId": CONTACT, "balanceDefinitionId": definition, "limit": 500}
        with httpx.Client(base_url=mock.base_url, headers={"api-key": mock.api_key}) as reader:
            before = reader.get(f"/loyalty/balance/programs/{PID}/subscriptions/{CONTACT}/balances").json()
            history_before = reader.get(f"/loyalty/balance/programs/{PID}/transaction-history", params=query).json()
        start = threading.Barrier(CONNECTIONS)
        statuses: list[int] = []
        lock = threading.Lock()

        def credit() -> None:
            with httpx.Client(base_url=mock.base_url, headers={"api-key": mock.api_key}, timeout=30) as client:
                start.wait()
                for _ in range(CREDITS_EACH):
                    response = client.post(f"/loyalty/balance/programs/{PID}/transactions", json={
                        "contactId": CONTACT, "balanceDefinitionId": definition, "amount": 1,
                        "transactionType": "credit", "autoComplete": True})
                    with lock:
                        statuses.append(response.status_code)

        threads = [threading.Thread(target=credit) for _ in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * (CONNECTIONS * CREDITS_EACH)
        with httpx.Client(base_url=mock.base_url, headers={"api-key": mock.api_key}) as reader:
            after = reader.get(f"/loyalty/balance/programs/{PID}/subscriptions/{CONTACT}/balances").json()
            history = reader.get(f"/loyalty/balance/programs/{PID}/transaction-history", params=query).json()
        value = {entry["balanceDefinitionId"]: entry["value"] for entry in before["balance"]}[definition]
        assert {entry["balanceDefinitionId"]: entry["value"] for entry in after["balance"]}[definition] == \
            value + CONNECTIONS * CREDITS_EACH
        assert history["count"] == history_before["count"] + CONNECTIONS * CREDITS_EACH
        ids = [tx["id"] for tx in history["transactionHistory"]]
        assert len(set(ids)) == len(ids)  # ids never collide
