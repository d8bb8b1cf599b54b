"""The pytest plugin, as a user gets it: our wheel installed in a fresh project, nothing else of ours.

The test builds our wheel offline, creates a new virtualenv that sees this
one's third-party packages (a .pth file) but not our source tree, installs
the wheel there, writes a small test project using `brevo_mock`, and runs
pytest on it in a subprocess. The plugin must load from the entry point, the
fixture must serve, and a test whose client sends the obsolete `contact_id`
must fail under the `brevo_contract` marker and under `--brevo-check-client`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROJECT_TESTS = '''
import httpx
import pytest

import mock_server


def test_the_wheel_is_what_runs(brevo_mock):
    assert "/work_venv/" in mock_server.__file__.replace("\\\\", "/")


def test_programs(brevo_mock):
    assert brevo_mock.base_url.endswith("/v3")
    answer = httpx.get(brevo_mock.base_url + "/loyalty/config/programs", headers={"api-key": brevo_mock.api_key})
    assert answer.status_code == 200 and answer.json()["items"]
    assert [entry.operation_id for entry in brevo_mock.requests] == ["getLPList"]


def test_each_test_starts_with_an_empty_journal(brevo_mock):
    assert brevo_mock.requests == []
    httpx.get(brevo_mock.base_url + "/loyalty/config/programs")
    assert brevo_mock.violations == ["missing 'api-key' header"]
    brevo_mock.reset()
    assert brevo_mock.requests == []


def test_load_fixture_and_the_official_client(brevo_mock):
    from brevo import Brevo

    brevo_mock.load_fixture("widget-member.yaml")
    client = Brevo(api_key=brevo_mock.api_key, base_url=brevo_mock.base_url)
    balances = client.balance.get_subscription_balances("27d1dd7a-af67-4020-ba65-19d60000a26e", "12345")
    assert [entry.value for entry in balances.balance] == [340]


def test_the_fixture_is_gone_in_the_next_test(brevo_mock):
    ids = [program["id"] for program in brevo_mock.world["programs"]]
    assert "27d1dd7a-af67-4020-ba65-19d60000a26e" not in ids


def test_a_shipped_fixture_by_its_name(brevo_mock):
    brevo_mock.load_fixture("widget-member")  # from the installed package, not the project's copy
    answer = httpx.get(brevo_mock.base_url + "/loyalty/config/programs/27d1dd7a-af67-4020-ba65-19d60000a26e",
                       headers={"api-key": brevo_mock.api_key})
    assert answer.status_code == 200 and answer.json()["name"]


def wrong_client(brevo_mock):
    program = brevo_mock.world["programs"][0]
    contact = program["members"][0]["contactId"]
    answer = httpx.get(brevo_mock.base_url + f"/loyalty/offer/programs/{program['id']}/vouchers",
                       params={"contactId": contact, "contact_id": contact}, headers={"api-key": brevo_mock.api_key})
    assert answer.status_code == 200  # the server tolerates it: only the contract check sees it


@pytest.mark.brevo_contract
def test_marked_wrong_client(brevo_mock):
    wrong_client(brevo_mock)


def test_unmarked_wrong_client(brevo_mock):
    wrong_client(brevo_mock)
'''


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("fresh")
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(dist), str(ROOT)], check=True, timeout=300, cwd=work)
    [wheel] = dist.glob("brevo_loyalty_mock-*.whl")
    venv = work / "work_venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Third-party packages (pytest, httpx, brevo...) from this virtualenv; not our sources.
    (site / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
                    str(wheel)], check=True, timeout=300)
    return python


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    (folder / "test_widget.py").write_text(textwrap.dedent(PROJECT_TESTS))
    shutil.copy(ROOT / "fixtures" / "widget-member.yaml", folder / "widget-member.yaml")
    (folder / "pytest.ini").write_text("[pytest]\nbrevo_mock_contacts = 50\n")
    return folder


def run_pytest(python: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", *args],
                          cwd=project, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_brevo_mock_works_and_the_marker_fails_a_contract_breaking_client(fresh_python: Path,
                                                                         project: Path) -> None:
    done = run_pytest(fresh_python, project)
    output = done.stdout + done.stderr
    assert "1 failed, 7 passed" in output, output
    assert "FAILED test_widget.py::test_marked_wrong_client" in output
    assert "the client broke the Brevo Loyalty contract in 1 request(s)" in output
    assert "Unknown query parameter 'contact_id' for getVoucherForAContact; did you mean 'contactId'?" in output


# A project whose tests live in app/, run from the project and from its parent: relative fixture paths are
# read from the pytest root directory (where pytest.ini is), never from wherever pytest was started.
ROOTED_TESTS = '''
import json
import subprocess
import sys

import pytest

from mock_server.fixtures import FixtureError


def test_load_fixture_reads_a_relative_path_from_the_root_directory(brevo_mock):
    brevo_mock.load_fixture("scenarios/my-scenario.yaml")
    assert "Scenario Rewards" in [program["name"] for program in brevo_mock.world["programs"]]


def test_the_ini_fixture_is_read_from_the_root_directory(brevo_mock):
    assert "Ini Rewards" in [program["name"] for program in brevo_mock.world["programs"]]


def test_a_missing_fixture_names_the_path_tried(brevo_mock, pytestconfig):
    with pytest.raises(FixtureError) as raised:
        brevo_mock.load_fixture("scenarios/missing.yaml")
    assert str(pytestconfig.rootpath / "scenarios" / "missing.yaml") in str(raised.value)


def test_the_default_world_is_the_one_serve_builds(brevo_mock, pytestconfig):
    # Same seed, same contacts per program: the ids and numbers a test sees are the command line's.
    fixture = str(pytestconfig.rootpath / "scenarios" / "ini.yaml")
    done = subprocess.run([sys.executable, "-m", "mock_server", "world", "--fixture", fixture],
                          capture_output=True, text=True, check=True)
    assert brevo_mock.world == json.loads(done.stdout)
'''

SCENARIO = """
programs:
  - name: {name}
    balanceDefinitions: [{{name: Points, unit: POINTS}}]
    members:
      - contactId: 42
        balances: [{{balanceDefinition: Points, balance: 640}}]
