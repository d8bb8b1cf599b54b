"""A fixture is named the same way everywhere: by the flag, by BREVO_MOCK_FIXTURES, in the ini file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mock_server.fixtures import FixtureError, fixture_file, shipped_fixture
from mock_server.settings import overrides_from_env

from .proc import ROOT, command, environment

WIDGET_PROGRAM = "27d1dd7a-af67-4020-ba65-19d60000a26e"


def test_the_environment_variable_takes_a_shipped_name_like_the_flag() -> None:
    done = subprocess.run(command("world", "--contacts", "20", "--sample", "0"), capture_output=True, text=True,
                          timeout=60, cwd=ROOT / "docs",  # not where fixtures/ is: the name must be resolved
                          env=environment({"BREVO_MOCK_FIXTURES": "widget-member"}))
    assert done.returncode == 0, done.stderr
    assert WIDGET_PROGRAM in [program["id"] for program in json.loads(done.stdout)["programs"]]


def test_the_environment_and_the_flag_resolve_alike() -> None:
    values = overrides_from_env({"BREVO_MOCK_FIXTURES": "widget-member,widget-member.yaml"})
    assert values["fixtures"] == (shipped_fixture("widget-member"), shipped_fixture("widget-member"))


def test_an_unknown_name_is_refused_on_one_line_naming_the_path_tried(tmp_path: Path) -> None:
    done = subprocess.run(command("world"), capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=environment({"BREVO_MOCK_FIXTURES": "widget-membr"}))
    assert done.returncode == 2
    assert done.stderr == (f"brevo-loyalty-mock: error: fixture 'widget-membr': no file {tmp_path / 'widget-membr'}, "
                           "and no shipped fixture of that name (shipped: widget-member)\n")


def test_a_relative_path_is_read_from_the_base_given(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("programs: [{name: Mine}]\n")
    assert fixture_file("mine.yaml", base=tmp_path) == tmp_path / "mine.yaml"
    assert fixture_file("widget-member", base=tmp_path) == shipped_fixture("widget-member")
    assert fixture_file("gone.yaml", base=tmp_path) == tmp_path / "gone.yaml"  # load_fixture names it missing
    with pytest.raises(FixtureError, match="no file /"):
        fixture_file("gone", base=tmp_path)
