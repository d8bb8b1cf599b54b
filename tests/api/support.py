"""Helpers of the HTTP tests: settings, seeded ids, one sample request per operation, `Api`.

`sample_requests` holds one read per read operation, answered 200 with content;
`sample_writes` one request per write operation, with a body the contract
accepts and the seeded ids it names. A write changes the world: tests send a
sample write only where nothing can reach the handler (a refused key, a bad
parameter, `Prefer`), where the write is refused (an unknown id), or on an app
they reset.

Expectations in these tests come from the world the app was built from (its
`World` object, read through the store) or from the contract, never from the
response under test. `Api.ok` checks every 200 body it returns against the
contract's response schema, so every happy-path test is also a contract check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mock_server.contract.operations import CompiledContract, Operation
from mock_server.contract.responses import ResponseValidator
from mock_server.fixtures import shipped_fixture
from mock_server.settings import DEFAULT_API_KEY, Settings
from mock_server.store.models import Member
from mock_server.store.world import ProgramData, World

SEED = 1
CONTACTS = 50
API_KEY = DEFAULT_API_KEY
FORBIDDEN_KEY = "xkeysib-loyalty-mock-forbidden"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"
UNKNOWN_CONTACT = 999_999_999  # well-formed, far above any seeded contact id

Query = Mapping[str, Any]


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"seed": SEED, "contacts": CONTACTS, "access_log": False,
                              "forbidden_keys": (FORBIDDEN_KEY,), "journal_size": 10}
    values.update(overrides)
    return Settings(**values)


def world_of(app: Starlette) -> World:
    state = app.state.mock
    return state.worlds[state.settings.api_keys[0].organisation]


# ----------------------------------------------------------------- seeded ids


@dataclass(frozen=True)
class Ids:
    """One of everything, chosen in the world so that every 200 body has content."""

    data: ProgramData
    member: Member
    bdid: str  # a visible (not internal) definition with limits, on which the member has active credits
    internal_bdid: str
    blid: str
    gid: str
    rid: str  # a reward drawing its codes from a pool
    cpid: str

    @property
    def pid(self) -> str:
        return self.data.id

    @property
    def cid(self) -> int:
        return self.member.contact_id

    @property
    def subscription(self) -> str:
        return self.member.subscription.loyalty_subscription_id

    @property
    def other_cid(self) -> int:
        """Another member of the program."""
        return next(contact for contact in self.data.members.contact_ids if contact != self.cid)

    @property
    def tier_id(self) -> str:
        return next(tier for group in self.data.tier_groups for tier in group.tier_ids)

    @property
    def transaction_id(self) -> str:
        """The member's last transaction on the `bdid` balance."""
        ledger = self.member.ledger(self.bdid)
        assert ledger is not None and ledger.transactions
        return ledger.transactions[-1].id

    @property
    def voucher_id(self) -> str:
        return self.member.vouchers[-1].id


def find_ids(world: World) -> Ids:
    """The first program and member of the world that have every kind of record."""
    for data in world.programs:
        internal = [d for d in data.definitions if d.internal]
        visible = [d for d in data.definitions if not d.internal and data.limits_of(d.id)]
        pooled = [r for r in data.rewards if r.code_pool_id]
        if not (internal and visible and pooled and data.tier_groups):
            continue
        definition = visible[0]
        for position in range(len(data.members)):
            member = world.member_at(data, position)
            usable = [v for v in member.vouchers if v.available(world.reference_now)]
            if usable and member.ledger(definition.id).active_balances:
                return Ids(
                    data=data, member=member, bdid=definition.id, internal_bdid=internal[0].id,
                    blid=data.limits_of(definition.id)[0].id, gid=data.tier_groups[0].id,
                    rid=pooled[0].id, cpid=pooled[0].code_pool_id or "",
                )
    raise AssertionError("the world has no program with every kind of record")


@dataclass(frozen=True)
class Request:
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None  # a write's JSON body (None: no body)


