"""The app's direct way into the API answers exactly what the full Starlette stack answers.

`create_app` sends /v3 requests without an Origin header straight to the
pipeline (a performance shortcut, see docs/performance.md); these tests send
the same requests both ways, to two apps over the same world, and compare
status, headers, body and journal.
"""

import asyncio
from dataclasses import asdict

import pytest
from starlette.applications import Starlette

from mock_server.app import build_worlds, create_app
from mock_server.settings import DEFAULT_API_KEY, Settings

SETTINGS = Settings(access_log=False, contacts=20)


@pytest.fixture(scope="module")
def apps():
    worlds = build_worlds(SETTINGS)
    return create_app(SETTINGS, worlds=worlds), create_app(SETTINGS, worlds=worlds)


def _call(app, entry, method, path, query=b"", headers=()):
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
        "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000), "root_path": "", "method": method,
        "path": path, "raw_path": path.encode(), "query_string": query, "headers": list(headers), "state": {},
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(entry(app, scope, receive, send))
    start, body = sent[0], b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], [tuple(header) for header in start["headers"]], body


def _requests(app):
    world = app.state.mock.worlds["default"].summary(sample=1)
    program = world["programs"][0]
    pid, contact = program["id"], program["members"][0]["contactId"]
    bdid = program["balanceDefinitions"][0]["id"]
    key = (b"api-key", DEFAULT_API_KEY.encode())
    base = f"/v3/loyalty/balance/programs/{pid}"
    return [
        ("GET", f"/v3/loyalty/config/programs/{pid}", b"", [key]),
        ("GET", "/v3/loyalty/config/programs", b"limit=2&sort=asc", [key]),
        ("GET", f"{base}/transaction-history", f"contactId={contact}&balanceDefinitionId={bdid}&limit=5".encode(),
         [key]),
        ("GET", f"{base}/contact-balances", f"balanceDefinitionId={bdid}&limit=0".encode(), [key]),
        ("GET", f"{base}/contact-balances", b"balanceDefinitionId=%ZZ&limit=a+b", [key]),
        ("GET", f"{base}/subscriptions/{contact}/tier", b"", [key, (b"prefer", b"code=500")]),
        ("GET", f"{base}/balance-definitions", b"", [key, (b"prefer", b"code=204")]),
        ("GET", f"/v3/loyalty/config/programs/{pid}", b"", []),
        ("POST", f"/v3/loyalty/config/programs/{pid}", b"", [key]),
        ("GET", "/v3/no/such/path", b"", [key]),
        ("GET", f"/v3/loyalty/config/programs/{pid}%2Fx", b"", [key]),
    ]


def _without_clock(headers):
    # Both apps count requests alike, but the reset countdown is wall-clock time.
    return [(name, value) for name, value in headers if name != b"x-sib-ratelimit-reset"]


def test_direct_path_answers_like_the_full_stack(apps):
    direct, full = apps
    for method, path, query, headers in _requests(direct):
        fast = _call(direct, type(direct).__call__, method, path, query, headers)
        slow = _call(full, Starlette.__call__, method, path, query, headers)
        assert fast[0] == slow[0], (method, path, query)
        assert _without_clock(fast[1]) == _without_clock(slow[1]), (method, path, query)
        assert fast[2] == slow[2], (method, path, query)
    journal = [{k: v for k, v in asdict(e).items() if k != "at"} for e in direct.state.mock.journal.entries()]
    expected = [{k: v for k, v in asdict(e).items() if k != "at"} for e in full.state.mock.journal.entries()]
    assert journal == expected


def test_cross_origin_requests_still_get_cors_headers(apps):
    direct, _ = apps
    pid = direct.state.mock.worlds["default"].programs[0].id
    status, headers, _ = _call(direct, type(direct).__call__, "GET", f"/v3/loyalty/config/programs/{pid}",
                               headers=[(b"api-key", DEFAULT_API_KEY.encode()), (b"origin", b"http://x.test")])
    assert status == 200
    assert (b"access-control-allow-origin", b"*") in headers
