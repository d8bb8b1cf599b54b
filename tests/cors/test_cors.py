"""CORS on the API, over real HTTP: what a browser asks and what it is allowed to read.

A browser calling the mock from another origin first sends a preflight
(OPTIONS, with Access-Control-Request-Method/-Headers), because `api-key` is
not a "simple" header; then the GET, whose answer it hands to the page only
if Access-Control-Allow-Origin matches, and whose headers the page sees only
if listed in Access-Control-Expose-Headers.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_server.cli import build_parser, main, settings_from_args
from mock_server.settings import RateLimit, Settings, SettingsError, overrides_from_env, parse_cors_origin, to_env
from mock_server.testing import RunningMock, running_mock

PROGRAMS = "/loyalty/config/programs"
RATE_HEADERS = {"x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset"}
SHOP = "http://localhost:3000"


def preflight(mock: RunningMock, origin: str, headers: str = "api-key, prefer", path: str = PROGRAMS,
              method: str = "GET") -> httpx.Response:
    return httpx.options(mock.base_url + path, headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})


def listed(response: httpx.Response, name: str) -> set[str]:
    return {part.strip().lower() for part in response.headers.get(name, "").split(",") if part.strip()}


@pytest.fixture(scope="module")
def open_mock() -> Iterator[RunningMock]:
    with running_mock(Settings(access_log=False, contacts=20)) as mock:
        yield mock


@pytest.fixture(scope="module")
def shop_mock() -> Iterator[RunningMock]:
    with running_mock(Settings(access_log=False, contacts=20, cors_origins=(SHOP,))) as mock:
        yield mock


@pytest.mark.parametrize("origin", ["http://localhost:3000", "https://shop.example.com", "null"])
def test_a_preflight_for_api_key_and_prefer_succeeds_from_any_origin(open_mock: RunningMock, origin: str) -> None:
    answer = preflight(open_mock, origin)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "get" in listed(answer, "access-control-allow-methods")
    assert {"api-key", "prefer"} <= listed(answer, "access-control-allow-headers")
    assert int(answer.headers["access-control-max-age"]) > 0


def test_the_official_js_clients_own_headers_pass_the_preflight(open_mock: RunningMock) -> None:
    # @getbrevo/brevo 6 sends these with every call; a browser asks for all of them in the preflight.
    fern = "api-key, x-fern-language, x-fern-sdk-name, x-fern-sdk-version, x-fern-runtime, x-fern-runtime-version"
    answer = preflight(open_mock, SHOP, headers=fern)
    assert answer.status_code == 200
    assert listed(answer, "access-control-allow-headers") == {part.strip() for part in fern.split(",")}


def test_a_cross_origin_answer_is_readable_with_its_rate_limit_headers(open_mock: RunningMock) -> None:
    answer = httpx.get(open_mock.base_url + PROGRAMS, headers={"Origin": SHOP, "api-key": open_mock.api_key})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert listed(answer, "access-control-expose-headers") == RATE_HEADERS
    assert set(answer.headers) >= RATE_HEADERS


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),  # no key
    ({"api-key": "wrong"}, 401),
    ({"prefer": "code=500"}, 500),
    ({"prefer": "code=429"}, 429),
])
def test_errors_reach_the_page_too(open_mock: RunningMock, headers: dict[str, str], status: int) -> None:
    # Without Access-Control-Allow-Origin on errors, a page would see "network error" instead of Brevo's body.
    if "prefer" in headers:
        headers = {**headers, "api-key": open_mock.api_key}
    answer = httpx.get(open_mock.base_url + PROGRAMS, headers={"Origin": SHOP, **headers})
    assert answer.status_code == status
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.json()["code"]


def test_preflights_are_not_counted_against_the_rate_limit() -> None:
    with running_mock(Settings(access_log=False, contacts=20, rate_limit=RateLimit(1))) as mock:
        for _ in range(3):
            assert preflight(mock, SHOP).status_code == 200
        headers = {"Origin": SHOP, "api-key": mock.api_key}
        assert httpx.get(mock.base_url + PROGRAMS, headers=headers).status_code == 200
        refused = httpx.get(mock.base_url + PROGRAMS, headers=headers)
        assert refused.status_code == 429
        assert refused.headers["access-control-allow-origin"] == "*"
        assert set(refused.headers) >= RATE_HEADERS  # the page can read when to retry
        assert [entry.method for entry in mock.requests] == ["GET", "GET"]  # preflights are not journaled


def test_a_restricted_mock_allows_only_its_origins(shop_mock: RunningMock) -> None:
    allowed = preflight(shop_mock, SHOP)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SHOP
    answer = httpx.get(shop_mock.base_url + PROGRAMS, headers={"Origin": SHOP, "api-key": shop_mock.api_key})
    assert answer.headers["access-control-allow-origin"] == SHOP
    assert "origin" in listed(answer, "vary")  # caches must not hand this answer to another origin

    refused = preflight(shop_mock, "http://evil.example")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    read = httpx.get(shop_mock.base_url + PROGRAMS, headers={"Origin": "http://evil.example",
                                                              "api-key": shop_mock.api_key})
    assert "access-control-allow-origin" not in read.headers  # the browser keeps the answer from the page


def test_same_origin_and_non_browser_calls_carry_no_cors_grant(open_mock: RunningMock) -> None:
    answer = httpx.get(open_mock.base_url + PROGRAMS, headers={"api-key": open_mock.api_key})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    assert answer.headers["vary"] == "Origin"


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(("text", "origin"), [
    ("*", "*"),
    ("http://localhost:3000", "http://localhost:3000"),
    ("http://localhost:3000/", "http://localhost:3000"),
    (" HTTPS://Shop.Example.com ", "https://shop.example.com"),
])
def test_origins_are_normalised_as_browsers_send_them(text: str, origin: str) -> None:
    assert parse_cors_origin(text) == origin


@pytest.mark.parametrize("text", ["localhost:3000", "http://localhost:3000/app", "ftp://x", "http://", "",
                                  "http://a b", "http://user@host"])
def test_a_bad_origin_is_refused_with_its_name(text: str) -> None:
    with pytest.raises(SettingsError, match="CORS origin"):
        parse_cors_origin(text)


def test_the_flag_is_repeatable_and_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BREVO_MOCK_CORS_ORIGINS", "http://from-env.test")
    args = build_parser().parse_args(["serve", "--cors-origin", SHOP, "--cors-origin", "https://shop.example/",
                                      "--cors-origin", SHOP])
    assert settings_from_args(args).cors_origins == (SHOP, "https://shop.example")
    assert settings_from_args(build_parser().parse_args(["serve"])).cors_origins == ("http://from-env.test",)
    monkeypatch.delenv("BREVO_MOCK_CORS_ORIGINS")
    assert settings_from_args(build_parser().parse_args(["serve"])).cors_origins == ("*",)


def test_the_environment_and_workers_keep_the_origins() -> None:
    settings = Settings(cors_origins=(SHOP, "https://shop.example"))
    assert overrides_from_env(to_env(settings))["cors_origins"] == settings.cors_origins
    with pytest.raises(SettingsError, match="CORS origin 'nope'"):
        overrides_from_env({"BREVO_MOCK_CORS_ORIGINS": "http://ok.test,nope"})


def test_a_bad_flag_stops_the_command_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--cors-origin", "localhost:3000"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "argument --cors-origin: CORS origin 'localhost:3000' is neither '*' nor an origin" in error
