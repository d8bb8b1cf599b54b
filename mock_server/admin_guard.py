"""Who may use the ``/__mock__/`` endpoints: the rules, checked before any of them answers.

The endpoints show every organisation's keys and ids, and change the mock's
state (``POST /__mock__/reset``). The loopback rule alone does not protect them
from the developer's own browser, which is on loopback too: any page it visits
could send them requests. So, as Vite and webpack-dev-server did after their
cross-origin advisories, a request under ``/__mock__/`` must pass every check:

1. the client: a loopback address, or one in a ``--admin-from`` network;
2. ``Host``: a loopback name or address, the bound host, or an ``--allowed-host``
   (a page on another name whose DNS now points at 127.0.0.1, "DNS rebinding",
   is refused);
3. ``Origin``: none (not a browser, or a same-origin read), the mock's own
   origin, or a ``--cors-origin``; and a browser's cross-site request that
   carries no Origin (``Sec-Fetch-Site``: an image or script tag) is refused
   too, unless it is a navigation that shows a page to the user;
4. a call that changes state (not GET or HEAD) carries ``Content-Type:
   application/json`` or an ``X-Brevo-Mock`` header, which a page can send only
   after a CORS preflight, and ``/__mock__/`` answers no preflight.

``/__mock__/`` answers no CORS headers at all (the app's CORS middleware skips
it). A refusal is Brevo's error body: 403 ``permission_denied``, naming the
rule. ``GET /__mock__/health`` is a readiness probe: it is never refused, but
tells a request that fails a rule only that the mock is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from mock_server.settings import Settings

PREFIX = "/__mock__"
OPEN_PATHS = frozenset({f"{PREFIX}/health"})  # answered to anyone, with less when a rule fails
SAFE_METHODS = frozenset({"GET", "HEAD"})
CUSTOM_HEADER = b"x-brevo-mock"  # a header a page cannot send cross-origin without a preflight
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
# The scope key where the guard leaves its verdict: None (allowed) or the reason of a refusal.
REFUSAL = "brevo_mock.admin_refusal"

Network = IPv4Network | IPv6Network


def is_admin_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def admin_allowed(request: Request) -> bool:
    """Whether the guard let this request through every rule (False when no guard ran)."""
    return request.scope.get(REFUSAL, "no guard") is None


def _address(text: str) -> Any:
    """An IP address, with IPv4-mapped IPv6 (a dual-stack socket's view of IPv4 clients) as IPv4."""
    address = ip_address(text)
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def host_name(host_header: str) -> str:
    """The name or address of a ``Host`` header, without port or brackets, in lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        host = name
    return host.rstrip(".")


def _is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: always the loopback interface
        return True
    try:
        return _address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AdminAccess:
    """The rules' parameters, from the settings: what is allowed beyond loopback."""

    networks: tuple[Network, ...] = ()  # clients (--admin-from)
    hosts: tuple[str, ...] = ()  # Host names (the bound host, --allowed-host; '.name' covers subdomains)
    origins: tuple[str, ...] = ()  # pages on other origins (--cors-origin, but never '*')

    @classmethod
    def from_settings(cls, settings: Settings) -> AdminAccess:
        return cls.bound_to(settings.host, admin_from=settings.admin_from, allowed_hosts=settings.allowed_hosts,
                            cors_origins=settings.cors_origins)

    @classmethod
    def bound_to(cls, host: str, *, admin_from: tuple[str, ...] = (), allowed_hosts: tuple[str, ...] = (),
                 cors_origins: tuple[str, ...] = ()) -> AdminAccess:
        """The rules of a server bound to `host` (its name is an allowed Host, unless it is 0.0.0.0 or ::)."""
        bound = host_name(host)
        hosts = (*(() if bound in WILDCARD_HOSTS else (bound,)), *allowed_hosts)
        return cls(
            networks=tuple(ip_network(text) for text in admin_from),
            hosts=tuple(dict.fromkeys(hosts)),
            origins=tuple(origin for origin in cors_origins if origin != "*"),
        )

    def client_allowed(self, client: str | None) -> bool:
        if client is None or client == "testclient":  # in-process test clients (Starlette's) carry no address
            return True
        try:
            address = _address(client)
        except ValueError:
            return False
        return address.is_loopback or any(address in network for network in self.networks)

    def host_allowed(self, name: str) -> bool:
        if _is_loopback_name(name):
            return True
        return any(name == host or (host.startswith(".") and (name == host[1:] or name.endswith(host)))
                   for host in self.hosts)

    def refusal(self, method: str, path: str, client: str | None, headers: dict[bytes, bytes]) -> str | None:
        """Why this request may not use /__mock__/, or None when it may."""
        if not self.client_allowed(client):
            beyond = f" and {', '.join(map(str, self.networks))}" if self.networks else ""
            return (f"The /__mock__/ endpoints answer loopback clients{beyond} only, not {client} "
                    "(allow a network with --admin-from CIDR)")
        host_header = headers.get(b"host", b"").decode("latin-1")
        name = host_name(host_header)
        if host_header and not self.host_allowed(name) and not (client == "testclient" and name == "testserver"):
            return (f"Host '{host_header[:100]}' may not use the /__mock__/ endpoints: only a loopback name or "
                    "address, the host the mock is bound to, or an --allowed-host NAME (a page whose DNS name "
                    "points at this mock must not read it)")
        origin = headers.get(b"origin")
        if origin is not None:
            text = origin.decode("latin-1")
            if not self._origin_allowed(text, host_header):
                return (f"Origin '{text[:100]}' may not use the /__mock__/ endpoints: only the mock's own pages "
                        "and the --cors-origin origins may")
        elif headers.get(b"sec-fetch-site", b"") in (b"cross-site", b"same-site") and \
                headers.get(b"sec-fetch-mode") != b"navigate":
            return "A page on another site may not use the /__mock__/ endpoints (Sec-Fetch-Site)"
        if method not in SAFE_METHODS and not _proves_no_simple_request(headers):
            return (f"{method} {path[:100]} changes the mock's state: send it with 'Content-Type: "
                    "application/json' or an 'X-Brevo-Mock: 1' header (which a web page cannot send "
                    "without asking first)")
        return None

    def _origin_allowed(self, origin: str, host_header: str) -> bool:
        origin = origin.strip().lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        # Same origin: the page was served by this mock under the Host the request names.
        return parts.scheme in ("http", "https") and bool(host_header) and \
            parts.netloc == host_header.strip().lower() and not parts.path


def _proves_no_simple_request(headers: dict[bytes, bytes]) -> bool:
    """A JSON body or the custom header: what no cross-origin form, image or simple fetch can send."""
    if headers.get(CUSTOM_HEADER, b"").strip():
        return True
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    return media_type == b"application/json"


class AdminGuard:
    """ASGI middleware applying `AdminAccess` to every request under /__mock__/."""

    def __init__(self, app: ASGIApp, access: AdminAccess) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of repeated headers, as Starlette reads them
        client = scope.get("client")
        reason = self.access.refusal(scope["method"], scope["path"], client[0] if client else None, headers)
        scope[REFUSAL] = reason
        if reason is None or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        body = orjson.dumps({"code": "permission_denied", "message": reason})
        await send({"type": "http.response.start", "status": 403, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})
