"""The `conformance` command: exit statuses, reports, and one-line usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.cli import main
from mock_server.settings import DEFAULT_API_KEY, Settings
from mock_server.testing import RunningMock
from tests.conformance.servers import WrongSuccessStatus
from tests.support.serving import serve_asgi

ROOT = Path(__file__).resolve().parents[2]
# No write sequence: they have their tests (test_write_sequences.py), and would change the session's mock.
QUICK = ["--max-examples", "2", "--property-examples", "2", "--operations", "getLPList", "getLoyaltyProgramInfo",
         "--no-writes"]


def test_a_conforming_server_exits_0_with_a_json_report(mock: RunningMock, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "conformance", "--base-url", mock.base_url, *QUICK,
         "--report", str(report), "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "BREVO_API_KEY": mock.api_key})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"conformance: PASSED ({mock.base_url})"
    data = json.loads(report.read_text())
    assert data["verdict"] == "PASSED" and data["exit_code"] == 0
    assert [op["operation_id"] for op in data["operations"]] == ["getLPList", "getLoyaltyProgramInfo"]
    assert all(op["status"] == "passed" for op in data["operations"])
    assert not list(tmp_path.glob(".hypothesis")) and not list(tmp_path.glob(".schemathesis"))  # no droppings


def test_quiet_with_the_in_process_mock_prints_the_verdict_alone(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "conformance", "--mock", *QUICK, "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("conformance: PASSED (http://127.0.0.1:") and done.stdout.count("\n") == 1
    assert done.stderr == ""  # not the in-process server's warnings about the malformed requests it refused


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(Settings(access_log=False))


def test_a_broken_server_exits_1_with_the_failing_check_and_a_curl(app: Starlette, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.md"
    with serve_asgi(WrongSuccessStatus(app, DEFAULT_API_KEY)) as root:
        status = main(["conformance", "--base-url", root + "/v3", "--api-key", DEFAULT_API_KEY, *QUICK,
                       "--no-properties", "--report", str(report)])
    printed = capsys.readouterr().out
    assert status == 1
    text = report.read_text()
    assert text == printed.rstrip("\n") + "\n"  # the same report on stdout and in the file
    assert "result: **FAILED**" in text
    assert "| `getLPList` GET /loyalty/config/programs | failed | status_code_conformance" in text
    assert "curl -X GET -H \"api-key: $BREVO_API_KEY\"" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["--operations", "getNothing"], "unknown operation(s) getNothing"),
    (["--operations", "getLPList", "createNewLP"], "createNewLP: conformance runs send reads only"),
    (["--rate", "fast"], "is not of the form N/second"),
    (["--phases", "coverage,chaos"], "unknown phase(s) chaos"),
    (["--id", "pid"], "is not of the form NAME=VALUE"),
])
def test_usage_errors_are_one_line_and_exit_2(mock: RunningMock, argv: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["conformance", "--base-url", mock.base_url, "--api-key", mock.api_key, *argv])
    err = capsys.readouterr().err
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_no_key_is_a_usage_error(mock: RunningMock, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BREVO_API_KEY", raising=False)
    assert main(["conformance", "--base-url", mock.base_url]) == 2
    assert "no API key: pass --api-key or set BREVO_API_KEY" in capsys.readouterr().err


def test_without_the_extra_the_command_says_how_to_install_it(mock: RunningMock, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "schemathesis", None)  # as if not installed
    assert main(["conformance", "--base-url", mock.base_url, "--api-key", "k"]) == 2
    assert "pip install 'brevo-loyalty-mock[conformance]'" in capsys.readouterr().err
