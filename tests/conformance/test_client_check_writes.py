"""A client's write bodies are judged against the contract too, on each of the three client checks.

The three mistakes a Loyalty integration makes in a transaction body: the
subscription id in the wrong case (`loyaltySubscriptionId`: tolerated by the
server, reported with a did-you-mean), an amount sent as a string, and no
`balanceDefinitionId` (both refused). Each must come out of

- `serve --check-client` (a line on stderr per request, the summary, exit 1),
- the `brevo_contract` marker of the pytest plugin (the marked test fails, naming them),
- the proxy (journaled as `request:` violations; its tests are in test_proxy.py),

with the official client sending them where it can: brevo-python's `begin_transaction` with the key
added through `request_options` (as a user adding a field the client lacks would), and its correct
call leaving no violation.
"""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from brevo import Brevo
from brevo.core.api_error import ApiError

from mock_server.testing import RunningMock
from tests.conformance.test_client_check import _serve, _stop

pytest_plugins = ["pytester"]

KEY = "xkeysib-loyalty-mock-local-key"
WRONG_CASE = ("Unknown body property body.loyaltySubscriptionId for beginTransaction; did you mean "
              "'LoyaltySubscriptionId'?")
AMOUNT_AS_STRING = 'body.amount: expected a number, got the string "12"'
NO_DEFINITION = "body.balanceDefinitionId is required"


def send_the_three_mistakes(base_url: str, api_key: str, program: dict[str, Any]) -> None:
    """The three bad bodies: the first through brevo-python, the others as raw JSON (the client's types forbid
    them)."""
    pid, bdid = program["id"], program["balanceDefinitions"][0]["id"]
    member = program["members"][0]
    client = Brevo(api_key=api_key, base_url=base_url)
    extra = {"loyaltySubscriptionId": member["loyaltySubscriptionId"]}
    with contextlib.suppress(ApiError):  # the answer is not what is checked here (the journal is)
        client.balance.begin_transaction(pid, amount=1, balance_definition_id=bdid, contact_id=member["contactId"],
                                         request_options={"max_retries": 0, "additional_body_parameters": extra})
    target = f"{base_url}/loyalty/balance/programs/{pid}/transactions"
    headers = {"api-key": api_key}
    assert httpx.post(target, headers=headers, json={"amount": "12", "balanceDefinitionId": bdid,
                                                     "contactId": member["contactId"]}).status_code == 422
    assert httpx.post(target, headers=headers, json={"amount": 12, "contactId": member["contactId"]}).status_code == 422


def test_serve_check_client_prints_each_bad_body_and_fails() -> None:
    process, base_url = _serve("--check-client")
    try:
        program = httpx.get(f"{base_url.removesuffix('/v3')}/__mock__/world",
                            headers={"X-Brevo-Mock": "1"}).json()["programs"][0]
        send_the_three_mistakes(base_url, KEY, program)
    finally:
        status, out, err = _stop(process)
    lines = [line for line in err.splitlines() if line.startswith("client check: POST ")]
    assert len(lines) == 3, err
    assert lines[0].endswith(WRONG_CASE)
    assert AMOUNT_AS_STRING in lines[1] and "-> 422" in lines[1]
    assert NO_DEFINITION in lines[2] and "-> 422" in lines[2]
    assert "client check: 3 request(s), 3 contract violation(s)" in out
    assert status == 1


def test_the_official_clients_correct_body_leaves_no_violation(fresh_mock: RunningMock) -> None:
    program = fresh_mock.world["programs"][0]
    member = program["members"][0]
    client = Brevo(api_key=fresh_mock.api_key, base_url=fresh_mock.base_url)
    with contextlib.suppress(ApiError):  # only the body's judgement is checked
        client.balance.begin_transaction(program["id"], amount=1,
                                         balance_definition_id=program["balanceDefinitions"][0]["id"],
                                         loyalty_subscription_id=member["loyaltySubscriptionId"],
                                         request_options={"max_retries": 0})
    [entry] = fresh_mock.requests
    assert entry.operation_id == "beginTransaction" and entry.violations == ()
    assert '"LoyaltySubscriptionId"' in (entry.body or "")


def test_the_brevo_contract_marker_fails_a_test_whose_client_sends_bad_bodies(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_integration=textwrap.dedent("""
        import pytest
        from tests.conformance.test_client_check_writes import send_the_three_mistakes

        @pytest.mark.brevo_contract
        def test_marked(brevo_mock):
            send_the_three_mistakes(brevo_mock.base_url, brevo_mock.api_key, brevo_mock.world["programs"][0])

        def test_unmarked(brevo_mock):
            send_the_three_mistakes(brevo_mock.base_url, brevo_mock.api_key, brevo_mock.world["programs"][0])
    """))
    pytester.makeini("[pytest]\nbrevo_mock_contacts = 50\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path),
                                          "-o", f"pythonpath={Path(__file__).resolve().parents[2]}")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "the client broke the Brevo Loyalty contract in 3 request(s):" in output
    for expected in (WRONG_CASE, AMOUNT_AS_STRING, NO_DEFINITION):
        assert expected in output, output

