"""Where events go: `serve` flags and environment, `/__mock__/webhooks`, auth and headers on the wire,
one organisation's endpoints seeing only its own events."""

from __future__ import annotations

import base64

import httpx
import pytest

from mock_server.app import create_app
from mock_server.cli import build_parser, settings_from_args
from mock_server.settings import ApiKey, Settings, SettingsError, overrides_from_env
from mock_server.testing import RunningMock, running_mock
from mock_server.webhooks import make_endpoint
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import ADMIN, PID, add_endpoint, enrol


def test_serve_flags_configure_every_organisation() -> None:
    args = build_parser().parse_args([
        "serve", "--webhook", "http://hook:s3cret@127.0.0.1:9000/a", "--webhook", "https://example.test/b",
        "--webhook-events", "voucher_created,tier_association_updated", "--webhook-header", "X-Env: test",
        "--webhook-bearer", "tok", "--webhook-timeout", "2.5"])
    settings = settings_from_args(args)
    assert settings.webhooks == ("http://hook:s3cret@127.0.0.1:9000/a", "https://example.test/b")
    assert settings.webhook_events == ("voucher_created", "tier_association_updated")
    assert settings.webhook_headers == (("X-Env", "test"),)
    assert (settings.webhook_bearer, settings.webhook_timeout) == ("tok", 2.5)


