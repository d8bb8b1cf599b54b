"""``--log-format json``: what a CI log collector reads, one JSON object a line, from the real command.

The server runs as a process (tests/cli/proc.py); requests go both ways into
the API (the protocol's direct answers, and ASGI for a cross-origin read),
to /__mock__/, and with keys of no organisation. Every line on stdout and
stderr must parse, and each request must have exactly one access line.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from mock_server.settings import DEFAULT_API_KEY
from tests.cli.proc import run, serving

KEY = {"api-key": DEFAULT_API_KEY}
ACCESS_FIELDS = {"time", "method", "path", "query", "status", "latency_ms", "client", "organisation", "operation",
                 "violations"}


def parsed(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # fails on any line that is not JSON


def test_every_line_is_json_and_every_request_has_its_access_line() -> None:
    with serving("--contacts", "20", "--log-format", "json", "--check-client",
                 "--api-key", f"{DEFAULT_API_KEY}=acme", "--forbidden-key", "no-loyalty") as served:
        base = served.root + "/v3/loyalty/config/programs"
        with httpx.Client(timeout=30) as client:
            client.get(base, params={"limit": "1", "sort_field": "x"}, headers=KEY)  # direct path, a violation
            client.get(base, headers={**KEY, "Origin": "http://localhost:3000"})  # through ASGI and CORS
            client.head(base, headers=KEY)
            client.get(base, headers={"api-key": "no-loyalty"})
            client.get(served.root + "/__mock__/health")
        served.wait_for(r'"path":"/__mock__/health"')
        assert served.stop() == 1  # the client check saw a violation
    stdout, stderr = parsed(served.stdout.text), parsed(served.stderr.text)

    banner, *access, summary = stdout
    assert "base URL   http://127.0.0.1:" in banner["message"] and banner["time"].endswith("Z")
    assert summary["message"].startswith("client check: 4 request(s), 1 contract violation(s)")
    assert all(set(line) == ACCESS_FIELDS for line in access), access
    assert [(line["method"], line["path"], line["status"]) for line in access] == [
        ("GET", "/v3/loyalty/config/programs", 400),
        ("GET", "/v3/loyalty/config/programs", 200),
        ("HEAD", "/v3/loyalty/config/programs", 200),
        ("GET", "/v3/loyalty/config/programs", 403),
        ("GET", "/__mock__/health", 200),
    ]
    violating, cross_origin, head, forbidden, health = access
    assert violating["query"] == "limit=1&sort_field=x" and violating["operation"] == "getLPList"
    assert violating["organisation"] == "acme"
    assert len(violating["violations"]) == 1 and "'sort_field'" in violating["violations"][0]
    assert cross_origin["organisation"] == head["organisation"] == "acme" and cross_origin["violations"] == []
    assert forbidden["organisation"] is None  # a key without Loyalty access reads no organisation
    assert health["operation"] is None and health["organisation"] is None
    assert all(isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0 for line in access)
    assert all(line["client"].startswith("127.0.0.1:") for line in access)

    # stderr: uvicorn's own messages and the client check's line, each one object with a level.
    assert {"level", "logger", "message", "time"} <= set(stderr[0])
    assert any("Application startup complete" in line["message"] for line in stderr)
    [checked] = [line for line in stderr if line["message"].startswith("client check: GET")]
    assert checked["level"] == "warning" and checked["violations"] == violating["violations"]


def test_text_stays_the_default_and_a_bad_format_is_named() -> None:
    with serving("--contacts", "20") as served:
        httpx.get(served.root + "/v3/loyalty/config/programs", headers=KEY, timeout=30)
        served.wait_for(r'"GET /v3/loyalty/config/programs HTTP/1.1" 200')
    assert not served.stdout.text.startswith("{")
    failed = run(["serve", "--port", "0"], env={"BREVO_MOCK_LOG_FORMAT": "xml"})
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        "brevo-loyalty-mock: error: log format 'xml' is not one of: text, json"]
