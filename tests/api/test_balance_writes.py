"""The balance writes over HTTP: status, contract-valid bodies, and the reads that show each write at once.

An app of its own (writes change state), reset before each test. Every 200 and error body is checked
against the contract's response schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.contract.responses import ResponseValidator, load_validator
from mock_server.fixtures import shipped_fixture
from mock_server.store.world import ProgramData, World
from tests.api.support import UNKNOWN_UUID, Api, client_for, make_settings, world_of

WIDGET_PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"

@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(make_settings(fixtures=(shipped_fixture("widget-member"),)))


@pytest.fixture(scope="module")
def validator() -> ResponseValidator:
    return load_validator()


@pytest.fixture
def api(app: Starlette, validator: ResponseValidator) -> Iterator[Api]:
    app.state.mock.reset()
    with client_for(app) as client:
        yield Writes(client, app.state.mock.contract, validator)


@pytest.fixture
def world(app: Starlette) -> World:
    return world_of(app)


class Writes(Api):
    def call(self, operation_id: str, path: dict[str, Any], body: Any = None) -> httpx2.Response:
        method = self.operation(operation_id).method
        return self.client.request(method, self.url(operation_id, path), json=body)

    def done(self, operation_id: str, path: dict[str, Any], body: Any = None) -> Any:
        response = self.call(operation_id, path, body)
        status = self.operation(operation_id).success_status
        assert response.status_code == status, (operation_id, response.status_code, response.text)
        problems = self.validator.check(operation_id, status, response.headers, response.content)
        assert problems == [], (operation_id, problems)
        return response.json() if status != 204 else None


def _active(world: World) -> ProgramData:
    return next(data for data in world.programs if data.program.state == "active" and len(data.members))


def _funded(world: World, data: ProgramData) -> int:
    position = max(range(len(data.members)), key=lambda p: data.members.values[0][p])
    return data.members.contact_ids[position]


def _balance(api: Api, pid: str, cid: int, bdid: str) -> Any:
    totals = api.ok("getSubscriptionBalances", {"pid": pid, "cid": cid}, {"includeInternal": "true"})["balance"]
    return next(item["value"] for item in totals if item["balanceDefinitionId"] == bdid)


def test_begin_complete_and_the_reads_that_follow(api: Writes, world: World):
    data = _active(world)
    pid, bdid = data.id, data.definitions[0].id
    cid = _funded(world, data)
    before = _balance(api, pid, cid, bdid)

    draft = api.done("beginTransaction", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": bdid,
                                                        "amount": 50, "meta": {"reason": "signup_bonus"}})
    assert (draft["status"], draft["amount"], draft["contactId"]) == ("draft", 50, cid) and "balance" not in draft
    assert _balance(api, pid, cid, bdid) == before

    done = api.done("completeTransaction", {"pid": pid, "tid": draft["id"]})
    assert (done["status"], done["balance"]) == ("completed", before + 50)
    assert _balance(api, pid, cid, bdid) == before + 50
    history = api.ok("getTransactionHistoryApi", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": bdid})
    assert history["transactionHistory"][0]["id"] == draft["id"]
    assert history["transactionHistory"][0]["status"] == "completed"
    top = api.ok("getContactBalances", {"pid": pid}, {"balanceDefinitionId": bdid, "sortField": "value",
                                                      "sort": "desc", "limit": 1})["balances"][0]
    assert (top["contactId"], top["value"]) == (cid, before + 50)  # the richest member got richer
    latest = api.ok("getContactBalances", {"pid": pid}, {"balanceDefinitionId": bdid, "sortField": "updatedAt",
                                                         "sort": "desc", "limit": 1})["balances"][0]
    assert (latest["contactId"], latest["updatedAt"]) == (cid, done["completedAt"])
    info = api.ok("getParameterSubscriptionInfo", {"pid": pid}, {"contactId": str(cid), "params": "balance"})
    assert {b["balanceDefinitionId"]: b["value"] for b in info["balance"]["balances"]}[bdid] == before + 50

    again = api.call("completeTransaction", {"pid": pid, "tid": draft["id"]})
    assert "not a draft" in api.error(again, "completeTransaction", 422, "invalid_parameter")
    refused = api.call("cancelTransaction", {"pid": pid, "tid": draft["id"]})
    assert "refund it with a debit" in api.error(refused, "cancelTransaction", 422)
    unknown = api.call("completeTransaction", {"pid": pid, "tid": UNKNOWN_UUID})
    assert "'tid'" in api.error(unknown, "completeTransaction", 404, "document_not_found")


def test_cancel_and_the_subscription_id_key(api: Writes, world: World):
    data = _active(world)
    pid, bdid = data.id, data.definitions[0].id
    cid = _funded(world, data)
    subscription = world.member(data, cid).subscription.loyalty_subscription_id  # type: ignore[union-attr]
    draft = api.done("beginTransaction", {"pid": pid}, {"LoyaltySubscriptionId": subscription,
                                                        "balanceDefinitionId": bdid, "amount": -5})
    assert (draft["contactId"], draft["transactionType"], draft["amount"]) == (cid, "debit", 5)
    cancelled = api.done("cancelTransaction", {"pid": pid, "tid": draft["id"]})
    assert cancelled["status"] == "cancelled" and cancelled["cancelledAt"] == cancelled["updatedAt"]


def test_a_refused_body_names_the_misspelt_property_that_explains_it(api: Writes, world: World):
    data = _active(world)
    pid, bdid = data.id, data.definitions[0].id
    subscription = world.member(data, _funded(world, data)).subscription.loyalty_subscription_id  # type: ignore[union-attr]
    wrong_case = api.call("beginTransaction", {"pid": pid}, {"loyaltySubscriptionId": subscription,
                                                             "balanceDefinitionId": bdid, "amount": 5})
    assert api.error(wrong_case, "beginTransaction", 422, "missing_parameter") == (
        "body.contactId or body.LoyaltySubscriptionId is required; Unknown body property body.loyaltySubscriptionId "
        "for beginTransaction; did you mean 'LoyaltySubscriptionId'?")
    typo = api.call("beginTransaction", {"pid": pid}, {"LoyaltySubscriptionId": subscription,
                                                       "balanceDefinitonId": bdid, "amount": 5})
    assert api.error(typo, "beginTransaction", 422).endswith(
        "Unknown body property body.balanceDefinitonId for beginTransaction; did you mean 'balanceDefinitionId'?")
    # An accepted body's unknown properties stay out of its answer (Brevo ignores them), in the journal only.
    accepted = api.done("beginTransaction", {"pid": pid}, {"LoyaltySubscriptionId": subscription,
                                                           "balanceDefinitionId": bdid, "amount": 5, "note": "x"})
    assert accepted["status"] == "draft"


def test_a_refused_begin_changes_no_read(api: Writes, world: World):
    data = _active(world)
    pid, bdid = data.id, data.definitions[0].id
    cid = _funded(world, data)

    def reads() -> Any:
        return (api.ok("getSubscriptionBalances", {"pid": pid, "cid": cid}),
                api.ok("getTransactionHistoryApi", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": bdid}),
                api.ok("getContactBalances", {"pid": pid}, {"balanceDefinitionId": bdid}))

    before = reads()
    stranger = api.call("beginTransaction", {"pid": pid}, {"contactId": 999_999_999, "balanceDefinitionId": bdid,
                                                           "amount": 5})
    assert "not subscribed" in api.error(stranger, "beginTransaction", 422)
    unknown = api.call("beginTransaction", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": UNKNOWN_UUID,
                                                          "amount": 5})
    assert "balanceDefinitionId" in api.error(unknown, "beginTransaction", 404)
    assert reads() == before


def test_a_rejected_transaction_is_answered_with_its_reason_and_kept(api: Writes, world: World):
    data = _active(world)
    pid, bdid = data.id, data.definitions[0].id
    cid = _funded(world, data)
    before = _balance(api, pid, cid, bdid)
    rejected = api.done("beginTransaction", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": bdid,
                                                           "amount": -(before + 1), "autoComplete": True})
    assert (rejected["status"], rejected["rejectReason"]) == ("rejected", "insufficient_balance")
    assert "balance" not in rejected and _balance(api, pid, cid, bdid) == before
    history = api.ok("getTransactionHistoryApi", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": bdid,
                                                                "status": "rejected"})
    assert rejected["id"] in {tx["id"] for tx in history["transactionHistory"]}


def test_the_guide_tier_moves_from_silver_to_gold_through_an_order(api: Writes, world: World):
    data = world.program(WIDGET_PID)
    assert data is not None
    bdid = data.definitions[0].id
    assert api.ok("getSubscriptionTier", {"pid": WIDGET_PID, "cid": 12345})["tierName"] == "Silver"
    order = api.done("createBalanceOrder", {"pid": WIDGET_PID}, {
        "contactId": 12345, "balanceDefinitionId": bdid, "amount": 200, "dueAt": "2026-11-02T10:00:00Z",
        "source": "engine", "meta": {"orderId": "ORD-2001"}})
    assert order["amount"] == 200 and order["meta"] == {"orderId": "ORD-2001"}
    assert api.ok("getSubscriptionTier", {"pid": WIDGET_PID, "cid": 12345})["tierName"] == "Silver"
    done = api.done("completeTransaction", {"pid": WIDGET_PID, "tid": order["transactionid"]})
    assert done["balance"] == 540
    tier = api.ok("getSubscriptionTier", {"pid": WIDGET_PID, "cid": 12345})
    assert (tier["tierName"], tier["currentBalance"], tier["nextTierName"]) == ("Gold", 540, "Platinum")


def test_definition_limit_and_member_balance_lifecycle(api: Writes, world: World):
    data = _active(world)
    pid = data.id
    cid = data.members.contact_ids[0]
    created = api.done("createBalanceDefinition", {"pid": pid}, {
        "name": "Cashback", "unit": "EUR", "maxAmount": 250.5, "balanceAvailabilityDurationValue": 6,
        "balanceAvailabilityDurationUnit": "month", "balanceAvailabilityDurationModifier": "endOfPeriod"})
    bdid = created["id"]
    assert (created["maxAmount"], created["maxCreditAmountLimit"], created["deletedAt"]) == (250.5, 250.5, None)
    assert api.ok("getBalanceDefinition", {"pid": pid, "bdid": bdid}) == created
    assert api.get("getBalanceDefinition", {"pid": pid, "bdid": bdid}, {"version": "active"}).status_code == 404
    assert api.ok("getLoyaltyProgramInfo", {"pid": pid})["state"] == "draft"
    rows = api.ok("getContactBalances", {"pid": pid}, {"balanceDefinitionId": bdid, "limit": 500})
    assert rows["count"] == len(data.members) and {row["value"] for row in rows["balances"]} == {0}

    updated = api.done("updateBalanceDefinition", {"pid": pid, "bdid": bdid}, {"name": "Cash back", "unit": "EUR"})
    assert (updated["name"], updated["maxAmount"], updated["createdAt"]) == ("Cash back", 10_000, created["createdAt"])
    assert "balanceAvailabilityDurationValue" not in updated  # cleared by the replace

    limit = api.done("createBalanceLimit", {"pid": pid, "bdid": bdid}, {
        "transactionType": "credit", "constraintType": "amount", "durationValue": 1, "durationUnit": "week",
        "value": 100})
    assert (limit["value"], limit["slidingSchedule"]) == (100, False)
    assert api.ok("getBalanceLimit", {"pid": pid, "bdid": bdid, "blid": limit["id"]}) == limit
    changed = api.done("updateBalanceLimit", {"pid": pid, "bdid": bdid, "blid": limit["id"]}, {
        "transactionType": "debit", "constraintType": "transaction", "durationValue": 2, "durationUnit": "month",
        "value": 3, "slidingSchedule": True})
    assert (changed["transactionType"], changed["value"], changed["id"]) == ("debit", 3, limit["id"])
    api.done("deleteBalanceLimit", {"pid": pid, "bdid": bdid, "blid": limit["id"]})
    assert api.get("getBalanceLimit", {"pid": pid, "bdid": bdid, "blid": limit["id"]}).status_code == 404

    opened = api.done("createSubscriptionBalances", {"pid": pid, "cid": cid}, {"balanceDefinitionId": bdid})
    assert (opened["amount"], opened["contactId"], opened["balanceDefinitionId"]) == (0, cid, bdid)
    twice = api.call("createSubscriptionBalances", {"pid": pid, "cid": cid}, {"balanceDefinitionId": bdid})
    assert "already has a balance" in api.error(twice, "createSubscriptionBalances", 422)

    api.done("deleteBalanceDefinition", {"pid": pid, "bdid": bdid})
    assert api.get("getBalanceDefinition", {"pid": pid, "bdid": bdid}).status_code == 404
    totals = api.ok("getSubscriptionBalances", {"pid": pid, "cid": cid}, {"includeInternal": "true"})["balance"]
    assert [item["balanceDefinitionId"] for item in totals] == [d.id for d in data.definitions]
    gone = api.call("deleteBalanceDefinition", {"pid": pid, "bdid": bdid})
    assert "'bdid'" in api.error(gone, "deleteBalanceDefinition", 404)


def test_transactions_need_a_published_program(api: Writes, world: World):
    data = next(d for d in world.programs if d.program.state == "inactive")
    response = api.call("beginTransaction", {"pid": data.id}, {
        "contactId": _active(world).members.contact_ids[0], "balanceDefinitionId": data.definitions[0].id,
        "amount": 5})
    assert "is not published" in api.error(response, "beginTransaction", 422)


def test_the_same_writes_give_the_same_bytes(app: Starlette, validator: ResponseValidator, world: World):
    data = _active(world)
    pid, bdid = data.id, data.definitions[0].id
    cid = _funded(world, data)

    def run() -> list[bytes]:
        app.state.mock.reset()
        with client_for(app) as client:
            api = Writes(client, app.state.mock.contract, validator)
            first = api.call("beginTransaction", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": bdid,
                                                                "amount": 7})
            second = api.call("completeTransaction", {"pid": pid, "tid": first.json()["id"]})
            read = api.get("getTransactionHistoryApi", {"pid": pid}, {"contactId": cid, "balanceDefinitionId": bdid})
            return [first.content, second.content, read.content]

    assert run() == run()


def test_writes_in_one_organisation_are_invisible_to_another(validator: ResponseValidator):
    from mock_server.settings import ApiKey

    keys = (ApiKey("key-a", "acme"), ApiKey("key-b", "globex"))
    app = create_app(make_settings(api_keys=keys))
    state = app.state.mock
    data = _active(state.backends["acme"].world)
    pid, bdid = data.id, data.definitions[0].id
    cid = data.members.contact_ids[0]
    with client_for(app, "key-a") as acme, client_for(app, "key-b") as globex:
        base = state.contract.base_path
        url = f"{base}/loyalty/balance/programs/{pid}/subscriptions/{cid}/balances"
        before = globex.get(url).content
        answer = acme.post(f"{base}/loyalty/balance/programs/{pid}/transactions",
                           json={"contactId": cid, "balanceDefinitionId": bdid, "amount": 9, "autoComplete": True})
        assert answer.status_code == 200 and answer.json()["status"] == "completed"
        assert acme.get(url).content != before
        assert globex.get(url).content == before


def _seeded_draft(api: Api, data: ProgramData) -> tuple[int, dict[str, Any]]:
    """A draft in the seeded history of a member no write touched (read over HTTP, as a client finds it)."""
    bdid = data.definitions[0].id
    for cid in data.members.contact_ids[:400]:
        history = api.ok("getTransactionHistoryApi", {"pid": data.id},
                         {"contactId": cid, "balanceDefinitionId": bdid, "status": "draft"})["transactionHistory"]
        open_drafts = [tx for tx in history if "expiresAt" not in tx]
        if open_drafts:
            return cid, open_drafts[0]
    raise AssertionError("no seeded draft among the first 400 members")


def test_a_seeded_draft_is_completed_by_its_id_alone(api: Writes, world: World):
    data = _active(world)
    cid, draft = _seeded_draft(api, data)
    bdid = data.definitions[0].id
    before = _balance(api, data.id, cid, bdid)
    done = api.done("completeTransaction", {"pid": data.id, "tid": draft["id"]})
    assert (done["id"], done["contactId"], done["status"]) == (draft["id"], cid, "completed")
    signed = draft["amount"] if draft["transactionType"] == "credit" else -draft["amount"]
    assert _balance(api, data.id, cid, bdid) == done["balance"] == before + signed


def test_a_seeded_draft_is_cancelled_by_its_id_and_unknown_ids_stay_404(api: Writes, world: World):
    data = _active(world)
    cid, draft = _seeded_draft(api, data)
    cancelled = api.done("cancelTransaction", {"pid": data.id, "tid": draft["id"]})
    assert (cancelled["status"], cancelled["contactId"]) == ("cancelled", cid)
    history = api.ok("getTransactionHistoryApi", {"pid": data.id},
                     {"contactId": cid, "balanceDefinitionId": data.definitions[0].id, "status": "cancelled"})
    assert draft["id"] in {tx["id"] for tx in history["transactionHistory"]}
    unknown = api.call("completeTransaction", {"pid": data.id, "tid": UNKNOWN_UUID})
    assert "'tid'" in api.error(unknown, "completeTransaction", 404, "document_not_found")
