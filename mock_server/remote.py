"""A handle on a mock that runs elsewhere (``--brevo-mock-url``), seen through one key of its own.

Parallel test processes (pytest-xdist workers, CI jobs) share one mock started with
``serve --world-per-key PREFIX``; each uses the key PREFIX + its worker id, so each
reads and writes a world of its own (docs/isolation.md). This is the part of
`mock_server.testing.RunningMock` that works over HTTP alone: the URLs, the key, the
key's world and its reset, and the key's own view of the request journal (its requests
since its last reset, never another key's).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, NoReturn

from mock_server.journal import JournalEntry

DEFAULT_KEY_PREFIX = "xkeysib-test-"
TIMEOUT_SECONDS = 10.0


class RemoteMockError(RuntimeError):
    """The mock at the URL cannot be used as asked; the message says why."""


def worker_key(prefix: str) -> str:
    """This process's key: the prefix and the pytest-xdist worker id (``gw0`` ...), or ``main`` without xdist."""
    return prefix + os.environ.get("PYTEST_XDIST_WORKER", "main")


@dataclass
class RemoteMock:
    base_url: str  # ends in /v3: what an official client takes as base_url
    root_url: str  # scheme://host:port, for /__mock__/ endpoints
    api_key: str

    @classmethod
    def connect(cls, url: str, api_key: str) -> RemoteMock:
        """The mock at `url` (its root or its /v3 base), checked to give `api_key` a world of its own."""
        root = url.rstrip("/").removesuffix("/v3")
        mock = cls(root + "/v3", root, api_key)
        body = mock._call("GET", "/__mock__/world?sample=0")
        if "keyWorld" not in body:
            raise RemoteMockError(f"the mock at {root} does not give {api_key!r} a world of its own: start it with "
                                  f"--world-per-key and a prefix {api_key!r} starts with (e.g. "
                                  f"{DEFAULT_KEY_PREFIX}), or set brevo_mock_key_prefix to match its prefix")
        return mock

    @property
    def world(self) -> dict[str, Any]:
        """The seeded ids of this key's world (what GET /__mock__/world answers it)."""
        return self._call("GET", "/__mock__/world")

    def reset(self) -> None:
        """This key's world back to the seeded one; other keys' worlds are left as they are."""
        self._call("POST", "/__mock__/reset")

    @property
    def requests(self) -> list[JournalEntry]:
        """This key's requests since its last reset, oldest first, with their contract violations."""
        rows = self._call("GET", "/__mock__/requests")["requests"]
        return [JournalEntry(**{**row, "violations": tuple(row["violations"])}) for row in rows]

    @property
    def violations(self) -> list[str]:
        return [violation for entry in self.requests for violation in entry.violations]

    def load_fixture(self, path: Any) -> None:
        self._unavailable("load_fixture")

    def _unavailable(self, name: str) -> NoReturn:
        raise RemoteMockError(f"brevo_mock.{name} is not available with --brevo-mock-url: the shared mock's "
                              "fixtures belong to every key; start that mock with --fixture")

    def _call(self, method: str, path: str) -> dict[str, Any]:
        headers = {"api-key": self.api_key, "X-Brevo-Mock": "1"}  # the header: a state change from a script
        request = urllib.request.Request(self.root_url + path, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                return dict(json.loads(answer.read()))
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode(errors="replace")
            raise RemoteMockError(f"{method} {self.root_url}{path} with key {self.api_key!r} answered "
                                  f"{error.code}: {detail}") from None
        except (OSError, ValueError) as error:
            raise RemoteMockError(f"cannot reach the mock at {self.root_url}: {error}") from None
