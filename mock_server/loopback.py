"""Whether a URL points at this machine: what decides how careful the conformance run and the proxy are.

A loopback target (a local mock or test server) may be written to and sent as many requests as
the run likes; anything else (the real Brevo) is read-only, budgeted and paced by default.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
