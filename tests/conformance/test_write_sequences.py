"""The write sequences: they pass on our mock, write only where allowed, and catch write-side breakages.

- On our mock the sequences run by default, and the report lists exactly the writes the server received.
- A server that is not our mock gets no write, unless `--allow-writes --program PID`: then every write names
  that program, none creates or deletes a program, and the budget refuses anything else before sending it.
- Each write-side breakage (tests/conformance/servers.py) fails its sequence, and the report's curls, run
  in a shell, show it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.cli import main
from mock_server.conformance.budget import RequestBudget, WriteRefused, budgeted_session
from mock_server.conformance.report import EXIT_FAILED, EXIT_PASSED, KEY_VARIABLE, Report
from mock_server.conformance.runner import RunOptions, run_conformance
from mock_server.conformance.writes import MOCK, SANDBOX, SEQUENCES, WriteScope
from mock_server.settings import DEFAULT_API_KEY, Settings
from mock_server.testing import RunningMock
from tests.conformance.servers import (
    AcceptsInvalidBody,
    Breakage,
    CompletesTwice,
    LosesConcurrentUpdates,
    NotOurMock,
    StaleReads,
)
from tests.support.serving import serve_asgi


@pytest.fixture(scope="module")
def shared_app() -> Starlette:
    return create_app(Settings(access_log=False))


@pytest.fixture
def app(shared_app: Starlette) -> Starlette:
    """The module's mock, back to its seeded world: the sequences change it."""
    shared_app.state.mock.reset()
    return shared_app


def run_writes(base_url: str, **options: object) -> Report:
    """Only the write sequences: no schemathesis phase, no read property."""
    settings: dict[str, object] = {"phases": (), "properties": False, **options}
    return run_conformance(RunOptions(base_url=base_url, api_key=DEFAULT_API_KEY, **settings))  # type: ignore[arg-type]


def programs(app: Starlette) -> list[dict[str, object]]:
    return app.state.mock.worlds["default"].summary()["programs"]


# ------------------------------------------------------------------ our mock


def test_on_our_mock_every_sequence_passes_and_the_report_lists_what_was_written(app: Starlette) -> None:
    recorder = NotOurMock(app)  # records every request; /__mock__/ still answers below, through `app`
    with serve_asgi(app) as root, serve_asgi(recorder) as recorded:
        report = run_writes(root + "/v3")
        again = run_writes(recorded + "/v3", write_names=("tier_configuration",))

    assert report.exit_code == EXIT_PASSED, report.to_markdown()
    assert [result.name for result in report.writes] == [sequence.name for sequence in SEQUENCES]
    assert all(result.status == "passed" for result in report.writes), report.to_markdown()
    assert any("the target is our mock" in note for note in report.notes)
    assert "## Write sequences" in report.to_markdown() and "### What was written" in report.to_markdown()
    # Behind a server that hides /__mock__/, no write at all (the default); the report says why.
    assert again.writes == [] and recorder.writes == []
    assert any(note.startswith("read-only: the target is not our mock") for note in again.notes)


def test_the_report_lists_exactly_the_writes_the_server_received(app: Starlette) -> None:
    recorder = NotOurMock(app)
    pid = str(programs(app)[0]["id"])
    with serve_asgi(recorder) as root:
        report = run_writes(root + "/v3", allow_writes=True, write_program=pid,
                            write_names=("tier_configuration", "invalid_bodies_refused"))
    assert report.exit_code == EXIT_PASSED, report.to_markdown()
    assert report.written == recorder.writes and len(report.written) >= 6
    assert all(f"`{line}`" in report.to_markdown() for line in report.written)


def test_the_same_seed_sends_the_same_writes(app: Starlette) -> None:
    with serve_asgi(app) as root:
        first = run_writes(root + "/v3", write_names=("tier_configuration",))
        app.state.mock.reset()  # the seeded world again, its id sequence included
        second = run_writes(root + "/v3", write_names=("tier_configuration",))
    assert first.written == second.written and first.written


# ------------------------------------------------------ any other server


