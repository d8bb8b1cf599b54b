"""The /__mock__/ endpoints against the developer's own browser: what a page elsewhere may not do.

Every page the developer visits runs on their machine, so the loopback rule
does not keep it out. Over real HTTP, as a browser would send them: a
cross-origin "simple" POST (no preflight), a read from another origin, a read
under a foreign Host (DNS rebinding), a script tag's cross-site GET. The API
under /v3 keeps its CORS (tests/cors/test_cors.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_server.settings import Settings
from mock_server.testing import RunningMock, running_mock

EVIL = "http://evil.example"
SHOP = "http://localhost:3000"
PROGRAMS = "/loyalty/config/programs"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
                "access-control-allow-credentials")


@pytest.fixture
def mock() -> Iterator[RunningMock]:
    with running_mock(Settings(access_log=False, contacts=20, cors_origins=("*",))) as running:
        yield running


def a_request(mock: RunningMock) -> None:
    """One API request, so that the journal holds something a reset would clear."""
    assert httpx.get(mock.base_url + PROGRAMS, headers={"api-key": mock.api_key}).status_code == 200


def refused(answer: httpx.Response, *words: str) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.json()["code"] == "permission_denied"
    for word in words:
        assert word in answer.json()["message"], answer.json()
    assert not any(name in answer.headers for name in CORS_HEADERS)


def test_a_cross_origin_simple_post_cannot_reset(mock: RunningMock) -> None:
    a_request(mock)
    # What <form method=post> or fetch(..., {mode: "no-cors", body: "x"}) on evil.example sends: no preflight.
    answer = httpx.post(mock.root_url + "/__mock__/reset", content=b"x",
                        headers={"Origin": EVIL, "Content-Type": "text/plain"})
    refused(answer, "Origin 'http://evil.example'")
    assert len(mock.requests) == 1  # nothing was cleared


def test_a_state_change_without_json_or_the_header_is_refused_even_without_origin(mock: RunningMock) -> None:
    a_request(mock)
    for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}):
        refused(httpx.post(mock.root_url + "/__mock__/reset", headers=headers), "X-Brevo-Mock", "application/json")
    assert len(mock.requests) == 1
    assert httpx.post(mock.root_url + "/__mock__/reset", json={}).json() == {"reset": True}
    a_request(mock)
    assert httpx.post(mock.root_url + "/__mock__/reset", headers={"X-Brevo-Mock": "1"}).json() == {"reset": True}
    assert mock.requests == []


def test_the_mocks_own_page_may_reset(mock: RunningMock) -> None:
    # What browse.js sends from http://127.0.0.1:PORT/__mock__/: a same-origin POST with the header.
    a_request(mock)
    answer = httpx.post(mock.root_url + "/__mock__/reset", headers={"Origin": mock.root_url, "X-Brevo-Mock": "1"})
    assert answer.json() == {"reset": True}
    assert not any(name in answer.headers for name in CORS_HEADERS)


@pytest.mark.parametrize("target", ["/__mock__/requests", "/__mock__/world", "/__mock__/", "/__mock__/openapi.json"])
def test_another_origin_cannot_read_the_admin_endpoints(mock: RunningMock, target: str) -> None:
    refused(httpx.get(mock.root_url + target, headers={"Origin": EVIL}), "Origin")
    refused(httpx.get(mock.root_url + target, headers={"Origin": "null"}), "Origin 'null'")  # sandboxed frames
    own = httpx.get(mock.root_url + target, headers={"Origin": mock.root_url})
    assert own.status_code == 200
    assert not any(name in own.headers for name in CORS_HEADERS)  # the API's '*' is not /__mock__/'s


def test_a_preflight_to_the_admin_endpoints_grants_nothing(mock: RunningMock) -> None:
    for origin in (EVIL, mock.root_url):
        answer = httpx.options(mock.root_url + "/__mock__/reset", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-brevo-mock"})
        assert answer.status_code in (403, 405)
        assert not any(name in answer.headers for name in CORS_HEADERS)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "attacker.test.", "10.0.0.5:80"])
def test_a_foreign_host_is_refused_against_dns_rebinding(mock: RunningMock, host: str) -> None:
    # The page at http://evil.example:PORT/ whose name now resolves to 127.0.0.1 sends its own Host.
    refused(httpx.get(mock.root_url + "/__mock__/requests", headers={"Host": host}), "Host", "--allowed-host")
    refused(httpx.post(mock.root_url + "/__mock__/reset", headers={"Host": host, "X-Brevo-Mock": "1"}), "Host")
    # The readiness probe still answers, with nothing but "up".
    health = httpx.get(mock.root_url + "/__mock__/health", headers={"Host": host})
    assert health.status_code == 200 and health.json() == {"status": "ok"}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:{port}", "app.localhost:{port}",
                                  "[::1]:{port}", "127.0.0.2"])
def test_loopback_names_and_addresses_are_hosts_the_admin_endpoints_answer(mock: RunningMock, host: str) -> None:
    port = mock.root_url.rsplit(":", 1)[1]
    answer = httpx.get(mock.root_url + "/__mock__/requests", headers={"Host": host.format(port=port)})
    assert answer.status_code == 200


def test_allowed_host_adds_names() -> None:
    settings = Settings(access_log=False, contacts=20, allowed_hosts=("devbox.lan", ".docker.internal"))
    with running_mock(settings) as mock:
        for host in ("devbox.lan:8080", "host.docker.internal", "docker.internal"):
            assert httpx.get(mock.root_url + "/__mock__/requests", headers={"Host": host}).status_code == 200
        refused(httpx.get(mock.root_url + "/__mock__/requests", headers={"Host": "devbox.lan.evil.example"}), "Host")


def test_a_cross_site_request_without_origin_is_refused_but_a_navigation_is_not(mock: RunningMock) -> None:
    # <script src=".../__mock__/requests"> on another site: no Origin, but the browser says where it comes from.
    refused(httpx.get(mock.root_url + "/__mock__/requests",
                      headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}), "Sec-Fetch-Site")
    # A link the developer follows to the page: shown to them, not to the other site.
    page = httpx.get(mock.root_url + "/__mock__/", headers={"Sec-Fetch-Site": "cross-site",
                                                            "Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 200


def test_a_cors_origin_may_call_the_admin_endpoints_but_gets_no_cors_headers() -> None:
    with running_mock(Settings(access_log=False, contacts=20, cors_origins=(SHOP,))) as mock:
        answer = httpx.get(mock.root_url + "/__mock__/requests", headers={"Origin": SHOP})
        assert answer.status_code == 200
        assert not any(name in answer.headers for name in CORS_HEADERS)
        refused(httpx.get(mock.root_url + "/__mock__/requests", headers={"Origin": EVIL}), "Origin")


def test_the_api_keeps_its_cors(mock: RunningMock) -> None:
    answer = httpx.get(mock.base_url + PROGRAMS, headers={"Origin": EVIL, "api-key": mock.api_key})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
