"""``GET/POST /__mock__/clock`` over HTTP: reading and moving an organisation's time.

Expectations come from the reference time of the seeded world and the documented rules (ISO 8601
durations, never backwards, organisation by api-key, the admin guard), not from the answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.settings import ApiKey
from mock_server.store.models import REFERENCE_NOW_ISO
from tests.api.support import FORBIDDEN_KEY, make_settings

KEYS = (ApiKey("key-acme", "acme"), ApiKey("key-globex", "globex"))


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(make_settings(contacts=10, api_keys=KEYS))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def _move(client: TestClient, body: object, key: str | None = "key-acme"):
    headers = {"api-key": key} if key else {}
    return client.post("/__mock__/clock", json=body, headers=headers)


def test_the_clock_starts_at_the_reference_time(client: TestClient):
    answer = client.get("/__mock__/clock", headers={"api-key": "key-acme"})
    assert answer.status_code == 200
    assert answer.json() == {"organisation": "acme", "now": REFERENCE_NOW_ISO, "mode": "fixed",
                             "start": REFERENCE_NOW_ISO}


def test_advance_by_a_duration_then_set_a_date(client: TestClient):
    moved = _move(client, {"advance": "P1M"})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["from"], body["now"]) == (REFERENCE_NOW_ISO, "2026-12-01T00:00:00.000Z")
    assert body["ran"] > 0  # a month of a seeded world holds anniversaries at least
    moved = _move(client, {"set": "2027-01-01T00:00:00Z"})
    assert moved.json()["now"] == "2027-01-01T00:00:00.000Z"
    assert client.get("/__mock__/clock", headers={"api-key": "key-acme"}).json()["now"] == "2027-01-01T00:00:00.000Z"


def test_the_clock_never_goes_back_and_a_refused_move_changes_nothing(client: TestClient):
    _move(client, {"advance": "P10D"})
    refused = _move(client, {"set": "2026-11-05T00:00:00Z"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_parameter"
    assert "body.set" in refused.json()["message"] and "never goes back" in refused.json()["message"]
    assert client.get("/__mock__/clock", headers={"api-key": "key-acme"}).json()["now"] == "2026-11-11T00:00:00.000Z"


@pytest.mark.parametrize(("body", "status", "named"), [
    ({"advance": "30 days"}, 422, "body.advance"),
    ({"advance": "-P1D"}, 422, "body.advance"),
    ({"advance": 30}, 422, "body.advance"),
    ({"set": "tomorrow"}, 422, "body.set"),
    ({"advance": "P1D", "set": "2027-01-01T00:00:00Z"}, 400, "exactly one"),
    ({}, 400, "exactly one"),
    ({"advance": "P1D", "speed": 2}, 400, "speed"),
    (["P1D"], 400, "JSON object"),
    ({"set": "2037-01-01T00:00:00Z"}, 422, "more than 10 years"),
    ({"advance": "P10Y1D"}, 422, "more than 10 years"),
    ({"advance": "P10Y"}, 200, None),
])
def test_bad_moves_are_named_in_brevos_error_shape(client: TestClient, body: object, status: int, named: str | None):
    answer = _move(client, body)
    assert answer.status_code == status, answer.text
    if named is not None:
        error = answer.json()
        assert set(error) == {"code", "message"} and named in error["message"]
        assert client.get("/__mock__/clock", headers={"api-key": "key-acme"}).json()["now"] == REFERENCE_NOW_ISO


def test_past_the_last_renderable_moment_is_refused(client: TestClient):
    refused = _move(client, {"set": "10000-01-01T00:00:00Z"})
    assert refused.status_code == 422 and "body.set" in refused.json()["message"]


def test_each_organisation_has_its_own_clock_named_by_its_api_key(client: TestClient):
    _move(client, {"advance": "P2D"}, key="key-globex")
    acme = client.get("/__mock__/clock", headers={"api-key": "key-acme"}).json()
    globex = client.get("/__mock__/clock", headers={"api-key": "key-globex"}).json()
    assert (acme["organisation"], acme["now"]) == ("acme", REFERENCE_NOW_ISO)
    assert (globex["organisation"], globex["now"]) == ("globex", "2026-11-03T00:00:00.000Z")
    # No key: the default organisation (the first key's)
    assert client.get("/__mock__/clock").json()["organisation"] == "acme"


@pytest.mark.parametrize(("key", "status"), [("nobody", 401), (FORBIDDEN_KEY, 403)])
def test_a_key_the_mock_refuses_moves_nothing(client: TestClient, key: str, status: int):
    assert client.get("/__mock__/clock", headers={"api-key": key}).status_code == status
    assert _move(client, {"advance": "P1D"}, key=key).status_code == status
    assert client.get("/__mock__/clock").json()["now"] == REFERENCE_NOW_ISO


def test_a_move_without_json_or_the_custom_header_is_refused_by_the_guard(client: TestClient):
    refused = client.post("/__mock__/clock", content=b"advance=P1D",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    cross_site = client.post("/__mock__/clock", json={"advance": "P1D"}, headers={"origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert client.get("/__mock__/clock").json()["now"] == REFERENCE_NOW_ISO


def test_reset_starts_the_clock_again(client: TestClient):
    _move(client, {"advance": "P3M"})
    client.post("/__mock__/reset", json={}, headers={"api-key": "key-acme"})
    assert client.get("/__mock__/clock", headers={"api-key": "key-acme"}).json()["now"] == REFERENCE_NOW_ISO


def test_a_real_clock_is_moved_ahead_of_the_wall_clock():
    app = create_app(make_settings(contacts=5, clock="real"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        before = client.get("/__mock__/clock").json()
        assert before["mode"] == "real"
        after = client.post("/__mock__/clock", json={"advance": "P365D"}).json()
        assert after["now"][:4] == str(int(before["now"][:4]) + 1)
        later = client.get("/__mock__/clock").json()
        assert later["now"] >= after["now"]  # it keeps running from there


def test_a_read_only_mock_does_not_move_its_clock():
    app = create_app(make_settings(contacts=5, read_only=True))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        refused = client.post("/__mock__/clock", json={"advance": "P1D"})
        assert refused.status_code == 405 and "read-only" in refused.json()["message"]
        assert client.get("/__mock__/clock").json()["now"] == REFERENCE_NOW_ISO
