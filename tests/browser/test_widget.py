"""The guide's loyalty widget, rendered by headless Chromium against the mock.

The widget at /__mock__/widget makes the guide's three calls from the browser,
so these tests cover what a storefront developer sees: the rendered line, the
CORS preflights a cross-origin page triggers, the exposed rate-limit headers,
the errors a wrong key or an unknown member produce, and an origin the mock
was told to refuse.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from mock_server.testing import RunningMock, running_mock
from tests.api.support import widget_settings
from tests.browser.cdp import Page
from tests.browser.conftest import SCREENSHOTS

WIDGET_LINE = "340 pts · Silver · 160 pts to Gold · 1 reward available"
PROGRAM_ID = "27d1dd7a-af67-4020-ba65-19d60000a26e"
MEMBER_PATH = f"/v3/loyalty/balance/programs/{PROGRAM_ID}/subscriptions/12345"
THREE_CALLS = ["getSubscriptionBalances", "getSubscriptionTier", "getSubscriptionVouchers"]


def show_widget(page: Page, root: str, **query: object) -> str:
    """Open the widget and wait for its three calls to settle; the summary line."""
    page.navigate(f"{root}/__mock__/widget?{urlencode(query)}")
    page.wait_for("document.readyState === 'complete' && "
                  "document.getElementById('widget-summary').dataset.state !== 'loading'")
    return page.text("#widget-summary") or ""


def state(page: Page) -> str:
    return page.evaluate("document.getElementById('widget-summary').dataset.state")


def localhost(root: str) -> str:
    """The same server under another origin: http://localhost:PORT instead of http://127.0.0.1:PORT."""
    return root.replace("127.0.0.1", "localhost")


def test_the_widget_renders_the_guides_member(page: Page, fresh_widget_mock: RunningMock) -> None:
    mock = fresh_widget_mock
    line = show_widget(page, mock.root_url, contactId=12345)
    shot = page.screenshot(Path(SCREENSHOTS) / "brevo-loyalty-mock-widget.png")

    assert line == WIDGET_LINE
    assert state(page) == "ready"
    assert page.evaluate("[...document.querySelectorAll('.voucher-code')].map(e => e.textContent)") == ["GOLD10"]
    assert page.text("#widget-tier") == "Silver"
    assert page.text("#widget-next") == "160 pts to Gold"
    assert page.text("#widget-program") == "Storefront Rewards · contact 12345 · Purchase Points"
    # The three calls came from the browser, with the key, and are in the journal.
    assert sorted(entry.operation_id for entry in mock.requests) == THREE_CALLS
    assert all(entry.status == 200 and entry.path.startswith(MEMBER_PATH) for entry in mock.requests)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_page_loads_nothing_from_elsewhere(page: Page, fresh_widget_mock: RunningMock) -> None:
    show_widget(page, fresh_widget_mock.root_url, contactId=12345)
    hosts = {urlsplit(request["url"]).hostname for request in page.requests()
             if not request["url"].startswith(("data:", "about:"))}
    assert hosts == {"127.0.0.1"}


def test_a_cross_origin_page_passes_the_preflight(page: Page, fresh_widget_mock: RunningMock) -> None:
    mock = fresh_widget_mock
    line = show_widget(page, localhost(mock.root_url), contactId=12345, apiBase=mock.base_url)
    assert line == WIDGET_LINE

    preflights = [request for request in page.requests() if request["method"] == "OPTIONS"]
    assert sorted(urlsplit(request["url"]).path for request in preflights) == sorted(
        f"{MEMBER_PATH}/{name}" for name in ("balances", "tier", "vouchers"))
    assert all(request["headers"].get("Access-Control-Request-Headers") == "api-key" for request in preflights)
    answers = [event["response"] for event in page.events("Network.responseReceived")
               if event.get("type") == "Preflight"]
    assert len(answers) == 3 and all(answer["status"] == 200 for answer in answers)
    # The rate-limit headers are exposed: the page's script could read them.
    summaries = page.evaluate("[...document.querySelectorAll('.call summary')].map(s => s.textContent)")
    assert len(summaries) == 3
    assert all(re.search(r"x-sib-ratelimit-remaining \d+$", summary) for summary in summaries)


