"""A test's handle on an organisation's clock, through ``/__mock__/clock`` (so it works on a mock in
another process too): ``now()``, ``advance(days=30)``, ``set(datetime)``.

    clock = MockClock("http://127.0.0.1:4010", api_key="...")   # or brevo_mock.clock in pytest
    clock.advance(days=30)          # credits and vouchers past their expiry lapse, reminders fire ...
    assert clock.now().year == 2026

Moving it runs everything due meanwhile, in time order (docs/time.md); it never goes back.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from mock_server.duration import duration_of

TIMEOUT_SECONDS = 120.0  # a long move over a big world takes a while (docs/time.md)


class ClockError(RuntimeError):
    """The mock refused a clock request; `status` and `body` are its answer (Brevo's error shape)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('code')}: {body.get('message')}")
        self.status = status
        self.body = body


class MockClock:
    def __init__(self, root_url: str, api_key: str | None = None) -> None:
        self.url = root_url.rstrip("/") + "/__mock__/clock"
        self.api_key = api_key  # None: the mock's default organisation

    def of(self, api_key: str) -> MockClock:
        """The clock of the organisation another API key reads."""
        return MockClock(self.url.removesuffix("/__mock__/clock"), api_key)

    def state(self) -> dict[str, Any]:
        """What ``GET /__mock__/clock`` answers: organisation, now, mode, start."""
        return self._call("GET", None)

    def now(self) -> datetime:
        """The organisation's current time (UTC)."""
        return _datetime(self.state()["now"])

    def advance(self, *, years: int = 0, months: int = 0, weeks: int = 0, days: int = 0, hours: int = 0,
                minutes: int = 0, seconds: float = 0) -> datetime:
        """Move on by a duration (months and years by the calendar); returns the new time."""
        duration = duration_of(years=years, months=months, weeks=weeks, days=days, hours=hours, minutes=minutes,
                               seconds=seconds)
        return _datetime(self._call("POST", {"advance": duration})["now"])

    def set(self, moment: datetime) -> datetime:
        """Move on to `moment` (naive means UTC; never before now); returns the new time."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        text = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return _datetime(self._call("POST", {"set": text})["now"])

    def _call(self, method: str, body: dict[str, Any] | None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["api-key"] = self.api_key
        request = urllib.request.Request(self.url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise ClockError(error.code, json.loads(error.read() or b"{}")) from None


def _datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
