"""A developer's first minutes with the command: help, the banner, a large world, the ids.

The server runs as a real process (`python -m mock_server serve --port 0`), as
after `pip install`; it is stopped with Ctrl-C (SIGINT) at the end of each test.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from mock_server.cli import build_parser

WIDGET_PROGRAM = "27d1dd7a-af67-4020-ba65-19d60000a26e"
COMMANDS = ["serve", "world", "conformance", "proxy", "fixture-schema"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help_with_examples(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"] if command else ["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "\nexamples:\n" in text
    examples = text.split("\nexamples:\n", 1)[1]
    if command:
        assert f"brevo-loyalty-mock {command}" in examples


@contextmanager
def serving(*flags: str, stderr_tty: bool = False) -> Iterator[tuple[subprocess.Popen[str], list[str], str]]:
    """Start the server; yield (process, banner lines, what stderr showed before the banner)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("BREVO_MOCK_PORT", None)
    master = slave = None
    if stderr_tty:
        master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--port", "0", "--no-access-log",
                                *flags], stdout=subprocess.PIPE, stderr=slave if slave is not None else subprocess.PIPE,
                               text=True, env=env)
    if slave is not None:
        os.close(slave)
    try:
        assert process.stdout is not None
        banner: list[str] = []
        deadline = time.monotonic() + 60
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if line.lstrip().startswith("all ids") or time.monotonic() > deadline:
                break
        early = ""
        if master is not None:  # the seeding ran before the banner: its output waits in the pty
            while "100%" not in early and select.select([master], [], [], 5)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                early += chunk.decode(errors="replace")
        yield process, banner, early
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)  # a loaded machine: the world may still be seeding
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if master is not None:
                os.close(master)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def field(banner: list[str], name: str) -> str:
    for line in banner:
        if line.strip().startswith(name + " "):
            return line.strip()[len(name):].strip()
    raise AssertionError(f"no '{name}' line in the banner:\n" + "\n".join(banner))


def test_the_banner_says_where_with_which_key_and_what_to_try() -> None:
    started = time.monotonic()
    with serving("--fixture", "widget-member", "--contacts", "200") as (process, banner, _):
        elapsed = time.monotonic() - started
        assert elapsed < 20, f"the banner took {elapsed:.1f} s"
        base_url = field(banner, "base URL")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v3", base_url)
        key = field(banner, "api-key")
        assert key == "xkeysib-loyalty-mock-local-key"
        assert any(WIDGET_PROGRAM in line and "Storefront Rewards" in line for line in banner)

        # The ready curl works as pasted, and reads the fixture's member.
        curl = shlex.split(field(banner, "try"))
        assert curl[:3] == ["curl", "-s", "-H"]
        header_name, _, header_value = curl[3].partition(": ")
        answer = httpx.get(curl[4], headers={header_name: header_value})
        assert answer.status_code == 200 and answer.json()["balance"][0]["value"] == 340

        root = base_url.removesuffix("/v3")
        assert field(banner, "browse").split()[0] == f"{root}/__mock__/"
        widget = field(banner, "widget")
        assert widget == f"{root}/__mock__/widget?contactId=12345&pid={WIDGET_PROGRAM}"
        assert httpx.get(widget).status_code == 200
        assert httpx.get(field(banner, "all ids")).json()["programs"]
        assert process.poll() is None
    assert process.returncode == 0  # Ctrl-C is a normal stop


def test_a_restricted_cors_policy_is_in_the_banner() -> None:
    with serving("--contacts", "20", "--cors-origin", "http://localhost:3000") as (_, banner, _):
        assert field(banner, "cors") == "browsers may call from http://localhost:3000"
    with serving("--contacts", "20") as (_, banner, _):
        assert not any(line.strip().startswith("cors ") for line in banner)


def test_the_webhook_endpoints_are_in_the_banner_with_their_password_masked() -> None:
    flags = ("--webhook", "http://hook:s3cret@127.0.0.1:9/hooks", "--webhook", "http://127.0.0.1:9/other",
             "--webhook-events", "voucher_created,subscription_created")
    with serving("--contacts", "20", *flags) as (_, banner, _):
        shown = [line.strip() for line in banner if line.strip().startswith("webhook ")]
        assert shown == [
            "webhook    http://hook:***@127.0.0.1:9/hooks (subscription_created, voucher_created; deliveries: "
            "/__mock__/webhooks/deliveries)",
            "webhook    http://127.0.0.1:9/other (subscription_created, voucher_created; deliveries: "
            "/__mock__/webhooks/deliveries)"]
        assert "s3cret" not in "\n".join(banner)
    with serving("--contacts", "20") as (_, banner, _):
        assert not any(line.strip().startswith("webhook ") for line in banner)


def test_a_large_world_shows_a_progress_bar_on_a_terminal() -> None:
    with serving("--contacts", "20000", stderr_tty=True) as (_, banner, early):
        assert "seeding world [" in early
        assert "[#########################] 100%" in early
        assert field(banner, "world").startswith("seed 1, 20,000 contacts per published program")


def test_world_prints_the_ids_as_json_without_serving() -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "world", "--seed", "7", "--contacts", "30",
                           "--fixture", "widget-member", "--sample", "2"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    world = json.loads(done.stdout)
    assert world["seed"] == 7 and world["contacts"] == 30
    storefront = next(program for program in world["programs"] if program["id"] == WIDGET_PROGRAM)
    assert storefront["members"][0] == {"contactId": 12345, "loyaltySubscriptionId": "cust_abc123", "fixture": True}
    others = [program for program in world["programs"] if program["id"] != WIDGET_PROGRAM]
    # A sample of members from each published program; the never-published one has none.
    assert others and all(len(program["members"]) == (0 if program["state"] == "inactive" else 2)
                          for program in others)
    assert any(program["state"] == "inactive" for program in others)
    # Same flags, same bytes.
    again = subprocess.run([sys.executable, "-m", "mock_server", "world", "--seed", "7", "--contacts", "30",
                            "--fixture", "widget-member", "--sample", "2"], capture_output=True, text=True, timeout=120)
    assert again.stdout == done.stdout


def test_a_broken_fixture_stops_world_with_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "world", "--fixture", "no-such-fixture"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"brevo-loyalty-mock: error: fixture 'no-such-fixture': no file {os.getcwd()}/no-such-fixture, and no "
        "shipped fixture of that name (shipped: widget-member)"]
