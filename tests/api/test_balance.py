"""Balance operations over HTTP: definitions, limits, member totals, active credits, transaction history."""

from __future__ import annotations

import pytest

from mock_server.store.models import Member, iso, render_amount
from mock_server.store.world import ProgramData, World
from tests.api.support import Api, Ids

COVERS = {
    "getBalanceDefinitionList": {"pid", "limit", "offset", "sortField", "sort", "version"},
    "getBalanceDefinition": {"pid", "bdid", "version"},
    "getBalanceLimit": {"pid", "bdid", "blid", "version"},
    "getSubscriptionBalances": {"pid", "cid", "includeInternal"},
    "getContactBalances": {"pid", "balanceDefinitionId", "includeInternal", "limit", "offset", "sort", "sortField"},
    "getActiveBalancesApi": {"pid", "contactId", "balanceDefinitionId", "includeInternal", "limit", "offset",
                             "sort", "sortField"},
    "getTransactionHistoryApi": {"pid", "contactId", "balanceDefinitionId", "limit", "offset", "sort", "sortField",
                                 "status", "transactionType", "loyaltySubscriptionId"},
}

DEFINITION_KEYS = {
    "name": lambda d: (d.name.casefold(), d.id),
    "created_at": lambda d: (d.created_at, d.id),
    "updated_at": lambda d: (d.updated_at, d.id),
}


def busiest_member(world: World, data: ProgramData, definition_id: str) -> Member:
    """The member with the most kinds of transaction status (then the most transactions) on a definition."""
    def richness(member: Member) -> tuple[int, int]:
        txs = member.ledger(definition_id).transactions
        return len({tx.status for tx in txs}), len(txs)
    return max((world.member_at(data, p) for p in range(len(data.members))), key=richness)


def program_where(world: World, condition) -> ProgramData:
    found = [data for data in world.programs if condition(data)]
    assert found, "the seeded world has no such program"
    return found[0]


# ------------------------------------------------------------ definitions


def test_definition_list_defaults_to_every_draft_definition_last_updated_first(api: Api, ids: Ids):
    items = api.ok("getBalanceDefinitionList", {"pid": ids.pid})["items"]
    expected = sorted(ids.data.definitions, key=DEFINITION_KEYS["updated_at"], reverse=True)
    assert [item["id"] for item in items] == [d.id for d in expected]


@pytest.mark.parametrize("sort_field", sorted(DEFINITION_KEYS))
@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_definition_list_sorts(api: Api, ids: Ids, sort_field, sort):
    items = api.ok("getBalanceDefinitionList", {"pid": ids.pid}, {"sortField": sort_field, "sort": sort})["items"]
    expected = sorted(ids.data.definitions, key=DEFINITION_KEYS[sort_field], reverse=sort == "desc")
    assert [item["id"] for item in items] == [d.id for d in expected]


def test_definition_list_pages(api: Api, ids: Ids):
    expected = [d.id for d in sorted(ids.data.definitions, key=DEFINITION_KEYS["name"])]
    for offset in range(len(expected)):
        query = {"sortField": "name", "sort": "asc", "limit": 1, "offset": offset}
        assert [i["id"] for i in api.ok("getBalanceDefinitionList", {"pid": ids.pid}, query)["items"]] == [
            expected[offset]]
    query = {"sortField": "name", "sort": "asc", "offset": len(expected)}
    assert api.get("getBalanceDefinitionList", {"pid": ids.pid}, query).status_code == 204


def test_definition_list_version_active_shows_published_definitions_only(api: Api, world: World):
    data = program_where(world, lambda d: d.program.has_active_version
                         and any(not x.published for x in d.definitions))
    draft = api.ok("getBalanceDefinitionList", {"pid": data.id}, {"version": "draft"})["items"]
    active = api.ok("getBalanceDefinitionList", {"pid": data.id}, {"version": "active"})["items"]
    assert {i["id"] for i in draft} == {d.id for d in data.definitions}
    assert {i["id"] for i in active} == {d.id for d in data.definitions if d.published}
    assert len(active) < len(draft)


def test_a_program_never_published_has_no_active_definitions(api: Api, world: World):
    data = program_where(world, lambda d: not d.program.has_active_version)
    response = api.get("getBalanceDefinitionList", {"pid": data.id}, {"version": "active"})
    assert response.status_code == 204 and response.content == b""
    for definition in data.definitions:
        path = {"pid": data.id, "bdid": definition.id}
        assert api.get("getBalanceDefinition", path, {"version": "active"}).status_code == 404
        assert api.ok("getBalanceDefinition", path, {"version": "draft"})["id"] == definition.id


