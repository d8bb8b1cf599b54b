"""Brevo's official JS client (@getbrevo/brevo 6.x) in a browser, on a storefront's own origin.

A storefront page (tests/browser/storefront.html) served from another loopback
port loads the client's ES-module build straight from examples/node/node_modules
and reads the widget member from the mock: cross-origin, so every call is
preflighted, with the headers the client adds (X-Fern-*) on top of api-key.
Needs `npm ci` in examples/node (done by `make test` when npm is present).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

import pytest

from mock_server.testing import RunningMock
from tests.browser.cdp import Page
from tests.browser.test_widget import PROGRAM_ID, WIDGET_LINE

ROOT = Path(__file__).resolve().parents[2]
ESM = ROOT / "examples" / "node" / "node_modules" / "@getbrevo" / "brevo" / "dist" / "esm"
STOREFRONT = Path(__file__).with_name("storefront.html")


class _Storefront(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**SimpleHTTPRequestHandler.extensions_map,
                                                ".mjs": "text/javascript", ".js": "text/javascript"}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path.startswith("/brevo/"):
            return str(ESM / path.removeprefix("/brevo/"))
        return str(STOREFRONT)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def storefront() -> Iterator[str]:
    if not ESM.is_dir():
        pytest.skip("@getbrevo/brevo is not installed in examples/node: run `make test` (npm ci there) "
                    "or `npm ci --prefix examples/node` with node and npm present")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Storefront, directory=str(ESM)))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="storefront")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_official_js_client_reads_the_member_from_a_browser(page: Page, storefront: str,
                                                                fresh_widget_mock: RunningMock) -> None:
    mock = fresh_widget_mock
    query = urlencode({"baseUrl": mock.base_url, "apiKey": mock.api_key, "pid": PROGRAM_ID, "contactId": 12345})
    page.navigate(f"{storefront}/?{query}")
    page.wait_for("document.getElementById('line') && document.getElementById('line').dataset.state !== 'loading'")

    assert page.text("#line") == WIDGET_LINE
    assert sorted(entry.operation_id for entry in mock.requests) == [
        "getLoyaltyProgramTier", "getSubscriptionBalances", "getSubscriptionTier", "getSubscriptionVouchers"]
    preflights = [request for request in page.requests() if request["method"] == "OPTIONS"]
    assert len(preflights) == 4
    asked = {header.strip() for request in preflights
             for header in request["headers"]["Access-Control-Request-Headers"].split(",")}
    assert {"api-key", "x-fern-language", "x-fern-sdk-name", "x-fern-sdk-version"} <= asked