@pytest.mark.parametrize(("values", "message"), [
    ({"webhooks": ("ftp://127.0.0.1/x",)}, "must be an http:// or https:// URL"),
    ({"webhooks": ("http://127.0.0.1:9/x",), "webhook_events": ("points_added",)}, "unknown webhook event"),
    ({"webhooks": ("http://127.0.0.1:9/x",), "webhook_headers": (("Host", "x"),)}, "cannot be sent"),
])
def test_bad_webhook_settings_are_refused_naming_the_value(values: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings(**values)


def test_the_environment_carries_the_webhook_settings() -> None:
    values = overrides_from_env({"BREVO_MOCK_WEBHOOKS": "http://127.0.0.1:9/a,http://127.0.0.1:9/b",
                                 "BREVO_MOCK_WEBHOOK_EVENTS": "voucher_created",
                                 "BREVO_MOCK_WEBHOOK_HEADERS": "X-A: 1\nX-B: two words",
                                 "BREVO_MOCK_WEBHOOK_TIMEOUT": "0.5"})
    assert values["webhooks"] == ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
    assert values["webhook_headers"] == (("X-A", "1"), ("X-B", "two words"))
    assert values["webhook_timeout"] == 0.5
    with pytest.raises(SettingsError, match="WEBHOOK_TIMEOUT"):
        overrides_from_env({"BREVO_MOCK_WEBHOOK_TIMEOUT": "0"})


def test_where_deliveries_run_is_a_flag_and_an_environment_variable() -> None:
    assert Settings().webhook_delivery == "process"
    args = build_parser().parse_args(["serve", "--webhook-delivery", "LOOP"])
    assert settings_from_args(args).webhook_delivery == "loop"
    assert overrides_from_env({"BREVO_MOCK_WEBHOOK_DELIVERY": "process"})["webhook_delivery"] == "process"
    with pytest.raises(SettingsError, match="webhook delivery 'thread' is not one of: process, loop"):
        overrides_from_env({"BREVO_MOCK_WEBHOOK_DELIVERY": "thread"})
    with pytest.raises(SettingsError, match="webhook delivery"):
        Settings(webhook_delivery="threads")


def test_basic_auth_bearer_and_headers_go_on_the_wire(receiver: Receiver) -> None:
    url = receiver.url.replace("http://", "http://hook:s3cret@")
    with running_mock(Settings(access_log=False, contacts=20, webhooks=(url,),
                               webhook_headers=(("X-Env", "test"),))) as mock:
        pid = mock.world["programs"][0]["id"]
        httpx.post(f"{mock.base_url}/loyalty/config/programs/{pid}/publish", headers={"api-key": mock.api_key})
        httpx.post(f"{mock.base_url}/loyalty/config/programs/{pid}/subscriptions", headers={"api-key": mock.api_key},
                   json={"contactId": 555_555})
        receiver.wait_for("subscription_created", contact_id=555_555)
        shown = httpx.get(f"{mock.root_url}/__mock__/webhooks").json()["endpoints"][0]
    headers = {name.lower(): value for name, value in receiver.received[0].headers.items()}
    assert headers["authorization"] == "Basic " + base64.b64encode(b"hook:s3cret").decode()
    assert headers["x-env"] == "test" and headers["content-type"] == "application/json"
    assert "s3cret" not in str(shown) and shown["url"].startswith("http://hook:***@127.0.0.1:")


def test_a_bearer_token_is_sent_and_masked(mock: RunningMock, api: httpx.Client, receiver: Receiver) -> None:
    shown = add_endpoint(api, receiver.url, bearer="tok-123", events=["subscription_created"])
    assert shown["bearer"] == "***" and shown["events"] == ["subscription_created"]
    enrol(api, 920)
    receiver.wait_for("subscription_created", contact_id=920)
    assert receiver.received[0].headers["Authorization"] == "Bearer tok-123"


def test_the_admin_endpoints_check_what_they_are_given(mock: RunningMock, api: httpx.Client,
                                                       receiver: Receiver) -> None:
    bad = api.post("/__mock__/webhooks", json={"url": receiver.url, "events": ["nope"]})
    assert bad.status_code == 422 and "unknown webhook event(s) nope" in bad.json()["message"]
    assert api.post("/__mock__/webhooks", json={"uri": receiver.url}).status_code == 422
    assert api.post("/__mock__/webhooks", json={"url": receiver.url, "timeout": 0}).status_code == 422
    first = add_endpoint(api, receiver.url)
    second = add_endpoint(api, receiver.url, events=["voucher_created"])
    assert first["id"].startswith("wh") and second["id"].startswith("wh") and first["id"] != second["id"]
    listed = api.get("/__mock__/webhooks").json()
    assert [e["id"] for e in listed["endpoints"]] == [first["id"], second["id"]] and len(listed["events"]) == 24
    assert api.delete("/__mock__/webhooks", params={"id": "wh999"}, headers=ADMIN).status_code == 404
    assert api.delete("/__mock__/webhooks", params={"id": first["id"]}).status_code == 403  # the admin guard
    assert api.delete("/__mock__/webhooks", params={"id": first["id"]}, headers=ADMIN).json() == {
        "removed": [first["id"]]}
    assert [e["id"] for e in api.get("/__mock__/webhooks").json()["endpoints"]] == [second["id"]]
    assert api.get("/__mock__/webhooks", headers={"api-key": "wrong"}).status_code == 401


def test_an_organisation_gets_only_its_own_events(receiver: Receiver) -> None:
    settings = Settings(access_log=False, contacts=20, api_keys=(ApiKey("key-a", "a"), ApiKey("key-b", "b")))
    with running_mock(settings) as mock, Receiver() as other:
        for key, url in (("key-a", receiver.url), ("key-b", other.url)):
            added = httpx.post(f"{mock.root_url}/__mock__/webhooks", headers={"api-key": key}, json={"url": url})
            assert added.status_code == 201
        for key, contact in (("key-a", 1001), ("key-b", 2002)):
            pid = httpx.get(f"{mock.base_url}/loyalty/config/programs", headers={"api-key": key}).json()["items"][0]
            httpx.post(f"{mock.base_url}/loyalty/config/programs/{pid['id']}/publish", headers={"api-key": key})
            answer = httpx.post(f"{mock.base_url}/loyalty/config/programs/{pid['id']}/subscriptions",
                                headers={"api-key": key}, json={"contactId": contact})
            assert answer.status_code == 200, answer.text
        receiver.wait_for("subscription_created", contact_id=1001)
        other.wait_for("subscription_created", contact_id=2002)
    assert {p["contact_id"] for p in receiver.events} == {1001}
    assert {p["contact_id"] for p in other.events} == {2002}


def test_events_without_a_program_payload_still_name_it(mock: RunningMock, api: httpx.Client,
                                                        receiver: Receiver) -> None:
    add_endpoint(api, receiver.url, events=["subscription_created"])
    enrol(api, 921)
    payload = receiver.wait_for("subscription_created", contact_id=921)
    assert payload["loyalty_program"] == {"id": PID, "name": "Storefront Rewards"}
    assert payload["identifiers"]["contact_id"] == 921 and payload["source"] == "api"


def test_without_an_endpoint_nothing_listens_to_the_writes() -> None:
    state = create_app(Settings(access_log=False, contacts=20)).state.mock
    backend = state.backends["default"]
    assert not backend.listening  # an emit is one check: no event is even built
    state.webhooks.add("default", make_endpoint("http://127.0.0.1:9/never-called"))
    assert backend.listening


def test_writes_made_while_paused_are_never_delivered(mock: RunningMock, api: httpx.Client,
                                                      receiver: Receiver) -> None:
    add_endpoint(api, receiver.url, events=["subscription_created"])
    with mock.state.webhooks.paused():  # as a replay of saved writes at start-up must run
        enrol(api, 930)
    enrol(api, 931)
    assert receiver.wait_for("subscription_created", contact_id=931)
    assert [payload["contact_id"] for payload in receiver.events] == [931]