def test_each_definition_reads_as_stored(api: Api, world: World):
    for data in world.programs:
        for definition in data.definitions:
            body = api.ok("getBalanceDefinition", {"pid": data.id, "bdid": definition.id})
            scale = definition.scale
            assert body["id"] == definition.id and body["name"] == definition.name
            assert body["unit"] == definition.unit
            assert body["maxAmount"] == render_amount(definition.max_amount, scale)
            assert body["maxCreditAmountLimit"] == render_amount(definition.max_credit_amount_limit, scale)
            assert body["meta"].get("isInternal", False) is definition.internal
            assert body.get("balanceAvailabilityDurationValue") == definition.duration_value
            assert body.get("balanceAvailabilityDurationUnit") == definition.duration_unit
            assert body["createdAt"] == iso(definition.created_at)


def test_definition_version_active_hides_an_unpublished_definition(api: Api, world: World):
    data = program_where(world, lambda d: d.program.has_active_version
                         and any(not x.published for x in d.definitions))
    hidden = next(d for d in data.definitions if not d.published)
    path = {"pid": data.id, "bdid": hidden.id}
    api.error(api.get("getBalanceDefinition", path, {"version": "active"}), "getBalanceDefinition", 404)
    assert api.ok("getBalanceDefinition", path)["id"] == hidden.id


# ------------------------------------------------------------------ limits


def test_each_limit_reads_as_stored_under_its_definition_only(api: Api, world: World):
    for data in world.programs:
        for limit in data.limits:
            definition = data.definition_by_id[limit.balance_definition_id]
            body = api.ok("getBalanceLimit", {"pid": data.id, "bdid": definition.id, "blid": limit.id})
            value = render_amount(limit.value, definition.scale) if limit.constraint_type == "amount" else limit.value
            assert body == {
                "id": limit.id, "balanceDefinitionId": definition.id, "transactionType": limit.transaction_type,
                "constraintType": limit.constraint_type, "durationValue": limit.duration_value,
                "durationUnit": limit.duration_unit, "value": value, "slidingSchedule": limit.sliding_schedule,
                "createdAt": iso(limit.created_at), "updatedAt": iso(limit.updated_at),
            }
            other = next(d for d in data.definitions if d.id != definition.id)
            response = api.get("getBalanceLimit", {"pid": data.id, "bdid": other.id, "blid": limit.id})
            assert "'blid'" in api.error(response, "getBalanceLimit", 404, "document_not_found")


def test_limit_version_active_hides_an_unpublished_limit(api: Api, world: World):
    data = program_where(world, lambda d: d.program.has_active_version and any(not x.published for x in d.limits))
    limit = next(x for x in data.limits if not x.published)
    path = {"pid": data.id, "bdid": limit.balance_definition_id, "blid": limit.id}
    assert api.get("getBalanceLimit", path, {"version": "active"}).status_code == 404
    assert api.ok("getBalanceLimit", path, {"version": "draft"})["id"] == limit.id


# ------------------------------------------------------- member totals


def test_subscription_balances_are_the_members_ledgers(api: Api, ids: Ids):
    for flag, include in ((None, False), ("false", False), ("true", True)):
        query = {} if flag is None else {"includeInternal": flag}
        body = api.ok("getSubscriptionBalances", {"pid": ids.pid, "cid": ids.cid}, query)
        assert body["loyaltyProgramId"] == ids.pid and body["contactId"] == ids.cid
        assert body["balance"] == [
            {"balanceDefinitionId": d.id, "value": render_amount(ledger.value, d.scale)}
            for d, ledger in zip(ids.data.definitions, ids.member.ledgers, strict=True)
            if include or not d.internal
        ]


def test_every_endpoint_tells_the_same_balance(api: Api, world: World, ids: Ids):
    """contact-balances == subscription balances == account-info == completed credits - debits == active sum."""
    data = ids.data
    for definition in data.definitions:
        listed = api.ok("getContactBalances", {"pid": data.id},
                        {"balanceDefinitionId": definition.id, "includeInternal": "true", "limit": 500})
        by_contact = {row["contactId"]: row["value"] for row in listed["balances"]}
        assert len(by_contact) == listed["count"] == len(data.members)
        for contact in data.members.contact_ids[:8]:
            totals = api.ok("getSubscriptionBalances", {"pid": data.id, "cid": contact}, {"includeInternal": "true"})
            account = api.ok("getParameterSubscriptionInfo", {"pid": data.id},
                             {"contactId": contact, "params": "balance", "includeInternal": "true"})
            member = {"contactId": contact, "balanceDefinitionId": definition.id, "limit": 500}
            history = api.ok("getTransactionHistoryApi", {"pid": data.id}, member)["transactionHistory"]
            active = api.ok("getActiveBalancesApi", {"pid": data.id}, {**member, "includeInternal": "true"})
            scale = definition.scale
            completed = sum(round(tx["amount"] * scale) * (1 if tx["transactionType"] == "credit" else -1)
                            for tx in history if tx["status"] == "completed")
            remaining = sum(round(a["amount"] * scale) for a in active["activeBalances"])
            value = next(b["value"] for b in totals["balance"] if b["balanceDefinitionId"] == definition.id)
            in_account = next(b["value"] for b in account["balance"]["balances"]
                              if b["balanceDefinitionId"] == definition.id)
            assert by_contact[contact] == value == in_account
            assert round(value * scale) == completed == remaining


