"""The suite fails when it should: each deliberately broken server is reported, reproducibly.

Every case wraps our correct mock with one breakage (tests/conformance/servers.py),
runs the conformance runner against it, and asserts that

- the run fails (exit status 1),
- the operation is reported failed by the check that catches that breakage,
- the finding's curl, run in a shell, shows the breakage in the server's answer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.conformance.report import EXIT_FAILED, KEY_VARIABLE, Report
from mock_server.conformance.runner import RunOptions, run_conformance
from mock_server.settings import DEFAULT_API_KEY, Settings
from tests.conformance.servers import (
    Breakage,
    EnumOutOfList,
    IgnoresAuth,
    IgnoresOffset,
    IgnoresSortDirection,
    ListAsObject,
    NumberAsString,
    ServerErrorOnBadInput,
    TierNeverUpgrades,
    WrongContentType,
    WrongSuccessStatus,
    generic_spec_mock,
)
from tests.support.serving import serve_asgi

EXAMPLES = 3


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(Settings(access_log=False))


def conformance(base_url: str, **options: object) -> Report:
    # No shrinking: the first failing case is reproducible already, and shrinking costs most of the time.
    # No write sequence: these breakages are read-side (test_write_sequences.py has the write-side ones).
    settings: dict[str, object] = {"max_examples": EXAMPLES, "properties": False, "shrink": False, "writes": False,
                                   **options}
    return run_conformance(RunOptions(base_url=base_url, api_key=DEFAULT_API_KEY, **settings))  # type: ignore[arg-type]


def replay(curl: str) -> str:
    """Run a report's curl (the last line: a stateful finding lists the steps before it) in a shell."""
    command = curl.strip().splitlines()[-1]
    env = {**os.environ, KEY_VARIABLE: DEFAULT_API_KEY}
    done = subprocess.run(["bash", "-c", command + " -s -i --max-time 10"], capture_output=True, text=True,
                          env=env, timeout=30, check=False)
    return done.stdout


@pytest.fixture
def broken(app: Starlette, request: pytest.FixtureRequest) -> Iterator[str]:
    breakage: type[Breakage] = request.param
    with serve_asgi(breakage(app, DEFAULT_API_KEY)) as root:
        yield root + "/v3"


CASES = [
    # breakage, operation under test, the check that must catch it, what the curl's answer shows
    (NumberAsString, "getCodeCount", "response_schema_conformance", '"count":"'),
    (EnumOutOfList, "getLPList", "response_schema_conformance", '"state":"archived"'),
    (ListAsObject, "getLPList", "response_schema_conformance", '"items":{'),
    (IgnoresAuth, "getLPList", "ignored_auth", "HTTP/1.1 200"),
    (ServerErrorOnBadInput, "getContactBalances", "not_a_server_error", "HTTP/1.1 500"),
    (WrongSuccessStatus, "getLPList", "status_code_conformance", "HTTP/1.1 201"),
    (WrongContentType, "getLPList", "content_type_conformance", "content-type: text/plain"),
]


@pytest.mark.skipif(shutil.which("curl") is None, reason="replaying a report needs curl")
@pytest.mark.parametrize(("broken", "operation", "check", "evidence"), CASES, indirect=["broken"],
                         ids=[case[0].__name__ for case in CASES])
def test_each_breakage_is_reported_with_a_reproducing_curl(broken: str, operation: str, check: str,
                                                           evidence: str) -> None:
    # The fuzzing phase alone (seeded, so the same cases every run) finds each of them; the full
    # run, coverage phase included, is what test_conformance_mock.py runs on the correct mock.
    report = conformance(broken, operations=(operation,), phases=("fuzzing",))

    assert report.exit_code == EXIT_FAILED
    result = report.operations[operation]
    assert result.status == "failed"
    assert check in result.failing_checks, report.to_markdown()
    finding = next(f for f in result.findings if f.check == check)
    assert finding.curl.startswith("curl ")
    assert DEFAULT_API_KEY not in finding.curl  # the key is read from $BREVO_API_KEY
    assert evidence in replay(finding.curl)
    assert f"**{check}**" in report.to_markdown()


def test_the_same_run_passes_on_the_unbroken_mock(app: Starlette) -> None:
    # The control: the cases above fail because of the breakage, not the operations picked.
    with serve_asgi(app) as root:
        report = conformance(root + "/v3", operations=tuple({case[1] for case in CASES}), phases=("fuzzing",))
    assert report.exit_code == 0, report.to_markdown()


def test_a_generic_spec_mock_that_accepts_any_key_fails() -> None:
    # Schema-valid static answers are not enough: it serves data to a wrong key and accepts invalid input.
    with serve_asgi(generic_spec_mock()) as root:
        report = conformance(root + "/v3", operations=("getLPList", "getContactBalances", "getTierGroup"))
    assert report.exit_code == EXIT_FAILED
    found = {check for result in report.operations.values() for check in result.failing_checks}
    assert {"ignored_auth", "negative_data_rejection"} <= found, report.to_markdown()


@pytest.mark.parametrize(("broken", "prop"), [(IgnoresOffset, "paging"), (IgnoresSortDirection, "sort_order"),
                                              (TierNeverUpgrades, "tier_standing")],
                         indirect=["broken"], ids=["IgnoresOffset", "IgnoresSortDirection", "TierNeverUpgrades"])
def test_schema_valid_but_wrong_answers_fail_the_properties(broken: str, prop: str) -> None:
    report = conformance(broken, phases=(), properties=True, property_names=(prop,), property_examples=20)
    assert report.exit_code == EXIT_FAILED
    [result] = report.properties
    assert result.status == "failed", result
    assert result.curls and all(curl.startswith("curl ") for curl in result.curls)
    assert f"### property {prop}: failed" in report.to_markdown()
