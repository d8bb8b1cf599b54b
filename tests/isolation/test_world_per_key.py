"""`serve --world-per-key PREFIX`: every key with the prefix reads and writes a world of its own.

What parallel CI jobs sharing one mock rely on: a job's writes are invisible to every
other key, the same key always finds its own world again, a reset touches one key's
world only, idle worlds go away (and their key starts again from the seeded world),
and the same key with the same requests gets the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.cli import build_parser, main, settings_from_args
from mock_server.keynames import PER_KEY_ORGANISATION, key_organisation
from mock_server.settings import ApiKey, Settings, SettingsError, overrides_from_env, parse_idle_timeout, to_env

PREFIX = "xkeysib-test-"
PROGRAMS = "/v3/loyalty/config/programs"
ADMIN = {"X-Brevo-Mock": "1"}  # what a state-changing /__mock__/ call carries (mock_server/admin_guard.py)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"seed": 1, "contacts": 20, "access_log": False, "world_per_key": PREFIX}
    return Settings(**{**values, **overrides})


@pytest.fixture
def app() -> Any:
    return create_app(settings(forbidden_keys=(f"{PREFIX}banned",),
                               api_keys=(ApiKey("xkeysib-loyalty-mock-local-key"), ApiKey(f"{PREFIX}ops", "ops"))))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def create_program(client: TestClient, key: str, name: str) -> dict[str, Any]:
    response = client.post(PROGRAMS, json={"name": name}, headers={"api-key": key})
    assert response.status_code == 200, response.text
    return response.json()


def program_names(client: TestClient, key: str) -> set[str]:
    response = client.get(PROGRAMS, params={"limit": 100}, headers={"api-key": key})
    assert response.status_code == 200, response.text
    return {item["name"] for item in response.json()["items"]}


def test_two_keys_with_the_prefix_never_see_each_others_writes(client: TestClient) -> None:
    seeded = program_names(client, "xkeysib-loyalty-mock-local-key")
    create_program(client, f"{PREFIX}gw0", "written by gw0")
    create_program(client, f"{PREFIX}gw1", "written by gw1")
    assert program_names(client, f"{PREFIX}gw0") == seeded | {"written by gw0"}
    assert program_names(client, f"{PREFIX}gw1") == seeded | {"written by gw1"}
    # Neither the default organisation nor a key that has not written yet sees anything of theirs.
    assert program_names(client, "xkeysib-loyalty-mock-local-key") == seeded
    assert program_names(client, f"{PREFIX}gw2") == seeded


def test_a_per_key_world_starts_from_the_default_organisations_seeded_world(client: TestClient) -> None:
    default = client.get(PROGRAMS, headers={"api-key": "xkeysib-loyalty-mock-local-key"})
    per_key = client.get(PROGRAMS, headers={"api-key": f"{PREFIX}fresh"})
    assert per_key.status_code == 200 and per_key.content == default.content


def test_keys_without_the_prefix_and_forbidden_keys_are_refused_as_before(client: TestClient) -> None:
    for key in ("xkeysib-other-gw0", "xkeysib-test", PREFIX.upper() + "gw0"):
        response = client.get(PROGRAMS, headers={"api-key": key})
        assert response.status_code == 401, (key, response.text)
        assert response.json()["code"] == "unauthorized"
    assert client.get(PROGRAMS).status_code == 401
    # An explicitly forbidden key stays forbidden, prefix or not.
    assert client.get(PROGRAMS, headers={"api-key": f"{PREFIX}banned"}).status_code == 403


def test_a_configured_key_with_the_prefix_reads_its_configured_organisation(client: TestClient, app: Any) -> None:
    create_program(client, f"{PREFIX}ops", "ops program")
    assert "ops program" in {data.program.name for data in app.state.mock.backends["ops"].world.programs}
    assert app.state.mock.backends.key_worlds.find(key_organisation(f"{PREFIX}ops")) is None


def test_the_same_key_twice_shares_its_world(app: Any) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as first, TestClient(app, base_url="http://127.0.0.1") as again:
        created = create_program(first, f"{PREFIX}job-7", "job 7")
        found = again.get(f"{PROGRAMS}/{created['id']}", headers={"api-key": f"{PREFIX}job-7"})
        assert found.status_code == 200 and found.json()["name"] == "job 7"


def test_a_reset_with_a_per_key_key_resets_that_world_only(client: TestClient) -> None:
    seeded = program_names(client, f"{PREFIX}untouched")
    for key in (f"{PREFIX}a", f"{PREFIX}b"):
        create_program(client, key, f"by {key}")
    remaining_b = client.get(PROGRAMS, headers={"api-key": f"{PREFIX}b"}).headers["x-sib-ratelimit-remaining"]

    reset = client.post("/__mock__/reset", headers={**ADMIN, "api-key": f"{PREFIX}a"})
    assert reset.status_code == 200, reset.text
    assert program_names(client, f"{PREFIX}a") == seeded
    assert program_names(client, f"{PREFIX}b") == seeded | {f"by {PREFIX}b"}
    # The other key's rate-limit count stays.
    after = client.get(PROGRAMS, headers={"api-key": f"{PREFIX}b"}).headers["x-sib-ratelimit-remaining"]
    assert int(after) == int(remaining_b) - 2  # b's own count went on (its list read above, and this one)

    assert client.post("/__mock__/reset", headers=ADMIN).status_code == 200  # without a key: every world
    assert program_names(client, f"{PREFIX}b") == seeded


def journal_paths(client: TestClient, key: str | None = None) -> list[str]:
    headers = {"api-key": key} if key else {}
    answer = client.get("/__mock__/requests", headers=headers)
    assert answer.status_code == 200, answer.text
    return [f"{entry['method']} {entry['path']}" for entry in answer.json()["requests"]]


def test_a_per_key_key_sees_and_clears_its_own_journal_only(client: TestClient) -> None:
    a, b = f"{PREFIX}a", f"{PREFIX}b"
    create_program(client, a, "by a")
    client.get(f"{PROGRAMS}/missing", headers={"api-key": b})
    create_program(client, b, "by b")
    client.get(PROGRAMS, params={"limit": 1})  # the default key

    assert journal_paths(client, a) == [f"POST {PROGRAMS}"]
    assert journal_paths(client, b) == [f"GET {PROGRAMS}/missing", f"POST {PROGRAMS}"]
    entry = client.get("/__mock__/requests", headers={"api-key": a}).json()["requests"][0]
    assert entry["organisation"] == key_organisation(a) and '"by a"' in entry["body"]
    everyone = journal_paths(client)  # no key: the operator's view, every key's requests
    assert everyone[-4:] == [f"POST {PROGRAMS}", f"GET {PROGRAMS}/missing", f"POST {PROGRAMS}", f"GET {PROGRAMS}"]

    assert client.post("/__mock__/reset", headers={**ADMIN, "api-key": a}).status_code == 200
    assert journal_paths(client, a) == []
    assert journal_paths(client, b) == [f"GET {PROGRAMS}/missing", f"POST {PROGRAMS}"]
    assert journal_paths(client)[-4:] == everyone[-4:]  # the operator's view keeps them
    create_program(client, a, "again")
    assert journal_paths(client, a) == [f"POST {PROGRAMS}"]

    assert client.post("/__mock__/reset", headers=ADMIN).status_code == 200  # every world, the whole journal
    assert journal_paths(client) == [] and journal_paths(client, b) == []


def test_a_reset_of_a_key_that_never_called_changes_nothing(client: TestClient) -> None:
    create_program(client, f"{PREFIX}a", "kept")
    assert client.post("/__mock__/reset", headers={**ADMIN, "api-key": f"{PREFIX}never"}).status_code == 200
    assert "kept" in program_names(client, f"{PREFIX}a")


def test_idle_worlds_are_dropped_after_the_timeout_and_start_again_from_the_seeded_world() -> None:
    app = create_app(settings(world_idle_timeout=60))
    now = [1_000_000.0]
    key_worlds = app.state.mock.backends.key_worlds
    key_worlds.clock = lambda: now[0]  # the wall clock, moved by hand
    with TestClient(app, base_url="http://127.0.0.1") as client:
        seeded = program_names(client, f"{PREFIX}busy")
        create_program(client, f"{PREFIX}idle", "forgotten")
        create_program(client, f"{PREFIX}busy", "remembered")
        now[0] += 45
        program_names(client, f"{PREFIX}busy")  # busy is used again; idle is not
        now[0] += 30  # idle: 75 s unused; busy: 30 s
        live = {world["organisation"] for world in client.get("/__mock__/world").json()["keyWorlds"]["live"]}
        assert live == {key_organisation(f"{PREFIX}busy")}
        assert key_worlds.evicted == 1
        assert program_names(client, f"{PREFIX}idle") == seeded  # made again, from the seeded world
        assert program_names(client, f"{PREFIX}busy") == seeded | {"remembered"}


def test_without_a_timeout_worlds_are_never_dropped() -> None:
    app = create_app(settings())
    now = [0.0]
    app.state.mock.backends.key_worlds.clock = lambda: now[0]
    with TestClient(app, base_url="http://127.0.0.1") as client:
        create_program(client, f"{PREFIX}a", "kept")
        now[0] += 10 * 365 * 86_400
        assert "kept" in program_names(client, f"{PREFIX}a")


def test_the_admin_world_page_lists_live_per_key_worlds_with_masked_keys(client: TestClient) -> None:
    create_program(client, f"{PREFIX}run42-gw3", "one")
    create_program(client, f"{PREFIX}run42-gw3", "two")
    program_names(client, f"{PREFIX}gw0")
    body = client.get("/__mock__/world").json()
    listing = body["keyWorlds"]
    assert listing["prefix"] == PREFIX and listing["idleTimeoutSeconds"] is None
    rows = {row["organisation"]: row for row in listing["live"]}
    writer = rows[key_organisation(f"{PREFIX}run42-gw3")]
    assert writer["writes"] == 2 and writer["apiKey"] == f"{PREFIX}…-gw3"
    assert rows[key_organisation(f"{PREFIX}gw0")]["writes"] == 0
    assert rows[key_organisation(f"{PREFIX}gw0")]["apiKey"] == f"{PREFIX}…0"  # never more than half of the rest
    assert "run42" not in client.get("/__mock__/world").text  # no whole key anywhere on the page
    # One world in detail, by its organisation name; and a key's own world, by its api-key header.
    detail = client.get("/__mock__/world", params={"organisation": writer["organisation"]}).json()
    assert {"one", "two"} <= {program["name"] for program in detail["programs"]}
    assert detail["keyWorld"]["writes"] == 2
    own = client.get("/__mock__/world", headers={"api-key": f"{PREFIX}run42-gw3"}).json()
    assert own["organisation"] == writer["organisation"]
    # The browser page renders the same listing (browse.js reads /__mock__/world).
    page = client.get("/__mock__/")
    assert page.status_code == 200 and 'id="key-worlds"' in page.text


def test_an_unknown_per_key_organisation_is_a_404_and_is_not_made(client: TestClient, app: Any) -> None:
    missing = client.get("/__mock__/world", params={"organisation": key_organisation(f"{PREFIX}nobody")})
    assert missing.status_code == 404 and "keyWorlds" in missing.json()["message"]
    assert key_organisation(f"{PREFIX}nobody") not in app.state.mock.backends  # asking makes no world either
    assert len(app.state.mock.backends.key_worlds) == 0
    program_names(client, f"{PREFIX}nobody")
    assert key_organisation(f"{PREFIX}nobody") in app.state.mock.backends


def test_same_key_same_requests_give_byte_identical_answers() -> None:
    def run(key: str) -> list[bytes]:
        with TestClient(create_app(settings()), base_url="http://127.0.0.1") as client:
            created = client.post(PROGRAMS, json={"name": "det"}, headers={"api-key": key})
            active = [p for p in client.get(PROGRAMS, headers={"api-key": key}).json()["items"]
                      if p["state"] == "active"]
            subscribed = client.post(f"{PROGRAMS}/{active[0]['id']}/subscriptions", json={"contactId": 999_999},
                                     headers={"api-key": key})
            listed = client.get(PROGRAMS, headers={"api-key": key})
            assert (created.status_code, subscribed.status_code, listed.status_code) == (200, 200, 200)
            return [created.content, subscribed.content, listed.content]

    first = run(f"{PREFIX}det")
    assert first == run(f"{PREFIX}det")
    # Another key is another organisation: its new ids (and organizationId) are its own, so an id that
    # leaks from one parallel job to another is a 404 there rather than a look-alike record.
    other = run(f"{PREFIX}other")
    assert other[0] != first[0] and other[1] != first[1]


def test_fifty_keys_each_see_only_their_own_writes(client: TestClient, app: Any) -> None:
    seeded = program_names(client, "xkeysib-loyalty-mock-local-key")
    keys = [f"{PREFIX}{n:02d}" for n in range(50)]
    for key in keys:
        create_program(client, key, f"program of {key}")
    for key in keys:
        assert program_names(client, key) == seeded | {f"program of {key}"}, key
    assert len(app.state.mock.backends.key_worlds) == 50
    # Their worlds share the seeded programs with the default organisation's (copy on write).
    default = app.state.mock.backends["default"].world
    shared = app.state.mock.backends[key_organisation(keys[0])].world
    first = default.programs[0]
    assert shared.program(first.id) is first


def test_per_key_backends_tell_the_event_and_clock_listeners_under_their_own_organisation(app: Any) -> None:
    backends = app.state.mock.backends
    events: list[str] = []
    clocks: list[str] = []
    backends.on_events(lambda organisation, batch: events.extend(organisation for _ in batch))
    backends.on_clock(lambda organisation, now: clocks.append(organisation))
    organisation = key_organisation(f"{PREFIX}ev")
    backend = backends[organisation]
    with backend.writing():
        backend.stamp()
        backend.emit("balance_value_updated", None)
    backend.clock_moved()
    assert backend.organisation == organisation
    assert events == [organisation] and clocks == [organisation]


def test_loading_a_fixture_drops_the_per_key_worlds(app: Any) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        create_program(client, f"{PREFIX}a", "gone")
        backends = app.state.mock.backends
        backends.replace_worlds(backends.worlds)
        assert "gone" not in program_names(client, f"{PREFIX}a")


def test_per_key_organisation_names_are_stable_and_reveal_nothing() -> None:
    name = key_organisation(f"{PREFIX}gw0")
    assert PER_KEY_ORGANISATION.fullmatch(name) and "gw0" not in name
    assert name == key_organisation(f"{PREFIX}gw0") != key_organisation(f"{PREFIX}gw1")


@pytest.mark.parametrize(("overrides", "named"), [
    ({"world_per_key": ""}, "empty"),
    ({"world_per_key": "xkeysib test"}, "visible ASCII"),
    ({"world_per_key": "xkeysib-té-"}, "visible ASCII"),
    ({"world_per_key": None, "world_idle_timeout": 5.0}, "needs --world-per-key"),
    ({"world_idle_timeout": -1.0}, "> 0"),
    ({"api_keys": (ApiKey("k", "key-0123456789abcdef"),)}, "named like a per-key world"),
])
def test_bad_per_key_settings_are_refused_naming_why(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        settings(**overrides)


def test_the_flags_reach_the_settings_and_the_workers_environment(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--world-per-key", PREFIX, "--world-idle-timeout", "90"])
    parsed = settings_from_args(args)
    assert (parsed.world_per_key, parsed.world_idle_timeout) == (PREFIX, 90.0)
    rebuilt = overrides_from_env(to_env(parsed))
    assert (rebuilt["world_per_key"], rebuilt["world_idle_timeout"]) == (PREFIX, 90.0)
    with pytest.raises(SystemExit):
        main(["serve", "--world-per-key", "bad prefix"])
    error = capsys.readouterr().err
    assert "visible ASCII" in error and "Traceback" not in error and len(error.strip().splitlines()) == 1


@pytest.mark.parametrize(("text", "seconds"), [("never", None), ("0", None), ("1.5", 1.5), (" 600 ", 600.0)])
def test_the_idle_timeout_reads_seconds_or_never(text: str, seconds: float | None) -> None:
    assert parse_idle_timeout(text) == seconds


@pytest.mark.parametrize("text", ["-5", "soon", "inf", "nan", ""])
def test_a_bad_idle_timeout_is_refused_naming_the_flag(text: str) -> None:
    with pytest.raises(SettingsError, match="--world-idle-timeout"):
        parse_idle_timeout(text)


def test_a_per_key_clock_moves_that_keys_world_only(client: TestClient) -> None:
    moved = client.post("/__mock__/clock", json={"advance": "P30D"}, headers={"api-key": f"{PREFIX}gw0"})
    assert moved.status_code == 200, moved.text
    own = client.get("/__mock__/clock", headers={"api-key": f"{PREFIX}gw0"}).json()
    other = client.get("/__mock__/clock", headers={"api-key": f"{PREFIX}gw1"}).json()
    default = client.get("/__mock__/clock", headers={"api-key": "xkeysib-loyalty-mock-local-key"}).json()
    assert own["now"] == moved.json()["now"] != other["now"] == default["now"] == default["start"]
    assert own["organisation"] == key_organisation(f"{PREFIX}gw0")
