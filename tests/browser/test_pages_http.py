"""The pages over HTTP, without a browser: what they embed, whom they answer, what they refuse."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from mock_server.app import build_worlds, create_app
from mock_server.pages import ASSETS, choose_program, points_definition
from mock_server.settings import ApiKey, Settings
from tests.api.support import widget_settings

PROGRAM_ID = "27d1dd7a-af67-4020-ba65-19d60000a26e"
PAGES = Path(__file__).resolve().parents[2] / "mock_server" / "pages"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = widget_settings(api_keys=(ApiKey("key-a"), ApiKey("key-b", "globex")))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def config_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="mock-config">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_browse_page_is_html_with_its_assets(client: TestClient) -> None:
    page = client.get("/__mock__/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert config_of(page.text)["organisations"] == ["default", "globex"]
    for name, media_type in ASSETS.items():
        asset = client.get(f"/__mock__/assets/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"] == media_type
    assert client.get("/__mock__/assets/../__init__.py").status_code == 404
    assert client.get("/__mock__/assets/secret.txt").status_code == 404
    assert client.get("/__mock__", follow_redirects=True).url.path == "/__mock__/"


def test_the_pages_reference_nothing_outside_the_mock() -> None:
    for path in PAGES.iterdir():
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", text), path.name
            assert "@import" not in text and "url(" not in text, path.name


def test_the_widget_is_told_the_member_program_key_and_points(client: TestClient) -> None:
    page = client.get("/__mock__/widget", params={"contactId": "12345"})
    assert page.status_code == 200
    config = config_of(page.text)
    assert config["contactId"] == 12345
    assert config["programId"] == PROGRAM_ID
    assert config["programChosenBy"] == "fixture member"
    assert config["programName"] == "Storefront Rewards"
    assert config["apiKey"] == "key-a"  # the first configured key
    assert config["apiBase"] == "/v3"
    assert config["balanceDefinition"]["name"] == "Purchase Points"
    assert config["balanceDefinition"]["unit"] == "POINTS"
    assert config["problem"] is None


def test_the_widget_takes_pid_key_and_api_base(client: TestClient) -> None:
    config = config_of(client.get("/__mock__/widget", params={
        "contactId": "12345", "pid": PROGRAM_ID.upper(), "apiKey": "key-b", "apiBase": "http://127.0.0.1:9/v3/"}).text)
    assert config["programChosenBy"] == "pid"
    assert config["apiKey"] == "key-b"
    assert config["apiBase"] == "http://127.0.0.1:9/v3"
    # An unknown pid is passed on: the API's 404 is what the widget shows.
    unknown = config_of(client.get("/__mock__/widget", params={"contactId": "1", "pid": "nope"}).text)
    assert unknown["programId"] == "nope" and unknown["problem"] is None


@pytest.mark.parametrize(("query", "status", "problem"), [
    ({}, 200, "Give the member to show"),
    ({"contactId": "0"}, 400, "contactId must be a contact id"),
    ({"contactId": "12a"}, 400, "contactId must be a contact id"),
    ({"contactId": "1", "apiBase": "javascript:alert(1)"}, 400, "apiBase must be"),
    ({"contactId": "1", "apiBase": "//evil.example/v3"}, 400, "apiBase must be"),
    ({"contactId": "424242"}, 404, "Contact 424242 is not a member of any program"),
])
def test_the_widget_explains_what_it_cannot_show(client: TestClient, query: dict, status: int,
                                                 problem: str) -> None:
    page = client.get("/__mock__/widget", params=query)
    assert page.status_code == status
    assert config_of(page.text)["problem"].startswith(problem)


def test_no_query_value_can_break_out_of_the_page(client: TestClient) -> None:
    hostile = "</script><script>alert(1)</script>"
    for params in ({"contactId": hostile}, {"contactId": "12345", "apiKey": hostile},
                   {"contactId": "12345", "pid": hostile}):
        page = client.get("/__mock__/widget", params=params)
        assert hostile not in page.text
        assert page.text.count("</script>") == 2  # the config island's and the script tag's
        values = json.dumps(config_of(page.text))
        assert "alert(1)" in values  # still there, as data


def test_the_pages_answer_loopback_clients_only() -> None:
    app = create_app(widget_settings())
    with TestClient(app, client=("203.0.113.7", 40000)) as remote:
        for path in ("/__mock__/", "/__mock__/widget?contactId=12345"):
            answer = remote.get(path)
            assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"


def test_no_admin_means_no_pages() -> None:
    with TestClient(create_app(widget_settings(admin=False))) as test_client:
        assert test_client.get("/__mock__/").status_code == 404
        assert test_client.get("/__mock__/widget?contactId=12345").status_code == 404


def test_without_pid_a_fixtures_program_wins(tmp_path: Path) -> None:
    seeded = build_worlds(Settings(contacts=20))["default"]
    first = seeded.programs[0]
    contact = first.members.contact_ids[0]
    fixture = tmp_path / "shop.yaml"
    fixture.write_text(yaml.safe_dump({"programs": [{
        "name": "Shop Points",
        "balanceDefinitions": [{"name": "Stars"}, {"name": "Credit", "unit": "EUR"}],
        "members": [{"contactId": contact, "balances": [{"balanceDefinition": "Stars", "balance": 5}]}],
    }]}))
    world = build_worlds(Settings(contacts=20, fixtures=(fixture,)))["default"]
    target = choose_program(world, contact, None)
    assert target.program is not None and target.program.program.name == "Shop Points"
    assert target.reason == "fixture member"
    # No tier group there: the widget shows the first public points definition.
    definition = points_definition(target.program)
    assert definition is not None and definition.name == "Stars"
    # A seeded-only contact: its first active program, in creation order.
    other = world.programs[0].members.contact_ids[-1]
    chosen = choose_program(world, other, None)
    assert chosen.reason == "member" and chosen.program is not None
    assert chosen.program.members.position(other) is not None


def test_the_points_are_those_the_tier_thresholds_count() -> None:
    world = build_worlds(Settings(contacts=5))["default"]
    for data in world.programs:
        group = data.primary_tier_group
        definition = points_definition(data)
        if group is not None:
            assert definition is not None and definition.id == group.balance_definition_id
