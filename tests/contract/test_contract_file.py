"""Static checks of contracts/loyalty.openapi.yaml, the single source of truth of the mock.

Each rule is a small checker that returns a list of problems; the tests assert that the real
contract has none, and a few mutation tests assert that the same checkers do find problems in a
deliberately broken copy (so a checker that silently passes everything would be caught).
"""

from __future__ import annotations

import copy
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "contracts" / "loyalty.openapi.yaml"
EXPORT = Path(os.environ.get("BREVO_LOYALTY_EXPORT", "/work/shared/reference/upstream-loyalty-openapi.yml"))

# (path, operationId, kind, doc page) for the 20 read operations, all GET.
READ_OPERATIONS: list[tuple[str, str, str, str]] = [
    ("/loyalty/config/programs", "getLPList", "reference", "get-lp-list"),
    ("/loyalty/config/programs/{pid}", "getLoyaltyProgramInfo", "reference", "get-loyalty-program-info"),
    (
        "/loyalty/config/programs/{pid}/account-info",
        "getParameterSubscriptionInfo",
        "reference",
        "get-parameter-subscription-info",
    ),
    (
        "/loyalty/balance/programs/{pid}/balance-definitions",
        "getBalanceDefinitionList",
        "reference",
        "get-balance-definition-list",
    ),
    (
        "/loyalty/balance/programs/{pid}/balance-definitions/{bdid}",
        "getBalanceDefinition",
        "reference",
        "get-balance-definition",
    ),
    (
        "/loyalty/balance/programs/{pid}/balance-definitions/{bdid}/limits/{blid}",
        "getBalanceLimit",
        "reference",
        "get-balance-limit",
    ),
    (
        "/loyalty/balance/programs/{pid}/subscriptions/{cid}/balances",
        "getSubscriptionBalances",
        "reference",
        "get-subscription-balances",
    ),
    (
        "/loyalty/balance/programs/{pid}/contact-balances",
        "getContactBalances",
        "reference",
        "get-contact-balances",
    ),
    (
        "/loyalty/balance/programs/{pid}/active-balance",
        "getActiveBalancesApi",
        "reference",
        "get-active-balances-api",
    ),
    (
        "/loyalty/balance/programs/{pid}/transaction-history",
        "getTransactionHistoryApi",
        "reference",
        "get-transaction-history-api",
    ),
    ("/loyalty/tier/programs/{pid}/tier-groups", "getListOfTierGroups", "reference", "get-list-of-tier-groups"),
    ("/loyalty/tier/programs/{pid}/tier-groups/{gid}", "getTierGroup", "reference", "get-tier-group"),
    ("/loyalty/tier/programs/{pid}/tiers", "getLoyaltyProgramTier", "reference", "get-loyalty-program-tier"),
    ("/loyalty/offer/programs/{pid}/offers", "getRewardPageApi", "reference", "get-reward-page-api"),
    ("/loyalty/offer/programs/{pid}/rewards/{rid}", "getRewardInformation", "reference", "get-reward-information"),
    ("/loyalty/offer/programs/{pid}/vouchers", "getVoucherForAContact", "reference", "get-voucher-for-a-contact"),
    (
        "/loyalty/offer/programs/{pid}/code-pools/{cpid}/codes-count",
        "getCodeCount",
        "reference",
        "get-code-count",
    ),
    (
        "/loyalty/balance/programs/{pid}/subscriptions/{cid}/tier",
        "getSubscriptionTier",
        "guide",
        "loyalty-member-data",
    ),
    (
        "/loyalty/balance/programs/{pid}/subscriptions/{cid}/vouchers",
        "getSubscriptionVouchers",
        "guide",
        "loyalty-member-data",
    ),
    (
        "/loyalty/balance/programs/{pid}/subscriptions/{cid}/transactions",
        "getSubscriptionTransactions",
        "guide",
        "loyalty-member-data",
    ),
]
CFG, BAL, TIER, OFF = (
    "/loyalty/config/programs",
    "/loyalty/balance/programs/{pid}",
    "/loyalty/tier/programs/{pid}",
    "/loyalty/offer/programs/{pid}",
)
# The 33 writes: (method, path, operationId, kind, doc page, request-body schema or None, success status,
# success schema or None). kind "export": no stored reference page, facts from the export (page = Brevo's slug).
WRITE_OPERATIONS: list[tuple[str, str, str, str, str, str | None, str, str | None]] = [
    ("post", CFG, "createNewLP", "reference", "create-new-lp", "LoyaltyProgramCreate", "200", "LoyaltyProgram"),
    (
        "put",
        CFG + "/{pid}",
        "updateLoyaltyProgram",
        "export",
        "update-loyalty-program",
        "LoyaltyProgramUpdate",
        "200",
        "LoyaltyProgram",
    ),
    (
        "patch",
        CFG + "/{pid}",
        "partiallyUpdateLoyaltyProgram",
        "export",
        "partially-update-loyalty-program",
        "LoyaltyProgramPatch",
        "200",
        "LoyaltyProgram",
    ),
    ("delete", CFG + "/{pid}", "deleteLoyaltyProgram", "export", "delete-loyalty-program", None, "204", None),
    (
        "post",
        CFG + "/{pid}/publish",
        "publishLoyaltyProgram",
        "reference",
        "publish-loyalty-program",
        None,
        "200",
        "LoyaltyProgram",
    ),
    (
        "post",
        CFG + "/{pid}/subscriptions",
        "subscribeToLoyaltyProgram",
        "reference",
        "subscribe-to-loyalty-program",
        "SubscriptionCreate",
        "200",
        "Subscription",
    ),
    (
        "post",
        CFG + "/{pid}/subscription-members",
        "subscribeMemberToASubscription",
        "reference",
        "subscribe-member-to-a-subscription",
        "SubscriptionMembersAdd",
        "200",
        "SubscriptionMembers",
    ),
    (
        "delete",
        CFG + "/{pid}/subscription-members",
        "deleteContactMembers",
        "export",
        "delete-contact-members",
        None,
        "204",
        None,
    ),
    (
        "delete",
        CFG + "/{pid}/contact/{cid}",
        "deleteContactSubscription",
        "export",
        "delete-contact-subscription",
        None,
        "204",
        None,
    ),
    (
        "post",
        BAL + "/balance-definitions",
        "createBalanceDefinition",
        "reference",
        "create-balance-definition",
        "BalanceDefinitionInput",
        "200",
        "BalanceDefinition",
    ),
    (
        "put",
        BAL + "/balance-definitions/{bdid}",
        "updateBalanceDefinition",
        "export",
        "update-balance-definition",
        "BalanceDefinitionInput",
        "200",
        "BalanceDefinition",
    ),
    (
        "delete",
        BAL + "/balance-definitions/{bdid}",
        "deleteBalanceDefinition",
        "export",
        "delete-balance-definition",
        None,
        "204",
        None,
    ),
    (
        "post",
        BAL + "/balance-definitions/{bdid}/limits",
        "createBalanceLimit",
        "reference",
        "create-balance-limit",
        "BalanceLimitInput",
        "200",
        "BalanceLimit",
    ),
    (
        "put",
        BAL + "/balance-definitions/{bdid}/limits/{blid}",
        "updateBalanceLimit",
        "reference",
        "update-balance-limit",
        "BalanceLimitInput",
        "200",
        "BalanceLimit",
    ),
    (
        "delete",
        BAL + "/balance-definitions/{bdid}/limits/{blid}",
        "deleteBalanceLimit",
        "export",
        "delete-balance-limit",
        None,
        "204",
        None,
    ),
    (
        "post",
        BAL + "/subscriptions/{cid}/balances",
        "createSubscriptionBalances",
        "reference",
        "create-subscription-balances",
        "SubscriptionBalanceCreate",
        "200",
        "SubscriptionBalance",
    ),
    (
        "post",
        BAL + "/transactions",
        "beginTransaction",
        "reference",
        "begin-transaction",
        "TransactionCreate",
        "200",
        "Transaction",
    ),
    (
        "post",
        BAL + "/transactions/{tid}/complete",
        "completeTransaction",
        "reference",
        "complete-transaction",
        None,
        "200",
        "Transaction",
    ),
    (
        "post",
        BAL + "/transactions/{tid}/cancel",
        "cancelTransaction",
        "reference",
        "cancel-transaction",
        None,
        "200",
        "Transaction",
    ),
    (
        "post",
        BAL + "/create-order",
        "createBalanceOrder",
        "reference",
        "create-balance-order",
        "BalanceOrderCreate",
        "200",
        "BalanceOrder",
    ),
    (
        "post",
        TIER + "/tier-groups",
        "createTierGroup",
        "reference",
        "create-tier-group",
        "TierGroupCreate",
        "200",
        "TierGroup",
    ),
    (
        "put",
        TIER + "/tier-groups/{gid}",
        "updateTierGroup",
        "export",
        "update-tier-group",
        "TierGroupUpdate",
        "200",
        "TierGroup",
    ),
    ("delete", TIER + "/tier-groups/{gid}", "deleteTierGroup", "export", "delete-tier-group", None, "204", None),
    (
        "post",
        TIER + "/tier-groups/{gid}/tiers",
        "createTierForTierGroup",
        "reference",
        "create-tier-for-tier-group",
        "TierCreate",
        "200",
        "Tier",
    ),
    ("put", TIER + "/tiers/{tid}", "updateTier", "export", "update-tier", "TierUpdate", "200", "Tier"),
    ("delete", TIER + "/tiers/{tid}", "deleteTier", "export", "delete-tier", None, "204", None),
    (
        "post",
        TIER + "/contacts/{cid}/tiers/{tid}",
        "addSubscriptionToTier",
        "reference",
        "add-subscription-to-tier",
        None,
        "200",
        "TierAssignment",
    ),
    ("post", OFF + "/offers", "createReward", "reference", "create-reward", "RewardCreate", "200", "Reward"),
    (
        "post",
        OFF + "/rewards/attribute",
        "createVoucher",
        "reference",
        "create-voucher",
        "VoucherCreate",
        "200",
        "Voucher",
    ),
    (
        "post",
        OFF + "/rewards/redeem",
        "redeemVoucher",
        "export",
        "redeem-voucher",
        "VoucherRedeem",
        "200",
        "Redemption",
    ),
    (
        "post",
        OFF + "/rewards/redeem/{tid}/complete",
        "completeRedeemTransaction",
        "reference",
        "complete-redeem-transaction",
        None,
        "200",
        "Redemption",
    ),
    ("delete", OFF + "/rewards/revoke", "revokeVouchers", "export", "revoke-vouchers", None, "204", None),
    (
        "post",
        OFF + "/rewards/validate",
        "validateReward",
        "reference",
        "validate-reward",
        "RewardValidation",
        "200",
        "RewardValidationResult",
    ),
]
# Every operation: (method, path, operationId, kind, page).
OPERATIONS = [("get", path, op_id, kind, page) for path, op_id, kind, page in READ_OPERATIONS] + [
    (method, path, op_id, kind, page) for method, path, op_id, kind, page, *_ in WRITE_OPERATIONS
]
OPERATION_IDS = [op_id for _, _, op_id, _, _ in OPERATIONS]
READ_IDS = {op_id for _, op_id, _, _ in READ_OPERATIONS}
WRITES = {row[2]: row for row in WRITE_OPERATIONS}
WITH_BODY = {op_id for op_id, row in WRITES.items() if row[5]}
GUIDE_ONLY = {op_id for _, op_id, kind, _ in READ_OPERATIONS if kind == "guide"}
DOCS = Path(os.environ.get("BREVO_DOCS", "/work/shared/reference/brevo-docs"))

