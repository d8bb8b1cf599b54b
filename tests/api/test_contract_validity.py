"""Every 200 answer is contract-valid, non-empty, and shows the fields the contract documents.

Bodies are checked with the contract's own response validator
(`mock_server.contract.responses`, JSON Schema 2020-12 with formats): the schema
of the operation's 200 response, plus its required rate-limit headers.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from mock_server.contract import compile_contract, load_contract
from mock_server.contract.loader import resolve
from mock_server.contract.operations import CompiledContract
from mock_server.contract.responses import ResponseValidator
from mock_server.store.world import World
from tests.api.support import Api, Ids, Request
from tests.support.operations import read_operations, write_operations

# The 200 answers of reads; the writes' answers are checked by the areas' tests (tests/api/test_*_writes.py).
OPERATIONS = sorted(read_operations(compile_contract(load_contract())))
MEMBERS_PER_PROGRAM = 4

def documented_fields(document: dict[str, Any], schema: Any, prefix: str = "") -> set[str]:
    """Paths of every documented property (`.a.b`, `[]` for array items), free objects not entered."""
    schema = resolve(document, schema)
    if schema.get("type") == "array":
        return documented_fields(document, schema.get("items", {}), prefix + "[]")
    found: set[str] = set()
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}"
        found.add(path)
        sub = resolve(document, sub)
        if sub.get("type") in ("array", "object") and (sub.get("properties") or "items" in sub):
            found |= documented_fields(document, sub, path)
    return found


def present_fields(body: Any, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(body, list):
        for item in body:
            found |= present_fields(item, prefix + "[]")
    elif isinstance(body, dict):
        for name, value in body.items():
            found.add(f"{prefix}.{name}")
            found |= present_fields(value, f"{prefix}.{name}")
    return found


def success_schema(contract: CompiledContract, operation_id: str) -> Any:
    operation = contract.operations[operation_id]
    item = resolve(contract.document, contract.document["paths"][operation.path])
    response = resolve(contract.document, item[operation.method.lower()]["responses"]["200"])
    return response["content"]["application/json"]["schema"]


def test_there_is_one_sample_request_per_operation(contract, samples, writes):
    assert set(samples) == set(read_operations(contract))
    assert set(writes) == set(write_operations(contract))
    for operation_id, request in {**samples, **writes}.items():
        operation = contract.operations[operation_id]
        assert set(request.path) == {param.name for param in operation.path_params}, operation_id
        required = {name for name, param in operation.query_params.items() if param.required}
        assert required <= set(request.query) <= set(operation.query_params), operation_id


def request_body_schema(contract: CompiledContract, operation_id: str) -> Any | None:
    operation = contract.operations[operation_id]
    item = resolve(contract.document, contract.document["paths"][operation.path])
    body = item[operation.method.lower()].get("requestBody")
    return None if body is None else resolve(contract.document, body)["content"]["application/json"]["schema"]


@pytest.mark.parametrize("operation_id", sorted(write_operations(compile_contract(load_contract()))))
def test_every_sample_write_sends_a_body_its_schema_accepts(contract, writes, operation_id):
    """A sample write must get past the body check, so that what a test sends it for is what is answered."""
    schema, body = request_body_schema(contract, operation_id), writes[operation_id].body
    if schema is None:
        assert body is None, operation_id
        return
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": contract.document["components"], "allOf": [schema]}
    validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    assert [error.message for error in validator.iter_errors(body)] == []


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_seeded_ids_answer_200_with_contract_valid_non_empty_json(api: Api, contract, samples, operation_id):
    request: Request = samples[operation_id]
    body = api.ok(operation_id, request.path, request.query)
    assert body
    # The records the operation returns (a bare array, or the required array properties) are there.
    schema = resolve(contract.document, success_schema(contract, operation_id))
    if schema.get("type") == "array":
        assert body, f"{operation_id}: an empty list"
    for name in schema.get("required", []):
        if resolve(contract.document, schema["properties"][name]).get("type") == "array":
            assert body[name], f"{operation_id}: empty '{name}' in {body}"


def test_every_documented_field_is_shown(api: Api, contract, samples, world: World):
    """Each property of each 200 schema appears in the sample answers or in some record of the world.

    None is exempt: the documented alternatives (a yearly expiry day, scheduled tier moves, a fixed
    voucher expiry) are produced too.
    """
    shown: dict[str, set[str]] = {op: present_fields(api.ok(op, r.path, r.query)) for op, r in samples.items()}
    for data in world.programs:
        for definition in data.definitions:
            shown["getBalanceDefinition"] |= present_fields(
                api.ok("getBalanceDefinition", {"pid": data.id, "bdid": definition.id}))
        for group in data.tier_groups:
            shown["getTierGroup"] |= present_fields(api.ok("getTierGroup", {"pid": data.id, "gid": group.id}))
        for reward in data.rewards:
            shown["getRewardInformation"] |= present_fields(
                api.ok("getRewardInformation", {"pid": data.id, "rid": reward.id}))
    shown["getBalanceDefinitionList"] |= {".items[]" + f for f in shown["getBalanceDefinition"]}
    shown["getListOfTierGroups"] |= {".items[]" + f for f in shown["getTierGroup"]}
    missing = {}
    for operation_id in read_operations(contract):
        documented = documented_fields(contract.document, success_schema(contract, operation_id))
        absent = documented - shown[operation_id]
        if absent:
            missing[operation_id] = sorted(absent)
    assert missing == {}


def test_every_record_of_the_world_reads_contract_valid(api: Api, world: World):
    """Not only the sample ids: every program, definition, limit, group, reward, pool, in both versions."""
    for data in world.programs:
        pid = data.id
        for version in ("draft", "active"):
            query = {"version": version}
            for operation_id in ("getListOfTierGroups", "getLoyaltyProgramTier", "getRewardPageApi"):
                api.ok(operation_id, {"pid": pid}, query)
            for definition in data.definitions:
                if data.visible(definition, version):
                    api.ok("getBalanceDefinition", {"pid": pid, "bdid": definition.id}, query)
                    for limit in data.limits_of(definition.id):
                        if data.visible(limit, version):
                            api.ok("getBalanceLimit", {"pid": pid, "bdid": definition.id, "blid": limit.id}, query)
            for group in data.tier_groups:
                if data.visible(group, version):
                    api.ok("getTierGroup", {"pid": pid, "gid": group.id}, query)
            for reward in data.rewards:
                if data.visible(reward, version):
                    api.ok("getRewardInformation", {"pid": pid, "rid": reward.id}, query)
        for pool in data.code_pools:
            api.ok("getCodeCount", {"pid": pid, "cpid": pool.id})
        api.ok("getLoyaltyProgramInfo", {"pid": pid})


def test_members_of_every_program_read_contract_valid(api: Api, world: World):
    for data in world.programs:
        pid = data.id
        for contact in data.members.contact_ids[:MEMBERS_PER_PROGRAM]:
            for operation_id in ("getSubscriptionBalances", "getSubscriptionTier", "getSubscriptionVouchers",
                                 "getSubscriptionTransactions"):
                if operation_id == "getSubscriptionTier" and not data.tier_groups:
                    continue
                api.ok(operation_id, {"pid": pid, "cid": contact})
            api.ok("getParameterSubscriptionInfo", {"pid": pid}, {"contactId": contact, "includeInternal": "true"})
            api.ok("getVoucherForAContact", {"pid": pid}, {"contactId": contact})
            for definition in data.definitions:
                query = {"contactId": contact, "balanceDefinitionId": definition.id, "includeInternal": "true"}
                api.ok("getActiveBalancesApi", {"pid": pid}, query)
                api.ok("getTransactionHistoryApi", {"pid": pid},
                       {"contactId": contact, "balanceDefinitionId": definition.id})
                api.ok("getContactBalances", {"pid": pid}, {"balanceDefinitionId": definition.id,
                                                            "includeInternal": "true", "limit": 500})


def test_the_validator_is_not_vacuous(api: Api, samples, validator: ResponseValidator, ids: Ids):
    """The check used everywhere rejects a body that breaks the schema, and missing rate-limit headers."""
    request = samples["getSubscriptionBalances"]
    response = api.send("getSubscriptionBalances", request)
    good = response.content
    assert validator.check("getSubscriptionBalances", 200, response.headers, good) == []
    broken = good.replace(b'"balance":', b'"balances":')
    assert validator.check("getSubscriptionBalances", 200, response.headers, broken) != []
    wrong_type = good.replace(f'"contactId":{ids.cid}'.encode(), f'"contactId":"{ids.cid}"'.encode())
    assert wrong_type != good
    assert validator.check("getSubscriptionBalances", 200, response.headers, wrong_type) != []
    headers = {"content-type": "application/json"}
    assert any("x-sib-ratelimit" in p for p in validator.check("getSubscriptionBalances", 200, headers, good))