def test_a_sandbox_run_writes_only_into_its_program(app: Starlette) -> None:
    default_focus, sandbox = (str(program["id"]) for program in programs(app)[:2])
    server = NotOurMock(app)
    with serve_asgi(server) as root:
        report = run_writes(root + "/v3", allow_writes=True, write_program=sandbox)

    assert report.exit_code == EXIT_PASSED, report.to_markdown()
    assert report.written == server.writes and server.writes
    for method, path, _ in server.seen:
        if method in ("GET", "HEAD"):
            continue
        assert f"/programs/{sandbox}" in path and default_focus not in path, (method, path)
        assert not path.endswith("/loyalty/config/programs"), "a program was created"
        assert not (method == "DELETE" and path.endswith(f"/programs/{sandbox}")), "the program was deleted"
    skipped = {result.name: result.message for result in report.writes if result.status == "skipped"}
    for sequence in SEQUENCES:
        if sequence.mock_only:
            assert skipped[sequence.name] == "runs on our mock only"
    assert {result.scope for result in report.writes} == {f"sandbox program {sandbox}"}


def test_the_budget_refuses_a_write_outside_the_sandbox_before_sending_it() -> None:
    sandbox = WriteScope(SANDBOX, "6e3e7a7b-d8dc-4e51-9ec5-08da90eb90ef")
    base = "http://127.0.0.1:9/v3"  # nothing listens there: a request that left would fail to connect
    inside = f"{base}/loyalty/balance/programs/{sandbox.program}/transactions"
    assert sandbox.refusal("POST", inside) is None
    assert sandbox.refusal("PUT", f"{base}/loyalty/tier/programs/{sandbox.program}/tiers/x") is None
    assert "only name the sandbox program" in str(sandbox.refusal("POST", f"{base}/loyalty/config/programs"))
    other = f"{base}/loyalty/balance/programs/0fe75819-8571-497b-b4ab-4e69ec113831/transactions"
    assert "only name the sandbox program" in str(sandbox.refusal("POST", other))
    deleting = sandbox.refusal("DELETE", f"{base}/loyalty/config/programs/{sandbox.program}")
    assert deleting == "the sandbox program itself is never deleted"
    escape = f"{base}/loyalty/balance/programs/{sandbox.program}/%2E%2E/{other.split('/')[-2]}/transactions"
    assert "dot segment" in str(sandbox.refusal("POST", escape))
    assert WriteScope(MOCK).refusal("POST", f"{base}/loyalty/config/programs") is None

    budget = RequestBudget(read_only=True, write_guard=sandbox.refusal)
    session = budgeted_session(budget)
    for method, url in (("POST", other), ("DELETE", f"{base}/loyalty/config/programs/{sandbox.program}")):
        with pytest.raises(WriteRefused):
            session.request(method, url, json={})
    with pytest.raises(requests.ConnectionError):  # the allowed write did leave (and found nobody)
        session.post(inside, json={}, timeout=2)
    assert budget.sent == 1


@pytest.mark.parametrize("argv", [["--allow-writes"], ["--program", "6e3e7a7b-d8dc-4e51-9ec5-08da90eb90ef"]])
def test_allow_writes_and_program_go_together(mock: RunningMock, argv: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["conformance", "--base-url", mock.base_url, "--api-key", mock.api_key, *argv])
    err = capsys.readouterr().err
    assert status == 2 and "--allow-writes and --program PID go together" in err
    assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------ breakages


def replay(command: str) -> str:
    env = {**os.environ, KEY_VARIABLE: DEFAULT_API_KEY}
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    return done.stdout


def last_shown(curls: list[str], containing: str = "") -> str:
    """The answer to the sequence's last request (containing `containing`), with its status line."""
    return replay([curl for curl in curls if containing in curl][-1] + " -i --max-time 10")


def concurrent_ids(curls: list[str]) -> set[str]:
    """Sends the sequence's concurrent credits again, all at once; the transaction ids they are answered."""
    credits = [curl for curl in curls if '"autoComplete":true' in curl]
    output = replay(" ".join(f"( {curl} --max-time 10; echo ) &" for curl in credits) + " wait")
    assert len(credits) > 1 and output.count('"status"') == len(credits), output
    return set(re.findall(r'"id":"([0-9a-f-]{36})"', output))


