"""The start-up banner: where the mock listens, which key to use, and ids to try."""

from __future__ import annotations

from typing import Any

from mock_server import __version__
from mock_server.settings import Settings
from mock_server.state import MockState


def _first_member(summary: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A program and member to show in the ready-to-paste curl (a fixture member first)."""
    candidates = [(program, member) for program in summary["programs"] for member in program["members"]]
    for program, member in candidates:
        if member.get("fixture"):
            return program, member
    return candidates[0] if candidates else None


# A wildcard bind listens on every interface; a client on this machine reaches it on loopback.
_REACHABLE = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def usable_host(host: str) -> str:
    """The host to put in a URL for a server bound to `host`: loopback for a wildcard, IPv6 in brackets."""
    host = _REACHABLE.get(host, host)
    return f"[{host}]" if ":" in host else host


def banner(settings: Settings, state: MockState) -> str:
    root = f"http://{usable_host(settings.host)}:{settings.port}"
    base_url = root + state.contract.base_path
    organisation = settings.api_keys[0].organisation
    summary = state.worlds[organisation].summary(sample=1)
    stats = summary["stats"]
    lines = [
        f"brevo-loyalty-mock {__version__}: Brevo Loyalty API, offline",
        f"  base URL   {base_url}",
    ]
    if settings.host in _REACHABLE:
        lines.append(f"  listening  on all interfaces ({settings.host or '0.0.0.0'}:{settings.port}): use this "
                     "machine's address from elsewhere")
    lines.append(f"  api-key    {settings.default_key}")
    for api_key in settings.api_keys[1:]:
        lines.append(f"             {api_key.key} (organisation {api_key.organisation})")
    for key in settings.forbidden_keys:
        lines.append(f"  forbidden  {key} (authenticates, answers 403)")
    if settings.world_per_key is not None:
        idle = ("kept until a reset" if settings.world_idle_timeout is None
                else f"dropped after {settings.world_idle_timeout:g} s unused")
        lines.append(f"  per key    {settings.world_per_key}... : a world of its own per key, from the seeded "
                     f"world of '{organisation}' ({idle})")
    lines.append(
        f"  world      seed {settings.seed}, {settings.contacts:,} contacts per published program, "
        f"{stats['programs']} programs, {stats['transactions']:,} transactions"
    )
    for index, program in enumerate(summary["programs"]):
        label = "programs  " if index == 0 else "          "
        lines.append(f"  {label} {program['id']}  {program['name']} ({program['state']})")
    if settings.rate_limit is not None:
        lines.append(f"  limit      {settings.rate_limit.requests} requests/{settings.rate_limit.window} per key "
                     "(429 past it)")
    if settings.read_only:
        lines.append("  read-only  a fixed world: every write answers 405")
    if settings.check_client:
        lines.append("  checking   every request against the contract (summary at exit)")
    for endpoint in state.webhooks.endpoints(organisation):  # --webhook endpoints are every organisation's
        events = "every event" if not endpoint.events else ", ".join(sorted(endpoint.events))
        lines.append(f"  webhook    {endpoint.shown_url} ({events}; deliveries: /__mock__/webhooks/deliveries)")
    found = _first_member(summary)
    if found is not None:
        program, member = found
        lines.append(
            f"  try        curl -s -H 'api-key: {settings.default_key}' "
            f"{base_url}/loyalty/balance/programs/{program['id']}/subscriptions/{member['contactId']}/balances"
        )
    if list(settings.cors_origins) != ["*"]:
        lines.append(f"  cors       browsers may call from {', '.join(settings.cors_origins) or 'no origin'}")
    if settings.admin:
        if settings.admin_from:
            lines.append(f"  admin      /__mock__/ answers loopback and {', '.join(settings.admin_from)}")
        lines.append(f"  browse     {root}/__mock__/  (ids, request journal)")
        if found is not None:
            lines.append(f"  widget     {root}/__mock__/widget?contactId={found[1]['contactId']}&pid={found[0]['id']}")
        lines.append(f"  all ids    {root}/__mock__/world")
    return "\n".join(lines)
