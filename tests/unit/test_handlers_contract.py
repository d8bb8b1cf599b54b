"""Every handler's answer fits the contract's 200 schema (types, nullability, required fields)."""

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from mock_server.errors import NoContent
from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers

jsonschema = pytest.importorskip("jsonschema")
CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "loyalty.openapi.yaml"
H = contract_handlers()


def _success_schemas() -> dict[str, Any]:
    document = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = document
                for part in node["$ref"].removeprefix("#/").split("/"):
                    target = target[part]
                return inline(target)
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    schemas = {}
    for item in document["paths"].values():
        operation = item.get("get")
        if operation:
            body = operation["responses"]["200"]["content"]["application/json"]["schema"]
            schemas[operation["operationId"]] = inline(body)
    return schemas


@pytest.fixture(scope="module")
def schemas():
    if not CONTRACT.exists():
        pytest.skip("contract not written yet")
    return _success_schemas()


@pytest.fixture(scope="module")
def world():
    return build_world(66, 25, [load_fixture(shipped_fixture("widget-member"))])


def _calls(world):
    yield "getLPList", {"limit": 50, "offset": 0, "sort_field": "name", "sort": "asc"}
    for data in world.programs:
        pid = data.id
        yield "getLoyaltyProgramInfo", {"pid": pid}
        for version in ("draft", "active"):
            yield "getBalanceDefinitionList", {"pid": pid, "version": version}
            yield "getListOfTierGroups", {"pid": pid, "version": version}
            yield "getLoyaltyProgramTier", {"pid": pid, "version": version}
            yield "getRewardPageApi", {"pid": pid, "version": version}
        for definition in data.definitions:
            yield "getBalanceDefinition", {"pid": pid, "bdid": definition.id}
            yield "getContactBalances", {"pid": pid, "balanceDefinitionId": definition.id, "includeInternal": True}
            for limit in data.limits_of(definition.id):
                yield "getBalanceLimit", {"pid": pid, "bdid": definition.id, "blid": limit.id}
        for group in data.tier_groups:
            yield "getTierGroup", {"pid": pid, "gid": group.id}
        for reward in data.rewards:
            yield "getRewardInformation", {"pid": pid, "rid": reward.id}
        for pool in data.code_pools:
            yield "getCodeCount", {"pid": pid, "cpid": pool.id}
        for contact in list(data.members.contact_ids)[:8]:
            yield "getSubscriptionBalances", {"pid": pid, "cid": contact, "includeInternal": True}
            yield "getParameterSubscriptionInfo", {"pid": pid, "contactId": str(contact)}
            yield "getVoucherForAContact", {"pid": pid, "contactId": contact}
            yield "getSubscriptionVouchers", {"pid": pid, "cid": contact}
            yield "getSubscriptionTransactions", {"pid": pid, "cid": contact}
            yield "getSubscriptionTier", {"pid": pid, "cid": contact}
            for definition in data.definitions:
                ids = {"pid": pid, "contactId": contact, "balanceDefinitionId": definition.id}
                yield "getActiveBalancesApi", {**ids, "includeInternal": True}
                yield "getTransactionHistoryApi", ids


def test_handlers_cover_the_contract(schemas):
    assert set(schemas) == set(H)


def test_every_answer_fits_its_schema(schemas, world):
    called = set()
    problems = []
    for operation, params in _calls(world):
        try:
            body = orjson.loads(orjson.dumps(H[operation](world, params)))
        except NoContent:
            continue
        called.add(operation)
        validator = jsonschema.Draft202012Validator(schemas[operation])
        problems.extend(
            f"{operation} {list(error.absolute_path)}: {error.message[:160]}" for error in validator.iter_errors(body)
        )
    assert called == set(H)
    assert problems == []
