"""Where an organisation's events go: webhook endpoints, as `serve` flags or `POST /__mock__/webhooks` give them.

An endpoint is a URL (http or https; basic-auth credentials in it, as Brevo allows), the events it
wants (none named: all 24), extra headers, an optional bearer token and the timeout of one attempt.
Only what the user configured is ever called.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_TIMEOUT_SECONDS = 60.0
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token
_RESERVED = frozenset({"host", "content-length", "content-type", "transfer-encoding", "connection"})


class EndpointError(ValueError):
    """A webhook setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class Endpoint:
    url: str  # without the credentials, which travel as an Authorization header
    events: frozenset[str] = frozenset()  # empty: every event
    headers: tuple[tuple[str, str], ...] = ()
    bearer: str | None = None
    basic: tuple[str, str] | None = None  # (user, password) from the URL
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    id: str = ""
    request_headers: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def wants(self, name: str) -> bool:
        return not self.events or name in self.events

    @property
    def shown_url(self) -> str:
        """The URL with the password masked."""
        if self.basic is None:
            return self.url
        parts = urlsplit(self.url)
        return parts._replace(netloc=f"{self.basic[0]}:***@{parts.netloc}").geturl()

    def shown(self) -> dict[str, Any]:
        """What `GET /__mock__/webhooks` answers: secrets masked."""
        return {"id": self.id, "url": self.shown_url, "events": sorted(self.events), "headers": dict(self.headers),
                "bearer": "***" if self.bearer else None, "timeout": self.timeout}


def make_endpoint(url: str, *, events: Iterable[str] = (), headers: Iterable[tuple[str, str]] = (),
                  bearer: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS, id: str = "") -> Endpoint:
    """A checked endpoint; `EndpointError` names what is wrong."""
    if not isinstance(url, str):
        raise EndpointError("url must be a string such as http://127.0.0.1:9000/hooks")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"webhook url {url!r} must be an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise EndpointError(f"webhook url {url!r} has an invalid port") from None
    basic = None
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, netloc = netloc.rpartition("@")
        user, _, password = credentials.partition(":")
        basic = (unquote(user), unquote(password))
    clean = parts._replace(netloc=netloc).geturl()
    from mock_server.webhooks.catalog import event_names  # reads the contract: not in the delivery process

    known = set(event_names())
    wanted = frozenset(events)
    unknown = sorted(wanted - known)
    if unknown:
        raise EndpointError(f"unknown webhook event(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    checked = tuple(_header(name, value) for name, value in headers)
    if bearer is not None and (not bearer or any(ch in bearer for ch in "\r\n")):
        raise EndpointError("bearer token must be a non-empty single line")
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise EndpointError(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT_SECONDS:g}], got {timeout!r}")
    sent = [("Content-Type", "application/json"), ("User-Agent", "brevo-loyalty-mock-webhooks"), *checked]
    if bearer:
        sent.append(("Authorization", f"Bearer {bearer}"))
    elif basic is not None:
        token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        sent.append(("Authorization", f"Basic {token}"))
    return Endpoint(clean, wanted, checked, bearer, basic, float(timeout), id, tuple(sent))


def _header(name: str, value: str) -> tuple[str, str]:
    if not isinstance(name, str) or not isinstance(value, str):
        raise EndpointError("headers must be strings")
    name, value = name.strip(), value.strip()
    if not _HEADER_NAME.match(name) or name.lower() in _RESERVED:
        raise EndpointError(f"header name {name!r} cannot be sent (an HTTP token, not {', '.join(sorted(_RESERVED))})")
    if any(ch in value for ch in "\r\n\x00"):
        raise EndpointError(f"header {name!r}: the value must be one line")
    return name, value


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` (the `--webhook-header` form)."""
    name, sep, value = text.partition(":")
    if not sep:
        raise EndpointError(f"webhook header {text!r} must be written 'Name: value'")
    return _header(name, value)


def endpoint_from_json(body: Any, id: str) -> Endpoint:
    """`POST /__mock__/webhooks` body: {url, events?, headers? ({name: value} or [{key, value}]), bearer?, timeout?}."""
    if not isinstance(body, Mapping):
        raise EndpointError("the body must be a JSON object with at least 'url'")
    unknown = sorted(set(body) - {"url", "events", "headers", "bearer", "timeout"})
    if unknown:
        raise EndpointError(f"unknown field(s) {', '.join(unknown)}; expected url, events, headers, bearer, timeout")
    events = body.get("events") or []
    if isinstance(events, str):
        events = [part.strip() for part in events.split(",") if part.strip()]
    if not isinstance(events, list) or not all(isinstance(name, str) for name in events):
        raise EndpointError("events must be a list of event names")
    raw = body.get("headers") or {}
    if isinstance(raw, Mapping):
        headers = list(raw.items())
    elif isinstance(raw, list) and all(isinstance(item, Mapping) and set(item) == {"key", "value"} for item in raw):
        headers = [(item["key"], item["value"]) for item in raw]
    else:
        raise EndpointError("headers must be an object {name: value} or a list of {key, value}")
    bearer = body.get("bearer")
    if bearer is not None and not isinstance(bearer, str):
        raise EndpointError("bearer must be a string")
    return make_endpoint(body.get("url"), events=events, headers=headers, bearer=bearer,
                         timeout=body.get("timeout", DEFAULT_TIMEOUT_SECONDS), id=id)
