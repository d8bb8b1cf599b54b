"""Webhook endpoints configured at run time are state, like the clock: `--state` keeps them across a restart,
and a reset, which leaves endpoints in place, leaves them in the file too (mock_server/webhooks/changes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.support import client_for
from tests.durability.support import app_on, begin, client, closed, points_of

ADMIN = {"X-Brevo-Mock": "1"}


def endpoints(api: Any) -> list[tuple[str, str]]:
    return [(shown["id"], shown["url"]) for shown in api.get("/__mock__/webhooks").json()["endpoints"]]


def add(api: Any, port: int) -> Any:
    return api.post("/__mock__/webhooks", json={"url": f"http://127.0.0.1:{port}/h", "bearer": "tok"}, headers=ADMIN)


def test_endpoints_added_at_run_time_come_back_after_a_restart_and_outlive_resets(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state)
    api = client(app)
    assert [add(api, port).status_code for port in (9001, 9002, 9003)] == [201] * 3
    assert api.delete("/__mock__/webhooks", params={"id": "wh2"}, headers=ADMIN).status_code == 200
    begin(api, points_of(app), 5)
    assert api.post("/__mock__/reset", headers=ADMIN).status_code == 200  # the key's organisation: a reset record
    assert client_for(app, key=None).post("/__mock__/reset", headers=ADMIN).status_code == 200  # all: file cut back
    kept = [("wh1", "http://127.0.0.1:9001/h"), ("wh3", "http://127.0.0.1:9003/h")]
    assert endpoints(api) == kept
    closed(app)

    app = app_on(state)
    api = client(app)
    assert endpoints(api) == kept
    assert add(api, 9004).json()["id"] == "wh4"  # numbered on from where the first run was
    closed(app)


def test_a_refused_endpoint_change_records_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state)
    api = client(app)
    size = state.stat().st_size
    assert api.post("/__mock__/webhooks", json={"url": "ftp://127.0.0.1/h"}, headers=ADMIN).status_code == 422
    assert api.delete("/__mock__/webhooks", params={"id": "wh9"}, headers=ADMIN).status_code == 404
    assert state.stat().st_size == size
    closed(app)