# ------------------------------------------------------- contact balances


def contact_order(data: ProgramData, definition_index: int, sort_field: str, sort: str) -> list[int]:
    table = data.members
    column = table.values[definition_index] if sort_field == "value" else table.updated_at[definition_index]
    keyed = sorted(range(len(table)), key=lambda p: (column[p], table.contact_ids[p]), reverse=sort == "desc")
    return [table.contact_ids[p] for p in keyed]


@pytest.mark.parametrize("sort_field", ["updatedAt", "value"])
@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_contact_balances_sort(api: Api, ids: Ids, sort_field, sort):
    definition = ids.data.definition_by_id[ids.bdid]
    body = api.ok("getContactBalances", {"pid": ids.pid},
                  {"balanceDefinitionId": ids.bdid, "sortField": sort_field, "sort": sort, "limit": 500})
    assert [row["contactId"] for row in body["balances"]] == contact_order(ids.data, definition.index,
                                                                            sort_field, sort)


def test_contact_balances_default_to_last_updated_first_fifty(api: Api, world: World):
    data = max(world.programs, key=lambda d: len(d.members))
    definition = next(d for d in data.definitions if not d.internal)
    body = api.ok("getContactBalances", {"pid": data.id}, {"balanceDefinitionId": definition.id})
    order = contact_order(data, definition.index, "updatedAt", "desc")
    assert [row["contactId"] for row in body["balances"]] == order[:50]
    assert body["count"] == len(data.members)


def test_contact_balance_rows_are_the_members(api: Api, ids: Ids):
    definition = ids.data.definition_by_id[ids.bdid]
    table = ids.data.members
    body = api.ok("getContactBalances", {"pid": ids.pid}, {"balanceDefinitionId": ids.bdid, "limit": 500})
    for row in body["balances"]:
        position = table.position(row["contactId"])
        assert row["loyaltySubscriptionId"] == table.subscription_ids[position]
        assert row["value"] == render_amount(table.values[definition.index][position], definition.scale)
        assert row["updatedAt"] == iso(table.updated_at[definition.index][position])


def test_contact_balance_pages_keep_the_count(api: Api, ids: Ids):
    query = {"balanceDefinitionId": ids.bdid, "sortField": "value", "sort": "asc"}
    whole = api.ok("getContactBalances", {"pid": ids.pid}, {**query, "limit": 500})
    pages = []
    for offset in range(0, whole["count"] + 7, 7):
        page = api.ok("getContactBalances", {"pid": ids.pid}, {**query, "limit": 7, "offset": offset})
        assert page["count"] == whole["count"] == len(ids.data.members)
        pages += page["balances"]
    assert pages == whole["balances"]


def test_contact_balances_of_an_internal_definition_need_include_internal(api: Api, ids: Ids):
    query = {"balanceDefinitionId": ids.internal_bdid}
    hidden = api.ok("getContactBalances", {"pid": ids.pid}, query)
    assert hidden["count"] == 0 and hidden["balances"] == []
    shown = api.ok("getContactBalances", {"pid": ids.pid}, {**query, "includeInternal": "true", "limit": 500})
    assert shown["count"] == len(shown["balances"]) == len(ids.data.members)


# ------------------------------------------------------- active balances


def active_query(ids: Ids, **extra) -> dict:
    return {"contactId": ids.cid, "balanceDefinitionId": ids.bdid, **extra}


def test_active_balances_are_the_members_unexpired_credits_newest_first(api: Api, ids: Ids):
    ledger = ids.member.ledger(ids.bdid)
    scale = ids.data.definition_by_id[ids.bdid].scale
    expected = [
        {"id": a.id, "amount": render_amount(a.amount, scale), "createdAt": iso(a.created_at),
         "expiresAt": None if a.expires_at is None else iso(a.expires_at)}
        for a in sorted(ledger.active_balances, key=lambda a: (a.created_at, a.id), reverse=True)
    ]
    for query in (active_query(ids), active_query(ids, sortField="createdAt", sort="desc")):
        body = api.ok("getActiveBalancesApi", {"pid": ids.pid}, query)
        assert body["activeBalances"] == expected
        assert body["count"] == len(expected) >= 1
        assert (body["contactId"], body["balanceDefinitionId"], body["loyaltyProgramId"]) == (
            ids.cid, ids.bdid, ids.pid)
    ascending = api.ok("getActiveBalancesApi", {"pid": ids.pid}, active_query(ids, sort="asc"))
    assert ascending["activeBalances"] == expected[::-1]