NO_404 = {"getBalanceDefinitionList", "getParameterSubscriptionInfo", "getCodeCount", "createNewLP"}
# Writes all document 401, 403, 422, 429, 500 and 404 (unless in NO_404); a JSON body adds 400 and 413.
EXTRA_STATUSES = {
    "createNewLP": {"409"},
    "updateLoyaltyProgram": {"409"},
    "partiallyUpdateLoyaltyProgram": {"409"},
    "subscribeMemberToASubscription": {"409"},
    "deleteContactMembers": {"400"},
    "deleteContactSubscription": {"400"},
    "updateBalanceDefinition": {"424"},
    "createBalanceLimit": {"424"},
    "createTierGroup": {"409"},
    "deleteTierGroup": {"409"},
    "addSubscriptionToTier": {"409", "424"},
    "redeemVoucher": {"412", "417"},
    "completeRedeemTransaction": {"400", "412", "417"},
    "validateReward": {"424"},
    "getLPList": {"400"},
    "getParameterSubscriptionInfo": {"400"},
    "getCodeCount": {"400"},
    "getRewardPageApi": {"424"},
    "getRewardInformation": {"424"},
    "getBalanceDefinitionList": {"204"},
}
ERROR_RESPONSES = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "412": "PreconditionFailed",
    "413": "PayloadTooLarge",
    "417": "ExpectationFailed",
    "422": "UnprocessableEntity",
    "424": "FailedDependency",
    "429": "TooManyRequests",
    "500": "InternalServerError",
}
RATE_LIMIT_HEADERS = ("x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset")

ALLOWED_PARAM_SCHEMA_KEYS = {
    "type",
    "format",
    "enum",
    "minimum",
    "maximum",
    "pattern",
    "minLength",
    "maxLength",
    "default",
}
ALLOWED_PARAM_KEYS = {"name", "in", "required", "description", "schema", "x-mock-default", "x-invalid-status"}
ALLOWED_OPERATION_EXTENSIONS = {"x-brevo-source", "x-requires-any-of"}
PAGING_PARAMS = {"limit", "offset", "sort", "sort_field", "sortField"}
INVALID_STATUS_400 = {
    ("getLPList", "sort_field"),
    ("getParameterSubscriptionInfo", "contactId"),
    ("getParameterSubscriptionInfo", "loyaltySubscriptionId"),
    ("deleteContactMembers", "memberContactIds"),
    ("deleteContactSubscription", "cid"),
}
TRANSACTION_STATUSES = ["draft", "completed", "rejected", "cancelled", "expired"]