def sample_requests(ids: Ids) -> dict[str, Request]:
    """One request per read operation of the contract, with seeded ids, answered 200 with content."""
    pid, cid, bdid = ids.pid, ids.cid, ids.bdid
    member = {"contactId": cid, "balanceDefinitionId": bdid}
    return {
        "getLPList": Request(),
        "getLoyaltyProgramInfo": Request({"pid": pid}),
        "getParameterSubscriptionInfo": Request({"pid": pid}, {"contactId": cid}),
        "getBalanceDefinitionList": Request({"pid": pid}),
        "getBalanceDefinition": Request({"pid": pid, "bdid": bdid}),
        "getBalanceLimit": Request({"pid": pid, "bdid": bdid, "blid": ids.blid}),
        "getSubscriptionBalances": Request({"pid": pid, "cid": cid}),
        "getContactBalances": Request({"pid": pid}, {"balanceDefinitionId": bdid}),
        "getActiveBalancesApi": Request({"pid": pid}, member),
        "getTransactionHistoryApi": Request({"pid": pid}, member),
        "getSubscriptionTier": Request({"pid": pid, "cid": cid}),
        "getSubscriptionVouchers": Request({"pid": pid, "cid": cid}),
        "getSubscriptionTransactions": Request({"pid": pid, "cid": cid}),
        "getListOfTierGroups": Request({"pid": pid}),
        "getTierGroup": Request({"pid": pid, "gid": ids.gid}),
        "getLoyaltyProgramTier": Request({"pid": pid}),
        "getRewardPageApi": Request({"pid": pid}),
        "getRewardInformation": Request({"pid": pid, "rid": ids.rid}),
        "getVoucherForAContact": Request({"pid": pid}, {"contactId": cid}),
        "getCodeCount": Request({"pid": pid, "cpid": ids.cpid}),
    }


def sample_writes(ids: Ids) -> dict[str, Request]:
    """One request per write operation of the contract: seeded ids, and a body its schema accepts.

    Whether the write then succeeds is the areas' business (tests/api/test_*_writes.py): these requests
    exist so that rules that hold for every operation (keys, parameters, unknown ids, `Prefer`, rate
    limits, letter case) are checked on writes too.
    """
    pid, cid, bdid, gid = ids.pid, ids.cid, ids.bdid, ids.gid
    group = next(g for g in ids.data.tier_groups if g.id == gid)
    program = {"name": "Sample program", "description": "Written by the suite"}
    definition = {"name": "Sample balance", "unit": "POINTS"}
    limit = {"constraintType": "amount", "durationUnit": "day", "durationValue": 1, "transactionType": "credit",
             "value": 1000}
    condition = {"balanceDefinitionId": bdid, "minimumValue": 1_000_000}
    newcomer = max(ids.data.members.contact_ids) + 1  # not a member yet
    return {
        "createNewLP": Request(body=program),
        "updateLoyaltyProgram": Request({"pid": pid}, body=program),
        "partiallyUpdateLoyaltyProgram": Request({"pid": pid}, body={"description": "Patched by the suite"}),
        "deleteLoyaltyProgram": Request({"pid": pid}),
        "publishLoyaltyProgram": Request({"pid": pid}),
        "subscribeToLoyaltyProgram": Request({"pid": pid}, body={"contactId": newcomer}),
        "subscribeMemberToASubscription": Request({"pid": pid}, body={"contactId": cid,
                                                                     "memberContactIds": [ids.other_cid]}),
        "deleteContactMembers": Request({"pid": pid}, {"memberContactIds": ids.other_cid}),
        "deleteContactSubscription": Request({"pid": pid, "cid": cid}),
        "createBalanceDefinition": Request({"pid": pid}, body=definition),
        "updateBalanceDefinition": Request({"pid": pid, "bdid": bdid}, body=definition),
        "deleteBalanceDefinition": Request({"pid": pid, "bdid": bdid}),
        "createBalanceLimit": Request({"pid": pid, "bdid": bdid}, body=limit),
        "updateBalanceLimit": Request({"pid": pid, "bdid": bdid, "blid": ids.blid}, body=limit),
        "deleteBalanceLimit": Request({"pid": pid, "bdid": bdid, "blid": ids.blid}),
        "createSubscriptionBalances": Request({"pid": pid, "cid": cid}, body={"balanceDefinitionId": bdid}),
        "beginTransaction": Request({"pid": pid}, body={"contactId": cid, "balanceDefinitionId": bdid, "amount": 5}),
        "completeTransaction": Request({"pid": pid, "tid": ids.transaction_id}),
        "cancelTransaction": Request({"pid": pid, "tid": ids.transaction_id}),
        "createBalanceOrder": Request({"pid": pid}, body={"contactId": cid, "balanceDefinitionId": bdid, "amount": 5,
                                                          "dueAt": "2026-12-01T00:00:00Z", "source": "user"}),
        "createTierGroup": Request({"pid": pid}, body={"name": "Sample group"}),
        "updateTierGroup": Request({"pid": pid, "gid": gid}, body={
            "name": "Sample group", "tierOrder": list(group.tier_ids), "upgradeStrategy": "real_time",
            "downgradeStrategy": "real_time"}),
        "deleteTierGroup": Request({"pid": pid, "gid": gid}),
        "createTierForTierGroup": Request({"pid": pid, "gid": gid}, body={"name": "Sample tier",
                                                                         "accessConditions": [condition]}),
        "updateTier": Request({"pid": pid, "tid": ids.tier_id}, body={"name": "Sample tier",
                                                                     "accessConditions": [condition],
                                                                     "tierRewards": []}),
        "deleteTier": Request({"pid": pid, "tid": ids.tier_id}),
        "addSubscriptionToTier": Request({"pid": pid, "cid": cid, "tid": ids.tier_id}),
        "createReward": Request({"pid": pid}, body={"name": "Sample reward"}),
        "createVoucher": Request({"pid": pid}, body={"rewardId": ids.rid, "contactId": cid}),
        "redeemVoucher": Request({"pid": pid}, body={"attributedRewardId": ids.voucher_id}),
        "completeRedeemTransaction": Request({"pid": pid, "tid": ids.transaction_id}),
        "revokeVouchers": Request({"pid": pid}, {"attributedRewardIds": ids.voucher_id}),
        "validateReward": Request({"pid": pid}, body={"attributedRewardId": ids.voucher_id}),
    }


