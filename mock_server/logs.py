"""``--log-format json``: every log line one JSON object, for CI log collectors.

With the default ``text`` format uvicorn writes its access log line per request
(stdout) and its own messages (stderr). With ``json``:

- the mock writes one access line per request on stdout instead of uvicorn's:
  ``time`` (UTC, ISO 8601), ``method``, ``path`` (percent-decoded), ``query``,
  ``status``, ``latency_ms`` (time spent answering), ``client``,
  ``organisation`` (of the api-key; null without a known key), ``operation``
  (the contract's operationId; null off the API) and ``violations`` (the
  request's contract violations, as the journal lists them);
- uvicorn's own messages (start-up, refused requests, errors) are
  ``{"time", "level", "logger", "message"}`` on stderr;
- the banner, the client-check lines and the summary are one object each,
  with the text in ``message``.

Both ways into the API log alike: the ASGI path (`mock_server.app._MockApp`)
and the protocol's direct answers (`mock_server.direct`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from mock_server.auth import KeyRing
from mock_server.journal import JournalEntry
from mock_server.settings import Settings

ACCESS_LOGGER = "brevo_loyalty_mock.access"


def _now() -> str:
    # A log line's time is the wall clock's (as uvicorn's are); answers never read it.
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")  # wall: a log line's time


def line(fields: dict[str, Any]) -> str:
    return orjson.dumps({"time": _now(), **fields}).decode()


def message(text: str, level: str = "info", **fields: Any) -> str:
    """A message of the mock's own (banner, summary) as one JSON line."""
    return line({"level": level, "logger": "brevo_loyalty_mock", "message": text, **fields})


class JsonAccessLog:
    """Writes one JSON line per answered request to the access logger (stdout once configured)."""

    def __init__(self, settings: Settings) -> None:
        self._keys = KeyRing(settings)
        self._logger = logging.getLogger(ACCESS_LOGGER)

    def organisation(self, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        keys = [value for name, value in headers if name == b"api-key"]
        if len(keys) != 1:
            return None
        try:
            return self._keys.organisation_of(keys[0].decode("latin-1"))
        except Exception:  # 401 or 403: no organisation to name
            return None

    def write(self, *, method: str, path: str, query: bytes, status: int, seconds: float,
              client: tuple[str, int] | None, headers: Iterable[tuple[bytes, bytes]],
              operation: str | None = None, violations: tuple[str, ...] = ()) -> None:
        self._logger.info(line({
            "method": method,
            "path": path,
            "query": query.decode("latin-1"),
            "status": status,
            "latency_ms": round(seconds * 1000, 3),
            "client": f"{client[0]}:{client[1]}" if client else None,
            "organisation": self.organisation(headers),
            "operation": operation,
            "violations": list(violations),
        }))


class JsonFormatter(logging.Formatter):
    """uvicorn's own messages (and the mock's access lines, already JSON) as one JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == ACCESS_LOGGER:
            return record.getMessage()
        fields: dict[str, Any] = {"level": record.levelname.lower(), "logger": record.name,
                                  "message": record.getMessage()}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return line(fields)


def json_log_config() -> dict[str, Any]:
    """uvicorn's `log_config` for ``--log-format json``: uvicorn's loggers on stderr, access lines on stdout."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "stdout": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "brevo_loyalty_mock": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            ACCESS_LOGGER: {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }


def print_violation_json(entry: JournalEntry) -> None:
    """`--check-client`'s line per violating request, as JSON on stderr."""
    print(message(entry.log_line(), level="warning", violations=list(entry.violations)), file=sys.stderr,
          flush=True)
