"""The official Python client (brevo-python 5.x) against the mock, over a real loopback server.

It reads every read operation of the API reference and gets its own typed models
back, with values that are the world's; it sends nothing the contract does not
know (the mock's request journal records no violation); and each error the
mock answers comes out as the client's typed error for that status: a wrong key
its UnauthorizedError, an unknown program its NotFoundError (or the error of the
status the operation documents instead), a documented 424 its
FailedDependencyError, and so on. `AsyncBrevo` reads the same data.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from brevo import AsyncBrevo, Brevo
from brevo.core.api_error import ApiError
from brevo.errors import (
    BadRequestError,
    FailedDependencyError,
    ForbiddenError,
    InternalServerError,
    NotFoundError,
    UnauthorizedError,
    UnprocessableEntityError,
)

from mock_server.contract import compile_contract, load_contract
from mock_server.store.models import render_amount
from mock_server.testing import RunningMock, running_mock
from tests.api.support import FORBIDDEN_KEY, UNKNOWN_UUID, Ids, find_ids, make_settings
from tests.support.operations import read_operations

CONTRACT = compile_contract(load_contract())
ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequestError, 401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError,
    422: UnprocessableEntityError, 424: FailedDependencyError, 500: InternalServerError,
}
NO_RETRY: Any = {"max_retries": 0}


@dataclass(frozen=True)
class Call:
    """How the client reaches one operation: its sub-client, method and arguments from the seeded ids."""

    area: str
    method: str
    args: Callable[[Ids], tuple]
    kwargs: Callable[[Ids], dict]

    def bound(self, client: Brevo | AsyncBrevo) -> Callable[..., Any]:
        return getattr(getattr(client, self.area), self.method)

    def __call__(self, client: Brevo | AsyncBrevo, ids: Ids, **extra: Any) -> Any:
        return self.bound(client)(*self.args(ids), **{**self.kwargs(ids), **extra})


def member(ids: Ids) -> dict:
    return {"contact_id": ids.cid, "balance_definition_id": ids.bdid}


REFERENCE: dict[str, Call] = {
    "getLPList": Call("program", "get_lp_list", lambda i: (), lambda i: {}),
    "getLoyaltyProgramInfo": Call("program", "get_loyalty_program_info", lambda i: (i.pid,), lambda i: {}),
    "getParameterSubscriptionInfo": Call("program", "get_parameter_subscription_info", lambda i: (i.pid,),
                                         lambda i: {"contact_id": str(i.cid)}),
    "getBalanceDefinitionList": Call("balance", "get_balance_definition_list", lambda i: (i.pid,), lambda i: {}),
    "getBalanceDefinition": Call("balance", "get_balance_definition", lambda i: (i.pid, i.bdid), lambda i: {}),
    "getBalanceLimit": Call("balance", "get_balance_limit", lambda i: (i.pid, i.bdid, i.blid), lambda i: {}),
    "getSubscriptionBalances": Call("balance", "get_subscription_balances", lambda i: (i.pid, str(i.cid)),
                                    lambda i: {}),
    "getContactBalances": Call("balance", "get_contact_balances", lambda i: (i.pid,),
                               lambda i: {"balance_definition_id": i.bdid, "limit": 500}),
    "getActiveBalancesApi": Call("balance", "get_active_balances_api", lambda i: (i.pid,), member),
    "getTransactionHistoryApi": Call("balance", "get_transaction_history_api", lambda i: (i.pid,), member),
    "getListOfTierGroups": Call("tier", "get_list_of_tier_groups", lambda i: (i.pid,), lambda i: {}),
    "getTierGroup": Call("tier", "get_tier_group", lambda i: (i.pid, i.gid), lambda i: {}),
    "getLoyaltyProgramTier": Call("tier", "get_loyalty_program_tier", lambda i: (i.pid,), lambda i: {}),
    "getRewardPageApi": Call("reward", "get_reward_page_api", lambda i: (i.pid,), lambda i: {"limit": 100}),
    "getRewardInformation": Call("reward", "get_reward_information", lambda i: (i.pid, i.rid), lambda i: {}),
    "getVoucherForAContact": Call("reward", "get_voucher_for_a_contact", lambda i: (i.pid,),
                                  lambda i: {"contact_id": i.cid}),
    "getCodeCount": Call("reward", "get_code_count", lambda i: (i.pid, i.cpid), lambda i: {}),
}
OPERATIONS = sorted(REFERENCE)


def values(ids: Ids) -> dict[str, float]:
    """The member's visible totals, per definition, as the client's float fields hold them."""
    return {d.id: float(render_amount(ledger.value, d.scale))
            for d, ledger in zip(ids.data.definitions, ids.member.ledgers, strict=True) if not d.internal}


def check_result(operation_id: str, result: Any, ids: Ids, mock: RunningMock) -> None:
    """What the typed result must say, from the world the server was built from."""
    world = world_of_mock(mock)
    data = ids.data
    if operation_id == "getLPList":
        assert {p.id for p in result.items} == {d.id for d in world.programs}
    elif operation_id == "getLoyaltyProgramInfo":
        assert (result.id, result.name, result.state) == (ids.pid, data.program.name, data.program.state)
    elif operation_id == "getParameterSubscriptionInfo":
        assert {b.balance_definition_id: b.value for b in result.balance.balances} == values(ids)
        assert {v.id for v in result.reward} == {v.id for v in ids.member.vouchers}
    elif operation_id == "getBalanceDefinitionList":
        assert {d.id for d in result.items} == {d.id for d in data.definitions}
    elif operation_id == "getBalanceDefinition":
        definition = data.definition_by_id[ids.bdid]
        assert (result.id, result.name, result.unit) == (definition.id, definition.name, definition.unit)
    elif operation_id == "getBalanceLimit":
        assert (result.id, result.balance_definition_id) == (ids.blid, ids.bdid)
    elif operation_id == "getSubscriptionBalances":
        assert result.contact_id == ids.cid
        assert {b.balance_definition_id: b.value for b in result.balance} == values(ids)
    elif operation_id == "getContactBalances":
        assert result.count == len(result.balances) == len(data.members)
        row = next(b for b in result.balances if b.contact_id == ids.cid)
        assert row.value == values(ids)[ids.bdid]
    elif operation_id == "getActiveBalancesApi":
        ledger = ids.member.ledger(ids.bdid)
        assert result.count == len(ledger.active_balances) == len(result.active_balances)
        assert {a.id for a in result.active_balances} == {a.id for a in ledger.active_balances}
    elif operation_id == "getTransactionHistoryApi":
        ledger = ids.member.ledger(ids.bdid)
        assert result.count == len(ledger.transactions)
        assert {t.id for t in result.transaction_history} == {t.id for t in ledger.transactions}
    elif operation_id == "getListOfTierGroups":
        assert [g.id for g in result.items] == [g.id for g in data.tier_groups]
    elif operation_id == "getTierGroup":
        assert (result.id, result.tier_order) == (ids.gid, list(data.group_by_id[ids.gid].tier_ids))
    elif operation_id == "getLoyaltyProgramTier":
        assert [t.tier_id for t in result.items] == [t for g in data.tier_groups for t in g.tier_ids]
    elif operation_id == "getRewardPageApi":
        assert result.total_count == len(data.rewards) == len(result.items)
    elif operation_id == "getRewardInformation":
        assert (result.id, result.code_pool_id) == (ids.rid, ids.cpid)
    elif operation_id == "getVoucherForAContact":
        assert result.count == len(ids.member.vouchers)
        assert {v.reward_id for v in result.contact_rewards} <= set(data.reward_by_id)
    elif operation_id == "getCodeCount":
        assert result.count == data.pool_by_id[ids.cpid].code_count
    else:  # pragma: no cover - the table above names every reference operation
        raise AssertionError(operation_id)


def message_of(error: ApiError) -> str:
    """The error body's message: the client parses some statuses into its ErrorModel, others into a dict."""
    body = error.body
    return body["message"] if isinstance(body, dict) else body.message


