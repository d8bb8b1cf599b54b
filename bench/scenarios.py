"""The requests the benchmark measures, resolved against the world a server seeded.

Ids come from ``GET /__mock__/world``; nothing is hard-coded, so a change of
seed or of the seeding code does not break the benchmark. The member of the
transaction-history page is the sampled member with the fullest page; in a
second world, the member whose page matches it (same number of records, closest
size), so that the scaling figures compare pages of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

BASE = "/v3"
PAGE = 50
SAMPLE = 200  # members probed for the transaction page
ROTATION = 500  # distinct members of the round-robin scenario
CORS_ORIGIN = "http://localhost:3000"

Fetch = Callable[[str], tuple[int, bytes]]


class ScenarioError(RuntimeError):
    """The seeded world lacks what a scenario needs, or the mock refused a scenario's request."""


@dataclass(frozen=True)
class Scenario:
    key: str  # short id, also the baseline's route name
    title: str
    path: str  # with the query string; under /v3
    rotation: tuple[str, ...] = ()  # when set, wrk goes round-robin over these paths instead
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request, besides the api-key

    @property
    def operation_path(self) -> str:
        """The path without /v3, as a contract-only mock (Prism) serves it."""
        return self.path.removeprefix(BASE)


@dataclass(frozen=True)
class Ids:
    """The ids the scenarios are built from."""

    pid: str
    bdid: str
    tier_contact: int
    history_contact: int
    history_page: tuple[int, int]  # (records, bytes) of that member's page
    members: tuple[int, ...]


def world_path(sample: int) -> str:
    return f"/__mock__/world?sample={sample}"


def choose_ids(world: dict[str, Any], fetch: Fetch, like: tuple[int, int] | None = None) -> Ids:
    """The first program with a tier group and members; its ranked definition; a well-filled member.

    With `like` (records, bytes), the member's page is the closest to that one instead of the fullest.
    """
    for program in world["programs"]:
        if program["tierGroups"] and program["members"] and program["balanceDefinitions"]:
            break
    else:
        raise ScenarioError("no seeded program has tier groups, members and balance definitions")
    bdid = program["tierGroups"][0]["balanceDefinitionId"] or program["balanceDefinitions"][0]["id"]
    members = tuple(member["contactId"] for member in program["members"])
    probed = members[:SAMPLE]
    sizes: dict[int, tuple[int, int]] = {}  # contact -> (records on the page, body size)
    for contact in probed:
        status, body = fetch(_history(program["id"], bdid, contact))
        if status == 200:
            sizes[contact] = len(orjson.loads(body)["transactionHistory"]), len(body)
    if not sizes:
        raise ScenarioError("no sampled member has a transaction history the mock answers with 200")
    if like is None:
        history_contact = max(sizes, key=lambda contact: sizes[contact])
    else:
        history_contact = min(sizes, key=lambda contact: (abs(sizes[contact][0] - like[0]),
                                                          abs(sizes[contact][1] - like[1])))
    return Ids(program["id"], bdid, members[0], history_contact, sizes[history_contact], members)


def _history(pid: str, bdid: str, contact: int, limit: int = PAGE) -> str:
    # A page of 50, one filter (status), an explicit sort.
    return (f"{BASE}/loyalty/balance/programs/{pid}/transaction-history?contactId={contact}"
            f"&balanceDefinitionId={bdid}&status=completed&sortField=createdAt&sort=desc&limit={limit}")


def history_page(ids: Ids) -> Scenario:
    return Scenario("history", "transaction-history page (limit 50, status filter, sort)",
                    _history(ids.pid, ids.bdid, ids.history_contact))


def history_rotation(ids: Ids) -> Scenario:
    rotation = tuple(_history(ids.pid, ids.bdid, contact) for contact in ids.members[:ROTATION])
    return Scenario("history-many", f"transaction-history page, {len(rotation)} members round-robin",
                    rotation[0], rotation)


def contact_balances_page(ids: Ids) -> Scenario:
    return Scenario("contact-balances", "contact-balances page (limit 50)",
                    f"{BASE}/loyalty/balance/programs/{ids.pid}/contact-balances"
                    f"?balanceDefinitionId={ids.bdid}&limit={PAGE}")


def program_read(ids: Ids) -> Scenario:
    return Scenario("program", "program read", f"{BASE}/loyalty/config/programs/{ids.pid}")


def after_writes_scenarios(ids: Ids) -> list[Scenario]:
    """The reads compared between a written and a fresh world.

    The history page is the fullest sampled member's, whom the writes credit too;
    its limit is the number of records of its page in a fresh world, so that
    both worlds answer a page of as many records (the newest, after the writes).
    """
    records = max(1, ids.history_page[0])
    return [
        program_read(ids),
        Scenario("history-credited", f"transaction-history page of a credited member (limit {records}: its "
                 "fresh page's records; status filter, sort)",
                 _history(ids.pid, ids.bdid, ids.history_contact, records)),
        contact_balances_page(ids),
    ]


def main_scenarios(ids: Ids) -> list[Scenario]:
    """The five reads of the issue, on the default world, and the program read as a browser sends it."""
    return [
        program_read(ids),
        Scenario("definitions", "balance-definition list",
                 f"{BASE}/loyalty/balance/programs/{ids.pid}/balance-definitions"),
        contact_balances_page(ids),
        history_page(ids),
        Scenario("tier", "guide's tier read (member tier)",
                 f"{BASE}/loyalty/balance/programs/{ids.pid}/subscriptions/{ids.tier_contact}/tier"),
        # A browser's call: with an Origin header the read goes through uvicorn's ASGI path, Starlette
        # and CORS instead of being answered by the protocol (mock_server/direct.py).
        Scenario("program-cors", "program read, cross-origin (through ASGI, Starlette and CORS)",
                 f"{BASE}/loyalty/config/programs/{ids.pid}", headers=(("origin", CORS_ORIGIN),)),
    ]


def scaling_scenarios(ids: Ids) -> list[Scenario]:
    """The reads whose cost must not grow with the number of contacts."""
    return [history_page(ids), history_rotation(ids), contact_balances_page(ids)]
