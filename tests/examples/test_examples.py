"""The examples/ run as a user runs them, against a live mock with the widget member.

Each reads contact 12345 end to end with an official Brevo client, unchanged
(only the base URL points at the mock), and prints the guide's widget line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mock_server.store.models import REFERENCE_NOW_ISO
from mock_server.testing import RunningMock, running_mock
from tests.api.support import widget_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NODE_DIR = EXAMPLES / "node"
WIDGET_LINE = "340 pts · Silver · 160 pts to Gold · 1 reward available"
PYTHON_EXAMPLES = ["widget_member_sync.py", "widget_member_async.py"]


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(widget_settings()) as running:
        yield running


LATER = Path(__file__).resolve().parent / "later"  # moves the examples' wall clock (sitecustomize.py, later.cjs)
IN_2031 = 1_939_200_000  # 2031-06-14: years after every date of the widget member (GOLD10 expires 2026-12-31)


def run(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, encoding="utf-8",
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONIOENCODING": "utf-8", **(env or {})})


def in_2031(python: bool) -> dict[str, str]:
    """The environment that runs a Python example (sitecustomize) or a Node one (--require) in 2031."""
    if python:
        return {"PYTHONPATH": str(LATER), "BREVO_TEST_NOW": str(IN_2031)}
    return {"BREVO_TEST_NOW": str(IN_2031), "NODE_OPTIONS": f"--require {LATER / 'later.cjs'}"}


# --------------------------------------------------------------------------- brevo-python 5.x


def test_the_python_client_is_5x() -> None:
    from importlib.metadata import version

    assert version("brevo-python").split(".")[0] == "5"


@pytest.mark.parametrize("example", PYTHON_EXAMPLES)
def test_the_python_client_reads_the_widget_member(mock: RunningMock, example: str) -> None:
    mock.reset()
    # --now, given explicitly: the instant voucher expiry is judged at (the default is the mock's clock).
    done = run([sys.executable, str(EXAMPLES / "python" / example), "--base-url", mock.base_url,
                "--now", REFERENCE_NOW_ISO])
    assert done.returncode == 0, done.stderr
    assert done.stdout == WIDGET_LINE + "\n"
    assert sorted(entry.operation_id for entry in mock.requests) == [
        "getLoyaltyProgramTier", "getParameterSubscriptionInfo", "getSubscriptionBalances", "getVoucherForAContact"]
    assert mock.violations == []  # the client kept to the contract


@pytest.mark.parametrize("example", PYTHON_EXAMPLES)
def test_the_python_example_prints_the_same_line_in_any_year(mock: RunningMock, example: str) -> None:
    # The shim works: a plain script run the same way believes it is 2031.
    year = run([sys.executable, "-c", "import datetime, time; print(datetime.datetime.now().year, "
                "time.gmtime(time.time()).tm_year)"], env=in_2031(python=True))
    assert year.stdout == "2031 2031\n", year.stderr
    # No --now: the example judges voucher expiry on the mock's clock, not on the date it is run.
    done = run([sys.executable, str(EXAMPLES / "python" / example), "--base-url", mock.base_url],
               env=in_2031(python=True))
    assert done.returncode == 0, done.stderr
    assert done.stdout == WIDGET_LINE + "\n"


@pytest.mark.parametrize("example", PYTHON_EXAMPLES)
def test_the_python_example_judges_vouchers_on_the_clock_a_test_moved(mock: RunningMock, example: str) -> None:
    mock.reset()
    mock.clock.set(datetime(2027, 1, 2, tzinfo=UTC))  # past GOLD10's expiry (2026-12-31)
    done = run([sys.executable, str(EXAMPLES / "python" / example), "--base-url", mock.base_url])
    mock.reset()
    assert done.returncode == 0, done.stderr
    assert done.stdout == WIDGET_LINE.replace("1 reward available", "0 rewards available") + "\n"


@pytest.mark.parametrize("example", PYTHON_EXAMPLES)
def test_the_python_client_raises_brevos_errors(mock: RunningMock, example: str) -> None:
    script = str(EXAMPLES / "python" / example)
    wrong_key = run([sys.executable, script, "--base-url", mock.base_url, "--api-key", "xkeysib-wrong"])
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.startswith("UnauthorizedError: HTTP 401 {'code': 'unauthorized'")
    unknown = run([sys.executable, script, "--base-url", mock.base_url,
                   "--program-id", "00000000-0000-4000-8000-000000000000"])
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("NotFoundError: HTTP 404 {'code': 'document_not_found'")


# --------------------------------------------------------------------------- @getbrevo/brevo 6.x


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: the Node client example needs Node.js 18+ and npm")
    if not (NODE_DIR / "node_modules" / "@getbrevo" / "brevo").is_dir():
        pytest.skip("@getbrevo/brevo is not installed: run `make test` (it runs `npm ci` in examples/node "
                    "when npm is present) or `npm ci --prefix examples/node`")
    return found


def test_the_node_client_is_6x(node: str) -> None:
    installed = json.loads((NODE_DIR / "node_modules" / "@getbrevo" / "brevo" / "package.json").read_text())
    assert installed["version"].split(".")[0] == "6"
    wanted = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["@getbrevo/brevo"]
    assert installed["version"] == wanted  # npm ci installed what the lock file pins


def test_the_node_client_reads_the_widget_member(mock: RunningMock, node: str) -> None:
    mock.reset()
    done = run([node, "widget_member.mjs", "--base-url", mock.base_url], cwd=NODE_DIR)
    assert done.returncode == 0, done.stderr
    assert done.stdout == WIDGET_LINE + "\n"
    assert sorted(entry.operation_id for entry in mock.requests) == [
        "getLoyaltyProgramTier", "getSubscriptionBalances", "getSubscriptionTier", "getSubscriptionVouchers"]
    assert mock.violations == []


def test_the_node_example_prints_the_same_line_in_any_year(mock: RunningMock, node: str) -> None:
    year = run([node, "-e", "console.log(new Date().getUTCFullYear(), new Date(Date.now()).getUTCFullYear())"],
               env=in_2031(python=False))
    assert year.stdout == "2031 2031\n", year.stderr
    done = run([node, "widget_member.mjs", "--base-url", mock.base_url], cwd=NODE_DIR, env=in_2031(python=False))
    assert done.returncode == 0, done.stderr
    assert done.stdout == WIDGET_LINE + "\n"


def test_the_node_client_reports_brevos_errors(mock: RunningMock, node: str) -> None:
    done = run([node, "widget_member.mjs", "--base-url", mock.base_url, "--contact-id", "999999"], cwd=NODE_DIR)
    assert done.returncode == 1
    assert "HTTP 404" in done.stderr and "document_not_found" in done.stderr


# --------------------------------------------------------------------------- the purchase flow (writes)

PURCHASE_LINES = [
    "enrolled contact 67890: 0 pts · Bronze",
    "order ORD-200001 (+300) completed: 300 pts · Silver",
    "order ORD-200002 (+250) completed: 550 pts · Gold",
]


def test_the_python_purchase_flow_moves_the_member_from_silver_to_gold(mock: RunningMock) -> None:
    mock.reset()
    done = run([sys.executable, str(EXAMPLES / "python" / "purchase_flow.py"), "--base-url", mock.base_url],
               env=in_2031(python=True))  # nothing in the flow may depend on the date it runs
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == PURCHASE_LINES
    assert len(lines) == 5
    assert lines[3].startswith("voucher ") and lines[3].endswith("attributed: codes left 250 -> 249")
    assert lines[4] == lines[3].split(" attributed")[0] + " redeemed (completed): 0 usable voucher(s) left"
    assert mock.violations == []
    # Enrolling is once per contact: the same run again is refused, in Brevo's error shape, and says so.
    again = run([sys.executable, str(EXAMPLES / "python" / "purchase_flow.py"), "--base-url", mock.base_url])
    assert again.returncode == 1 and "HTTP 4" in again.stderr


def test_the_node_purchase_flow_moves_the_member_from_silver_to_gold(mock: RunningMock, node: str) -> None:
    mock.reset()
    done = run([node, "purchase_flow.mjs", "--base-url", mock.base_url], cwd=NODE_DIR, env=in_2031(python=False))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == PURCHASE_LINES
    assert len(lines) == 5
    assert lines[3].endswith("attributed: codes left 250 -> 249")
    assert lines[4] == lines[3].split(" attributed")[0] + " redeemed (completed): 0 usable voucher(s) left"
    assert mock.violations == []


# --------------------------------------------------------------------------- nothing listening, wrong options

NOBODY = "http://127.0.0.1:9/v3"  # the discard port: nothing listens there on a test machine


@pytest.mark.parametrize("example", [*PYTHON_EXAMPLES, "purchase_flow.py"])
def test_a_python_example_with_no_mock_says_so_in_one_line(example: str) -> None:
    done = run([sys.executable, str(EXAMPLES / "python" / example), "--base-url", NOBODY])
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"cannot reach {NOBODY}: ") and done.stderr.count("\n") == 1, done.stderr
    assert "is the mock running (make run)?" in done.stderr


def test_a_python_example_names_a_wrong_now() -> None:
    done = run([sys.executable, str(EXAMPLES / "python" / "widget_member_sync.py"), "--now", "yesterday"])
    assert done.returncode == 2
    assert "argument --now: not an ISO 8601 instant: 'yesterday'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("example", ["widget_member.mjs", "purchase_flow.mjs"])
def test_a_node_example_with_no_mock_or_a_wrong_option_says_so_in_one_line(node: str, example: str) -> None:
    done = run([node, example, "--base-url", NOBODY], cwd=NODE_DIR)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"cannot reach {NOBODY}: ") and done.stderr.count("\n") == 1, done.stderr
    wrong = run([node, example, "--bogus"], cwd=NODE_DIR)
    assert wrong.returncode == 2 and wrong.stderr.startswith("Unknown option '--bogus'"), wrong.stderr
    assert "    at " not in wrong.stderr  # no stack trace
    usage = run([node, example, "--help"], cwd=NODE_DIR)
    assert usage.returncode == 0 and usage.stdout.startswith(f"usage: node {example}") and "--base-url" in usage.stdout
