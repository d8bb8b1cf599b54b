"""Same seed, same bytes: two apps (and two server runs, and two interpreters) answer identically.

A snapshot is the raw answer (status, content type, body bytes) to a sweep of requests
covering every operation: the sample request of each, then every program's
configuration and a few members of every program on every definition, plus error
answers. Apps are built independently, so nothing is shared but the code.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx2
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.testing import running_mock
from tests.api.support import UNKNOWN_UUID, client_for, find_ids, make_settings, sample_requests, world_of
from tests.support.operations import read_operations

REPO = Path(__file__).resolve().parents[2]
MEMBERS = 3


def sweep(app: Starlette) -> list[tuple[str, str]]:
    """(method-less URL, query) of every request of the snapshot, from the app's own world."""
    world = world_of(app)
    base = app.state.mock.contract.base_path
    operations = app.state.mock.contract.operations
    requests: list[tuple[str, str]] = []

    def add(operation_id: str, path: dict, query: dict | None = None) -> None:
        url = base + operations[operation_id].path.format(**path)
        requests.append((url, "&".join(f"{k}={v}" for k, v in (query or {}).items())))

    for operation_id, request in sample_requests(find_ids(world)).items():
        add(operation_id, request.path, request.query)
    add("getLPList", {}, {"sort_field": "name", "sort": "asc"})
    for data in world.programs:
        pid = data.id
        add("getLoyaltyProgramInfo", {"pid": pid})
        add("getLoyaltyProgramInfo", {"pid": UNKNOWN_UUID})
        for version in ("draft", "active"):
            for operation_id in ("getBalanceDefinitionList", "getListOfTierGroups", "getLoyaltyProgramTier",
                                 "getRewardPageApi"):
                add(operation_id, {"pid": pid}, {"version": version})
        for reward in data.rewards:
            add("getRewardInformation", {"pid": pid, "rid": reward.id})
        for pool in data.code_pools:
            add("getCodeCount", {"pid": pid, "cpid": pool.id})
        for group in data.tier_groups:
            add("getTierGroup", {"pid": pid, "gid": group.id})
        for definition in data.definitions:
            add("getBalanceDefinition", {"pid": pid, "bdid": definition.id})
            for limit in data.limits_of(definition.id):
                add("getBalanceLimit", {"pid": pid, "bdid": definition.id, "blid": limit.id})
            for sort_field in ("value", "updatedAt"):
                add("getContactBalances", {"pid": pid}, {"balanceDefinitionId": definition.id,
                                                          "sortField": sort_field, "includeInternal": "true"})
        for contact in data.members.contact_ids[:MEMBERS]:
            member = {"pid": pid, "cid": contact}
            for operation_id in ("getSubscriptionBalances", "getSubscriptionTier", "getSubscriptionVouchers",
                                 "getSubscriptionTransactions"):
                add(operation_id, member)
            add("getParameterSubscriptionInfo", {"pid": pid}, {"contactId": contact, "includeInternal": "true"})
            add("getVoucherForAContact", {"pid": pid}, {"contactId": contact})
            for definition in data.definitions:
                query = {"contactId": contact, "balanceDefinitionId": definition.id}
                add("getTransactionHistoryApi", {"pid": pid}, query)
                add("getActiveBalancesApi", {"pid": pid}, {**query, "includeInternal": "true"})
    return requests


def snapshot(client: TestClient | httpx2.Client, requests: list[tuple[str, str]]) -> list[tuple]:
    answers = []
    for url, query in requests:
        response = client.get(f"{url}?{query}" if query else url)
        answers.append((url, query, response.status_code, response.headers.get("content-type"), response.content))
    return answers


def app_snapshot(seed: int = 1) -> list[tuple]:
    app = create_app(make_settings(seed=seed))
    with client_for(app) as client:
        return snapshot(client, sweep(app))


def digest(answers: list[tuple]) -> str:
    hashed = hashlib.sha256()
    for url, query, status, content_type, body in answers:
        hashed.update(f"{url}?{query} {status} {content_type}\n".encode())
        hashed.update(body + b"\n")
    return hashed.hexdigest()


def test_two_apps_with_one_seed_answer_byte_identically():
    first, second = app_snapshot(), app_snapshot()
    assert len(first) > 200
    assert {status for _, _, status, _, _ in first} >= {200, 204, 404}
    assert [a[:2] for a in first] == [b[:2] for b in second]
    differing = [a[:2] for a, b in zip(first, second, strict=True) if a != b]
    assert differing == []


def test_different_seeds_give_different_worlds():
    one, two = create_app(make_settings(seed=1)), create_app(make_settings(seed=2))
    with client_for(one) as first, client_for(two) as second:
        requests_one = sample_requests(find_ids(world_of(one)))
        requests_two = sample_requests(find_ids(world_of(two)))
        base = one.state.mock.contract.base_path
        same = []
        # Reads: what a write answers is the areas' determinism tests (tests/api/test_*_writes.py).
        for operation_id, operation in read_operations(one.state.mock.contract).items():
            a, b = requests_one[operation_id], requests_two[operation_id]
            body_one = first.get(base + operation.path.format(**a.path), params=a.query)
            body_two = second.get(base + operation.path.format(**b.path), params=b.query)
            assert body_one.status_code == body_two.status_code == 200
            if body_one.content == body_two.content:
                same.append(operation_id)
        assert same == []


def test_a_restarted_server_answers_byte_identically():
    """Two real server runs, one after the other, over loopback HTTP."""
    runs = []
    for _ in range(2):
        with running_mock(make_settings()) as mock, httpx2.Client(
            base_url=mock.root_url, headers={"api-key": mock.api_key}
        ) as client:
            requests = sweep(create_app(make_settings()))[:60]
            runs.append(snapshot(client, requests))
    assert runs[0] == runs[1]
    with client_for(create_app(make_settings())) as in_process:  # and an app without a server agrees
        assert digest(runs[0]) == digest(snapshot(in_process, requests))


SUBPROCESS = """
from tests.api.test_determinism import app_snapshot, digest
print(digest(app_snapshot()))
"""


def test_answers_do_not_depend_on_the_interpreters_hash_seed():
    """Another process with another PYTHONHASHSEED (as on every restart) gives the same bytes."""
    expected = digest(app_snapshot())
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        result = subprocess.run([sys.executable, "-c", SUBPROCESS], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == expected
