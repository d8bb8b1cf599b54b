"""Proxy mode: a real client and a real server checked against the contract together.

The upstream is our mock (correct, or broken on purpose); the proxy sits in
front of it on another loopback port, as it would in front of
https://api.brevo.com/v3.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.conformance.proxy import create_proxy_app
from mock_server.settings import DEFAULT_API_KEY, Settings
from mock_server.testing import RunningMock
from tests.conformance.servers import NumberAsString
from tests.support.serving import serve_asgi

ROOT = Path(__file__).resolve().parents[2]
KEY = {"api-key": DEFAULT_API_KEY}


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(Settings(access_log=False))


@pytest.fixture
def proxy_to_mock(fresh_mock: RunningMock) -> Iterator[str]:
    with serve_asgi(create_proxy_app(fresh_mock.base_url, echo=False), lifespan="on") as root:
        yield root


def journal(root: str) -> list[dict[str, Any]]:
    return httpx.get(f"{root}/__mock__/requests").json()["requests"]


def test_an_answer_that_breaks_the_contract_is_passed_on_and_journaled(app: Starlette) -> None:
    program = app.state.mock.worlds["default"].summary()["programs"][0]["id"]
    with serve_asgi(NumberAsString(app, DEFAULT_API_KEY)) as upstream, \
            serve_asgi(create_proxy_app(upstream + "/v3", echo=False), lifespan="on") as proxy:
        answer = httpx.get(f"{proxy}/v3/loyalty/offer/programs/{program}/offers", headers=KEY)
        entries = journal(proxy)
    assert answer.status_code == 200 and isinstance(answer.json()["totalCount"], str)  # unchanged
    [entry] = entries
    assert entry["operation_id"] == "getRewardPageApi"
    [violation] = entry["violations"]
    assert violation.startswith("response: body at /totalCount: ") and 'is not of type "integer"' in violation


def test_a_wrong_client_and_a_correct_server(proxy_to_mock: str, fresh_mock: RunningMock) -> None:
    program = fresh_mock.world["programs"][0]
    contact = program["members"][0]["contactId"]
    answer = httpx.get(f"{proxy_to_mock}/v3/loyalty/offer/programs/{program['id']}/vouchers",
                       params={"contactId": contact, "contact_id": contact}, headers=KEY)
    assert answer.status_code == 200 and answer.json()["contactId"] == contact
    [entry] = journal(proxy_to_mock)
    assert entry["violations"] == [
        "request: Unknown query parameter 'contact_id' for getVoucherForAContact; did you mean 'contactId'?"]
    # The upstream saw the very same request.
    assert [e.query for e in fresh_mock.requests] == [entry["query"]]


def test_a_correct_exchange_leaves_no_violation_even_a_204(proxy_to_mock: str, fresh_mock: RunningMock) -> None:
    program = fresh_mock.world["programs"][0]["id"]
    empty = httpx.get(f"{proxy_to_mock}/v3/loyalty/balance/programs/{program}/balance-definitions",
                      params={"offset": 1000}, headers=KEY)
    missing = httpx.get(f"{proxy_to_mock}/v3/loyalty/config/programs/{program}")
    assert empty.status_code == 204 and missing.status_code == 401
    first, second = journal(proxy_to_mock)
    assert first["violations"] == []
    assert second["violations"] == ["request: missing 'api-key' header"]  # the 401 itself is documented


def test_writes_are_never_forwarded(proxy_to_mock: str, fresh_mock: RunningMock) -> None:
    # A write of the contract (createNewLP) and a method that is no operation of its path alike.
    program = fresh_mock.world["programs"][0]["id"]
    create = httpx.post(f"{proxy_to_mock}/v3/loyalty/config/programs", headers=KEY, json={"name": "x"})
    stray = httpx.post(f"{proxy_to_mock}/v3/loyalty/config/programs/{program}", headers=KEY, json={"name": "x"})
    assert create.status_code == stray.status_code == 405
    assert fresh_mock.requests == []
    write, mistake = journal(proxy_to_mock)
    assert write["operation_id"] == "createNewLP" and write["status"] == 405
    assert mistake["violations"] == ["request: POST is not an operation of this path"]
    assert httpx.post(f"{proxy_to_mock}/__mock__/reset", json={}).json() == {"reset": True}
    assert journal(proxy_to_mock) == []


def test_an_unreachable_upstream_is_a_502_and_journaled() -> None:
    with serve_asgi(create_proxy_app("http://127.0.0.1:9/v3", timeout=2, echo=False), lifespan="on") as proxy:
        answer = httpx.get(f"{proxy}/v3/loyalty/config/programs", headers=KEY)
        [entry] = journal(proxy)
    assert answer.status_code == 502 and answer.json()["code"] == "bad_gateway"
    assert entry["violations"][0].startswith("upstream: ConnectError")


def test_the_proxy_command_reports_and_fails_on_a_broken_answer(app: Starlette) -> None:
    program = app.state.mock.worlds["default"].summary()["programs"][0]["id"]
    with serve_asgi(NumberAsString(app, DEFAULT_API_KEY)) as upstream:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "proxy", "--upstream", upstream + "/v3", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + 30
            base = None
            for line in process.stdout:
                found = re.search(r"proxy: (\S+) ->", line)
                if found:
                    base = found.group(1)
                    break
                assert time.monotonic() < deadline
            assert base is not None
            assert httpx.get(f"{base}/loyalty/offer/programs/{program}/offers", headers=KEY).status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
    assert "response: body at /totalCount" in err  # each violating exchange, as it happens
    assert "1 request(s), 1 contract violation(s)" in out  # the summary at exit
    assert process.returncode == 1


def test_a_writes_body_is_checked_and_journaled_though_never_forwarded(tmp_path: Path) -> None:
    import yaml

    from tests.unit.test_bodies import CONTRACT, UUID

    contract = tmp_path / "contract.yaml"
    contract.write_text(yaml.safe_dump(CONTRACT))
    app = create_proxy_app("http://127.0.0.1:9/v3", contract_path=contract, timeout=2, echo=False)
    with serve_asgi(app, lifespan="on") as proxy:
        target = f"{proxy}/v3/programs/{UUID}/transactions"
        answer = httpx.post(target, headers=KEY, json={"amount": "12", "balanceDefinitionId": UUID, "amuont": 1})
        assert answer.status_code == 405  # a proxy in front of production never writes
        not_json = httpx.post(target, headers={**KEY, "content-type": "text/plain"}, content=b"amount=12")
        assert not_json.status_code == 405
        first, second = journal(proxy)
    assert first["violations"] == [
        "request: Unknown body property body.amuont for beginTransaction; did you mean 'amount'?",
        'request: body.amount: expected a number, got the string "12"',
    ]
    assert first["body"] == f'{{"amount":"12","balanceDefinitionId":"{UUID}","amuont":1}}'
    assert second["violations"] == ["request: Unsupported Content-Type 'text/plain' for a request body: send the "
                                    "body as JSON with 'Content-Type: application/json'"]