# Links the brief asks for: (source operationId, target operationId, {parameter: expression}).
REQUIRED_LINKS = [
    ("getLPList", "getLoyaltyProgramInfo", {"pid": "$response.body#/items/0/id"}),
    ("getLPList", "getBalanceDefinitionList", {"pid": "$response.body#/items/0/id"}),
    ("getLPList", "getListOfTierGroups", {"pid": "$response.body#/items/0/id"}),
    ("getLPList", "getLoyaltyProgramTier", {"pid": "$response.body#/items/0/id"}),
    ("getLPList", "getRewardPageApi", {"pid": "$response.body#/items/0/id"}),
    (
        "getBalanceDefinitionList",
        "getBalanceDefinition",
        {"pid": "$request.path.pid", "bdid": "$response.body#/items/0/id"},
    ),
    ("getBalanceDefinitionList", "getContactBalances", {"balanceDefinitionId": "$response.body#/items/0/id"}),
    (
        "getContactBalances",
        "getTransactionHistoryApi",
        {
            "contactId": "$response.body#/balances/0/contactId",
            "balanceDefinitionId": "$response.body#/balanceDefinitionId",
        },
    ),
    (
        "getContactBalances",
        "getActiveBalancesApi",
        {
            "contactId": "$response.body#/balances/0/contactId",
            "balanceDefinitionId": "$response.body#/balanceDefinitionId",
        },
    ),
    ("getContactBalances", "getSubscriptionBalances", {"cid": "$response.body#/balances/0/contactId"}),
    ("getContactBalances", "getSubscriptionTier", {"cid": "$response.body#/balances/0/contactId"}),
    ("getContactBalances", "getSubscriptionVouchers", {"cid": "$response.body#/balances/0/contactId"}),
    ("getContactBalances", "getSubscriptionTransactions", {"cid": "$response.body#/balances/0/contactId"}),
    ("getContactBalances", "getVoucherForAContact", {"contactId": "$response.body#/balances/0/contactId"}),
    (
        "getContactBalances",
        "getParameterSubscriptionInfo",
        {"contactId": "$response.body#/balances/0/contactId"},
    ),
    ("getListOfTierGroups", "getTierGroup", {"gid": "$response.body#/items/0/id"}),
    ("getRewardPageApi", "getRewardInformation", {"rid": "$response.body#/items/0/id"}),
    ("getRewardInformation", "getCodeCount", {"cpid": "$response.body#/codePoolId"}),
    # writes -> the reads that show their effect (and the next write of a chain)
    ("createNewLP", "getLoyaltyProgramInfo", {"pid": "$response.body#/id"}),
    ("createNewLP", "publishLoyaltyProgram", {"pid": "$response.body#/id"}),
    ("updateLoyaltyProgram", "getLoyaltyProgramInfo", {"pid": "$request.path.pid"}),
    ("partiallyUpdateLoyaltyProgram", "getLoyaltyProgramInfo", {"pid": "$request.path.pid"}),
    ("publishLoyaltyProgram", "getLoyaltyProgramInfo", {"pid": "$request.path.pid"}),
    ("subscribeToLoyaltyProgram", "getSubscriptionBalances", {"cid": "$response.body#/contactId"}),
    ("subscribeToLoyaltyProgram", "getParameterSubscriptionInfo", {"contactId": "$response.body#/contactId"}),
    ("subscribeMemberToASubscription", "getParameterSubscriptionInfo", {"contactId": "$response.body#/ownerContactId"}),
    ("createBalanceDefinition", "getBalanceDefinition", {"bdid": "$response.body#/id"}),
    ("updateBalanceDefinition", "getBalanceDefinition", {"bdid": "$request.path.bdid"}),
    ("createBalanceLimit", "getBalanceLimit", {"bdid": "$request.path.bdid", "blid": "$response.body#/id"}),
    ("updateBalanceLimit", "getBalanceLimit", {"blid": "$request.path.blid"}),
    ("createSubscriptionBalances", "getSubscriptionBalances", {"cid": "$request.path.cid"}),
    ("beginTransaction", "completeTransaction", {"tid": "$response.body#/id"}),
    ("beginTransaction", "cancelTransaction", {"tid": "$response.body#/id"}),
    (
        "completeTransaction",
        "getTransactionHistoryApi",
        {"contactId": "$response.body#/contactId", "balanceDefinitionId": "$response.body#/balanceDefinitionId"},
    ),
    ("completeTransaction", "getSubscriptionBalances", {"cid": "$response.body#/contactId"}),
    ("cancelTransaction", "getTransactionHistoryApi", {"contactId": "$response.body#/contactId"}),
    ("createBalanceOrder", "completeTransaction", {"tid": "$response.body#/transactionid"}),
    ("createTierGroup", "getTierGroup", {"gid": "$response.body#/id"}),
    ("updateTierGroup", "getTierGroup", {"gid": "$request.path.gid"}),
    ("createTierForTierGroup", "getTierGroup", {"gid": "$response.body#/groupId"}),
    ("createTierForTierGroup", "getLoyaltyProgramTier", {"pid": "$request.path.pid"}),
    ("updateTier", "getLoyaltyProgramTier", {"pid": "$request.path.pid"}),
    ("addSubscriptionToTier", "getSubscriptionTier", {"cid": "$request.path.cid"}),
    ("createReward", "getRewardInformation", {"rid": "$response.body#/id"}),
    ("createVoucher", "getVoucherForAContact", {"contactId": "$response.body#/contactId"}),
    ("createVoucher", "getRewardInformation", {"rid": "$response.body#/rewardId"}),
    ("redeemVoucher", "completeRedeemTransaction", {"tid": "$response.body#/id"}),
    ("completeRedeemTransaction", "getVoucherForAContact", {"contactId": "$response.body#/contactId"}),
]


# ---------------------------------------------------------------------------- loading helpers


@cache
def _load_contract() -> dict[str, Any]:
    with CONTRACT.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture
def spec() -> dict[str, Any]:
    """A fresh deep copy, so a test can never leak changes into another."""
    return copy.deepcopy(_load_contract())


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s until a non-reference node is reached."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are expected, got {ref}"
        assert ref not in seen, f"reference cycle at {ref}"
        seen.add(ref)
        target: Any = spec
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            assert isinstance(target, dict) and token in target, f"dangling reference {ref}"
            target = target[token]
        node = target
    return node


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                found[op.get("operationId", f"<{method} {path}>")] = (method, path, op)
    return found


def parameters(spec: dict[str, Any], path: str, op: dict[str, Any]) -> list[dict[str, Any]]:
    raw = list(spec["paths"][path].get("parameters", [])) + list(op.get("parameters", []))
    return [resolve(spec, p) for p in raw]


def params_by_name(spec: dict[str, Any], op_id: str) -> dict[str, dict[str, Any]]:
    _, path, op = operations(spec)[op_id]
    return {p["name"]: p for p in parameters(spec, path, op)}


def schema_of_200(spec: dict[str, Any], op_id: str) -> dict[str, Any]:
    _, _, op = operations(spec)[op_id]
    return resolve(spec, op["responses"]["200"]["content"]["application/json"]["schema"])


def walk_texts(node: Any, keys: tuple[str, ...]) -> list[str]:
    out: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            for k, v in n.items():
                if k in keys and isinstance(v, str):
                    out.append(v)
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return out


def walk_schemas(spec: dict[str, Any]):
    """Yield (where, schema dict) for every schema object reachable in components/schemas."""

    def walk(where: str, node: Any):
        if isinstance(node, dict):
            yield where, node
            for key in ("properties", "$defs"):
                for name, sub in (node.get(key) or {}).items():
                    yield from walk(f"{where}.{name}", sub)
            for key in ("items", "additionalProperties", "not"):
                if isinstance(node.get(key), dict):
                    yield from walk(f"{where}[{key}]", node[key])
            for key in ("allOf", "anyOf", "oneOf"):
                for i, sub in enumerate(node.get(key) or []):
                    yield from walk(f"{where}.{key}[{i}]", sub)

    for name, schema in spec["components"]["schemas"].items():
        yield from walk(name, schema)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower().rstrip(".")


