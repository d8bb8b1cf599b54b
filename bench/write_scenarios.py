"""The write the benchmark measures: a transaction begun with `autoComplete`, resolved against the world.

Every credit changes the world (the member's balance, history, maybe tier), so
the load goes round-robin over every member of a published program, crediting a
small fixed amount, as a shop credits points for each order. The run stays
bounded and every credit stays acceptable: on the logical clock (one second per
accepted write), with M members in the rotation a member receives at most one
credit per M seconds, and the definition's credit limits are checked against
that rate before the run (`ScenarioError` names a limit the rotation would
reach). The load itself checks that every answer is a completed transaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from bench.scenarios import BASE, ScenarioError

AMOUNT = 10  # points per credit: a small order
EXPECT = '"status":"completed"'  # in every answer of the load, else the run fails
HORIZON = 400_000  # more accepted writes (logical seconds) than any server of a run receives
WINDOW_SECONDS = {"day": 86_400, "week": 7 * 86_400, "month": 31 * 86_400, "year": 366 * 86_400}

Fetch = Callable[[str], tuple[int, bytes]]


@dataclass(frozen=True)
class Write:
    """POSTs of one operation, with bodies taken round-robin."""

    key: str  # also the baseline's route name
    title: str
    pid: str
    bdid: str
    path: str  # under /v3
    bodies: tuple[bytes, ...]
    expect: str = EXPECT

    @property
    def operation_path(self) -> str:
        """The path without /v3, as a contract-only mock (Prism) serves it."""
        return self.path.removeprefix(BASE)

    @property
    def spread(self) -> str:
        return f"{len(self.bodies):,} members round-robin, {AMOUNT} points a credit"


def transaction_path(pid: str) -> str:
    return f"{BASE}/loyalty/balance/programs/{pid}/transactions"


def transaction_body(subscription_id: str, bdid: str, order: int, amount: int = AMOUNT) -> bytes:
    """What a shop sends when an order is confirmed (compact JSON: one line of the bodies file)."""
    return orjson.dumps({
        "LoyaltySubscriptionId": subscription_id,
        "balanceDefinitionId": bdid,
        "amount": amount,
        "autoComplete": True,
        "meta": {"source": "order", "orderId": f"BENCH-{order:06d}"},
    })


def choose_write(world: dict[str, Any], fetch: Fetch, pid: str | None = None, bdid: str | None = None) -> Write:
    """Credits on a published program with members (`pid` if given): a ranked (or visible) definition.

    `world` is `GET /__mock__/world` with a sample of every member; `fetch` GETs
    a path (with the api-key) and reads the definition's limits. `bdid`, when
    given and published, is the definition credited.
    """
    for program in world["programs"]:
        if program["state"] == "active" and program["members"] and pid in (None, program["id"]):
            break
    else:
        raise ScenarioError(f"no seeded program {'' if pid is None else pid + ' '}is published (state active) "
                            "with members")
    visible = [d for d in program["balanceDefinitions"] if d["published"] and not d["internal"]]
    ranked = {group["balanceDefinitionId"] for group in program["tierGroups"]}
    definition = next((d for d in visible if d["id"] == bdid), None) or next(
        (d for d in visible if d["id"] in ranked), visible[0] if visible else None)
    if definition is None:
        raise ScenarioError(f"program {program['id']} has no published, visible balance definition")
    members = [member for member in program["members"] if member.get("loyaltySubscriptionId")]
    if not members:
        raise ScenarioError(f"no member of program {program['id']} has a LoyaltySubscriptionId")
    for limit_id in definition["limitIds"]:
        _check_limit(fetch, program["id"], definition["id"], limit_id, len(members))
    bodies = tuple(transaction_body(member["loyaltySubscriptionId"], definition["id"], order)
                   for order, member in enumerate(members))
    return Write("begin", "transaction begin, autoComplete (POST)", program["id"], definition["id"],
                 transaction_path(program["id"]), bodies)


def _check_limit(fetch: Fetch, pid: str, bdid: str, limit_id: str, rotation: int) -> None:
    path = f"{BASE}/loyalty/balance/programs/{pid}/balance-definitions/{bdid}/limits/{limit_id}"
    status, body = fetch(path)
    if status != 200:
        raise ScenarioError(f"GET {path} answered {status}: {body[:300]!r}")
    limit = orjson.loads(body)
    if limit["transactionType"] != "credit":
        return
    window = min(limit["durationValue"] * WINDOW_SECONDS.get(limit["durationUnit"], WINDOW_SECONDS["year"]),
                 HORIZON)
    credits = math.ceil(window / rotation) + 1  # the most credits one member gets within the window
    used = credits * AMOUNT if limit["constraintType"] == "amount" else credits
    if used > limit["value"]:
        raise ScenarioError(f"{rotation:,} members round-robin at {AMOUNT} points would reach balance limit "
                            f"{limit_id} ({limit['value']} per {limit['durationValue']} {limit['durationUnit']}, "
                            f"{limit['constraintType']}): up to {used} within its window")
