"""Servers for the conformance tests: our mock broken on purpose, a generic spec-driven mock, a quota fake.

A suite is only worth something if it fails on servers that break the
contract. Each `Breakage` wraps our (correct) mock and changes one thing on
the way out (or in); the tests run the conformance command against it and
assert that exactly that breakage is reported, with a curl that shows it.

Everything listens on 127.0.0.1, port 0, in a thread, and stops with its context.
"""

from __future__ import annotations

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
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        status, headers, body = self.change_answer(started["status"], list(started.get("headers", [])),
                                                   b"".join(chunks), scope)
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
