"""The home page's webhook panel, in headless Chromium: each delivery attempt as the journal records it."""

from __future__ import annotations

import httpx

from mock_server.testing import RunningMock
from mock_server.webhooks.receiver import Receiver
from tests.browser.cdp import Page
from tests.browser.test_widget import PROGRAM_ID


def test_the_home_page_shows_webhook_deliveries(page: Page, fresh_widget_mock: RunningMock) -> None:
    mock = fresh_widget_mock
    headers = {"api-key": mock.api_key, "X-Brevo-Mock": "1"}
    with Receiver(answer=lambda payload: 429) as receiver:
        added = httpx.post(f"{mock.root_url}/__mock__/webhooks", headers=headers, json={"url": receiver.url})
        assert added.status_code == 201
        try:
            page.navigate(f"{mock.root_url}/__mock__/")
            page.wait_for("document.getElementById('webhooks-endpoints').textContent.includes('wh')")
            assert receiver.url in (page.text("#webhooks-endpoints") or "")
            httpx.post(f"{mock.base_url}/loyalty/config/programs/{PROGRAM_ID}/subscriptions",
                       headers=headers, json={"contactId": 424242})
            page.wait_for("document.querySelectorAll('#webhooks-rows tr').length === 1", timeout=10)
            row = page.text("#webhooks-rows tr") or ""
            assert "subscription_created" in row and "429" in row and "retry_scheduled" in row
        finally:
            httpx.delete(f"{mock.root_url}/__mock__/webhooks", headers=headers)