def schema_validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A 2020-12 validator able to follow `#/components/...` references of the contract."""
    uri = "urn:brevo-loyalty-contract"
    registry = Registry().with_resource(uri, Resource(contents=spec, specification=DRAFT202012))

    def rebase(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (uri + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else rebase(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rebase(v) for v in node]
        return node

    return jsonschema.Draft202012Validator(
        rebase(schema), registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


# ---------------------------------------------------------------------------- checkers


def check_operations(spec: dict[str, Any]) -> list[str]:
    problems = []
    found = operations(spec)
    expected = {op_id: (method, path) for method, path, op_id, _, _ in OPERATIONS}
    for op_id, (method, path) in expected.items():
        if op_id not in found:
            problems.append(f"missing operation {op_id}")
        elif found[op_id][:2] != (method, path):
            got = f"{found[op_id][0].upper()} {found[op_id][1]}"
            problems.append(f"{op_id} is {got}, expected {method.upper()} {path}")
    for op_id in found:
        if op_id not in expected:
            method, path, _op = found[op_id]
            problems.append(f"unexpected operation {op_id} ({method.upper()} {path})")
    if len(found) != len(OPERATIONS):
        problems.append(f"{len(found)} operations, expected {len(OPERATIONS)}")
    return problems


def check_statuses(spec: dict[str, Any]) -> list[str]:
    problems = []
    for op_id, (_, _, op) in operations(spec).items():
        responses = op.get("responses", {})
        success = WRITES[op_id][6] if op_id in WRITES else "200"
        expected = {success, "401", "403", "422", "429", "500"} | EXTRA_STATUSES.get(op_id, set())
        if op_id not in NO_404:
            expected.add("404")
        if op_id in WITH_BODY:
            expected |= {"400", "413"}
        got = set(responses)
        if got != expected:
            problems.append(
                f"{op_id}: statuses {sorted(got)}, expected {sorted(expected)} "
                f"(missing {sorted(expected - got)}, extra {sorted(got - expected)})"
            )
        for status, response in responses.items():
            if not isinstance(status, str):
                problems.append(f"{op_id}: status key {status!r} must be a quoted string")
                continue
            if status in ERROR_RESPONSES:
                want = f"#/components/responses/{ERROR_RESPONSES[status]}"
                if response.get("$ref") != want:
                    problems.append(f"{op_id} {status}: expected $ref {want}, got {response}")
                    continue
                body = resolve(spec, response)
                schema = body.get("content", {}).get("application/json", {}).get("schema", {})
                if schema.get("$ref") != "#/components/schemas/ErrorBody":
                    problems.append(f"{op_id} {status}: error body is not ErrorBody")
            if status == "204" and "content" in resolve(spec, response):
                problems.append(f"{op_id} 204 must not have content")
    error_body = spec["components"]["schemas"].get("ErrorBody", {})
    if error_body.get("required") != ["message"] or set(error_body.get("properties", {})) != {"code", "message"}:
        problems.append("ErrorBody must be {code, message} with message required")
    for name in ("code", "message"):
        if error_body.get("properties", {}).get(name, {}).get("type") != "string":
            problems.append(f"ErrorBody.{name} must be a string")
    return problems


def check_rate_limit_headers(spec: dict[str, Any]) -> list[str]:
    problems = []
    for op_id, (_, _, op) in operations(spec).items():
        for status, response in op["responses"].items():
            response = resolve(spec, response)
            headers = response.get("headers", {})
            must_be_required = status in {"200", "429"}
            for name in RATE_LIMIT_HEADERS:
                if name not in headers:
                    problems.append(f"{op_id} {status}: header {name} missing")
                    continue
                raw = headers[name]
                header = resolve(spec, raw)
                if resolve(spec, header.get("schema", {})).get("type") != "integer":
                    problems.append(f"{op_id} {status}: header {name} must be an integer")
                required = header.get("required", False)
                if must_be_required:
                    if required is not True:
                        problems.append(f"{op_id} {status}: header {name} must be required")
                    if "$ref" not in raw or not raw["$ref"].startswith("#/components/headers/XSibRatelimit"):
                        problems.append(f"{op_id} {status}: header {name} must reference components/headers")
                elif status != "204" and required:
                    problems.append(f"{op_id} {status}: header {name} must not be required on errors")
    for name in ("XSibRatelimitLimit", "XSibRatelimitRemaining", "XSibRatelimitReset"):
        if name not in spec["components"].get("headers", {}):
            problems.append(f"components/headers/{name} missing")
    return problems


def check_parameters(spec: dict[str, Any]) -> list[str]:
    problems = []
    for op_id, (_, path, op) in operations(spec).items():
        for param in parameters(spec, path, op):
            where = f"{op_id}.{param.get('name')}"
            if param.get("in") not in {"path", "query"}:
                problems.append(f"{where}: parameters live in path or query only, not {param.get('in')}")
            if param.get("name", "").lower() == "api-key":
                problems.append(f"{where}: the api key is a security scheme, not a parameter")
            if set(param) - ALLOWED_PARAM_KEYS:
                problems.append(f"{where}: unexpected keys {sorted(set(param) - ALLOWED_PARAM_KEYS)}")
            schema = param.get("schema", {})
            if "$ref" in schema or set(schema) - ALLOWED_PARAM_SCHEMA_KEYS:
                problems.append(f"{where}: schema may only use {sorted(ALLOWED_PARAM_SCHEMA_KEYS)}")
            if schema.get("type") not in {"integer", "number", "boolean", "string"}:
                problems.append(f"{where}: schema type {schema.get('type')!r} is not a scalar")
            if "format" in schema and schema["format"] not in {"uuid", "int64", "int32", "date-time"}:
                problems.append(f"{where}: format {schema['format']} not allowed")
            if param.get("in") == "path" and param.get("required") is not True:
                problems.append(f"{where}: path parameters are required")
            if not param.get("description"):
                problems.append(f"{where}: needs a description")
            validator = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            )
            if "default" in schema and not validator.is_valid(schema["default"]):
                problems.append(f"{where}: default {schema['default']!r} violates its own schema")
            if "x-mock-default" in param:
                if "default" in schema:
                    problems.append(f"{where}: x-mock-default is only for parameters the docs give no default")
                if not validator.is_valid(param["x-mock-default"]):
                    problems.append(f"{where}: x-mock-default {param['x-mock-default']!r} violates its schema")
                if param.get("required"):
                    problems.append(f"{where}: a required parameter cannot need a mock default")
            if (
                param.get("name") in PAGING_PARAMS
                and not param.get("required")
                and ("default" in schema) == ("x-mock-default" in param)
            ):
                problems.append(f"{where}: needs exactly one of schema.default and x-mock-default")
            if "x-invalid-status" in param:
                if (op_id, param["name"]) not in INVALID_STATUS_400:
                    problems.append(f"{where}: x-invalid-status is not documented here")
                if param["x-invalid-status"] != 400:
                    problems.append(f"{where}: x-invalid-status must be 400")
                if "400" not in op.get("responses", {}):
                    problems.append(f"{where}: x-invalid-status 400 but the operation lists no 400")
        names = [p.get("name") for p in parameters(spec, path, op)]
        if len(names) != len(set(names)):
            problems.append(f"{op_id}: duplicated parameter names {names}")
        path_names = set(re.findall(r"{(\w+)}", path))
        declared = {p["name"] for p in parameters(spec, path, op) if p.get("in") == "path"}
        if path_names != declared:
            problems.append(f"{op_id}: path template names {path_names} but declares {declared}")
        for key in op:
            if key.startswith("x-") and key not in ALLOWED_OPERATION_EXTENSIONS:
                problems.append(f"{op_id}: unknown operation extension {key}")
    declared_invalid = {
        (op_id, p["name"])
        for op_id, (_, path, op) in operations(spec).items()
        for p in parameters(spec, path, op)
        if "x-invalid-status" in p
    }
    for missing in sorted(INVALID_STATUS_400 - declared_invalid):
        problems.append(f"{missing}: x-invalid-status 400 missing")
    return problems


def check_links(spec: dict[str, Any]) -> list[str]:
    problems = []
    ops = operations(spec)

    def pointer_exists(schema: Any, pointer: str) -> bool:
        node = resolve(spec, schema)
        for token in [t for t in pointer.split("/") if t]:
            node = resolve(spec, node)
            if token.isdigit() and node.get("type") == "array":
                node = node.get("items", {})
            elif token in node.get("properties", {}):
                node = node["properties"][token]
            else:
                return False
        return True

    for op_id, (_, _, op) in ops.items():
        for status, response in op["responses"].items():
            links = resolve(spec, response).get("links", {})
            if links and status != "200":
                problems.append(f"{op_id} {status}: links belong on the 200 response")
            for link_name, link in links.items():
                link = resolve(spec, link)
                where = f"{op_id}.{link_name}"
                target = link.get("operationId")
                if target not in ops:
                    problems.append(f"{where}: unknown operationId {target!r}")
                    continue
                target_params = params_by_name(spec, target)
                given = {}
                for raw_name, expression in link.get("parameters", {}).items():
                    name = raw_name.split(".", 1)[1] if raw_name.startswith(("path.", "query.")) else raw_name
                    given[name] = expression
                    if name not in target_params:
                        problems.append(f"{where}: {target} has no parameter {name!r}")
                    if not isinstance(expression, str):
                        problems.append(f"{where}: {name} must be a runtime expression")
                    elif expression.startswith("$request.path."):
                        source = expression.removeprefix("$request.path.")
                        if source not in params_by_name(spec, op_id):
                            problems.append(f"{where}: {op_id} has no path parameter {source}")
                    elif expression.startswith("$response.body#"):
                        body = op["responses"]["200"]["content"]["application/json"]["schema"]
                        if not pointer_exists(body, expression.removeprefix("$response.body#")):
                            problems.append(f"{where}: {expression} does not exist in {op_id}'s 200 body")
                    else:
                        problems.append(f"{where}: unsupported expression {expression}")
                for name, param in target_params.items():
                    if param.get("required") and name not in given:
                        problems.append(f"{where}: required parameter {name} of {target} is not supplied")
    return problems


def check_request_bodies(spec: dict[str, Any]) -> list[str]:
    """Writes with a body take one JSON object through a named schema with a `required` list; others take none."""
    problems = []
    for op_id, (_, _, op) in operations(spec).items():
        body = op.get("requestBody")
        expected = WRITES[op_id][5] if op_id in WRITES else None
        if expected is None:
            if body is not None:
                problems.append(f"{op_id}: has a request body, but the operation takes none")
            continue
        if body is None:
            problems.append(f"{op_id}: request body {expected} missing")
            continue
        if body.get("required") is not True or not body.get("description"):
            problems.append(f"{op_id}: the request body must be required and described")
        content = body.get("content", {})
        if list(content) != ["application/json"]:
            problems.append(f"{op_id}: the request body must be application/json only, got {list(content)}")
        ref = content.get("application/json", {}).get("schema", {}).get("$ref")
        if ref != f"#/components/schemas/{expected}":
            problems.append(f"{op_id}: request body schema {ref}, expected {expected}")
            continue
        schema = resolve(spec, {"$ref": ref})
        if schema.get("type") != "object":
            problems.append(f"{op_id}: {expected} must be an object")
        if not isinstance(schema.get("required"), list):
            problems.append(f"{op_id}: {expected} needs a required list (empty when every field is optional)")
        else:
            missing = set(schema["required"]) - set(schema.get("properties", {}))
            if missing:
                problems.append(f"{op_id}: {expected} requires unknown fields {sorted(missing)}")
        for code in ("400", "413", "422", "429"):
            if code not in op.get("responses", {}):
                problems.append(f"{op_id}: a write with a JSON body must document {code}")
    return problems


def check_descriptions_against_export(spec: dict[str, Any], export: dict[str, Any]) -> list[str]:
    problems = []
    theirs = {_normalise(t) for t in walk_texts(export, ("description", "summary", "title"))}
    long_theirs = sorted(t for t in theirs if len(t) >= 45)
    for text in walk_texts(spec, ("description", "summary")):
        norm = _normalise(text)
        if norm in theirs:
            problems.append(f"description copied from the export: {text!r}")
        for sentence in long_theirs:
            if sentence in norm and sentence != norm:
                problems.append(f"description embeds an export sentence: {sentence!r}")
    return problems


# ---------------------------------------------------------------------------- tests: the document


def test_contract_validates_as_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_info_servers_and_security(spec):
    assert spec["info"]["version"] == "2026.11.0"
    assert "Loyalty" in spec["info"]["title"]
    assert spec["info"].get("description")
    assert [s["url"] for s in spec["servers"]] == ["http://127.0.0.1:8080/v3", "https://api.brevo.com/v3"]
    assert spec["components"]["securitySchemes"]["api-key"] == {
        "type": "apiKey",
        "in": "header",
        "name": "api-key",
        "description": spec["components"]["securitySchemes"]["api-key"].get("description"),
    }
    assert spec["security"] == [{"api-key": []}]
    for path in spec["paths"]:
        assert not path.startswith("/v3"), f"{path}: paths are written without /v3"
    for op_id, (_, _, op) in operations(spec).items():
        assert "security" not in op, f"{op_id}: security is set once, at the top"


def test_exactly_the_documented_operations(spec):
    # 17 reference reads + 3 guide-only reads + the 33 writes = the 50 documented operations and the guide's 3.
    assert len(READ_OPERATIONS) == 20 and len(WRITE_OPERATIONS) == 33
    assert check_operations(spec) == []
    assert sorted(operations(spec)) == sorted(OPERATION_IDS)
    assert len(operations(spec)) == 53


def test_tags_and_source_pages(spec):
    area = {"config": "program", "balance": "balance", "tier": "tier", "offer": "reward"}
    declared_tags = {t["name"] for t in spec["tags"]}
    assert declared_tags == {"program", "balance", "tier", "reward", "member-guide"}
    for _, path, op_id, kind, page in OPERATIONS:
        _, _, op = operations(spec)[op_id]
        assert set(op["tags"]) <= declared_tags
        assert op["x-brevo-source"] == {"kind": kind, "page": page}, op_id
        assert op.get("summary") and op.get("description"), op_id
        if kind != "export" and DOCS.is_dir():
            assert (DOCS / f"{page}.md").is_file(), f"{op_id}: no stored page {page}"
        if kind == "guide":
            assert "member-guide" in op["tags"], op_id
            assert len(op["tags"]) == 2, op_id
        else:
            assert op["tags"] == [area[path.split("/")[2]]], op_id


def test_every_operation_documents_its_statuses_with_the_error_body(spec):
    assert check_statuses(spec) == []
    for status, name in ERROR_RESPONSES.items():
        response = spec["components"]["responses"][name]
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
        assert response["description"], status
    list_204 = operations(spec)["getBalanceDefinitionList"][2]["responses"]["204"]
    assert "content" not in list_204 and list_204["description"]


def test_request_bodies(spec):
    assert check_request_bodies(spec) == []
    for op_id in WRITES:
        _, _, op = operations(spec)[op_id]
        assert {"429", "500"} <= set(op["responses"]), op_id


def test_write_bodies_say_what_the_docs_say(spec):
    def v(name: str) -> jsonschema.Draft202012Validator:
        return schema_validator(spec, {"$ref": f"#/components/schemas/{name}"})

    bd, rid = "a74c0b1d-4a96-4e23-804e-dc3a1d9a0ceb", "29a07df8-3cf3-4a5c-8e74-8cd00085000e"
    tx = v("TransactionCreate")
    assert tx.is_valid({"contactId": 12345, "balanceDefinitionId": bd, "amount": 50, "autoComplete": False})
    assert tx.is_valid({"LoyaltySubscriptionId": "cust_abc123", "balanceDefinitionId": bd, "amount": -5.5})
    assert not tx.is_valid({"contactId": 12345, "balanceDefinitionId": bd, "amount": 0})
    assert not tx.is_valid({"contactId": 12345, "balanceDefinitionId": bd, "amount": 0.0})
    assert not tx.is_valid({"balanceDefinitionId": bd, "amount": 50}), "a member must be named"
    assert not tx.is_valid({"loyaltySubscriptionId": "cust_abc123", "balanceDefinitionId": bd, "amount": 50})
    assert not tx.is_valid({"contactId": 12345, "balanceDefinitionId": bd, "amount": 50, "ttl": 9})
    assert not tx.is_valid({"contactId": 0, "balanceDefinitionId": bd, "amount": 50})

    order = v("BalanceOrderCreate")
    good = {
        "amount": 1.1,
        "balanceDefinitionId": bd,
        "contactId": 1,
        "dueAt": "2024-01-15T09:30:00Z",
        "source": "engine",
    }
    assert order.is_valid(good)
    assert not order.is_valid({**good, "amount": 0}) and not order.is_valid({**good, "contactId": 0})
    assert not order.is_valid({**good, "source": "shop"})
    assert not order.is_valid({k: v for k, v in good.items() if k != "dueAt"})

    sub = v("SubscriptionCreate")
    assert sub.is_valid(
        {"contactId": 12345, "loyaltySubscriptionId": "cust_abc123", "creationDate": "2025-03-01T10:00:00.000Z"}
    )
    assert not sub.is_valid({"contactId": 0}) and not sub.is_valid({"contactId": 1, "loyaltySubscriptionId": "x" * 65})

    members = v("SubscriptionMembersAdd")
    assert members.is_valid({"memberContactIds": [1], "contactId": 5})
    assert members.is_valid({"memberContactIds": [1, 2], "loyaltySubscriptionId": "cust_abc123"})
    assert not members.is_valid({"memberContactIds": [1]}), "the subscription must be named"
    assert not members.is_valid({"memberContactIds": [], "contactId": 5})
    assert not members.is_valid({"memberContactIds": [0], "contactId": 5})

    program = v("LoyaltyProgramCreate")
    assert program.is_valid({"name": "VIP Club", "description": "Earn points on every purchase."})
    assert not program.is_valid({}) and not program.is_valid({"name": "x" * 129})
    assert not program.is_valid({"name": "VIP", "description": "x" * 257})
    assert v("LoyaltyProgramPatch").is_valid({})

    limit = v("BalanceLimitInput")
    docs_sample = {
        "constraintType": "transaction",
        "durationUnit": "day",
        "durationValue": 1,
        "transactionType": "credit",
        "value": 1,
    }
    assert limit.is_valid(docs_sample)
    assert not limit.is_valid({**docs_sample, "durationUnit": "hour"})

    definition = v("BalanceDefinitionInput")
    assert definition.is_valid({"name": "Purchase Points", "unit": "POINTS", "balanceExpirationDate": "31/12"})
    assert definition.is_valid({"name": "Purchase Points", "unit": "EUR", "balanceExpirationDate": ""})
    assert not definition.is_valid({"name": "Purchase Points", "unit": "POINTS", "balanceExpirationDate": "32/01"})
    assert not definition.is_valid({"name": "Purchase Points", "unit": "points"})

    voucher = v("VoucherCreate")
    assert voucher.is_valid({"rewardId": rid, "contactId": 1, "validFrom": "2026-01-15T09:30:00Z"})
    assert voucher.is_valid(
        {"rewardId": rid, "loyaltySubscriptionId": "cust_abc123", "validFrom": "15/01/2026 09:30 AM"}
    )
    assert not voucher.is_valid({"rewardId": rid}), "the holder must be named"
    assert not voucher.is_valid({"rewardId": rid, "contactId": 1, "validFrom": "2026-01-15"})
    # Found by schemathesis: the pattern let through times no calendar has, which the mock then refused.
    for impossible in ("0000-00-00T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-15T24:00:00Z", "32/01/2026 09:30 AM",
                       "15/01/2026 13:30 PM", "15/01/0000 09:30 AM"):
        assert not voucher.is_valid({"rewardId": rid, "contactId": 1, "validFrom": impossible}), impossible

    for name in ("VoucherRedeem", "RewardValidation"):
        check = v(name)
        assert check.is_valid({"code": "GOLD10"}) and check.is_valid({"attributedRewardId": rid}), name
        assert check.is_valid({"rewardId": rid, "contactId": 12345}), name
        assert not check.is_valid({"rewardId": rid}) and not check.is_valid({}), name

    tier = v("TierCreate")
    assert tier.is_valid({"name": "Silver", "accessConditions": [{"balanceDefinitionId": bd, "minimumValue": 100}]})
    assert not tier.is_valid({"name": "Silver", "accessConditions": [{"minimumValue": 100}]})
    assert not v("TierUpdate").is_valid({"name": "Silver", "accessConditions": []}), "tierRewards is required"
    assert not v("TierGroupUpdate").is_valid({"name": "VIP Levels", "tierOrder": []})
    assert v("TierGroupCreate").is_valid({"name": "VIP Levels"})


def test_write_shapes_follow_the_reads(spec):
    s = spec["components"]["schemas"]
    assert (
        s["BalanceDefinitionInput"]["properties"]["unit"]["enum"]
        == s["BalanceDefinition"]["properties"]["unit"]["enum"]
    )
    for field in ("upgradeStrategy", "downgradeStrategy"):
        for body in ("TierGroupCreate", "TierGroupUpdate"):
            assert s[body]["properties"][field]["enum"] == s["TierGroup"]["properties"][field]["enum"], (body, field)
    for field in ("constraintType", "transactionType"):
        assert s["BalanceLimitInput"]["properties"][field]["enum"] == s["BalanceLimit"]["properties"][field]["enum"]

    transaction = schema_validator(spec, {"$ref": "#/components/schemas/Transaction"})
    completed = {
        "id": "3c000afd-fb2e-4275-9007-29178f00fd5a",
        "amount": 50,
        "balance": 90,
        "transactionType": "credit",
        "status": "completed",
        "loyaltyProgramId": "27a1dd7a-af67-4020-ba65-19d60000a26e",
        "balanceDefinitionId": "a74c0b1d-4a96-4e23-804e-dc3a1d9a0ceb",
        "contactId": 12345,
        "createdAt": "2026-09-03T10:00:00Z",
        "completedAt": "2026-09-03T10:00:00Z",
        "cancelledAt": None,
    }
    assert transaction.is_valid(completed)
    assert transaction.is_valid({k: v for k, v in completed.items() if k != "balance"}), "balance is optional"
    assert not transaction.is_valid({**completed, "status": "complete"}), "the pre-2026-09-03 name is gone"
    assert not transaction.is_valid({**completed, "amount": "50"}), "amounts are numbers"
    props = s["BalanceOrder"]["properties"]
    assert "transactionid" in props and "transactionId" not in props, "upstream spelling kept"
    assert s["TransactionCreate"]["properties"]["autoComplete"]["default"] is False


def test_rate_limit_headers(spec):
    assert check_rate_limit_headers(spec) == []


def test_every_success_is_json_through_a_named_schema(spec):
    for op_id, (_, _, op) in operations(spec).items():
        success, schema_name = (WRITES[op_id][6], WRITES[op_id][7]) if op_id in WRITES else ("200", None)
        if success == "204":
            assert "content" not in op["responses"]["204"], op_id
            assert not any(code.startswith("2") and code != "204" for code in op["responses"]), op_id
            continue
        content = op["responses"][success]["content"]
        assert list(content) == ["application/json"], op_id
        ref = content["application/json"]["schema"].get("$ref", "")
        assert ref.startswith("#/components/schemas/"), op_id
        assert ref.split("/")[-1] in spec["components"]["schemas"], op_id
        if schema_name:
            assert ref == f"#/components/schemas/{schema_name}", op_id


def test_parameters_follow_the_conventions(spec):
    assert check_parameters(spec) == []


def test_path_parameter_types(spec):
    uuid_params = {"pid", "bdid", "blid", "gid", "rid", "cpid", "tid"}
    seen = set()
    for op_id, (_, path, op) in operations(spec).items():
        for param in parameters(spec, path, op):
            if param["in"] != "path":
                continue
            seen.add(param["name"])
            if param["name"] in uuid_params:
                assert param["schema"] == {"type": "string", "format": "uuid"}, (op_id, param)
            else:
                assert param["name"] == "cid", (op_id, param)
                assert param["schema"] == {"type": "integer", "format": "int64", "minimum": 1}, op_id
    assert seen == uuid_params | {"cid"}


def test_documented_ranges_and_defaults(spec):
    for op_id in ("getContactBalances", "getActiveBalancesApi", "getTransactionHistoryApi"):
        params = params_by_name(spec, op_id)
        assert params["limit"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["maximum"] == 500
        assert params["offset"]["schema"]["minimum"] == 0
        contact = params.get("contactId")
        if contact is not None:
            assert contact["required"] is True
            assert contact["schema"] == {"type": "integer", "format": "int64", "minimum": 1}
        assert params["balanceDefinitionId"]["required"] is True
        assert params["balanceDefinitionId"]["schema"] == {"type": "string", "format": "uuid"}
    for op_id in ("getVoucherForAContact", "getRewardPageApi"):
        params = params_by_name(spec, op_id)
        assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}
        assert params["offset"]["schema"]["default"] == 0
    for op_id in ("getLPList", "getBalanceDefinitionList"):
        params = params_by_name(spec, op_id)
        assert params["limit"]["schema"]["minimum"] == 1 and "maximum" not in params["limit"]["schema"]
        assert params["offset"]["schema"]["minimum"] == 0 and "maximum" not in params["offset"]["schema"]

    lp = params_by_name(spec, "getLPList")
    assert lp["sort_field"]["schema"]["enum"] == ["name", "created_at", "updated_at"]
    assert lp["sort"]["schema"]["enum"] == ["asc", "desc"]

    bd = params_by_name(spec, "getBalanceDefinitionList")
    assert bd["sortField"]["schema"] == {
        "type": "string",
        "enum": ["name", "created_at", "updated_at"],
        "default": "updated_at",
    }
    assert bd["sort"]["schema"]["default"] == "desc"
    assert bd["version"]["schema"] == {"type": "string", "enum": ["active", "draft"], "default": "draft"}
    assert bd["limit"]["schema"]["default"] == 200 and bd["offset"]["schema"]["default"] == 0

    vouchers = params_by_name(spec, "getVoucherForAContact")
    assert vouchers["contactId"]["required"] is True
    assert vouchers["contactId"]["schema"] == {"type": "integer", "format": "int64", "minimum": 1}
    assert vouchers["sort"]["schema"]["default"] == "desc"
    assert vouchers["sortField"]["schema"] == {
        "type": "string",
        "enum": ["updatedAt", "createdAt"],
        "default": "updatedAt",
    }
    assert vouchers["rewardId"]["schema"] == {"type": "string", "format": "uuid"}
    assert vouchers["metadata_key_value"]["schema"] == {"type": "string", "pattern": "^[^:]*[^:\\s]"}
    # What the handler reads as a key is there and not blank: the contract says the same, so that a
    # generated "valid" value is never refused.
    key_pattern = re.compile(vouchers["metadata_key_value"]["schema"]["pattern"])
    assert all(key_pattern.search(text) for text in ("tier", "tier:gold", " tier :gold", "a:b:c"))
    assert not any(key_pattern.search(text) for text in ("", ":gold", "  :gold", " ", "\t:x"))

    assert params_by_name(spec, "getRewardPageApi")["state"]["schema"] == {"type": "string", "default": "all"}
    for op_id in (
        "getBalanceDefinitionList",
        "getBalanceDefinition",
        "getBalanceLimit",
        "getListOfTierGroups",
        "getTierGroup",
        "getLoyaltyProgramTier",
        "getRewardPageApi",
        "getRewardInformation",
    ):
        assert params_by_name(spec, op_id)["version"]["schema"]["default"] == "draft", op_id

    history = params_by_name(spec, "getTransactionHistoryApi")
    assert history["sortField"]["schema"]["default"] == "createdAt"
    assert history["status"]["schema"]["enum"] == TRANSACTION_STATUSES
    assert history["transactionType"]["schema"]["enum"] == ["credit", "debit"]
    assert "loyaltySubscriptionId" in history
    assert {p for p in history if "_" in p} == set(), "current pages use camelCase query names"
    active = params_by_name(spec, "getActiveBalancesApi")
    assert {p for p in active if "_" in p} == set(), "current pages use camelCase query names"
    assert "includeInternal" in active


def test_account_info_parameters(spec):
    _, _, op = operations(spec)["getParameterSubscriptionInfo"]
    assert op["x-requires-any-of"] == ["contactId", "loyaltySubscriptionId"]
    params = params_by_name(spec, "getParameterSubscriptionInfo")
    for name in op["x-requires-any-of"]:
        assert params[name]["in"] == "query" and not params[name].get("required")
    contact = jsonschema.Draft202012Validator(params["contactId"]["schema"])
    assert contact.is_valid("12345") and contact.is_valid("9223372036854775807")
    assert not contact.is_valid("0") and not contact.is_valid("-4") and not contact.is_valid("12a")
    sections = jsonschema.Draft202012Validator(params["params"]["schema"])
    assert sections.is_valid("balance") and sections.is_valid("tier,reward,members,balance")
    assert not sections.is_valid("") and not sections.is_valid("balance,") and not sections.is_valid("points")
    assert params["includeInternal"]["schema"]["type"] == "boolean"
    for op_id, (_, _, other) in operations(spec).items():
        if op_id != "getParameterSubscriptionInfo":
            assert "x-requires-any-of" not in other, op_id


def test_links_target_real_operations_and_parameters(spec):
    assert check_links(spec) == []


def test_required_links_are_present(spec):
    ops = operations(spec)
    for source, target, expected in REQUIRED_LINKS:
        links = ops[source][2]["responses"]["200"].get("links", {})
        matching = [link for link in links.values() if link.get("operationId") == target]
        assert matching, f"no link {source} -> {target}"
        params = {k.split(".", 1)[-1]: v for k, v in matching[0]["parameters"].items()}
        for name, expression in expected.items():
            assert params.get(name) == expression, (source, target, name)


def test_write_links_follow_fields_that_are_always_there(spec):
    # A write's answer is the one place a new id appears: a link must never point at an optional field.
    for op_id in WRITES:
        _, _, op = operations(spec)[op_id]
        success = op["responses"].get("200", {})
        body = resolve(spec, success.get("content", {}).get("application/json", {}).get("schema", {}))
        for name, link in success.get("links", {}).items():
            for expression in link["parameters"].values():
                if expression.startswith("$response.body#/"):
                    field = expression.removeprefix("$response.body#/").split("/")[0]
                    assert field in body.get("required", []), f"{op_id}.{name}: {field} is not required"


def test_no_inbound_link_to_balance_limit_is_invented(spec):
    # No read response carries a balance-limit id, so a link could only guess one; the writes that
    # return a limit are the only way in.
    sources = set()
    for op_id, (_, _, op) in operations(spec).items():
        for link in op["responses"].get("200", {}).get("links", {}).values():
            if link["operationId"] == "getBalanceLimit":
                sources.add(op_id)
    assert sources == {"createBalanceLimit", "updateBalanceLimit"}


# ---------------------------------------------------------------------------- tests: response shapes


def test_response_schemas_stay_open_and_use_3_1_nullability(spec):
    for where, schema in walk_schemas(spec):
        assert schema.get("additionalProperties") is not False, f"{where}: responses must stay open"
        assert "nullable" not in schema, f"{where}: use type: [X, 'null'] in OpenAPI 3.1"
        if "required" in schema and set(schema) != {"required"}:
            missing = set(schema["required"]) - set(schema.get("properties", {}))
            assert not missing, f"{where}: required names {missing} are not properties"
        for branch in schema.get("anyOf", []):
            # a branch that only requires names ("one of these fields") names fields of its parent
            if set(branch) == {"required"}:
                missing = set(branch["required"]) - set(schema.get("properties", {}))
                assert not missing, f"{where}: anyOf requires {missing}, which are not properties"


def test_page_schemas_require_ids_lists_and_counts(spec):
    expectations = {
        "LoyaltyProgramPage": {"items"},
        "BalanceDefinitionPage": {"items"},
        "TierGroupList": {"items"},
        "TierList": {"items"},
        "RewardPage": {"items", "totalCount"},
        "SubscriptionBalances": {"loyaltyProgramId", "contactId", "balance"},
        "ContactBalancePage": {"loyaltyProgramId", "balanceDefinitionId", "balances", "count"},
        "ActiveBalancePage": {"count", "loyaltyProgramId", "contactId", "balanceDefinitionId", "activeBalances"},
        "TransactionHistoryPage": {
            "loyaltyProgramId",
            "balanceDefinitionId",
            "contactId",
            "count",
            "transactionHistory",
        },
        "VoucherPage": {"contactId", "loyaltyProgramId", "count", "contactRewards"},
        "CodeCount": {"count"},
        "LoyaltyProgram": {"id"},
        "BalanceDefinition": {"id"},
        "BalanceLimit": {"id"},
        "TierGroup": {"id"},
        "Tier": {"tierId", "groupId"},
        "RewardSummary": {"id"},
        "Reward": {"id"},
        "TransactionHistoryItem": {"id"},
    }
    schemas = spec["components"]["schemas"]
    for name, required in expectations.items():
        assert required <= set(schemas[name].get("required", [])), name
    for where, schema in walk_schemas(spec):
        for optional in ("rejectedAt", "cancelledAt", "deletedAt", "disabledAt", "consumedAt"):
            assert optional not in schema.get("required", []), f"{where}: {optional} stays optional"


def test_amounts_are_numbers(spec):
    s = spec["components"]["schemas"]
    assert s["SubscriptionBalances"]["properties"]["balance"]["items"]["properties"]["value"]["type"] == "number"
    assert s["ActiveBalancePage"]["properties"]["activeBalances"]["items"]["properties"]["amount"]["type"] == "number"
    assert s["TransactionHistoryItem"]["properties"]["amount"]["type"] == "number"
    assert s["ContactBalancePage"]["properties"]["balances"]["items"]["properties"]["value"]["type"] == "number"
    assert s["MemberTransaction"]["properties"]["amount"]["type"] == "number"


def test_transaction_statuses_use_the_new_names(spec):
    s = spec["components"]["schemas"]
    for name in ("TransactionHistoryItem", "MemberTransaction", "Transaction", "Redemption"):
        assert s[name]["properties"]["status"]["enum"] == TRANSACTION_STATUSES, name
    for name in ("TransactionHistoryItem", "MemberTransaction", "Transaction", "TransactionCreate"):
        assert s[name]["properties"]["transactionType"]["enum"] == ["credit", "debit"], name
    text = yaml.safe_dump(spec)
    assert "pending" not in text and "- complete\n" not in text


def test_current_shapes_of_balances(spec):
    active = schema_of_200(spec, "getActiveBalancesApi")
    assert set(active["properties"]) == {
        "count",
        "loyaltyProgramId",
        "contactId",
        "balanceDefinitionId",
        "activeBalances",
    }
    item = active["properties"]["activeBalances"]["items"]
    assert set(item["properties"]) == {"id", "amount", "createdAt", "expiresAt"}

    balances = schema_of_200(spec, "getSubscriptionBalances")
    assert balances["type"] == "object"
    assert set(balances["properties"]) == {"loyaltyProgramId", "contactId", "balance"}
    assert set(balances["properties"]["balance"]["items"]["properties"]) == {"balanceDefinitionId", "value"}

    history = schema_of_200(spec, "getTransactionHistoryApi")
    item = resolve(spec, history["properties"]["transactionHistory"]["items"])
    assert set(item["properties"]) == {
        "id",
        "amount",
        "transactionType",
        "status",
        "meta",
        "balanceExpirationDate",
        "createdAt",
        "completedAt",
        "cancelledAt",
        "rejectedAt",
        "rejectReason",
    }
    assert schema_of_200(spec, "getRewardPageApi")["properties"]["totalCount"]["type"] == "integer"


def test_guide_only_shapes(spec):
    tier = schema_of_200(spec, "getSubscriptionTier")
    fields = [
        "tierGroupId",
        "tierGroupName",
        "tierId",
        "tierName",
        "nextTierName",
        "nextTierThreshold",
        "currentBalance",
    ]
    assert tier["type"] == "object" and sorted(tier["properties"]) == sorted(fields)
    for nullable in ("tierId", "tierName", "nextTierName", "nextTierThreshold"):
        assert "null" in tier["properties"][nullable]["type"], nullable
    for not_null in ("tierGroupId", "tierGroupName", "currentBalance"):
        assert "null" not in tier["properties"][not_null]["type"], not_null

    vouchers = schema_of_200(spec, "getSubscriptionVouchers")
    assert vouchers["type"] == "array"
    assert set(resolve(spec, vouchers["items"])["properties"]) == {
        "id",
        "code",
        "offerId",
        "offerName",
        "publicDescription",
        "expiresAt",
    }

    transactions = schema_of_200(spec, "getSubscriptionTransactions")
    assert transactions["type"] == "array"
    member_tx = resolve(spec, transactions["items"])
    history_item = spec["components"]["schemas"]["TransactionHistoryItem"]
    assert set(member_tx["properties"]) == set(history_item["properties"]) | {
        "balanceDefinitionId",
        "loyaltyProgramId",
    }
    for name, prop in history_item["properties"].items():
        assert member_tx["properties"][name] == prop, f"MemberTransaction.{name} drifted from history items"


def test_reward_keeps_rule_and_code_pool(spec):
    reward = schema_of_200(spec, "getRewardInformation")
    assert reward["properties"]["codePoolId"] == {
        "type": "string",
        "format": "uuid",
        "description": reward["properties"]["codePoolId"]["description"],
    }
    rule = resolve(spec, reward["properties"]["rule"])
    assert {"condition", "event", "results", "ruleId", "ruleType", "name"} <= set(rule["properties"])
    assert rule["properties"]["condition"]["type"] == "object"


def test_schema_examples_validate(spec):
    checked = 0
    for where, schema in walk_schemas(spec):
        for example in schema.get("examples", []):
            errors = list(schema_validator(spec, schema).iter_errors(example))
            assert not errors, f"{where}: example {example!r} fails: {errors[0].message}"
            checked += 1
    assert checked >= 5


def test_guide_widget_example_matches_member_tier(spec):
    member = {
        "tierGroupId": "2e6b36ee-6e9f-400d-a85d-a31201a445b0",
        "tierGroupName": "VIP Levels",
        "tierId": None,
        "tierName": None,
        "nextTierName": "Silver",
        "nextTierThreshold": 100,
        "currentBalance": 40,
    }
    validator = schema_validator(spec, {"$ref": "#/components/schemas/MemberTier"})
    assert validator.is_valid(member)
    assert not validator.is_valid({**member, "currentBalance": None})
    assert not validator.is_valid({k: v for k, v in member.items() if k != "tierId"})


# ---------------------------------------------------------------------------- tests: wording


@pytest.fixture(scope="module")
def export() -> dict[str, Any]:
    if not EXPORT.exists():
        pytest.skip(f"the upstream export is not available at {EXPORT}")
    with EXPORT.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_descriptions_are_our_own_words(spec, export):
    assert len(walk_texts(export, ("description",))) > 100, "the export did not load as expected"
    assert check_descriptions_against_export(spec, export) == []


# ---------------------------------------------------------------------------- tests: the checkers bite


def test_checkers_catch_a_broken_copy(spec, export):
    broken = copy.deepcopy(spec)
    ops = {op_id: op for op_id, (_, _, op) in operations(broken).items()}

    del ops["getTierGroup"]["responses"]["422"]
    ops["getCodeCount"]["responses"]["404"] = {"$ref": "#/components/responses/NotFound"}
    assert any("getTierGroup" in p for p in check_statuses(broken))
    assert any("getCodeCount" in p for p in check_statuses(broken))

    ops["getLPList"]["parameters"][0]["x-mock-default"] = 0  # limit has minimum 1
    ops["getRewardPageApi"]["parameters"].append(
        {"name": "ids", "in": "query", "description": "x", "schema": {"type": "array"}}
    )
    problems = check_parameters(broken)
    assert any("getLPList.limit" in p and "x-mock-default" in p for p in problems)
    assert any("getRewardPageApi.ids" in p for p in problems)

    links = ops["getLPList"]["responses"]["200"]["links"]
    links["ProgramDetails"]["parameters"]["gid"] = "$response.body#/items/0/nope"
    links["ProgramTiers"]["operationId"] = "getTiers"
    problems = check_links(broken)
    assert any("has no parameter 'gid'" in p for p in problems)
    assert any("/items/0/nope" in p for p in problems)
    assert any("unknown operationId 'getTiers'" in p for p in problems)

    copied = next(t for t in walk_texts(export, ("description",)) if len(t) >= 45)
    ops["getLPList"]["description"] = copied
    assert check_descriptions_against_export(broken, export)

    ops["getLPList"]["responses"]["200"]["headers"]["x-sib-ratelimit-reset"] = {
        "description": "x",
        "schema": {"type": "integer"},
    }
    assert any("getLPList 200" in p for p in check_rate_limit_headers(broken))

    programs = broken["paths"]["/loyalty/config/programs"]
    programs["put"] = programs.pop("post")
    programs["patch"] = {"operationId": "replaceAllPrograms", "responses": {}}
    problems = check_operations(broken)
    assert any("createNewLP is PUT" in p and "expected POST" in p for p in problems)
    assert any("unexpected operation replaceAllPrograms" in p for p in problems)

    del ops["beginTransaction"]["responses"]["413"]
    assert any("beginTransaction" in p and "413" in p for p in check_statuses(broken))
    del broken["components"]["schemas"]["TransactionCreate"]["required"]
    ops["completeTransaction"]["requestBody"] = ops["cancelTransaction"].get("requestBody") or {"required": True}
    ops["createVoucher"]["requestBody"]["content"]["application/json"]["schema"] = {"type": "object"}
    problems = check_request_bodies(broken)
    assert any("beginTransaction" in p and "required list" in p for p in problems)
    assert any("beginTransaction" in p and "413" in p for p in problems)
    assert any("completeTransaction" in p and "takes none" in p for p in problems)
    assert any("createVoucher" in p and "VoucherCreate" in p for p in problems)


def _null_keys(node: Any, path: str) -> list[str]:
    """Keys whose value is null: in YAML flow style, an unquoted comma splits a description into a stray key."""
    if isinstance(node, dict):
        found = [f"{path}/{key}" for key, value in node.items() if value is None]
        for key, value in node.items():
            found.extend(_null_keys(value, f"{path}/{key}"))
        return found
    if isinstance(node, list):
        return [hit for index, item in enumerate(node) for hit in _null_keys(item, f"{path}/{index}")]
    return []


def test_no_key_is_left_without_a_value(spec):
    assert _null_keys(spec, "") == []
