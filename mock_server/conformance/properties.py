"""Semantic properties beyond the schema, checked over HTTP with hypothesis.

A response can match its schema and still be wrong: a page that repeats a
record, a sort that is ignored, a balance that disagrees with the history
behind it. Each property here draws its inputs with hypothesis (page sizes,
sort orders, filters, members from the target) and asserts something every
correct Loyalty server must satisfy, through HTTP only, so the same
properties run against our mock and against any other server.

Two scopes:

- "any server": what the contract and Brevo's documentation promise
  (paging, counts, sorting, filters, cross-endpoint agreement);
- "seeded mock": what only holds on our static, seeded world (the ledger
  adds up exactly, answers are byte-for-byte repeatable, every id of
  /__mock__/world resolves). Skipped elsewhere, and said so in the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.reporting import with_reporter

from mock_server.conformance.budget import BudgetExhausted
from mock_server.conformance.discovery import Ids, Member
from mock_server.conformance.httpclient import Client
from mock_server.conformance.lists import LISTS, ListSpec, sort_key
from mock_server.conformance.report import PropertyResult, Report

ANY_SERVER, SEEDED_MOCK = "any server", "seeded mock"
MAX_PAGE_SIZE = 7  # small pages, so a few of them cross page boundaries several times
MAX_PAGES = 4
MAX_LOOKUPS = 4  # rewards or ids resolved per example
STATUSES = ("draft", "completed", "rejected", "cancelled", "expired")

Check = Callable[[Client, Ids, st.DataObject], None]


@dataclass(frozen=True)
class Property:
    name: str
    description: str
    scope: str
    check: Check
    needs_members: bool = False


# ------------------------------------------------------------------ helpers


def _path(spec: ListSpec, ids: Ids) -> str:
    return spec.path.format(pid=ids.focus_program)


def _member(ids: Ids, data: st.DataObject) -> Member:
    return data.draw(st.sampled_from(ids.members), label="member")


def _list_params(spec: ListSpec, ids: Ids, data: st.DataObject, *, sort: bool = True) -> dict[str, Any]:
    """What a request to `spec` must name, and a drawn ordering to apply to every page."""
    params: dict[str, Any] = {}
    if spec.needs == "definition":
        params["balanceDefinitionId"] = data.draw(st.sampled_from(ids.values["bdid"]), label="definition")
    elif spec.needs in ("member", "contact"):
        member = _member(ids, data)
        params["contactId"] = member.contact_id
        if spec.needs == "member":
            params["balanceDefinitionId"] = member.bdid
    if spec.include_internal:
        params["includeInternal"] = True
    if sort and spec.sort_param:
        params[spec.sort_param] = data.draw(st.sampled_from(sorted(spec.sort_fields)), label="sort field")
        params["sort"] = data.draw(st.sampled_from(["asc", "desc"]), label="sort")
    return params


def _usable(ids: Ids) -> list[ListSpec]:
    usable = []
    for spec in LISTS:
        if spec.needs == "definition" and not ids.values.get("bdid"):
            continue
        if spec.needs in ("member", "contact") and not ids.members:
            continue
        usable.append(spec)
    return usable


def _fetch(client: Client, spec: ListSpec, path: str, params: dict[str, Any], offset: int,
           limit: int) -> tuple[list[Any], int | None]:
    answer = client.get(path, **params, offset=offset, limit=limit)
    if answer.status == 204 and spec.operation_id == "getBalanceDefinitionList":
        return [], None  # the definition list answers an empty page with 204
    body = answer.ok()
    items = body.get(spec.items)
    assert isinstance(items, list), f"{spec.operation_id}: '{spec.items}' is not a list"
    return items, body.get(spec.count) if spec.count else None


def _describe(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("id", "tierId", "contactId"):
            if key in item:
                return f"{key}={item[key]}"
    return repr(item)[:80]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


# --------------------------------------------------------- any server: lists


def paging(client: Client, ids: Ids, data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from(_usable(ids)), label="list")
    path, params = _path(spec, ids), _list_params(spec, ids, data)
    whole, total = _fetch(client, spec, path, params, 0, spec.max_limit)
    size = data.draw(st.integers(1, MAX_PAGE_SIZE), label="page size")
    pages = data.draw(st.integers(1, MAX_PAGES), label="pages")
    collected: list[Any] = []
    for number in range(pages):
        items, count = _fetch(client, spec, path, params, number * size, size)
        assert len(items) <= size, f"{spec.operation_id}: limit={size} answered {len(items)} records"
        if spec.count:
            assert count == total, (f"{spec.operation_id}: '{spec.count}' is {count} on page {number + 1} "
                                    f"but {total} on the unpaged list")
        collected.extend(items)
        if len(items) < size:
            assert len(collected) == len(whole) or len(whole) == spec.max_limit, (
                f"{spec.operation_id}: the pages end after {len(collected)} records, the unpaged list has "
                f"{len(whole)}")
            break
    for index, (paged, unpaged) in enumerate(zip(collected, whole, strict=False)):
        assert paged == unpaged, (f"{spec.operation_id} with pages of {size}: record {index} is "
                                  f"{_describe(paged)}, the unpaged list has {_describe(unpaged)} there")
    assert len(collected) <= len(whole) or len(whole) == spec.max_limit, (
        f"{spec.operation_id}: the pages hold {len(collected)} records, the unpaged list only {len(whole)}")
    if spec.count and total is not None and total <= spec.max_limit:
        assert len(whole) == total, f"{spec.operation_id}: '{spec.count}' is {total}, the list has {len(whole)}"


def sort_order(client: Client, ids: Ids, data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from([s for s in _usable(ids) if s.sort_fields]), label="list")
    params = _list_params(spec, ids, data)
    assert spec.sort_param is not None
    field_name = spec.sort_fields[params[spec.sort_param]]
    items, _ = _fetch(client, spec, _path(spec, ids), params, 0, spec.max_limit)
    keys = [sort_key(item, field_name) for item in items]
    for index in range(1, len(keys)):
        before, after = keys[index - 1], keys[index]
        if before is None or after is None:
            continue
        in_order = before <= after if params["sort"] == "asc" else before >= after
        assert in_order, (f"{spec.operation_id} {spec.sort_param}={params[spec.sort_param]} sort={params['sort']}: "
                          f"record {index - 1} has {field_name}={items[index - 1].get(field_name)!r}, "
                          f"record {index} has {items[index].get(field_name)!r}")


def history_filters(client: Client, ids: Ids, data: st.DataObject) -> None:
    member = _member(ids, data)
    status = data.draw(st.none() | st.sampled_from(STATUSES), label="status")
    kind = data.draw(st.none() | st.sampled_from(["credit", "debit"]), label="transactionType")
    path = f"/loyalty/balance/programs/{member.pid}/transaction-history"
    base = {"contactId": member.contact_id, "balanceDefinitionId": member.bdid, "limit": 500}
    everything = client.get(path, **base).ok()
    found = client.get(path, **base, status=status, transactionType=kind).ok()
    for item in found["transactionHistory"]:
        assert status is None or item.get("status") == status, f"status={status} returned {_describe(item)} " \
            f"with status {item.get('status')}"
        assert kind is None or item.get("transactionType") == kind, f"transactionType={kind} returned " \
            f"{_describe(item)} of type {item.get('transactionType')}"
    if everything["count"] <= 500:
        expected = [item for item in everything["transactionHistory"]
                    if (status is None or item.get("status") == status)
                    and (kind is None or item.get("transactionType") == kind)]
        assert found["count"] == len(expected), (f"status={status} transactionType={kind}: count is "
                                                 f"{found['count']}, {len(expected)} records of the full history match")
        assert found["transactionHistory"] == expected, "the filtered history is not the matching part of the full one"


def voucher_filter(client: Client, ids: Ids, data: st.DataObject) -> None:
    member = _member(ids, data)
    path = f"/loyalty/offer/programs/{member.pid}/vouchers"
    everything = client.get(path, contactId=member.contact_id, limit=100).ok()
    held = sorted({item["rewardId"] for item in everything["contactRewards"] if "rewardId" in item})
    choices = held + ids.values.get("rid", [])[:2]
    if not choices:
        return
    reward = data.draw(st.sampled_from(choices), label="rewardId")
    found = client.get(path, contactId=member.contact_id, rewardId=reward, limit=100).ok()
    assert all(item.get("rewardId") == reward for item in found["contactRewards"]), \
        f"rewardId={reward} returned vouchers of other rewards"
    if everything["count"] <= 100:
        expected = [item for item in everything["contactRewards"] if item.get("rewardId") == reward]
        assert found["count"] == len(expected), (f"rewardId={reward}: count is {found['count']}, "
                                                 f"{len(expected)} of the contact's vouchers match")


def internal_balances(client: Client, ids: Ids, data: st.DataObject) -> None:
    member = _member(ids, data)
    path = f"/loyalty/balance/programs/{member.pid}/subscriptions/{member.contact_id}/balances"
    public = {e["balanceDefinitionId"]: e["value"] for e in client.get(path, includeInternal=False).ok()["balance"]}
    every = {e["balanceDefinitionId"]: e["value"] for e in client.get(path, includeInternal=True).ok()["balance"]}
    assert set(public) <= set(every), (f"includeInternal=false shows definitions {sorted(set(public) - set(every))} "
                                       "that includeInternal=true does not")
    for definition, value in public.items():
        assert _close(value, every[definition]), f"definition {definition}: {value} without internal, " \
            f"{every[definition]} with"


# ------------------------------------------------- any server: consistency


def balance_views(client: Client, ids: Ids, data: st.DataObject) -> None:
    member = _member(ids, data)
    totals = client.get(f"/loyalty/balance/programs/{member.pid}/subscriptions/{member.contact_id}/balances",
                        includeInternal=True).ok()
    by_definition = {entry["balanceDefinitionId"]: entry["value"] for entry in totals["balance"]}
    assert member.bdid in by_definition, f"subscription balances of {member.contact_id} miss definition {member.bdid}"
    if member.value is not None:
        assert _close(by_definition[member.bdid], member.value), (
            f"contact {member.contact_id} on {member.bdid}: contact-balances says {member.value}, "
            f"subscription balances {by_definition[member.bdid]}")
    account = client.get(f"/loyalty/config/programs/{member.pid}/account-info", contactId=member.contact_id,
                         params="balance", includeInternal=True).ok()
    listed = {entry["balanceDefinitionId"]: entry.get("value")
              for entry in account.get("balance", {}).get("balances", [])}
    for definition, value in by_definition.items():
        assert definition in listed, f"account-info of {member.contact_id} misses definition {definition}"
        assert _close(listed[definition], value), (f"contact {member.contact_id} on {definition}: account-info "
                                                   f"says {listed[definition]}, subscription balances {value}")


def tier_standing(client: Client, ids: Ids, data: st.DataObject) -> None:
    member = _member(ids, data)
    answer = client.get(f"/loyalty/balance/programs/{member.pid}/subscriptions/{member.contact_id}/tier")
    if answer.status == 404:
        reject()  # a program without tier groups: nothing to rank in
    standing = answer.ok()
    group = client.get(f"/loyalty/tier/programs/{member.pid}/tier-groups/{standing['tierGroupId']}").ok()
    tiers = {tier["tierId"]: tier for tier in client.get(f"/loyalty/tier/programs/{member.pid}/tiers").ok()["items"]}
    ordered = [tiers[tier_id] for tier_id in group.get("tierOrder", []) if tier_id in tiers]
    assert ordered, f"tier group {standing['tierGroupId']} lists no tier of the program"
    conditions = [tier["accessConditions"][0] for tier in ordered]
    definition = conditions[0]["balanceDefinitionId"]
    totals = client.get(f"/loyalty/balance/programs/{member.pid}/subscriptions/{member.contact_id}/balances",
                        includeInternal=True).ok()
    balance = next((e["value"] for e in totals["balance"] if e["balanceDefinitionId"] == definition), None)
    assert balance is not None and _close(balance, standing["currentBalance"]), (
        f"tier currentBalance is {standing['currentBalance']}, the member's balance on {definition} is {balance}")
    reached = 0
    while reached < len(ordered) and conditions[reached]["minimumValue"] <= balance:
        reached += 1
    # A real-time direction moves the member the moment the balance crosses a threshold; a scheduled one
    # (membership_anniversary, tier_anniversary) waits for its evaluation, so the tier held may be above
    # (downgrade scheduled) or below (upgrade scheduled) the one the balance reaches.
    ids = [tier["tierId"] for tier in ordered]
    assert standing["tierId"] is None or standing["tierId"] in ids, (
        f"tier {standing['tierId']} is not a tier of group {standing['tierGroupId']} ({ids})")
    held = ids.index(standing["tierId"]) + 1 if standing["tierId"] is not None else 0
    lowest = reached if group.get("upgradeStrategy", "real_time") == "real_time" else 0
    highest = reached if group.get("downgradeStrategy", "real_time") == "real_time" else len(ordered)
    thresholds = [(t["name"], c["minimumValue"]) for t, c in zip(ordered, conditions, strict=True)]
    assert lowest <= held <= highest, (
        f"balance {balance} against thresholds {thresholds} reaches rank {reached}, and the group moves members "
        f"up {group.get('upgradeStrategy', 'real_time')}, down {group.get('downgradeStrategy', 'real_time')}: "
        f"tier says {standing['tierId']} ({standing['tierName']}, rank {held})")
    current = ordered[held - 1] if held else None
    upcoming = ordered[held] if held < len(ordered) else None
    expected = {
        "tierId": current["tierId"] if current else None,
        "tierName": current["name"] if current else None,
        "nextTierName": upcoming["name"] if upcoming else None,
        "nextTierThreshold": conditions[held]["minimumValue"] if upcoming else None,
    }
    actual = {key: standing[key] for key in expected}
    assert actual == expected, f"tier {standing['tierId']} in {thresholds}: tier says {actual}, the group gives " \
        f"{expected}"


def vouchers_reference_rewards(client: Client, ids: Ids, data: st.DataObject) -> None:
    member = _member(ids, data)
    wallet = client.get(f"/loyalty/balance/programs/{member.pid}/subscriptions/{member.contact_id}/vouchers").ok()
    page = client.get(f"/loyalty/offer/programs/{member.pid}/vouchers", contactId=member.contact_id, limit=100).ok()
    names = {item["offerId"]: item.get("offerName") for item in wallet}
    for item in page["contactRewards"]:
        names.setdefault(item["rewardId"], None)
    for reward_id in sorted(names)[:MAX_LOOKUPS]:
        answer = client.get(f"/loyalty/offer/programs/{member.pid}/rewards/{reward_id}")
        assert answer.status == 200, f"a voucher of contact {member.contact_id} names reward {reward_id}, " \
            f"which answers {answer.status}"
        if names[reward_id] is not None:
            assert answer.body.get("name") == names[reward_id], (
                f"voucher offerName {names[reward_id]!r}, reward {reward_id} is named {answer.body.get('name')!r}")


def rewards_reference_pools(client: Client, ids: Ids, data: st.DataObject) -> None:
    reward_id = data.draw(st.sampled_from(ids.values["rid"]), label="reward")
    reward = client.get(f"/loyalty/offer/programs/{ids.focus_program}/rewards/{reward_id}").ok()
    pool = reward.get("codePoolId")
    if pool:
        answer = client.get(f"/loyalty/offer/programs/{ids.focus_program}/code-pools/{pool}/codes-count")
        assert answer.status == 200, f"reward {reward_id} names code pool {pool}, which answers {answer.status}"


# ------------------------------------------------------ seeded mock only


def ledger_adds_up(client: Client, ids: Ids, data: st.DataObject) -> None:
    member = _member(ids, data)
    base = f"/loyalty/balance/programs/{member.pid}"
    totals = client.get(f"{base}/subscriptions/{member.contact_id}/balances", includeInternal=True).ok()
    balance = next(e["value"] for e in totals["balance"] if e["balanceDefinitionId"] == member.bdid)
    query = {"contactId": member.contact_id, "balanceDefinitionId": member.bdid, "limit": 500}
    history: list[dict[str, Any]] = []
    while True:
        page = client.get(f"{base}/transaction-history", **query, offset=len(history)).ok()
        history.extend(page["transactionHistory"])
        if len(history) >= page["count"] or not page["transactionHistory"]:
            break
    completed = [tx for tx in history if tx["status"] == "completed"]
    ledger = sum(tx["amount"] for tx in completed if tx["transactionType"] == "credit") - sum(
        tx["amount"] for tx in completed if tx["transactionType"] == "debit")
    assert _close(ledger, balance), (f"contact {member.contact_id} on {member.bdid}: balance {balance}, completed "
                                     f"credits minus debits {ledger}")
    active = client.get(f"{base}/active-balance", **query, includeInternal=True).ok()
    remaining = sum(item["amount"] for item in active["activeBalances"])
    assert _close(remaining, balance), (f"contact {member.contact_id} on {member.bdid}: balance {balance}, "
                                        f"active balances add up to {remaining}")


def repeatable(client: Client, ids: Ids, data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from(_usable(ids)), label="list")
    path, params = _path(spec, ids), _list_params(spec, ids, data)
    limit = data.draw(st.integers(1, spec.max_limit), label="limit")
    first = client.raw(path, **params, limit=limit)
    assert client.raw(path, **params, limit=limit) == first, f"{spec.operation_id}: two identical requests, " \
        "two different answers"


def world_ids_resolve(client: Client, ids: Ids, data: st.DataObject) -> None:
    assert ids.world is not None
    program = next(p for p in ids.world["programs"] if p["id"] == ids.focus_program)
    pid = program["id"]
    choices = [f"/loyalty/balance/programs/{pid}/balance-definitions/{d['id']}" for d in program["balanceDefinitions"]]
    choices += [f"/loyalty/tier/programs/{pid}/tier-groups/{g['id']}" for g in program["tierGroups"]]
    choices += [f"/loyalty/offer/programs/{pid}/rewards/{r['id']}" for r in program["rewards"]]
    choices += [f"/loyalty/offer/programs/{pid}/code-pools/{c['id']}/codes-count" for c in program["codePools"]]
    choices += [f"/loyalty/balance/programs/{pid}/subscriptions/{m['contactId']}/balances" for m in program["members"]]
    for path in data.draw(st.lists(st.sampled_from(choices), min_size=1, max_size=MAX_LOOKUPS), label="ids"):
        answer = client.get(path)
        assert answer.status == 200, f"/__mock__/world lists {path.rsplit('/', 1)[-1]}, GET {path} answers " \
            f"{answer.status}"


PROPERTIES = (
    Property("paging", "concatenated pages equal the unpaged list; counts agree on every page", ANY_SERVER, paging),
    Property("sort_order", "every sort field and direction is honoured", ANY_SERVER, sort_order),
    Property("history_filters", "status and transactionType filters keep exactly the matching transactions",
             ANY_SERVER, history_filters, needs_members=True),
    Property("voucher_filter", "the rewardId filter keeps exactly that reward's vouchers", ANY_SERVER,
             voucher_filter, needs_members=True),
    Property("internal_balances", "includeInternal=true shows a superset, with the same values", ANY_SERVER,
             internal_balances, needs_members=True),
    Property("balance_views", "contact-balances, subscription balances and account-info agree", ANY_SERVER,
             balance_views, needs_members=True),
    Property("tier_standing", "the member's tier follows the thresholds and balance in the group's real-time "
             "directions", ANY_SERVER,
             tier_standing, needs_members=True),
    Property("vouchers_reference_rewards", "every voucher names a reward that exists", ANY_SERVER,
             vouchers_reference_rewards, needs_members=True),
    Property("rewards_reference_pools", "every reward's code pool exists", ANY_SERVER, rewards_reference_pools),
    Property("ledger_adds_up", "balance = completed credits - completed debits = sum of active balances",
             SEEDED_MOCK, ledger_adds_up, needs_members=True),
    Property("repeatable", "the same request gives the same bytes", SEEDED_MOCK, repeatable),
    Property("world_ids_resolve", "every id /__mock__/world lists answers 200", SEEDED_MOCK, world_ids_resolve),
)


# ------------------------------------------------------------------ running


def _missing(prop: Property, ids: Ids) -> str | None:
    if prop.scope == SEEDED_MOCK and not ids.seeded:
        return "holds on our seeded mock only"
    if ids.focus_program is None:
        return "the target has no program"
    if prop.needs_members and not ids.members:
        return "no member found on the target"
    if prop.check is rewards_reference_pools and not ids.values.get("rid"):
        return "no reward found on the target"
    return None


def check_property(prop: Property, client: Client, ids: Ids, *, examples: int, seed: int | None,
                   shrink: bool = True) -> PropertyResult:
    result = PropertyResult(prop.name, prop.description, prop.scope)
    reason = _missing(prop, ids)
    if reason is not None:
        result.status, result.message = "skipped", reason
        return result

    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @settings(max_examples=examples, deadline=None, database=None, phases=phases, verbosity=Verbosity.quiet,
              suppress_health_check=list(HealthCheck), print_blob=False, report_multiple_bugs=False)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        client.log.clear()  # keep only the requests of the current (finally: the failing) example
        prop.check(client, ids, data)

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    try:
        with with_reporter(lambda text: None):
            run()
    except BudgetExhausted as error:
        result.status, result.message = "skipped", str(error)
    except Unsatisfiable:
        result.status, result.message = "skipped", "no drawn input met the property's preconditions"
    except (AssertionError, requests.RequestException) as error:
        result.status, result.message = "failed", str(error) or type(error).__name__
        result.curls = list(client.log)
    except Exception as error:  # hypothesis errors (unsatisfiable, flaky) say what went wrong
        result.status, result.message = "failed", f"{type(error).__name__}: {error}"
        result.curls = list(client.log)
    return result


def run_properties(session: requests.Session, base_url: str, ids: Ids, report: Report, *, examples: int,
                   seed: int | None, shrink: bool = True,
                   only: tuple[str, ...] = ()) -> None:
    client = Client(session, base_url)
    for prop in PROPERTIES:
        if only and prop.name not in only:
            continue
        report.properties.append(check_property(prop, client, ids, examples=examples, seed=seed, shrink=shrink))
