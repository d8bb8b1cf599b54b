"""Every option of every command, and every `BREVO_MOCK_*` variable, is documented in the README or docs/:
a flag a user finds in `--help` can be looked up."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from mock_server.cli import build_parser
from mock_server.settings import Settings, to_env

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = "\n".join(page.read_text(encoding="utf-8")
                       for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))))


def options() -> list[tuple[str, str]]:
    """(command, option) for every long option of every command, `--no-x` forms left to their `--x`."""
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    found = []
    for name, parser in commands.choices.items():
        for action in parser._actions:
            longs = [flag for flag in action.option_strings if flag.startswith("--") and flag != "--help"]
            if longs:
                found.append((name, min(longs, key=lambda flag: flag.startswith("--no-"))))
    return found


def test_every_option_of_every_command_is_documented() -> None:
    found = options()
    assert ("serve", "--state-truncate") in found and ("conformance", "--allow-writes") in found
    missing = [f"{name} {flag}" for name, flag in found
               if not re.search(re.escape(flag) + r"(?![\w-])", DOCUMENTED)
               and not re.search(re.escape("--no-" + flag[2:]) + r"(?![\w-])", DOCUMENTED)]
    assert not missing, f"options in --help that no page documents: {missing}"


# Set by `serve --workers N` for the worker processes it starts, not by a user.
INTERNAL_VARIABLES = {"BREVO_MOCK_SHARED_DIR"}


def test_every_environment_variable_is_documented() -> None:
    names = [name for name in to_env(Settings()) if name not in INTERNAL_VARIABLES]
    assert "BREVO_MOCK_CLOCK" in names
    missing = [name for name in names if not re.search(re.escape(name) + r"(?![\w])", DOCUMENTED)]
    assert not missing, f"variables that no page documents: {missing}"
