"""Every request body of the contract: the mock accepts what the contract allows, and names what it breaks.

Bodies come from schemathesis (what the conformance suite and clients' fuzzers send), so the mock's
validator is checked against an independent reading of the same schemas. Set BREVO_MOCK_BODIES_CONTRACT
to a contract file to run this against another one (another branch's, by hand).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from mock_server.contract import compile_contract, load_contract
from mock_server.contract.loader import resolve

_OTHER = os.environ.get("BREVO_MOCK_BODIES_CONTRACT")
DOCUMENT = load_contract(Path(_OTHER) if _OTHER else None)
COMPILED = compile_contract(DOCUMENT)
WITH_BODIES = sorted(name for name, operation in COMPILED.operations.items() if operation.body is not None)
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))

pytestmark = pytest.mark.skipif(not WITH_BODIES, reason="the contract has no request body yet")


def body_schema(operation_id: str) -> dict[str, Any]:
    for item in DOCUMENT["paths"].values():
        for spec in resolve(DOCUMENT, item).values():
            if isinstance(spec, dict) and spec.get("operationId") == operation_id:
                request_body = resolve(DOCUMENT, spec["requestBody"])
                return resolve(DOCUMENT, request_body["content"]["application/json"]["schema"])
    raise LookupError(operation_id)


def _strategy(operation_id: str) -> Any:
    return SCHEMA.find_operation_by_id(operation_id).as_strategy()


@pytest.mark.parametrize("operation_id", WITH_BODIES or ["(none)"])
def test_bodies_the_contract_allows_are_accepted_and_their_breakages_named(operation_id: str) -> None:
    operation = COMPILED.operations[operation_id]
    schema = body_schema(operation_id)
    properties = {name: resolve(DOCUMENT, sub) for name, sub in (schema.get("properties") or {}).items()}
    required = list(schema.get("required") or [])

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=_strategy(operation_id))
    def check(case: Any) -> None:
        body = json.loads(json.dumps(case.body))  # as it arrives: JSON, not Python objects
        result = operation.validate_body(copy.deepcopy(body))
        assert result.problems == [], (body, [problem.message for problem in result.problems])
        if not isinstance(body, dict):
            return
        for name in required:  # each required property, taken away, is named as missing
            without = {key: value for key, value in body.items() if key != name}
            problems = operation.validate_body(without).problems
            assert any(problem.missing and problem.param == f"body.{name}" for problem in problems), problems
        for name, sub in properties.items():  # a value of the wrong type is named where it is
            kinds = sub.get("type") if isinstance(sub, dict) else None
            if not kinds or {"array", "object"} & set(kinds if isinstance(kinds, list) else [kinds]):
                continue
            problems = operation.validate_body({**body, name: [[]]}).problems
            assert any(not problem.missing and problem.param == f"body.{name}" for problem in problems), problems

    check()
