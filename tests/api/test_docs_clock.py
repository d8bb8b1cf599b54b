"""docs/time.md's console transcript, replayed on a fresh default world: what the page shows is what a
user gets (a wildcard `...` stands for a value the page leaves out)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import orjson

from mock_server.app import create_app
from mock_server.settings import Settings
from tests.api.support import client_for

PAGE = Path(__file__).resolve().parents[2] / "docs" / "time.md"


def transcript() -> list[tuple[list[str], Any]]:
    """The first console block's commands, each with the JSON printed under it (None when none is)."""
    block = re.search(r"```console\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/time.md has no console block"
    steps: list[tuple[list[str], Any]] = []
    for line in block.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((shlex.split(line[2:]), None))
        else:
            steps[-1] = (steps[-1][0], orjson.loads(line))
    return steps


def agrees(shown: Any, got: Any) -> bool:
    if isinstance(shown, dict):
        return isinstance(got, dict) and shown.keys() == got.keys() and all(
            value == "..." or agrees(value, got[key]) for key, value in shown.items())
    return shown == got


def test_the_clock_transcript_is_what_a_fresh_default_world_answers() -> None:
    client = client_for(create_app(Settings(access_log=False)), key=None)
    steps = transcript()
    assert len(steps) >= 2
    for command, shown in steps:
        assert command[:2] == ["curl", "-s"]
        url, headers, body = command[2], {}, None
        flags = iter(command[3:])
        for flag in flags:
            value = next(flags)
            if flag == "-H":
                name, _, header = value.partition(": ")
                headers[name] = header.replace("KEY", "xkeysib-loyalty-mock-local-key")
            else:
                assert flag == "-d", flag
                body = value
        path = url.split("/", 1)[1]
        answer = (client.post(f"/{path}", content=body, headers=headers) if body is not None
                  else client.get(f"/{path}", headers=headers))
        assert answer.status_code == 200, (command, answer.text)
        if shown is not None:
            assert agrees(shown, answer.json()), (command, answer.json())
