"""Ids to test with, read from the target itself.

Random UUIDs only ever reach a server's 404 path. To test the 200 answers,
the run first walks the target's own list endpoints (programs, definitions,
member balances, tier groups, offers, rewards) for one program, and adds any
ids the user passed with ``--id NAME=VALUE``. The ids are keyed by contract
parameter name (``pid``, ``bdid``, ``contactId``...), since that is how
schemathesis binds values to parameters.

Only one program is walked ("the focus program"): ids drawn independently per
parameter then still belong together (a definition of that program, a member
of that program), so most generated requests reach real records.

`getBalanceLimit` has no inbound link and no list, so its ``blid`` comes from
``--id blid=...`` or, on our seeded mock, from ``/__mock__/world``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

# A contract parameter and the other names the same id goes by.
ALIASES = {
    "bdid": "balanceDefinitionId",
    "balanceDefinitionId": "bdid",
    "cid": "contactId",
    "contactId": "cid",
    "rid": "rewardId",
    "rewardId": "rid",
}
INTEGER_PARAMETERS = frozenset({"cid", "contactId"})
DEFINITIONS_WALKED = 3
MEMBERS_PER_DEFINITION = 5
REWARDS_WALKED = 3


class TargetRefused(RuntimeError):
    """The target refused the key (401/403) or is not a Loyalty API: nothing can be tested."""


@dataclass(frozen=True)
class Member:
    """A member as one consistent tuple: the ids that belong together."""

    pid: str
    bdid: str
    contact_id: int
    subscription_id: str | None
    value: float | None


@dataclass
class Ids:
    values: dict[str, list[Any]] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)
    focus_program: str | None = None
    seeded: bool = False  # the target answered /__mock__/health as our mock does
    world: dict[str, Any] | None = None  # /__mock__/world of the key's organisation, on our mock
    requests_made: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, *values: Any) -> None:
        for target in (name, ALIASES.get(name)):
            if target is None:
                continue
            bucket = self.values.setdefault(target, [])
            for value in values:
                value = int(value) if target in INTEGER_PARAMETERS else str(value)
                if value not in bucket:
                    bucket.append(value)

    def first(self, name: str) -> Any:
        found = self.values.get(name)
        return found[0] if found else None


def root_of(base_url: str) -> str:
    """``http://host:port/v3`` -> ``http://host:port`` (where /__mock__/ lives on our mock)."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def parse_known_ids(items: list[str]) -> dict[str, list[str]]:
    """``["pid=...", "blid=..."]`` from repeated ``--id`` flags."""
    known: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--id {item!r} is not of the form NAME=VALUE (e.g. pid=3f1c...)")
        known.setdefault(name.strip(), []).append(value.strip())
    return known


class _Walker:
    def __init__(self, session: requests.Session, base_url: str, ids: Ids, timeout: float) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.ids = ids
        self.timeout = timeout

    def get(self, path: str, **params: Any) -> Any:
        self.ids.requests_made += 1
        response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
        if response.status_code in (401, 403):
            raise TargetRefused(
                f"GET {path} answered {response.status_code}: the target refused the API key, so no "
                "operation can be tested (check --api-key)"
            )
        if not 200 <= response.status_code < 300:  # judging the status is the checks' job, not discovery's
            self.ids.notes.append(f"discovery: GET {path} answered {response.status_code}")
            return None
        try:
            return response.json()
        except ValueError:
            self.ids.notes.append(f"discovery: GET {path} did not answer JSON")
            return None


def discover(
    session: requests.Session,
    base_url: str,
    *,
    api_key: str,
    known: dict[str, list[str]] | None = None,
    timeout: float = 10.0,
) -> Ids:
    """Walk the focus program's lists; `session` must already send the api-key header."""
    ids = Ids()
    for name, values in (known or {}).items():
        ids.add(name, *values)
    walker = _Walker(session, base_url, ids, timeout)

    page = walker.get("/loyalty/config/programs", limit=50)
    programs = [item["id"] for item in _items(page, "items") if "id" in item]
    if page is None:
        raise TargetRefused("GET /loyalty/config/programs did not answer 2xx with JSON: is this a Loyalty API?")
    known_pids = (known or {}).get("pid", [])
    ids.focus_program = known_pids[0] if known_pids else (programs[0] if programs else None)
    if ids.focus_program is None:
        ids.notes.append("discovery: the target has no loyalty program; only error paths can be tested")
        return ids
    ids.add("pid", ids.focus_program)
    _walk_program(walker, ids.focus_program)
    _read_mock_world(session, base_url, api_key, ids, timeout)
    return ids


def _walk_program(walker: _Walker, pid: str) -> None:
    ids = walker.ids
    base = f"/loyalty/balance/programs/{pid}"
    definitions = _items(walker.get(f"{base}/balance-definitions", limit=20), "items")
    for definition in definitions[:DEFINITIONS_WALKED]:
        bdid = definition.get("id")
        if not bdid:
            continue
        ids.add("bdid", bdid)
        page = walker.get(f"{base}/contact-balances", balanceDefinitionId=bdid, limit=MEMBERS_PER_DEFINITION)
        for balance in _items(page, "balances"):
            contact = balance.get("contactId")
            if not isinstance(contact, int):
                continue
            ids.add("cid", contact)
            subscription = balance.get("loyaltySubscriptionId")
            if subscription:
                ids.add("loyaltySubscriptionId", subscription)
            ids.members.append(Member(pid, bdid, contact, subscription, balance.get("value")))
    groups = _items(walker.get(f"/loyalty/tier/programs/{pid}/tier-groups"), "items")
    ids.add("gid", *[group["id"] for group in groups if "id" in group])
    offers = _items(walker.get(f"/loyalty/offer/programs/{pid}/offers", limit=20), "items")
    ids.add("rid", *[offer["id"] for offer in offers if "id" in offer])
    for offer in offers[:REWARDS_WALKED]:
        reward = walker.get(f"/loyalty/offer/programs/{pid}/rewards/{offer['id']}")
        if isinstance(reward, dict) and reward.get("codePoolId"):
            ids.add("cpid", reward["codePoolId"])


def _read_mock_world(session: requests.Session, base_url: str, api_key: str, ids: Ids, timeout: float) -> None:
    """On our mock, /__mock__/world adds what no API list gives (balance limit ids)."""
    root = root_of(base_url)
    try:
        health = session.get(f"{root}/__mock__/health", timeout=timeout)
        ids.requests_made += 1
        if health.status_code != 200 or health.json().get("status") != "ok":
            return
        organisations = health.json().get("organisations") or []
    except (requests.RequestException, ValueError, AttributeError):
        return
    for organisation in organisations:
        response = session.get(f"{root}/__mock__/world", params={"organisation": organisation}, timeout=timeout)
        ids.requests_made += 1
        if response.status_code != 200:
            continue
        world = response.json()
        if api_key not in world.get("apiKeys", []):
            continue
        ids.seeded = True
        ids.world = world
        for program in world.get("programs", []):
            if program.get("id") != ids.focus_program:
                continue
            for definition in program.get("balanceDefinitions", []):
                if definition.get("id") in ids.values.get("bdid", []):
                    ids.add("blid", *definition.get("limitIds", []))
        return


def _items(page: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(page, dict) or not isinstance(page.get(key), list):
        return []
    return [item for item in page[key] if isinstance(item, dict)]