def every_sample(ids: Ids) -> dict[str, Request]:
    """`sample_requests` and `sample_writes` together: one request per operation of the contract."""
    return {**sample_requests(ids), **sample_writes(ids)}


# ------------------------------------------------------------------- the API


class Api:
    """Calls operations by operationId, building the URL from the contract's path template."""

    def __init__(self, client: TestClient, contract: CompiledContract, validator: ResponseValidator) -> None:
        self.client = client
        self.contract = contract
        self.validator = validator

    def operation(self, operation_id: str) -> Operation:
        return self.contract.operations[operation_id]

    def url(self, operation_id: str, path: Mapping[str, Any] | None = None) -> str:
        return self.contract.base_path + self.operation(operation_id).path.format(**(path or {}))

    def get(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Query | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        body: Any = None,
    ) -> httpx2.Response:
        """One request of the operation (its own method unless `method` is given); `body` is sent as JSON."""
        method = method or self.operation(operation_id).method
        return self.client.request(method, self.url(operation_id, path), params=dict(query or {}),
                                   headers=dict(headers or {}), json=body)

    def ok(self, operation_id: str, path: Mapping[str, Any] | None = None, query: Query | None = None) -> Any:
        """The JSON body of a 200 answer, after checking it against the contract."""
        response = self.get(operation_id, path, query)
        assert response.status_code == 200, (operation_id, response.status_code, response.text)
        problems = self.validator.check(operation_id, 200, response.headers, response.content)
        assert problems == [], (operation_id, problems)
        return response.json()

    def send(self, operation_id: str, request: Request, **kwargs: Any) -> httpx2.Response:
        kwargs.setdefault("body", request.body)
        return self.get(operation_id, request.path, request.query, **kwargs)

    def error(self, response: httpx2.Response, operation_id: str, status: int, code: str | None = None) -> str:
        """Check an error answer (status, contract-valid error body, code); return its message."""
        assert response.status_code == status, (operation_id, response.status_code, response.text)
        problems = self.validator.check(operation_id, status, response.headers, response.content)
        assert problems == [], (operation_id, status, problems)
        body = response.json()
        assert set(body) == {"code", "message"} and body["message"], body
        if code is not None:
            assert body["code"] == code, body
        return body["message"]


def client_for(app: Starlette, key: str | None = API_KEY) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    if key is not None:
        client.headers["api-key"] = key
    return client


def widget_settings(**overrides: object) -> Settings:
    """The guide's member (contact 12345 of Storefront Rewards) on a small seeded world."""
    fixture = shipped_fixture("widget-member")
    assert fixture is not None
    values: dict[str, object] = {"access_log": False, "contacts": 50, "fixtures": (fixture,)}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
