"""A small JSON client for the semantic properties, that remembers what it sent.

Every property talks to the target through HTTP only (so it runs against any
server); when one fails, the report shows a curl for each request of the
failing example, which is what `log` keeps.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
import requests

from mock_server.conformance.report import KEY_VARIABLE


@dataclass
class Answer:
    status: int
    body: Any  # parsed JSON, or None
    url: str
    method: str = "GET"

    def ok(self) -> Any:
        """The body of a 200, or an assertion naming what came instead."""
        assert self.status == 200, (f"{self.method} {self.url} answered {self.status}, expected 200: "
                                    f"{str(self.body)[:300]}")
        return self.body


@dataclass
class Client:
    session: requests.Session  # sends the api-key header, through the run's budget
    base_url: str
    timeout: float = 10.0
    log: list[str] = field(default_factory=list)  # curls of the current example
    written: list[str] = field(default_factory=list)  # "METHOD path -> status" of every write sent

    def send(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None) -> Answer:
        """Any method, with a JSON body when `body` is not None; a write is remembered in `written`."""
        params = {name: _wire(value) for name, value in (query or {}).items() if value is not None}
        url = self.base_url.rstrip("/") + path + ("?" + urlencode(params) if params else "")
        data = None if body is None else orjson.dumps(body)
        curl = f'curl -s -X {method} -H "api-key: ${KEY_VARIABLE}"'
        if data is not None:
            curl += f" -H 'content-type: application/json' -d {shlex.quote(data.decode())}"
        self.log.append(f"{curl} {shlex.quote(url)}")
        headers = {"content-type": "application/json"} if data is not None else {}
        response = self.session.request(method, url, data=data, headers=headers, timeout=self.timeout)
        if method not in ("GET", "HEAD"):
            self.written.append(f"{method} {path} -> {response.status_code}")
        try:
            parsed = response.json() if response.content else None
        except ValueError:
            parsed = None
        return Answer(response.status_code, parsed, url, method)

    def get(self, path: str, **params: Any) -> Answer:
        query = {name: _wire(value) for name, value in params.items() if value is not None}
        url = self.base_url.rstrip("/") + path + ("?" + urlencode(query) if query else "")
        self.log.append(f'curl -s -H "api-key: ${KEY_VARIABLE}" {shlex.quote(url)}')
        response = self.session.get(url, timeout=self.timeout)
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        return Answer(response.status_code, body, url)

    def raw(self, path: str, **params: Any) -> bytes:
        query = {name: _wire(value) for name, value in params.items() if value is not None}
        url = self.base_url.rstrip("/") + path + ("?" + urlencode(query) if query else "")
        self.log.append(f'curl -s -H "api-key: ${KEY_VARIABLE}" {shlex.quote(url)}')
        return self.session.get(url, timeout=self.timeout).content


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
