"""`--api-key KEY=ORG` and `--no-admin` on the real command (the in-process tests cover the rules)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.cli.proc import serving


def call(root: str, target: str, key: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(root + target, headers={"api-key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("how", ["flags", "environment"])
def test_keys_of_two_organisations_read_two_worlds(how: str) -> None:
    args: tuple[str, ...] = ("--contacts", "20", "--no-access-log")
    env = {}
    if how == "flags":
        args += ("--api-key", "key-a=acme", "--api-key", "key-b=globex")
    else:
        env["BREVO_MOCK_API_KEYS"] = "key-a=acme, key-b=globex"
    with serving(*args, env=env) as server:
        assert "key-b (organisation globex)" in server.stdout.text
        status, a = call(server.root, "/v3/loyalty/config/programs", "key-a")
        assert status == 200
        status, b = call(server.root, "/v3/loyalty/config/programs", "key-b")
        assert status == 200
        a_ids, b_ids = {p["id"] for p in a["items"]}, {p["id"] for p in b["items"]}
        assert a_ids and b_ids and not a_ids & b_ids
        for pid in a_ids:
            status, body = call(server.root, f"/v3/loyalty/config/programs/{pid}", "key-b")
            assert status == 404 and body["code"] == "document_not_found" and pid in body["message"]
        assert call(server.root, "/__mock__/health")[1]["organisations"] == ["acme", "globex"]
        assert call(server.root, "/__mock__/world?organisation=globex")[1]["apiKeys"] == ["key-b"]
    assert server.returncode == 0


def test_no_admin_turns_the_admin_endpoints_off_and_leaves_the_api() -> None:
    with serving("--contacts", "5", "--no-access-log", "--no-admin") as server:
        for target in ("/__mock__/health", "/__mock__/world", "/__mock__/requests", "/__mock__/openapi.json"):
            status, body = call(server.root, target)
            assert status == 404 and body["code"] == "document_not_found", target
        assert call(server.root, "/v3/loyalty/config/programs", "xkeysib-loyalty-mock-local-key")[0] == 200
        assert "__mock__" not in server.stdout.text  # the banner does not point at them
