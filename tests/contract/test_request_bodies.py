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
from hypothesis import strategies as st

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


def _reference(operation_id: str) -> Any:
    import jsonschema_rs

    schema = {**body_schema(operation_id), "components": DOCUMENT.get("components", {})}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


# Integers within 32 bits: past 64 bits the mock refuses on purpose where the reference reads formats of
# numbers as annotations (tests/unit/test_bodies.py covers the bounds).
_SCALARS = (st.none() | st.booleans() | st.integers(-(2**31), 2**31 - 1) | st.floats(-1e9, 1e9) | st.text(max_size=6)
            | st.sampled_from(["", "credit", "debit", "0b8a2a4e-5f0e-4a59-9a2b-0c1d2e3f4a5b", "2026-01-01T00:00:00Z",
                               "2026-02-30", "https://example.com/a.png", "a@b.co"]))


@pytest.mark.parametrize("operation_id", WITH_BODIES or ["(none)"])
def test_the_validator_agrees_with_a_reference_validator_on_any_body(operation_id: str) -> None:
    operation, reference = COMPILED.operations[operation_id], _reference(operation_id)
    names = list(body_schema(operation_id).get("properties") or {}) or ["x"]
    values = st.recursive(_SCALARS, lambda children: st.lists(children, max_size=3)
                          | st.dictionaries(st.sampled_from(names) | st.text(max_size=4), children, max_size=3),
                          max_leaves=10)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=st.dictionaries(st.sampled_from(names), values, max_size=len(names)) | values)
    def check(body: Any) -> None:
        result = operation.validate_body(copy.deepcopy(body))
        assert (not result.problems) == reference.is_valid(body), (body, [p.message for p in result.problems])

    check()
