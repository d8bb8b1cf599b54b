"""The client check: every request a client sends is judged against the contract, even when tolerated.

A deliberately wrong client (an old snake_case parameter next to valid ones,
a wrong type, a missing required parameter, no key) is journaled with each
violation at GET /__mock__/requests; `serve --check-client` also prints each
violating request as it comes, a summary when it stops, and exits 1.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.settings import Settings
from mock_server.testing import RunningMock, running_mock

ROOT = Path(__file__).resolve().parents[2]


def member(mock: RunningMock) -> tuple[str, str, int]:
    program = mock.world["programs"][0]
    return program["id"], program["balanceDefinitions"][0]["id"], program["members"][0]["contactId"]


def journal(mock: RunningMock) -> list[dict[str, Any]]:
    answer = httpx.get(f"{mock.root_url}/__mock__/requests")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == len(body["requests"])
    return body["requests"]


def test_an_obsolete_parameter_next_to_valid_ones_is_served_and_journaled(fresh_mock: RunningMock) -> None:
    pid, bdid, contact = member(fresh_mock)
    answer = httpx.get(f"{fresh_mock.base_url}/loyalty/balance/programs/{pid}/transaction-history",
                       params={"contactId": contact, "balanceDefinitionId": bdid, "contact_id": contact},
                       headers={"api-key": fresh_mock.api_key})
    assert answer.status_code == 200  # tolerated, as Brevo does
    [entry] = journal(fresh_mock)
    assert entry["operation_id"] == "getTransactionHistoryApi" and entry["status"] == 200
    assert entry["violations"] == [
        "Unknown query parameter 'contact_id' for getTransactionHistoryApi; did you mean 'contactId'?"]
    assert "contact_id=" in entry["query"]


def test_a_wrong_client_gets_every_mistake_journaled_newest_last(fresh_mock: RunningMock) -> None:
    pid, bdid, contact = member(fresh_mock)
    base = f"{fresh_mock.base_url}/loyalty/balance/programs/{pid}"
    key = {"api-key": fresh_mock.api_key}
    with httpx.Client(headers=key) as client:
        client.get(f"{base}/contact-balances", params={"balanceDefinitionId": bdid, "limit": "ten"})
        client.get(f"{base}/active-balance", params={"contactId": contact})
        client.get(f"{base}/balance-definitions", params={"sort_field": "name"})
    httpx.get(f"{base}/balance-definitions")  # no key

    entries = journal(fresh_mock)
    assert [entry["seq"] for entry in entries] == sorted(entry["seq"] for entry in entries)
    wrong_type, missing, renamed, no_key = (entry["violations"] for entry in entries)
    assert any("Invalid parameter 'limit'" in v for v in wrong_type) and entries[0]["status"] == 422
    assert any("Missing required parameter 'balanceDefinitionId'" in v for v in missing)
    assert renamed == ["Unknown query parameter 'sort_field' for getBalanceDefinitionList; did you mean 'sortField'?"]
    assert no_key == ["missing 'api-key' header"] and entries[3]["status"] == 401

    assert httpx.post(f"{fresh_mock.root_url}/__mock__/reset", headers={"X-Brevo-Mock": "1"}).json() == {"reset": True}
    assert journal(fresh_mock) == []


def test_a_correct_client_leaves_no_violation(fresh_mock: RunningMock) -> None:
    pid, bdid, contact = member(fresh_mock)
    httpx.get(f"{fresh_mock.base_url}/loyalty/balance/programs/{pid}/active-balance",
              params={"contactId": contact, "balanceDefinitionId": bdid}, headers={"api-key": fresh_mock.api_key})
    assert [entry["violations"] for entry in journal(fresh_mock)] == [[]]


def test_the_journal_is_bounded() -> None:
    with running_mock(Settings(access_log=False, contacts=20, journal_size=3)) as small:
        for _ in range(5):
            httpx.get(f"{small.base_url}/loyalty/config/programs", params={"offset": "x"})
        entries = journal(small)
    assert [entry["seq"] for entry in entries] == [3, 4, 5]


def _serve(*flags: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--contacts", "20", "--no-access-log", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    for line in process.stdout:
        found = re.search(r"base URL\s+(\S+)", line)
        if found:
            return process, found.group(1)
        assert time.monotonic() < deadline
    raise AssertionError(f"the mock did not start: {process.stderr.read() if process.stderr else ''}")


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_check_client_prints_each_violation_a_summary_and_fails(sig: int) -> None:
    process, base_url = _serve("--check-client")
    try:
        answer = httpx.get(f"{base_url}/loyalty/config/programs", params={"sortField": "name", "limit": 5},
                           headers={"api-key": "xkeysib-loyalty-mock-local-key"})
        assert answer.status_code == 200
    finally:
        status, out, err = _stop(process, sig)
    assert "client check: GET /v3/loyalty/config/programs?sortField=name&limit=5 -> 200: Unknown query " \
           "parameter 'sortField' for getLPList; did you mean 'sort_field'?" in err
    assert "client check: 1 request(s), 1 contract violation(s)" in out
    assert status == 1


def test_serve_check_client_exits_0_for_a_clean_client() -> None:
    process, base_url = _serve("--check-client")
    try:
        httpx.get(f"{base_url}/loyalty/config/programs", headers={"api-key": "xkeysib-loyalty-mock-local-key"})
    finally:
        status, out, err = _stop(process)
    assert "client check: 1 request(s), 0 contract violation(s)" in out
    assert "client check: GET" not in err and status == 0


def test_a_reset_does_not_erase_a_violation_from_the_verdict() -> None:
    """Tests call /__mock__/reset between cases: the CI gate must still see what came before."""
    process, base_url = _serve("--check-client")
    root = base_url.removesuffix("/v3")
    try:
        httpx.get(f"{base_url}/loyalty/config/programs", params={"sortField": "name"},
                  headers={"api-key": "xkeysib-loyalty-mock-local-key"})
        assert httpx.post(f"{root}/__mock__/reset", headers={"X-Brevo-Mock": "1"}).json() == {"reset": True}
        assert httpx.get(f"{root}/__mock__/requests").json()["count"] == 0  # the journal view is cleared
        httpx.get(f"{base_url}/loyalty/config/programs", headers={"api-key": "xkeysib-loyalty-mock-local-key"})
    finally:
        status, out, _err = _stop(process)
    assert "client check: 2 request(s), 1 contract violation(s)" in out
    assert "Unknown query parameter 'sortField'" in out
    assert status == 1


def test_check_client_with_workers_is_refused_at_start_up() -> None:
    """Each worker would judge only its own requests, and the parent exited 0: refused, on one line."""
    for command, env in ((["--check-client", "--workers", "2"], {}),
                         (["--workers", "2"], {"BREVO_MOCK_CHECK_CLIENT": "true"})):
        done = subprocess.run(
            [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--contacts", "20", *command],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env})
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1
        assert "--check-client cannot be combined with --workers" in done.stderr
