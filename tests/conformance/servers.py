"""Servers for the conformance tests: our mock broken on purpose, a generic spec-driven mock, a quota fake.

A suite is only worth something if it fails on servers that break the
contract. Each `Breakage` wraps our (correct) mock and changes one thing on
the way out (or in); the tests run the conformance command against it and
assert that exactly that breakage is reported, with a curl that shows it.

Everything listens on 127.0.0.1, port 0, in a thread, and stops with its context.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_server.contract.loader import load_contract, resolve

Scope = dict[str, Any]
ASGIApp = Callable[..., Any]


# ---------------------------------------------------------------- breakages


class Breakage:
    """ASGI middleware: the mock, with one contract rule broken. Subclasses change requests or answers."""

    def __init__(self, app: ASGIApp, valid_key: str) -> None:
        self.app = app
        self.valid_key = valid_key

    def change_request(self, scope: Scope) -> Scope:
        return scope

    def change_answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                      scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return status, headers, body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v3/"):
            await self.app(scope, receive, send)
            return
        scope = self.change_request(dict(scope))
        status, headers, body = self.change_answer(*await _exchange(self.app, scope, receive), scope)
        headers = [(name, value) for name, value in headers if name.lower() != b"content-length"]
        if status != 204:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _JsonBreakage(Breakage):
    """Changes the JSON body of successful answers."""

    def change_body(self, body: Any) -> Any:
        return body

    def change_answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                      scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if status != 200 or not body:
            return status, headers, body
        return status, headers, orjson.dumps(self.change_body(orjson.loads(body)))


class NumberAsString(_JsonBreakage):
    """A documented integer (`count`, `totalCount`) served as a string."""

    def change_body(self, body: Any) -> Any:
        if isinstance(body, dict):
            for key in ("count", "totalCount"):
                if isinstance(body.get(key), int):
                    body[key] = str(body[key])
        return body


class EnumOutOfList(_JsonBreakage):
    """A program `state` outside [inactive, active, draft]."""

    def change_body(self, body: Any) -> Any:
        if isinstance(body, dict):
            for item in body.get("items", []) if isinstance(body.get("items"), list) else [body]:
                if isinstance(item, dict) and "state" in item:
                    item["state"] = "archived"
        return body


class ListAsObject(_JsonBreakage):
    """The `items` array of a page served as an object keyed by position."""

    def change_body(self, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            body["items"] = {str(index): item for index, item in enumerate(body["items"])}
        return body


class IgnoresAuth(Breakage):
    """Data served without a valid key: the key check is skipped."""

    def change_request(self, scope: Scope) -> Scope:
        headers = [(name, value) for name, value in scope["headers"] if name != b"api-key"]
        scope["headers"] = [*headers, (b"api-key", self.valid_key.encode())]
        return scope


class ServerErrorOnBadInput(Breakage):
    """A 500 where the contract answers a bad parameter with 400 or 422."""

    def change_answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                      scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if status in (400, 422):
            return 500, headers, b'{"code":"internal_error","message":"NullPointerException"}'
        return status, headers, body


class WrongSuccessStatus(Breakage):
    """201 instead of the documented 200."""

    def change_answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                      scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return (201 if status == 200 else status), headers, body


class WrongContentType(Breakage):
    """JSON bodies labelled text/plain."""

    def change_answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                      scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if status == 200:
            headers = [(n, b"text/plain" if n.lower() == b"content-type" else v) for n, v in headers]
        return status, headers, body


class IgnoresOffset(Breakage):
    """Paging broken: `offset` is dropped, every page is the first one (the schema still holds)."""

    def change_request(self, scope: Scope) -> Scope:
        query = [(k, v) for k, v in parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
                 if k != "offset"]
        scope["query_string"] = urlencode(query).encode()
        return scope


class IgnoresSortDirection(Breakage):
    """Sorting broken: `sort=asc` is served in the default descending order (the schema still holds)."""

    def change_request(self, scope: Scope) -> Scope:
        query = [(k, "desc" if k == "sort" else v)
                 for k, v in parse_qsl(scope["query_string"].decode(), keep_blank_values=True)]
        scope["query_string"] = urlencode(query).encode()
        return scope


class TierNeverUpgrades(_JsonBreakage):
    """The guide's tier read shows every member below every tier, whatever its balance (the schema still holds):
    wrong in a group that upgrades in real time, as the seeded ones do."""

    def change_answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                      scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if not scope["path"].endswith("/tier"):
            return status, headers, body
        return super().change_answer(status, headers, body, scope)

    def change_body(self, body: Any) -> Any:
        if isinstance(body, dict) and "tierId" in body:
            body.update(tierId=None, tierName=None)
        return body


# ---------------------------------------------------------- write breakages


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_COMPLETE = re.compile(r"^/v3/loyalty/balance/programs/([^/]+)/transactions/([^/]+)/complete$")


def _is_write(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] not in ("GET", "HEAD") and scope["path"].startswith("/v3/")


async def _read_all(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _with_body(scope: Scope, body: bytes) -> tuple[Scope, Any]:
    """The scope (content-length fixed) and a `receive` that hands `body` over once."""
    headers = [(n, v) for n, v in scope["headers"] if n != b"content-length"]
    if body and not any(n == b"content-type" for n, _ in headers):
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode()))
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # nothing more to read; a disconnect would come here
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return {**scope, "headers": headers}, receive


async def _exchange(app: ASGIApp, scope: Scope, receive: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def capture(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return started["status"], list(started.get("headers", [])), b"".join(chunks)


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
    if status != 204:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AcceptsInvalidBody(Breakage):
    """A lenient body parser: a string of digits where the contract wants a number is taken as that number."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not _is_write(scope):
            await self.app(scope, receive, send)
            return
        raw = await _read_all(receive)
        with contextlib.suppress(orjson.JSONDecodeError):
            raw = orjson.dumps(_numbers(orjson.loads(raw)))
        await self.app(*_with_body(scope, raw), send)


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value) if "." in value else int(value)
    return value