def test_active_balance_pages_keep_the_count(api: Api, world: World, ids: Ids):
    member = max((world.member_at(ids.data, p) for p in range(len(ids.data.members))),
                 key=lambda m: len(m.ledger(ids.bdid).active_balances))
    query = {"contactId": member.contact_id, "balanceDefinitionId": ids.bdid, "sort": "asc"}
    whole = api.ok("getActiveBalancesApi", {"pid": ids.pid}, query)
    assert whole["count"] >= 2
    for offset in range(whole["count"] + 1):
        page = api.ok("getActiveBalancesApi", {"pid": ids.pid}, {**query, "limit": 1, "offset": offset})
        assert page["count"] == whole["count"]
        assert page["activeBalances"] == whole["activeBalances"][offset:offset + 1]


def test_active_balances_of_an_internal_definition_need_include_internal(api: Api, world: World, ids: Ids):
    member = next(world.member_at(ids.data, p) for p in range(len(ids.data.members))
                  if world.member_at(ids.data, p).ledger(ids.internal_bdid).active_balances)
    query = {"contactId": member.contact_id, "balanceDefinitionId": ids.internal_bdid}
    hidden = api.ok("getActiveBalancesApi", {"pid": ids.pid}, query)
    assert hidden["count"] == 0 and hidden["activeBalances"] == []
    shown = api.ok("getActiveBalancesApi", {"pid": ids.pid}, {**query, "includeInternal": "true"})
    assert shown["count"] == len(member.ledger(ids.internal_bdid).active_balances) >= 1


# --------------------------------------------------- transaction history


@pytest.fixture(scope="module")
def busy(world: World, ids: Ids) -> Member:
    return busiest_member(world, ids.data, ids.bdid)


def history(api: Api, ids: Ids, member: Member, **query) -> dict:
    return api.ok("getTransactionHistoryApi", {"pid": ids.pid},
                  {"contactId": member.contact_id, "balanceDefinitionId": ids.bdid, **query})


def test_history_is_every_transaction_newest_first(api: Api, ids: Ids, busy: Member):
    txs = sorted(busy.ledger(ids.bdid).transactions, key=lambda tx: (tx.created_at, tx.id), reverse=True)
    scale = ids.data.definition_by_id[ids.bdid].scale
    for query in ({}, {"sortField": "createdAt"}, {"sort": "desc"}):
        body = history(api, ids, busy, **query)
        assert [tx["id"] for tx in body["transactionHistory"]] == [tx.id for tx in txs]
        assert body["count"] == len(txs)
    body = history(api, ids, busy)
    for item, tx in zip(body["transactionHistory"], txs, strict=True):
        assert item["amount"] == render_amount(tx.amount, scale)
        assert (item["status"], item["transactionType"], item["createdAt"]) == (
            tx.status, tx.transaction_type, iso(tx.created_at))
    ascending = history(api, ids, busy, sort="asc")
    assert [tx["id"] for tx in ascending["transactionHistory"]] == [tx.id for tx in txs][::-1]


def test_history_filters_by_status_and_type(api: Api, ids: Ids, busy: Member):
    txs = busy.ledger(ids.bdid).transactions
    assert len({tx.status for tx in txs}) >= 3
    for status in ("draft", "completed", "rejected", "cancelled", "expired"):
        body = history(api, ids, busy, status=status)
        assert {tx["id"] for tx in body["transactionHistory"]} == {tx.id for tx in txs if tx.status == status}
        assert body["count"] == sum(tx.status == status for tx in txs)
    for kind in ("credit", "debit"):
        body = history(api, ids, busy, transactionType=kind, status="completed")
        assert {tx["id"] for tx in body["transactionHistory"]} == {
            tx.id for tx in txs if tx.transaction_type == kind and tx.status == "completed"}


def test_history_filters_by_subscription(api: Api, ids: Ids, busy: Member):
    own = history(api, ids, busy, loyaltySubscriptionId=busy.subscription.loyalty_subscription_id)
    assert own["count"] == len(busy.ledger(ids.bdid).transactions) >= 1
    other = next(s for s in ids.data.members.subscription_ids if s != busy.subscription.loyalty_subscription_id)
    foreign = history(api, ids, busy, loyaltySubscriptionId=other)
    assert foreign["count"] == 0 and foreign["transactionHistory"] == []


def test_history_pages_keep_the_count(api: Api, ids: Ids, busy: Member):
    whole = history(api, ids, busy, limit=500)
    assert whole["count"] >= 3
    for offset in range(whole["count"] + 1):
        page = history(api, ids, busy, limit=2, offset=offset)
        assert page["count"] == whole["count"]
        assert page["transactionHistory"] == whole["transactionHistory"][offset:offset + 2]
