"""A small JSON client for the semantic properties, that remembers what it sent.

Every property talks to the target through HTTP only (so it runs against any
server); when one fails, the report shows a curl for each request of the
failing example, which is what `log` keeps.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from mock_server.conformance.report import KEY_VARIABLE


@dataclass
class Answer:
    status: int
    body: Any  # parsed JSON, or None
    url: str

    def ok(self) -> Any:
        """The body of a 200, or an assertion naming what came instead."""
        assert self.status == 200, f"GET {self.url} answered {self.status}, expected 200: {str(self.body)[:300]}"
        return self.body


@dataclass
class Client:
    session: requests.Session  # sends the api-key header, through the run's budget
    base_url: str
    timeout: float = 10.0
    log: list[str] = field(default_factory=list)  # curls of the current example

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