class StaleReads(Breakage):
    """A read cache that writes do not invalidate: a GET answers what it answered the first time."""

    def __init__(self, app: ASGIApp, valid_key: str) -> None:
        super().__init__(app, valid_key)
        self.cache: dict[tuple[str, bytes, bytes], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/v3/"):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope["query_string"], dict(scope["headers"]).get(b"api-key", b""))
        if key not in self.cache:
            answer = await _exchange(self.app, scope, receive)
            if answer[0] != 200:
                await _answer(send, *answer)
                return
            self.cache[key] = answer
        await _answer(send, *self.cache[key])


class LosesConcurrentUpdates(Breakage):
    """Writes to one path that overlap are collapsed: the later one gets the earlier one's answer, and is lost.

    Each write is held a moment first (the read-modify-write window of a server without a lock).
    """

    HOLD_SECONDS = 0.05

    def __init__(self, app: ASGIApp, valid_key: str) -> None:
        super().__init__(app, valid_key)
        self.running: dict[str, asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]]] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not _is_write(scope):
            await self.app(scope, receive, send)
            return
        earlier = self.running.get(scope["path"])
        if earlier is not None:
            await _read_all(receive)
            await _answer(send, *await asyncio.shield(earlier))
            return
        future = asyncio.get_running_loop().create_future()
        self.running[scope["path"]] = future
        try:
            await asyncio.sleep(self.HOLD_SECONDS)
            answer = await _exchange(self.app, scope, receive)
            future.set_result(answer)
        finally:
            del self.running[scope["path"]]
        await _answer(send, *answer)


class CompletesTwice(Breakage):
    """Completing a completed transaction is not refused: it is answered 200 and credited again."""

    def __init__(self, app: ASGIApp, valid_key: str) -> None:
        super().__init__(app, valid_key)
        self.completed: dict[str, dict[str, Any]] = {}  # tid -> the completed transaction, as answered

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        found = _COMPLETE.match(scope["path"]) if _is_write(scope) else None
        if found is None:
            await self.app(scope, receive, send)
            return
        pid, tid = found.groups()
        status, headers, body = await _exchange(self.app, scope, receive)
        if status == 200:
            self.completed[tid] = orjson.loads(body)
        elif tid in self.completed:
            done = self.completed[tid]
            credit = orjson.dumps({"amount": done["amount"], "transactionType": done["transactionType"],
                                   "balanceDefinitionId": done["balanceDefinitionId"],
                                   "contactId": done["contactId"], "autoComplete": True})
            path = f"/v3/loyalty/balance/programs/{pid}/transactions"
            again = {**scope, "path": path, "raw_path": path.encode(), "query_string": b""}
            await _exchange(self.app, *_with_body(again, credit))
            status, headers, body = 200, [(b"content-type", b"application/json")], orjson.dumps(done)
        await _answer(send, status, headers, body)


