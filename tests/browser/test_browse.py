"""The home page at /__mock__/, in headless Chromium: the seeded world and the request journal."""

from __future__ import annotations

from pathlib import Path

import httpx

from mock_server.testing import RunningMock
from tests.browser.cdp import Page
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_widget import PROGRAM_ID, WIDGET_LINE, localhost


def rows(page: Page) -> list[str]:
    return page.evaluate("[...document.querySelectorAll('#journal-rows tr')].map(r => r.textContent)")


def test_the_home_page_lists_the_world_and_what_clients_sent(page: Page, fresh_widget_mock: RunningMock) -> None:
    mock = fresh_widget_mock
    page.navigate(f"{mock.root_url}/__mock__/")
    page.wait_for(f"!!document.querySelector('[data-program-id=\"{PROGRAM_ID}\"]')")

    card = page.text(f'[data-program-id="{PROGRAM_ID}"]') or ""
    assert "Storefront Rewards" in card and "Purchase Points" in card and "cust_abc123" in card
    assert page.text("#base-url") == mock.base_url
    assert page.text("#api-keys") == mock.api_key
    # Every seeded program is there, with its id.
    shown = page.evaluate("[...document.querySelectorAll('[data-program-id]')].map(e => e.dataset.programId)")
    assert sorted(shown) == sorted(program["id"] for program in mock.world["programs"])

    # A request from "the app" shows up in the journal by itself (refresh every 2 s), violations included.
    httpx.get(f"{mock.base_url}/loyalty/config/programs", params={"limit": 2, "contact_id": 7},
              headers={"api-key": mock.api_key})
    page.wait_for("document.querySelectorAll('#journal-rows tr').length === 1", timeout=10)
    (row,) = rows(page)
    assert "/v3/loyalty/config/programs?limit=2&contact_id=7" in row and "getLPList" in row and "200" in row
    assert "contact_id" in (page.text("#journal-rows tr.violating") or "")  # an unknown query parameter
    page.screenshot(Path(SCREENSHOTS) / "brevo-loyalty-mock-home.png")

    page.evaluate("document.getElementById('journal-reset').click()")
    page.wait_for("document.querySelectorAll('#journal-rows tr').length === 0")
    assert mock.requests == []


def test_a_members_widget_link_opens_its_widget(page: Page, fresh_widget_mock: RunningMock) -> None:
    page.navigate(f"{fresh_widget_mock.root_url}/__mock__/")
    link = page.wait_for(f"document.querySelector('[data-program-id=\"{PROGRAM_ID}\"] a.widget-link')?.href")
    page.navigate(link)
    page.wait_for("document.getElementById('widget-summary').dataset.state === 'ready'")
    assert page.text("#widget-summary") == WIDGET_LINE


def test_a_page_on_another_origin_can_neither_reset_nor_read_the_journal(page: Page,
                                                                         fresh_widget_mock: RunningMock) -> None:
    # The drive-by of issue 13.14, in a real browser: a page the developer visits (here the same server
    # under http://localhost:PORT, another origin than http://127.0.0.1:PORT) calls the mock's admin.
    mock = fresh_widget_mock
    httpx.get(f"{mock.base_url}/loyalty/config/programs", headers={"api-key": mock.api_key})
    page.navigate(f"{localhost(mock.root_url)}/__mock__/widget")
    before = mock.requests
    assert before

    # A "simple" POST needs no preflight: the page cannot read the answer, but the server must not act on it.
    sent = page.evaluate(f"fetch('{mock.root_url}/__mock__/reset', {{method: 'POST', mode: 'no-cors', body: 'x'}})"
                         ".then(() => 'sent', e => 'failed: ' + e)")
    assert sent == "sent"
    # With the header the browser asks first, and the preflight grants nothing.
    preflighted = page.evaluate(f"fetch('{mock.root_url}/__mock__/reset', {{method: 'POST', "
                                "headers: {'X-Brevo-Mock': '1'}}).then(r => 'read ' + r.status, e => 'blocked')")
    assert preflighted == "blocked"
    read = page.evaluate(f"fetch('{mock.root_url}/__mock__/requests').then(r => r.text(), e => 'blocked')")
    assert read == "blocked"
    assert mock.requests == before  # nothing was reset


def test_recent_writes_show_their_bodies(page: Page, fresh_widget_mock: RunningMock) -> None:
    mock = fresh_widget_mock
    httpx.get(f"{mock.base_url}/loyalty/config/programs", headers={"api-key": mock.api_key})
    # A write as the pipeline journals it: its status, its violations and its (bounded) body.
    mock.state.journal.record("POST", f"/v3/loyalty/balance/programs/{PROGRAM_ID}/transactions", "",
                              "beginTransaction", 422, ('body.amount: expected a number, got the string "12"',),
                              body=b'{"amount":"12","contactId":12345}')
    page.navigate(f"{mock.root_url}/__mock__/")
    page.wait_for("document.querySelectorAll('#journal-rows tr').length === 2", timeout=10)
    page.evaluate("document.getElementById('journal-writes').click()")
    page.wait_for("document.querySelectorAll('#journal-rows tr').length === 1")
    (row,) = rows(page)
    assert "beginTransaction" in row and "422" in row and "body.amount: expected a number" in row
    assert page.text("#journal-rows details.body pre") == '{\n  "amount": "12",\n  "contactId": 12345\n}'
