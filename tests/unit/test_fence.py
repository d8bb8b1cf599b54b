"""The fence around the uvicorn internals: one list, complete, checked at start-up, with a fallback.

`make test-uvicorn-window` runs this file on the oldest and the newest uvicorn
pyproject.toml allows, next to the differential protocol tests.
"""

from __future__ import annotations

import ast
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_server import fence
from mock_server.app import create_app
from mock_server.cli import build_parser, settings_from_args
from mock_server.direct import DirectHttpToolsProtocol
from mock_server.fence import UVICORN_INTERNALS, http_protocol, internals_missing, missing_internals
from mock_server.limits import LimitedHttpToolsProtocol
from mock_server.server import uvicorn_options
from mock_server.settings import DEFAULT_API_KEY, Settings, SettingsError, overrides_from_env, to_env
from tests.support.serving import serving

PROTOCOL_MODULES = [Path(fence.__file__).with_name(name) for name in ("limits.py", "direct.py")]
# Where each uvicorn object is reached from in the protocol modules.
REACHED_AS = {"RequestResponseCycle": {"cycle"}, "FlowControl": {"flow"}, "ServerState": {"server_state"},
              "ProxyHeadersMiddleware": {"app"}}


@pytest.fixture(autouse=True)
def _checked_afresh() -> Iterator[None]:
    """Each test checks the uvicorn it sees (monkeypatched or not); the process-wide answer is restored after."""
    internals_missing.cache_clear()
    yield
    internals_missing.cache_clear()


def test_this_uvicorn_has_every_member_and_serve_runs_the_direct_path() -> None:
    assert missing_internals() == []
    assert http_protocol() is DirectHttpToolsProtocol
    assert uvicorn_options(Settings())["http"] is DirectHttpToolsProtocol


def _uvicorn_members_used(tree: ast.Module) -> dict[str, set[str]]:
    """Owner -> members the protocol classes of a module take from uvicorn, read from their source."""
    used: dict[str, set[str]] = {owner: set() for owner in UVICORN_INTERNALS}
    own: set[str] = set()  # what our classes define: methods, class attributes, attributes set in __init__
    methods: set[str] = set()
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef) and node.name.endswith("Protocol")):
        for item in cls.body:
            if isinstance(item, ast.FunctionDef):
                methods.add(item.name)
                if item.name == "__init__":
                    own.update(target.attr for node in ast.walk(item) if isinstance(node, ast.Assign | ast.AnnAssign)
                               for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                               if isinstance(target, ast.Attribute))
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                own.add(item.target.id)
    # A method of ours that uvicorn's protocol has is an override: uvicorn must still call it.
    used["HttpToolsProtocol"] |= {name for name in methods if hasattr(HttpToolsProtocol, name)} - {"__init__"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("uvicorn"):
            names = {alias.name for alias in node.names if f"{node.module}.{alias.name}" not in UVICORN_INTERNALS}
            used.setdefault(node.module or "", set()).update(names)  # a module of the list is an owner, not a member
        if not isinstance(node, ast.Attribute):
            continue
        value = node.value
        if isinstance(value, ast.Name) and value.id == "self" and node.attr not in own | methods:
            used["HttpToolsProtocol"].add(node.attr)
        if isinstance(value, ast.Name) and value.id == "httptools_impl":
            used["uvicorn.protocols.http.httptools_impl"].add(node.attr)
        holder = value.attr if isinstance(value, ast.Attribute) else value.id if isinstance(value, ast.Name) else ""
        for owner, names in REACHED_AS.items():
            if holder in names:
                used[owner].add(node.attr)
    return used


def test_the_list_names_every_uvicorn_member_the_protocols_use() -> None:
    for module in PROTOCOL_MODULES:
        used = _uvicorn_members_used(ast.parse(module.read_text()))
        assert used["HttpToolsProtocol"], "the source reading found nothing: it is broken"
        unlisted = {owner: sorted(names - set(UVICORN_INTERNALS.get(owner, {}))) for owner, names in used.items()}
        unlisted = {owner: names for owner, names in unlisted.items() if names}
        assert not unlisted, f"{module.name} uses uvicorn members UVICORN_INTERNALS does not list: {unlisted}"


def _answers_a_read(options: dict[str, Any]) -> bytes:
    settings = Settings(seed=1, contacts=5, access_log=False)
    with serving(create_app(settings), **options) as port, \
            socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /v3/loyalty/config/programs HTTP/1.1\r\nhost: 127.0.0.1\r\napi-key: "
                     + DEFAULT_API_KEY.encode() + b"\r\nconnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_a_uvicorn_without_a_member_gets_its_own_protocol_and_one_warning(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # uvicorn before 0.30.6 had no `_unsupported_upgrade_warning`: limits.py would fail on an `Upgrade: h2c`.
    monkeypatch.delattr(HttpToolsProtocol, "_unsupported_upgrade_warning")
    with caplog.at_level(logging.WARNING, logger="brevo_loyalty_mock"):
        options = uvicorn_options(Settings(access_log=False))
        assert uvicorn_options(Settings(access_log=False, direct_path=False))["http"] == "httptools"
    assert options["http"] == "httptools"
    [warning] = [record.getMessage() for record in caplog.records if record.name == "brevo_loyalty_mock"]
    assert "HttpToolsProtocol._unsupported_upgrade_warning" in warning
    assert fence.tested_uvicorn() in warning and "docs/limits.md" in warning
    assert _answers_a_read(options).startswith(b"HTTP/1.1 200")  # the server still serves


def test_a_member_set_per_object_is_checked_on_a_live_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most members are attributes uvicorn sets on each object it builds, invisible on the classes."""

    def renamed(self: Any, app: Any, trusted_hosts: Any = "127.0.0.1") -> None:  # `app` kept under another name
        self.wrapped = app

    monkeypatch.setattr(ProxyHeadersMiddleware, "__init__", renamed)
    assert not hasattr(ProxyHeadersMiddleware, "app")  # so a look at the class alone would not tell
    assert missing_internals() == ["ProxyHeadersMiddleware.app"]


def test_a_protocol_that_cannot_answer_the_sample_request_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def changed(self: Any, config: Any, server_state: Any) -> None:  # a new constructor signature
        raise AssertionError("not called with these arguments")

    monkeypatch.setattr(HttpToolsProtocol, "__init__", changed)
    [problem] = missing_internals()
    assert "TypeError" in problem and "httptools protocol" in problem
    assert http_protocol() == "httptools"


def test_no_direct_path_from_the_flag_and_the_environment() -> None:
    parser = build_parser()
    assert settings_from_args(parser.parse_args(["serve"])).direct_path is True
    assert settings_from_args(parser.parse_args(["serve", "--no-direct-path"])).direct_path is False
    assert overrides_from_env({"BREVO_MOCK_DIRECT_PATH": "false"}) == {"direct_path": False}
    settings = Settings(direct_path=False)
    assert Settings(**overrides_from_env(to_env(settings))) == settings  # as --workers hands it on
    # The limits stay; only the direct answers go.
    assert uvicorn_options(settings)["http"] is LimitedHttpToolsProtocol


def test_a_bad_direct_path_value_is_named() -> None:
    with pytest.raises(SettingsError, match="BREVO_MOCK_DIRECT_PATH"):
        overrides_from_env({"BREVO_MOCK_DIRECT_PATH": "fast"})