def code_of(error: ApiError) -> str:
    body = error.body
    return body["code"] if isinstance(body, dict) else body.code


def world_of_mock(mock: RunningMock):
    state = mock.state
    return state.worlds[state.settings.api_keys[0].organisation]


def return_type(call: Call) -> type:
    hint = typing.get_type_hints(call.bound(Brevo(api_key="x", base_url="http://127.0.0.1:1")))["return"]
    members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return members[0] if members else hint


# ------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(make_settings()) as running:
        yield running


@pytest.fixture(scope="module")
def ids(mock: RunningMock) -> Ids:
    return find_ids(world_of_mock(mock))


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def client(mock: RunningMock, http: httpx.Client) -> Brevo:
    return Brevo(api_key=mock.api_key, base_url=mock.base_url, httpx_client=http)


def other_client(mock: RunningMock, http: httpx.Client, key: str) -> Brevo:
    return Brevo(api_key=key, base_url=mock.base_url, httpx_client=http)


# ---------------------------------------------------------------------- reads


def test_the_table_names_the_reference_reads():
    # Reads: the writes' client calls are in the areas' modules (tests/clients/test_*_brevo_python.py).
    reads = read_operations(CONTRACT)
    reference = {op for op, operation in reads.items() if operation.source.get("kind") == "reference"}
    assert set(REFERENCE) == reference


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_the_client_reads_each_reference_operation_into_its_typed_model(client, mock, ids, operation_id):
    call = REFERENCE[operation_id]
    mock.reset()
    result = call(client, ids)
    assert isinstance(result, return_type(call)), type(result)
    check_result(operation_id, result, ids, mock)
    assert [entry.operation_id for entry in mock.requests] == [operation_id]
    assert mock.violations == []  # the client sent only what the contract knows