class NotOurMock:
    """Our mock, minus what makes it recognisable as ours (/__mock__/): any other server, to the runner.

    Records every API request it serves, as "METHOD /path -> status" (the report's `written` lines, for writes).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str, int]] = []  # (method, path without /v3, status)

    @property
    def writes(self) -> list[str]:
        return [f"{method} {path} -> {status}" for method, path, status in self.seen if method not in ("GET", "HEAD")]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/__mock__/"):
            await _answer(send, 404, [(b"content-type", b"application/json")], b'{"code":"document_not_found"}')
            return

        async def noted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((scope["method"], scope["path"].removeprefix("/v3"), message["status"]))
            await send(message)

        await self.app(scope, receive, noted)


# ------------------------------------------------------- generic spec mock


def _sample(document: dict[str, Any], schema: Any) -> Any:
    """A fixed value that fits `schema`: what a static, spec-driven mock (Prism-like) serves."""
    schema = resolve(document, schema)
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        return {name: _sample(document, sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_sample(document, schema.get("items", {}))]
    if kind == "integer":
        return max(0, schema.get("minimum", 0))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return {"uuid": "0f8fad5b-d9cb-469f-a165-70867728950e", "date-time": "2026-01-01T00:00:00Z",
            "uri": "https://example.com/image.png"}.get(schema.get("format", ""), "text")


def generic_spec_mock() -> Starlette:
    """Answers every operation (reads and writes) with its schema-valid success, for any key, whatever it is sent."""
    document = load_contract()
    headers = {"x-sib-ratelimit-limit": "600", "x-sib-ratelimit-remaining": "599", "x-sib-ratelimit-reset": "3600"}
    routes = []
    for path, item in document["paths"].items():
        answers: dict[str, Any] = {}  # method -> the sample success body (None: a 204)
        for method, spec in item.items():
            if not isinstance(spec, dict) or "operationId" not in spec:
                continue
            success = spec["responses"].get("200")
            answers[method.upper()] = None if success is None else _sample(
                document, resolve(document, success)["content"]["application/json"]["schema"])

        async def answer(request: Request, answers: dict[str, Any] = answers) -> Response:
            if not request.headers.get("api-key"):
                return JSONResponse({"code": "unauthorized", "message": "Key not found"}, 401)
            body = answers[request.method]
            return Response(status_code=204, headers=headers) if body is None else JSONResponse(body, headers=headers)

        routes.append(Route("/v3" + path, answer, methods=list(answers)))
    return Starlette(routes=routes)


# ------------------------------------------------------------ quota fake


class QuotaFake:
    """Our mock behind Brevo-style rate limiting: `per_window` requests per `window` seconds.

    Sends x-sib-ratelimit-* on every answer, and 429 (with `reset`) once the
    window is spent. Records when each request arrived and with which method.
    """

    def __init__(self, app: ASGIApp, per_window: int, window: float) -> None:
        self.app = app
        self.per_window = per_window
        self.window = window
        self.started = time.monotonic()
        self.used = 0
        self.arrivals: list[tuple[float, str, int]] = []  # (time, method, status) of API requests
        self.others = 0  # requests outside the API (/__mock__/): not rate-limited, still counted

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v3/"):
            self.others += scope["type"] == "http"
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        if now - self.started >= self.window:
            self.started, self.used = now, 0
        reset = max(1, int(self.window - (now - self.started) + 0.999))
        self.used += 1
        remaining = max(0, self.per_window - self.used)
        limit_headers = [(b"x-sib-ratelimit-limit", str(self.per_window).encode()),
                         (b"x-sib-ratelimit-remaining", str(remaining).encode()),
                         (b"x-sib-ratelimit-reset", str(reset).encode())]
        if self.used > self.per_window:
            self.arrivals.append((now, scope["method"], 429))
            body = b'{"code":"too_many_requests","message":"Rate limit exceeded"}'
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"), *limit_headers]})
            await send({"type": "http.response.body", "body": body})
            return
        self.arrivals.append((now, scope["method"], 200))

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if not n.startswith(b"x-sib-ratelimit")]
                message = {**message, "headers": [*kept, *limit_headers]}
            await send(message)

        await self.app(scope, receive, with_headers)
