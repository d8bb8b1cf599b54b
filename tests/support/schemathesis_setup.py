"""What schemathesis must accept as a correct answer to a schema-valid request, from the contract.

schemathesis' `positive_data_acceptance` check expects a schema-valid request to get 2xx (or 401/403/404/409/429/5xx,
its defaults). Against the mock, two kinds of documented answers are also correct for a schema-valid request:

- business refusals of a write: the schema cannot say "this member is already enrolled" or "this transaction is
  completed already", so a valid body may meet 404 (an id that names nothing, or no longer), 409 (a conflict),
  412/417 (a voucher not redeemable now / a redemption cap reached), 422 (a rule refusal: completing twice,
  enrolling in an unpublished program, ...) or 424 (a dependency missing). Each write accepts exactly those of
  these statuses that its contract entry documents, and nothing else;
- the three reads that document no 404 answer an unknown id with the status they do document (400 or 422,
  contracts/README.md).

The repository's schemathesis.toml holds the same list for schemathesis' CLI; a test keeps them equal.
"""

from __future__ import annotations

from typing import Any

from mock_server.contract.operations import HTTP_METHODS

POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' defaults
BUSINESS_REFUSALS = ("404", "409", "412", "417", "422", "424")  # the contract's refusal responses
NOT_FOUND_INSTEAD = ("400", "422")  # what a read without a 404 answers an unknown id with


def acceptance_overrides(document: dict[str, Any]) -> dict[str, list[str]]:
    """operationId -> the statuses `positive_data_acceptance` accepts, for every operation that differs."""
    overrides: dict[str, list[str]] = {}
    for item in document["paths"].values():
        for method in HTTP_METHODS:
            spec = item.get(method)
            if not isinstance(spec, dict):
                continue
            documented = {str(code) for code in spec.get("responses", {})}
            if method != "get":
                extra = [code for code in BUSINESS_REFUSALS if code in documented]
            elif "404" not in documented:
                extra = [code for code in NOT_FOUND_INSTEAD if code in documented][:1]
            else:
                extra = []
            added = [code for code in extra if code not in POSITIVE_EXPECTED]
            if added:
                overrides[spec["operationId"]] = [*POSITIVE_EXPECTED, *added]
    return overrides


def operations_with_body(document: dict[str, Any]) -> set[str]:
    return {spec["operationId"] for item in document["paths"].values() for method in HTTP_METHODS
            if isinstance(spec := item.get(method), dict) and "requestBody" in spec}


def operations_config(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The overrides as schemathesis configuration's `operations` entries (one per operation).

    `ensure_resource_availability` reads any 404 that follows a create, on a path under it, as "the created
    resource is not found". A write whose body names another record (a tier's access condition names a balance
    definition, a voucher its reward) answers a documented 404 when that body id is unknown, though the created
    resource is there: so the check is off for the operations that take a body, and stays on for every other
    (reads, deletes, complete, cancel, publish), where a 404 can only be about the path.
    """
    acceptance = acceptance_overrides(document)
    with_body = operations_with_body(document)
    entries = []
    for operation_id in sorted(set(acceptance) | with_body):
        checks: dict[str, Any] = {}
        if operation_id in acceptance:
            checks["positive_data_acceptance"] = {"expected-statuses": acceptance[operation_id]}
        if operation_id in with_body:
            checks["ensure_resource_availability"] = {"enabled": False}
        entries.append({"include-operation-id": operation_id, "checks": checks})
    return entries


ID_PARAMETERS = ("pid", "bdid", "blid", "gid", "rid", "cpid", "cid")


def seeded_ids(app: Any) -> dict[str, list[Any]]:
    """The seeded world's ids, by the parameter (and body field) names that take them."""
    summary = app.state.mock.worlds["default"].summary(sample=20)
    found: dict[str, list[Any]] = {name: [] for name in ID_PARAMETERS}
    for program in summary["programs"]:
        found["pid"].append(program["id"])
        for definition in program["balanceDefinitions"]:
            found["bdid"].append(definition["id"])
            found["blid"] += definition["limitIds"]
        found["gid"] += [group["id"] for group in program["tierGroups"]]
        found["rid"] += [reward["id"] for reward in program["rewards"]]
        found["cpid"] += [pool["id"] for pool in program["codePools"]]
        found["cid"] += [member["contactId"] for member in program["members"]]
    found["balanceDefinitionId"] = found["bdid"]
    found["rewardId"] = found["rid"]
    found["contactId"] = found["cid"]
    return {name: values for name, values in found.items() if values}


def app_config(app: Any, document: dict[str, Any], *, examples: int, seed: int, api_key: str) -> dict[str, Any]:
    """schemathesis configuration for a run against the app: every check, real ids mixed in, the overrides above."""
    ids = seeded_ids(app)
    return {
        "seed": seed,
        "generation": {"max-examples": examples, "mode": "all", "database": "none",
                       # Brevo tolerates unknown query parameters, and so does the mock (contracts/README.md).
                       "allow-extra-parameters": False},
        "auth": {"openapi": {"api-key": {"api_key": api_key}}},
        "warnings": False,
        "operations": operations_config(document),
        "dictionaries": {name: {"values": values} for name, values in ids.items()},
        # Mostly real ids, so most cases reach real records; sometimes generated ones (the 404 path).
        "parameters": {name: {"dictionary": name, "probability": 0.8} for name in ids},
    }