def test_the_client_reads_the_sub_models_and_dates(client, ids):
    tiers = client.tier.get_loyalty_program_tier(ids.pid)
    assert tiers.items[0].access_conditions[0].balance_definition_id == ids.data.tier_groups[0].balance_definition_id
    assert tiers.items[0].created_at.tzinfo is not None
    history = client.balance.get_transaction_history_api(ids.pid, contact_id=ids.cid, balance_definition_id=ids.bdid,
                                                         status="completed", sort="asc", limit=2)
    assert all(t.status == "completed" for t in history.transaction_history)
    assert len(history.transaction_history) <= 2
    assert history.count == sum(tx.status == "completed" for tx in ids.member.ledger(ids.bdid).transactions)


def test_the_readmes_first_calls_show_an_active_program_with_real_balances(client):
    """The README's quick start, as written: the first program, its first definition, ten contact balances."""
    programs = client.program.get_lp_list()
    assert programs.items[0].state == "active"
    pid = programs.items[0].id
    definitions = client.balance.get_balance_definition_list(pid)
    assert not (definitions.items[0].meta or {}).get("isInternal")
    page = client.balance.get_contact_balances(pid, balance_definition_id=definitions.items[0].id, limit=10)
    values = [entry.value for entry in page.balances]
    assert len(values) == 10
    assert sum(1 for value in values if value) > len(values) // 2, values


def test_an_empty_definition_page_is_none(client, ids):
    """The documented 204 of the definition list comes out of the client as None."""
    assert client.balance.get_balance_definition_list(ids.pid, offset=len(ids.data.definitions)) is None


