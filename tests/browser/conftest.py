"""Fixtures of the browser tests: one headless Chromium and the widget member's mock, per session.

Chromium is Debian's (`/usr/bin/chromium`, or $CHROMIUM), driven over the
DevTools protocol (tests/browser/cdp.py). `make test` installs it with apt-get
where it can; where it is not installed these tests skip, saying so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from mock_server.testing import RunningMock, running_mock
from tests.api.support import widget_settings
from tests.browser.cdp import Browser, Page, find_chromium

SKIP_MESSAGE = (
    "headless Chromium is not installed: `make test` installs Debian's `chromium` with apt-get "
    "(as root, or with passwordless sudo); install it by hand (`apt-get install -y chromium`) "
    "or set CHROMIUM=/path/to/chromium to run the browser tests"
)
SCREENSHOTS = os.environ.get("BREVO_MOCK_SCREENSHOTS", "/tmp")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip(SKIP_MESSAGE)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    instance = Browser(chromium_path)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        target = tab.send("Target.getTargetInfo").get("targetInfo", {}).get("targetId")
        if target:
            browser.send("Target.closeTarget", {"targetId": target})


@pytest.fixture(scope="session")
def widget_mock() -> Iterator[RunningMock]:
    with running_mock(widget_settings()) as mock:
        yield mock


@pytest.fixture
def fresh_widget_mock(widget_mock: RunningMock) -> RunningMock:
    widget_mock.reset()
    return widget_mock
