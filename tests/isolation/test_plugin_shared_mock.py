"""The pytest plugin against a shared mock (``--brevo-mock-url``): each xdist worker, its own key and world.

The workers are simulated as pytest-xdist makes them: separate pytest runs whose
``PYTEST_XDIST_WORKER`` is gw0, gw1 ... Each run's tests write to the shared mock,
and must see their own writes, never another worker's, and a fresh world per test.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.keynames import key_organisation
from mock_server.settings import Settings
from mock_server.testing import RunningMock, running_mock

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]

WORKER_TESTS = '''
import os

import httpx

PROGRAMS = "/loyalty/config/programs"


def names(mock):
    answer = httpx.get(mock.base_url + PROGRAMS, params={"limit": 100}, headers={"api-key": mock.api_key})
    assert answer.status_code == 200, answer.text
    return {item["name"] for item in answer.json()["items"]}


def test_writes_are_this_workers_own(brevo_mock):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    assert brevo_mock.api_key == "xkeysib-test-" + worker
    assert not any(name.startswith("by gw") for name in names(brevo_mock))
    created = httpx.post(brevo_mock.base_url + PROGRAMS, json={"name": "by " + worker},
                         headers={"api-key": brevo_mock.api_key})
    assert created.status_code == 200, created.text
    assert "by " + worker in names(brevo_mock)
    assert brevo_mock.world["organisation"].startswith("key-")


def test_the_next_test_starts_from_the_seeded_world(brevo_mock):
    assert not any(name.startswith("by gw") for name in names(brevo_mock))
'''


@pytest.fixture
def shared() -> Iterator[RunningMock]:
    with running_mock(Settings(access_log=False, contacts=20, world_per_key="xkeysib-test-")) as mock:
        yield mock


def run_worker(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, url: str, worker: str) -> pytest.RunResult:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path),
                                        "--brevo-mock-url", url)


def test_each_worker_gets_its_own_world_on_the_shared_mock(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                          shared: RunningMock) -> None:
    pytester.makepyfile(test_worker=WORKER_TESTS)
    for worker in ("gw0", "gw1"):
        run_worker(pytester, monkeypatch, shared.base_url, worker).assert_outcomes(passed=2)
    live = {world.organisation for world in shared.state.backends.key_worlds.live()}
    assert live == {key_organisation("xkeysib-test-gw0"), key_organisation("xkeysib-test-gw1")}
    # The default organisation never saw a worker's write.
    assert not any(data.program.name.startswith("by gw") for data in shared.state.backends["default"].world.programs)


def test_a_mock_without_world_per_key_is_refused_naming_the_flag(pytester: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_worker="def test_any(brevo_mock):\n    pass\n")
    with running_mock(Settings(access_log=False, contacts=20)) as plain:
        result = run_worker(pytester, monkeypatch, plain.root_url, "gw0")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "--world-per-key" in output
    assert "During handling of the above exception" not in output  # said once, not chained to its cause


def test_each_worker_sees_its_own_requests_and_violations_only(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: RunningMock) -> None:
    pytester.makepyfile(test_worker=textwrap.dedent("""
        import os
        import httpx

        def test_requests(brevo_mock):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            headers = {"api-key": brevo_mock.api_key}
            httpx.get(f"{brevo_mock.base_url}/loyalty/config/programs", params={"limit": 1, "by": worker},
                      headers=headers)
            assert [entry.query for entry in brevo_mock.requests] == [f"limit=1&by={worker}"]
            assert brevo_mock.violations == ["Unknown query parameter 'by' for getLPList"]
            brevo_mock.reset()
            assert brevo_mock.requests == [] and brevo_mock.violations == []
    """))
    for worker in ("gw3", "gw4"):
        run_worker(pytester, monkeypatch, shared.base_url, worker).assert_outcomes(passed=1)
