"""Balance handlers called as plain functions."""

import pytest

from mock_server.errors import NoContent, UnknownResource
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers

H = contract_handlers()


@pytest.fixture(scope="module")
def world():
    return build_world(33, 120)


@pytest.fixture(scope="module")
def programs(world):
    return {data.program.state: data for data in world.programs}


def _money(data):
    return next(d for d in data.definitions if d.unit != "POINTS")


def test_definition_list_sorts_pages_and_answers_204_when_empty(world, programs):
    data = programs["draft"]
    base = {"pid": data.id, "limit": 200, "offset": 0, "sortField": "name", "sort": "asc", "version": "draft"}
    names = [item["name"] for item in H["getBalanceDefinitionList"](world, base)["items"]]
    assert names == sorted(names, key=str.casefold)
    assert len(names) == len(data.definitions)
    active = H["getBalanceDefinitionList"](world, {**base, "version": "active"})["items"]
    assert len(active) == len([d for d in data.definitions if d.published])
    second = H["getBalanceDefinitionList"](world, {**base, "limit": 1, "offset": 1})["items"]
    assert [item["name"] for item in second] == names[1:2]
    with pytest.raises(NoContent):
        H["getBalanceDefinitionList"](world, {**base, "offset": 50})
    with pytest.raises(NoContent):
        H["getBalanceDefinitionList"](world, {**base, "pid": programs["inactive"].id, "version": "active"})


def test_definition_shows_money_with_cents_and_hides_unused_expiry_fields(world, programs):
    data = programs["active"]
    money = _money(data)
    item = H["getBalanceDefinition"](world, {"pid": data.id, "bdid": money.id.upper(), "version": "draft"})
    assert item["id"] == money.id
    assert item["unit"] == money.unit
    assert item["maxAmount"] == 10_000
    # The active program's money credits lapse on a yearly day: the duration fields are not shown.
    assert item["balanceExpirationDate"] == money.expiration_date == "01/01"
    assert not any(key.startswith("balanceAvailabilityDuration") for key in item)
    assert item["deletedAt"] is None
    lifetime = _money(programs["draft"])  # a credit lifetime instead: no yearly expiry day shown
    shown_lifetime = H["getBalanceDefinition"](world, {"pid": programs["draft"].id, "bdid": lifetime.id})
    assert shown_lifetime["balanceAvailabilityDurationUnit"] == "month"
    assert "balanceExpirationDate" not in shown_lifetime
    internal = next(d for d in data.definitions if d.internal)
    shown = H["getBalanceDefinition"](world, {"pid": data.id, "bdid": internal.id})
    assert shown["meta"] == {"isInternal": True}
    assert "balanceAvailabilityDurationValue" not in shown
    with pytest.raises(UnknownResource, match="bdid"):
        H["getBalanceDefinition"](world, {"pid": data.id, "bdid": data.id})


def test_draft_only_definition_is_missing_from_the_active_version(world, programs):
    data = programs["draft"]
    unpublished = next(d for d in data.definitions if not d.published)
    assert H["getBalanceDefinition"](world, {"pid": data.id, "bdid": unpublished.id, "version": "draft"})
    with pytest.raises(UnknownResource):
        H["getBalanceDefinition"](world, {"pid": data.id, "bdid": unpublished.id, "version": "active"})


def test_limit_belongs_to_its_definition(world, programs):
    data = programs["active"]
    points, money = data.definitions[0], _money(data)
    limit = data.limits_of(points.id)[0]
    item = H["getBalanceLimit"](world, {"pid": data.id, "bdid": points.id, "blid": limit.id})
    assert (item["id"], item["balanceDefinitionId"], item["value"]) == (limit.id, points.id, limit.value)
    money_limit = next(limit for limit in data.limits_of(money.id) if limit.constraint_type == "amount")
    shown = H["getBalanceLimit"](world, {"pid": data.id, "bdid": money.id, "blid": money_limit.id})
    assert shown["value"] == money_limit.value / 100
    with pytest.raises(UnknownResource, match="blid"):
        H["getBalanceLimit"](world, {"pid": data.id, "bdid": money.id, "blid": limit.id})


def test_subscription_balances_hide_internal_definitions_by_default(world, programs):
    data = programs["active"]
    contact = data.members.contact_ids[0]
    hidden = H["getSubscriptionBalances"](world, {"pid": data.id, "cid": contact, "includeInternal": False})
    shown = H["getSubscriptionBalances"](world, {"pid": data.id, "cid": contact, "includeInternal": True})
    assert list(hidden) == ["loyaltyProgramId", "contactId", "balance"]
    assert len(shown["balance"]) == len(data.definitions)
    assert len(hidden["balance"]) == len([d for d in data.definitions if not d.internal])
    with pytest.raises(UnknownResource, match="cid"):
        H["getSubscriptionBalances"](world, {"pid": data.id, "cid": 10**15})