"""


@pytest.fixture(scope="module")
def rooted_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rooted") / "project"
    (folder / "app").mkdir(parents=True)
    (folder / "scenarios").mkdir()
    (folder / "app" / "test_paths.py").write_text(textwrap.dedent(ROOTED_TESTS))
    (folder / "scenarios" / "my-scenario.yaml").write_text(SCENARIO.format(name="Scenario Rewards"))
    (folder / "scenarios" / "ini.yaml").write_text(SCENARIO.format(name="Ini Rewards"))
    (folder / "pytest.ini").write_text("[pytest]\nbrevo_mock_fixtures = scenarios/ini.yaml\n")
    return folder


@pytest.mark.parametrize("where", ["project", "app", "parent"])
def test_relative_fixture_paths_do_not_depend_on_where_pytest_runs(fresh_python: Path, rooted_project: Path,
                                                                   where: str) -> None:
    cwd = {"project": rooted_project, "app": rooted_project / "app", "parent": rooted_project.parent}[where]
    target = str(rooted_project / "app")
    done = run_pytest(fresh_python, cwd, target)
    output = done.stdout + done.stderr
    assert "4 passed" in output and done.returncode == 0, output


def test_the_option_checks_every_test(fresh_python: Path, project: Path) -> None:
    done = run_pytest(fresh_python, project, "--brevo-check-client", "-k", "wrong_client")
    output = done.stdout + done.stderr
    assert "2 failed" in output and "FAILED test_widget.py::test_unmarked_wrong_client" in output, output


def test_the_installed_package_ships_the_fixture_schema_next_to_its_fixtures(fresh_python: Path) -> None:
    done = subprocess.run([str(fresh_python), "-m", "mock_server", "fixture-schema", "--path"], capture_output=True,
                          text=True, timeout=60, check=False, cwd=fresh_python.parent)
    assert done.returncode == 0, done.stderr
    schema = Path(done.stdout.strip())
    assert "work_venv" in schema.parts and schema.name == "fixture.schema.json"
    # The shipped fixture's modeline (`$schema=fixture.schema.json`) resolves in the installed copy too.
    assert (schema.parent / "widget-member.yaml").read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=fixture.schema.json\n")
