"""Response validation compiled from the contract (mock_server/contract/responses.py).

The proxy relies on it to tell a client that the server broke the contract,
so it must accept what the contract allows and name what it does not.
"""

from __future__ import annotations

import httpx
import pytest

from mock_server.contract.responses import ResponseValidator, load_validator
from mock_server.testing import RunningMock

LIMIT_HEADERS = {"x-sib-ratelimit-limit": "600", "x-sib-ratelimit-remaining": "599", "x-sib-ratelimit-reset": "60"}
JSON = {"content-type": "application/json", **LIMIT_HEADERS}
PID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture(scope="module")
def validator() -> ResponseValidator:
    return load_validator()


def test_a_conforming_page_passes(validator: ResponseValidator) -> None:
    body = b'{"items": [{"id": "%s", "state": "active", "createdAt": "2026-01-01T00:00:00Z"}]}' % PID.encode()
    assert validator.check("getLPList", 200, JSON, body) == []


@pytest.mark.parametrize(("status", "headers", "body", "expected"), [
    (200, JSON, b'{"items": [{"id": "%s", "state": "archived"}]}' % PID.encode(),
     'body at /items/0/state: "archived" is not one of'),
    (200, JSON, b'{"items": {}}', 'body at /items: {} is not of type "array"'),
    (200, JSON, b'{"items": [{"id": "not-a-uuid"}]}', 'body at /items/0/id: "not-a-uuid" is not a "uuid"'),
    (200, JSON, b'{"item": []}', 'body at /: "items" is a required property'),
    (201, JSON, b'{"items": []}', "status 201 is not documented for getLPList"),
    (200, {**LIMIT_HEADERS, "content-type": "text/plain"}, b'{"items": []}', "content-type 'text/plain'"),
    (200, {"content-type": "application/json"}, b'{"items": []}', "required header 'x-sib-ratelimit-limit'"),
    (200, {**JSON, "x-sib-ratelimit-remaining": "many"}, b'{"items": []}',
     "header 'x-sib-ratelimit-remaining' must be integer"),
    (200, JSON, b"{oops", "body is not valid JSON"),
])
def test_each_way_of_breaking_an_answer_is_named(validator: ResponseValidator, status: int,
                                                 headers: dict[str, str], body: bytes, expected: str) -> None:
    problems = validator.check("getLPList", status, headers, body)
    assert any(expected in problem for problem in problems), problems


def test_error_answers_and_empty_204s_are_checked_against_their_own_response(validator: ResponseValidator) -> None:
    assert validator.check("getLPList", 401, {"content-type": "application/json"},
                           b'{"code": "unauthorized", "message": "no key"}') == []
    assert validator.check("getLPList", 401, {"content-type": "application/json"}, b'{"code": 1}') != []
    assert validator.check("getBalanceDefinitionList", 204, LIMIT_HEADERS, b"") == []
    assert validator.check("getBalanceDefinitionList", 204, LIMIT_HEADERS, b"{}") != []


def test_every_answer_of_the_mock_conforms(validator: ResponseValidator, mock: RunningMock) -> None:
    program = mock.world["programs"][0]
    pid, definition, member = program["id"], program["balanceDefinitions"][0], program["members"][0]
    contact, group, reward = member["contactId"], program["tierGroups"][0]["id"], program["rewards"][0]
    calls = {
        "getLPList": ("/loyalty/config/programs", {}),
        "getLoyaltyProgramInfo": (f"/loyalty/config/programs/{pid}", {}),
        "getParameterSubscriptionInfo": (f"/loyalty/config/programs/{pid}/account-info", {"contactId": contact}),
        "getBalanceDefinitionList": (f"/loyalty/balance/programs/{pid}/balance-definitions", {}),
        "getBalanceDefinition": (f"/loyalty/balance/programs/{pid}/balance-definitions/{definition['id']}", {}),
        "getContactBalances": (f"/loyalty/balance/programs/{pid}/contact-balances",
                               {"balanceDefinitionId": definition["id"]}),
        "getTransactionHistoryApi": (f"/loyalty/balance/programs/{pid}/transaction-history",
                                     {"contactId": contact, "balanceDefinitionId": definition["id"]}),
        "getSubscriptionTier": (f"/loyalty/balance/programs/{pid}/subscriptions/{contact}/tier", {}),
        "getSubscriptionVouchers": (f"/loyalty/balance/programs/{pid}/subscriptions/{contact}/vouchers", {}),
        "getTierGroup": (f"/loyalty/tier/programs/{pid}/tier-groups/{group}", {}),
        "getRewardInformation": (f"/loyalty/offer/programs/{pid}/rewards/{reward['id']}", {}),
        "getVoucherForAContact": (f"/loyalty/offer/programs/{pid}/vouchers", {"contactId": contact}),
        "getCodeCount": (f"/loyalty/offer/programs/{pid}/code-pools/{program['codePools'][0]['id']}/codes-count",
                         {}),
    }
    with httpx.Client(base_url=mock.base_url, headers={"api-key": mock.api_key}) as client:
        for operation_id, (path, params) in calls.items():
            answer = client.get(path, params=params)
            assert answer.status_code == 200, (operation_id, answer.text)
            assert validator.check(operation_id, 200, answer.headers, answer.content) == [], operation_id
            missing = client.get(path.replace(pid, PID), params=params)
            assert validator.check(operation_id, missing.status_code, missing.headers, missing.content) == []