@pytest.mark.parametrize("sort_field", ["value", "updatedAt"])
@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_contact_balances_are_sorted_pages_of_everyone(world, programs, sort_field, sort):
    data = programs["active"]
    points = data.definitions[0]
    base = {"pid": data.id, "balanceDefinitionId": points.id, "sortField": sort_field, "sort": sort}
    whole = H["getContactBalances"](world, {**base, "limit": 500, "offset": 0})
    assert whole["count"] == len(data.members) == len(whole["balances"])
    keys = [entry[sort_field] for entry in whole["balances"]]
    assert keys == sorted(keys, reverse=sort == "desc")
    pages = [
        H["getContactBalances"](world, {**base, "limit": 7, "offset": offset})["balances"]
        for offset in range(0, 120, 7)
    ]
    assert [entry for page in pages for entry in page] == whole["balances"]
    assert H["getContactBalances"](world, {**base, "limit": 7, "offset": 500})["balances"] == []


def test_contact_balances_of_an_internal_definition_need_include_internal(world, programs):
    data = programs["active"]
    internal = next(d for d in data.definitions if d.internal)
    base = {"pid": data.id, "balanceDefinitionId": internal.id, "limit": 5, "offset": 0}
    hidden = H["getContactBalances"](world, base)
    assert (hidden["count"], hidden["balances"]) == (0, [])
    assert H["getContactBalances"](world, {**base, "includeInternal": True})["count"] == len(data.members)


def test_active_balances_page_and_sort(world, programs):
    data = programs["active"]
    points = data.definitions[0]
    table = data.members
    position = max(range(len(table)), key=lambda p: table.counts[0][p])
    contact = table.contact_ids[position]
    base = {"pid": data.id, "contactId": contact, "balanceDefinitionId": points.id}
    whole = H["getActiveBalancesApi"](world, {**base, "limit": 500, "offset": 0, "sort": "asc"})
    assert whole["count"] == len(whole["activeBalances"]) > 0
    stamps = [entry["createdAt"] for entry in whole["activeBalances"]]
    assert stamps == sorted(stamps)
    newest = H["getActiveBalancesApi"](world, {**base, "limit": 1, "offset": 0, "sort": "desc"})
    assert newest["count"] == whole["count"]
    assert newest["activeBalances"] == whole["activeBalances"][-1:]
    with pytest.raises(UnknownResource, match="contactId"):
        H["getActiveBalancesApi"](world, {**base, "contactId": 10**15})


def test_transaction_history_filters(world, programs):
    data = programs["active"]
    points = data.definitions[0]
    table = data.members
    position = max(range(len(table)), key=lambda p: table.counts[0][p])
    contact = table.contact_ids[position]
    base = {"pid": data.id, "contactId": contact, "balanceDefinitionId": points.id, "limit": 500, "offset": 0}
    everything = H["getTransactionHistoryApi"](world, base)
    assert everything["count"] == table.counts[0][position]
    assert list(everything) == ["loyaltyProgramId", "balanceDefinitionId", "contactId", "count", "transactionHistory"]
    stamps = [tx["createdAt"] for tx in everything["transactionHistory"]]
    assert stamps == sorted(stamps, reverse=True)  # newest first by default
    completed = H["getTransactionHistoryApi"](world, {**base, "status": "completed"})
    assert all(tx["status"] == "completed" and tx["completedAt"] for tx in completed["transactionHistory"])
    debits = H["getTransactionHistoryApi"](world, {**base, "transactionType": "debit"})
    assert all(tx["transactionType"] == "debit" for tx in debits["transactionHistory"])
    assert completed["count"] + H["getTransactionHistoryApi"](world, {**base, "status": "draft"})["count"] <= (
        everything["count"]
    )
    mine = H["getTransactionHistoryApi"](world, {**base, "loyaltySubscriptionId": table.subscription_ids[position]})
    assert mine["count"] == everything["count"]
    other = H["getTransactionHistoryApi"](world, {**base, "loyaltySubscriptionId": "someone-else"})
    assert (other["count"], other["transactionHistory"]) == (0, [])
    second = H["getTransactionHistoryApi"](world, {**base, "limit": 2, "offset": 2})
    assert second["transactionHistory"] == everything["transactionHistory"][2:4]


def test_transaction_timestamps_match_status(world, programs):
    data = programs["draft"]
    seen = set()
    for contact in list(data.members.contact_ids)[:60]:
        for definition in data.definitions:
            history = H["getTransactionHistoryApi"](
                world, {"pid": data.id, "contactId": contact, "balanceDefinitionId": definition.id,
                        "limit": 500, "offset": 0},
            )["transactionHistory"]
            for tx in history:
                seen.add(tx["status"])
                status = tx["status"]
                assert (tx["completedAt"] is not None) == (status in ("completed", "expired"))
                assert (tx["cancelledAt"] is not None) == (status == "cancelled")
                assert (tx["rejectedAt"] is not None) == (status == "rejected")
                assert (tx["rejectReason"] is not None) == (status == "rejected")
                if status == "expired":
                    assert tx["transactionType"] == "credit"
                    assert tx["balanceExpirationDate"] < "2026-11-01T00:00:00.000Z"
                if status == "completed" and tx["balanceExpirationDate"]:
                    assert tx["balanceExpirationDate"] > "2026-11-01T00:00:00.000Z"
    assert seen == {"draft", "completed", "rejected", "cancelled", "expired"}