CASES = [
    # breakage, the sequence that catches it, words of its failure, what replaying its curls shows
    (AcceptsInvalidBody, "invalid_bodies_refused", "expected 4xx",
     lambda curls: last_shown(curls).startswith("HTTP/1.1 200")),
    (StaleReads, "tier_configuration", "(a stale read)",
     lambda curls: "renamed" not in last_shown(curls) and '"name":"conformance group 1"' in last_shown(curls)),
    (CompletesTwice, "transaction_lifecycle", "a second time answered 200",
     lambda curls: last_shown(curls, "/complete").startswith("HTTP/1.1 200")),
    (LosesConcurrentUpdates, "concurrent_credits", "(an update was lost)",
     lambda curls: len(concurrent_ids(curls)) < len([c for c in curls if '"autoComplete":true' in c])),
]


@pytest.fixture
def broken(app: Starlette, request: pytest.FixtureRequest) -> Iterator[str]:
    breakage: type[Breakage] = request.param
    with serve_asgi(breakage(app, DEFAULT_API_KEY)) as root:
        yield root + "/v3"


@pytest.mark.skipif(shutil.which("curl") is None, reason="replaying a report needs curl")
@pytest.mark.parametrize(("broken", "sequence", "words", "shows"), CASES, indirect=["broken"],
                         ids=[case[0].__name__ for case in CASES])
def test_each_write_breakage_fails_its_sequence_with_reproducing_curls(broken: str, sequence: str, words: str,
                                                                       shows: object) -> None:
    report = run_writes(broken, write_names=(sequence,))
    [result] = report.writes

    assert report.exit_code == EXIT_FAILED, report.to_markdown()
    assert result.status == "failed" and words in result.message, result
    assert result.curls and all(curl.startswith("curl ") for curl in result.curls)
    assert all(DEFAULT_API_KEY not in curl for curl in result.curls)  # the key comes from $BREVO_API_KEY
    assert f"### write sequence {sequence}: failed" in report.to_markdown()
    assert shows(result.curls), result.curls  # type: ignore[operator]


def test_the_unbroken_mock_passes_the_same_sequences(app: Starlette) -> None:
    # The control: the cases above fail because of their breakage, not because of the sequences.
    with serve_asgi(app) as root:
        report = run_writes(root + "/v3", write_names=tuple(case[1] for case in CASES))
    assert report.exit_code == EXIT_PASSED, report.to_markdown()


def test_every_link_from_a_write_can_be_followed() -> None:
    """The sequences follow the contract's links: each names an operation and only parameters it takes."""
    from mock_server.conformance.links import links_from, write_operations
    from mock_server.contract import compile_contract, load_contract

    contract = compile_contract(load_contract())
    followed = 0
    for operation_id in write_operations(contract):
        for link in links_from(contract, operation_id):
            target = contract.operations[link.target]
            taken = {param.name for param in target.path_params} | set(target.query_params)
            assert set(link.parameters) <= taken, (operation_id, link.name, set(link.parameters) - taken)
            assert {param.name for param in target.path_params} <= set(link.parameters), (operation_id, link.name)
            followed += 1
    assert followed >= 30  # begin -> complete -> history, subscribe -> balances, attribute -> vouchers, ...


def test_the_command_writes_into_the_sandbox_program_and_reports_it(app: Starlette, tmp_path: Path) -> None:
    sandbox = str(programs(app)[1]["id"])
    server = NotOurMock(app)
    out = tmp_path / "report.json"
    with serve_asgi(server) as root:
        status = main(["conformance", "--base-url", root + "/v3", "--api-key", DEFAULT_API_KEY, "--phases", "",
                       "--no-properties", "--allow-writes", "--program", sandbox, "--report", str(out), "--quiet"])
    data = json.loads(out.read_text())
    assert status == 0 and data["verdict"] == "PASSED"
    assert data["written"] == server.writes and all(f"/programs/{sandbox}" in line for line in data["written"])
    assert {result["scope"] for result in data["writes"]} == {f"sandbox program {sandbox}"}