def test_async_client_reads_the_same_data(mock, ids, client):
    """AsyncBrevo, every reference read at once (as the guide suggests for widgets), equal to the sync answers."""
    expected = {op: REFERENCE[op](client, ids) for op in OPERATIONS}

    async def read_all() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            aclient = AsyncBrevo(api_key=mock.api_key, base_url=mock.base_url, httpx_client=http)
            results = await asyncio.gather(*(REFERENCE[op](aclient, ids) for op in OPERATIONS))
            with pytest.raises(UnauthorizedError):
                await AsyncBrevo(api_key="xkeysib-wrong", base_url=mock.base_url,
                                 httpx_client=http).program.get_lp_list()
            with pytest.raises(NotFoundError):
                await aclient.program.get_loyalty_program_info(UNKNOWN_UUID)
        return dict(zip(OPERATIONS, results, strict=True))

    assert asyncio.run(read_all()) == expected


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_a_wrong_key_raises_unauthorized_error(mock, http, ids, operation_id):
    with pytest.raises(UnauthorizedError) as caught:
        REFERENCE[operation_id](other_client(mock, http, "xkeysib-wrong"), ids)
    assert caught.value.status_code == 401 and code_of(caught.value) == "unauthorized"


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_a_forbidden_key_raises_forbidden_error(mock, http, ids, operation_id):
    assert FORBIDDEN_KEY in mock.state.settings.forbidden_keys
    with pytest.raises(ForbiddenError) as caught:
        REFERENCE[operation_id](other_client(mock, http, FORBIDDEN_KEY), ids)
    assert caught.value.status_code == 403


@pytest.mark.parametrize("operation_id", [op for op in OPERATIONS if op != "getLPList"])
def test_an_unknown_program_raises_the_documented_not_found_error(client, ids, operation_id):
    statuses = CONTRACT.operations[operation_id].statuses
    status = next(code for code in (404, 400, 422) if code in statuses)
    unknown = replace(ids, data=_UnknownProgram(ids))
    with pytest.raises(ERROR_CLASSES[status]) as caught:
        REFERENCE[operation_id](client, unknown)
    assert caught.value.status_code == status and "'pid'" in message_of(caught.value)
    if status == 404:
        assert isinstance(caught.value, NotFoundError)


def test_unknown_records_inside_a_known_program_raise_not_found_error(client, ids):
    with pytest.raises(NotFoundError):
        client.balance.get_balance_definition(ids.pid, UNKNOWN_UUID)
    with pytest.raises(NotFoundError):
        client.tier.get_tier_group(ids.pid, UNKNOWN_UUID)
    with pytest.raises(NotFoundError):
        client.reward.get_reward_information(ids.pid, UNKNOWN_UUID)
    with pytest.raises(NotFoundError):
        client.balance.get_subscription_balances(ids.pid, "999999999")
    with pytest.raises(BadRequestError):  # codes-count documents 400, not 404
        client.reward.get_code_count(ids.pid, UNKNOWN_UUID)


def test_bad_values_raise_the_documented_errors(client, ids):
    with pytest.raises(UnprocessableEntityError) as caught:
        client.balance.get_contact_balances(ids.pid, balance_definition_id=ids.bdid, limit=501)
    assert "'limit'" in message_of(caught.value)
    with pytest.raises(BadRequestError):
        client.program.get_lp_list(sort_field="popularity")  # type: ignore[arg-type]
    with pytest.raises(BadRequestError):
        client.program.get_parameter_subscription_info(ids.pid)


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_status_the_client_types_comes_out_as_its_error(client, ids, operation_id):
    """`Prefer: code=NNN` for each documented error status the client has an error class for."""
    typed = sorted(CONTRACT.operations[operation_id].statuses & set(ERROR_CLASSES))
    assert {401, 403, 422, 500} <= set(typed)
    for status in typed:
        options = {**NO_RETRY, "additional_headers": {"Prefer": f"code={status}"}}
        with pytest.raises(ERROR_CLASSES[status]) as caught:
            REFERENCE[operation_id](client, ids, request_options=options)
        assert caught.value.status_code == status
        assert operation_id in message_of(caught.value)


def test_a_documented_429_reaches_the_client_with_the_rate_limit_headers(client, ids):
    options = {**NO_RETRY, "additional_headers": {"Prefer": "code=429"}}
    with pytest.raises(ApiError) as caught:
        client.reward.get_code_count(ids.pid, ids.cpid, request_options=options)
    assert caught.value.status_code == 429
    assert {"x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset"} <= set(
        caught.value.headers)


class _UnknownProgram:
    """A stand-in for the program of `Ids` whose id names nothing."""

    def __init__(self, ids: Ids) -> None:
        self.id = UNKNOWN_UUID
        self._data = ids.data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._data, name)
