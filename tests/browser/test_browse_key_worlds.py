"""The home page of a `--world-per-key` mock, in headless Chromium: the live per-key worlds, keys masked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_server.keynames import key_organisation
from mock_server.testing import RunningMock, running_mock
from tests.api.support import widget_settings
from tests.browser.cdp import Page

PREFIX = "xkeysib-test-"


@pytest.fixture
def per_key_mock() -> Iterator[RunningMock]:
    with running_mock(widget_settings(world_per_key=PREFIX)) as mock:
        yield mock


def test_the_page_lists_each_keys_world_and_opens_it(page: Page, per_key_mock: RunningMock) -> None:
    mock = per_key_mock
    for key, name in ((f"{PREFIX}run9-gw0", "Written by gw0"), (f"{PREFIX}run9-gw1", None)):
        if name:
            created = httpx.post(f"{mock.base_url}/loyalty/config/programs", json={"name": name},
                                 headers={"api-key": key})
            assert created.status_code == 200, created.text
        assert httpx.get(f"{mock.base_url}/loyalty/config/programs", headers={"api-key": key}).status_code == 200
    page.navigate(f"{mock.root_url}/__mock__/")
    page.wait_for("document.querySelectorAll('#key-worlds-rows tr').length === 2")
    rows = page.evaluate("[...document.querySelectorAll('#key-worlds-rows tr')]"
                         ".map(r => [...r.cells].map(c => c.textContent))")
    by_key = {row[1]: row for row in rows}
    assert set(by_key) == {f"{PREFIX}…-gw0", f"{PREFIX}…-gw1"}  # masked: never the whole key
    assert by_key[f"{PREFIX}…-gw0"][0] == key_organisation(f"{PREFIX}run9-gw0")
    assert (by_key[f"{PREFIX}…-gw0"][3], by_key[f"{PREFIX}…-gw1"][3]) == ("1", "0")  # accepted writes
    assert "run9" not in (page.text("body") or "")

    # Its link opens that key's world: the program it wrote is there.
    page.navigate(f"{mock.root_url}/__mock__/?organisation={key_organisation(f'{PREFIX}run9-gw0')}")
    page.wait_for("[...document.querySelectorAll('#programs h2')].some(h => h.textContent === 'Written by gw0')")
    assert page.text("#api-keys") == f"{PREFIX}…-gw0 (masked)"