def test_an_origin_the_mock_does_not_allow_is_refused(page: Page, widget_mock: RunningMock) -> None:
    # The page comes from widget_mock; the API it calls is another mock, told which origins to allow.
    with running_mock(widget_settings(cors_origins=("http://shop.example",))) as strict:
        show_widget(page, widget_mock.root_url, contactId=12345, apiBase=strict.base_url)
        assert state(page) == "error"
        error = page.text("#widget-error") or ""
        assert f"could not reach {strict.base_url}{MEMBER_PATH.removeprefix('/v3')}/balances" in error
        assert "http://shop.example (--cors-origin)" not in error  # the page shows its own mock's origins...
        assert "--cors-origin" in error  # ... and says which flag decides

    with running_mock(widget_settings(cors_origins=(widget_mock.root_url,))) as allowing:
        assert show_widget(page, widget_mock.root_url, contactId=12345, apiBase=allowing.base_url) == WIDGET_LINE


def test_a_wrong_key_shows_the_apis_401(page: Page, fresh_widget_mock: RunningMock) -> None:
    show_widget(page, fresh_widget_mock.root_url, contactId=12345, apiKey="xkeysib-not-a-key")
    assert state(page) == "error"
    error = page.text("#widget-error") or ""
    assert "balances: HTTP 401 unauthorized: Key not found" in error
    assert [entry.status for entry in fresh_widget_mock.requests] == [401, 401, 401]


def test_an_unknown_member_of_a_given_program_shows_the_apis_404(page: Page,
                                                                 fresh_widget_mock: RunningMock) -> None:
    show_widget(page, fresh_widget_mock.root_url, contactId=999999, pid=PROGRAM_ID)
    assert state(page) == "error"
    assert "balances: HTTP 404 document_not_found" in (page.text("#widget-error") or "")


def test_a_contact_in_no_program_is_explained_without_calling(page: Page, fresh_widget_mock: RunningMock) -> None:
    show_widget(page, fresh_widget_mock.root_url, contactId=999999)
    assert state(page) == "error"
    assert page.text("#widget-error") == "Contact 999999 is not a member of any program of this world."
    assert fresh_widget_mock.requests == []
    # The form offers the fixture's member.
    assert "contact 12345 (Storefront Rewards, fixture)" in (page.text("#widget-members") or "")


def test_a_seeded_member_renders_from_its_own_numbers(page: Page, fresh_widget_mock: RunningMock) -> None:
    mock = fresh_widget_mock
    world = mock.state.worlds["default"]
    data = next(d for d in world.programs if d.id != PROGRAM_ID and d.program.state == "active"
                and d.primary_tier_group is not None)
    group = data.primary_tier_group
    assert group is not None and data.definition_by_id[group.balance_definition_id].unit == "POINTS"
    contact = data.members.contact_ids[len(data.members) // 2]
    member = world.member(data, contact)
    assert member is not None
    ledger = member.ledger(group.balance_definition_id)
    value = ledger.value if ledger is not None else 0
    # The expected line, from the store (the pages' calls must agree with it).
    current, upcoming = data.standing(group, value)
    expected = [f"{value:,} pts", current.name if current else "No tier yet"]
    if upcoming is not None:
        expected.append(f"{upcoming.threshold - value:,} pts to {upcoming.name}")
    elif current is not None:
        expected.append("top tier")
    count = sum(1 for voucher in member.vouchers if voucher.available())
    expected.append(f"{count} reward{'' if count == 1 else 's'} available")

    line = show_widget(page, mock.root_url, contactId=contact, pid=data.id)
    assert line == " · ".join(expected)
    assert page.evaluate("document.querySelectorAll('.voucher').length") == count
