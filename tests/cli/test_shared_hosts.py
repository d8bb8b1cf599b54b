"""Containers and shared hosts: a usable URL in the banner, and /__mock__/ opened to a network on request.

With ``--host 0.0.0.0`` (a container, a VM) the banner must print a URL a
client can use, and the developer outside the container reaches the mock
from the container's gateway address, not loopback: ``--admin-from CIDR``
lets such a network use /__mock__/ (loopback stays the default).
Servers here bind 127.0.0.1 only; the other addresses are in-process clients.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.banner import banner, usable_host
from mock_server.cli import build_parser, main, settings_from_args
from mock_server.settings import (
    Settings,
    SettingsError,
    overrides_from_env,
    parse_admin_from,
    parse_allowed_host,
    to_env,
)

SETTINGS = Settings(seed=1, contacts=20, access_log=False)
GATEWAY = "172.17.0.1"  # where a container sees its host's port-forwarded requests come from


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app(SETTINGS)


def banner_of(app: Any, **changes: Any) -> str:
    settings = replace(app.state.mock.settings, port=8080, **changes)
    return banner(settings, app.state.mock)


@pytest.mark.parametrize(("host", "base_url"), [
    ("0.0.0.0", "http://127.0.0.1:8080/v3"),
    ("::", "http://[::1]:8080/v3"),
])
def test_a_wildcard_bind_prints_a_loopback_url_and_says_it_listens_everywhere(app: Any, host: str, base_url: str
                                                                              ) -> None:
    text = banner_of(app, host=host)
    lines = text.splitlines()
    assert lines[1].split() == ["base", "URL", base_url]
    assert "0.0.0.0:" not in text.replace(f"({host}:8080)", "") and "http://:::" not in text
    assert any(line.split()[:4] == ["listening", "on", "all", "interfaces"] and f"({host}:8080)" in line
               for line in lines)
    root = base_url.removesuffix("/v3")
    assert f"{root}/__mock__/world" in text and f"curl -s -H 'api-key: {SETTINGS.default_key}' {base_url}/" in text


@pytest.mark.parametrize(("host", "url_host"), [("127.0.0.1", "127.0.0.1"), ("::1", "[::1]"),
                                                ("localhost", "localhost"), ("192.168.1.7", "192.168.1.7")])
def test_a_specific_bind_is_printed_as_it_is(app: Any, host: str, url_host: str) -> None:
    assert usable_host(host) == url_host
    text = banner_of(app, host=host)
    assert f"http://{url_host}:8080/v3" in text and "all interfaces" not in text


def get(app: Any, client: str, target: str = "/__mock__/world") -> Any:
    with TestClient(app, base_url="http://127.0.0.1:8080", client=(client, 40000)) as test_client:
        return test_client.get(target)


def test_by_default_only_loopback_clients_use_the_admin_endpoints(app: Any) -> None:
    assert get(app, "127.0.0.1").status_code == 200
    answer = get(app, GATEWAY)
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
    assert "--admin-from" in answer.json()["message"]  # says how to open it


@pytest.mark.parametrize("client", [GATEWAY, "172.17.255.254", "::ffff:172.17.0.1", "fd00::7"])
def test_admin_from_lets_its_networks_in(client: str) -> None:
    app = create_app(replace(SETTINGS, admin_from=("172.17.0.0/16", "fd00::/8")))
    answer = get(app, client)
    assert answer.status_code == 200 and answer.json()["apiKeys"] == [SETTINGS.default_key]
    assert get(app, client, "/__mock__/health").json()["organisations"] == ["default"]
    assert get(app, "127.0.0.1").status_code == 200  # loopback stays


@pytest.mark.parametrize("client", ["172.18.0.1", "10.0.0.2", "fe80::1"])
def test_admin_from_lets_no_one_else_in(client: str) -> None:
    app = create_app(replace(SETTINGS, admin_from=("172.17.0.0/16", "fd00::/8")))
    answer = get(app, client)
    assert answer.status_code == 403
    assert "172.17.0.0/16, fd00::/8" in answer.json()["message"] and client in answer.json()["message"]
    assert get(app, client, "/__mock__/health").json() == {"status": "ok"}


def test_the_flag_is_repeatable_and_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BREVO_MOCK_ADMIN_FROM", "10.0.0.0/8, 192.168.1.7")
    from_env = settings_from_args(build_parser().parse_args(["serve"]))
    assert from_env.admin_from == ("10.0.0.0/8", "192.168.1.7/32")
    args = build_parser().parse_args(["serve", "--admin-from", "172.17.0.0/16", "--admin-from", "fd00::/8",
                                      "--allowed-host", "DevBox.lan"])
    settings = settings_from_args(args)
    assert settings.admin_from == ("172.17.0.0/16", "fd00::/8")
    assert settings.allowed_hosts == ("devbox.lan",)
    assert overrides_from_env(to_env(settings))["admin_from"] == settings.admin_from  # --workers keep it
    assert overrides_from_env(to_env(settings))["allowed_hosts"] == settings.allowed_hosts


def test_a_network_is_normalised_and_a_bad_one_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_admin_from("172.17.0.1/16") == "172.17.0.0/16"
    with pytest.raises(SettingsError, match="admin network 'docker'"):
        parse_admin_from("docker")
    assert parse_allowed_host("[::1]") == "::1"
    with pytest.raises(SettingsError, match="allowed host 'http://devbox"):
        parse_allowed_host("http://devbox.lan")
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--admin-from", "10.0.0.0/33"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "argument --admin-from: admin network '10.0.0.0/33'" in error


@pytest.mark.parametrize(("changes", "named"), [
    ({"admin_from": ("docker",)}, "admin network 'docker'"),
    ({"admin_from": ("10.0.0.1/8",)}, "write it as '10.0.0.0/8'"),
    ({"allowed_hosts": ("DevBox.lan",)}, "write it as 'devbox.lan'"),
])
def test_settings_built_in_code_are_checked_too(changes: dict[str, Any], named: str) -> None:
    # As the pytest plugin builds them: a mistake is one clear error, not a crash when the app starts.
    with pytest.raises(SettingsError) as error:
        replace(SETTINGS, **changes)
    assert named in str(error.value)


def test_the_banner_names_the_networks_let_in(app: Any) -> None:
    text = banner_of(app, admin_from=("172.17.0.0/16",))
    assert "/__mock__/ answers loopback and 172.17.0.0/16" in text
