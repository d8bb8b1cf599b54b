"""The straight-line body check (`contract/clean.py`) only ever shortcuts to "nothing to say".

For every operation's body: a body it calls clean is one the full validator finds nothing wrong with,
tolerates nothing in and changes in no other way than filling the same defaults. Bodies are drawn
around each schema (its property names, values of every JSON kind, near misses, unknown names), so
that both answers are exercised; a typical valid body of the benchmark's write must take the shortcut.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.contract import compile_contract, load_contract
from mock_server.contract.bodies import BodySchema, check_body
from mock_server.contract.findings import Found
from mock_server.contract.loader import resolve
from mock_server.contract.operations import Problem

DOCUMENT = load_contract(None)
COMPILED = compile_contract(DOCUMENT)
BODIES: dict[str, BodySchema] = {name: op.body for name, op in COMPILED.operations.items() if op.body is not None}

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(), st.sampled_from([0.0, 1.0, 2.5, -1.5, 1e300, 10.0]),
    st.text(max_size=5), st.sampled_from(["", "credit", "debit", "2026-01-02T03:04:05Z", "2026-13-01T00:00:00Z",
                                          "7f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "a@b.co", "x" * 70, "12", "POINTS"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                      max_leaves=6)


def _plausible(schema: Any) -> st.SearchStrategy[Any]:
    """Values of the kind a property asks for (most of them valid), so that clean bodies are drawn too."""
    schema = resolve(DOCUMENT, schema)
    if not isinstance(schema, dict):
        return VALUES
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return st.uuids().map(str)
        if fmt == "date-time":
            return st.sampled_from(["2026-01-02T03:04:05Z", "2026-02-30T00:00:00Z", "2026-01-02T03:04:05.123+01:00"])
        if fmt == "date":
            return st.sampled_from(["2026-01-02", "2026-02-30"])
        return st.text(min_size=0, max_size=8)
    if kind == "integer":
        return st.one_of(st.integers(-2, 200), st.sampled_from([3.0, 2**63, 2**31]))
    if kind == "number":
        return st.one_of(st.integers(-5, 500), st.floats(-100, 100), st.just(0))
    if kind == "boolean":
        return st.booleans()
    if kind == "object":
        return st.dictionaries(st.text(max_size=4), SCALARS, max_size=3)
    return VALUES


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(sorted(BODIES)))
    schema = resolve(DOCUMENT, DOCUMENT_SCHEMAS[name])
    if draw(st.integers(0, 9)) == 0:
        return name, draw(VALUES)  # not even an object, sometimes
    properties = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
    body = {}
    for key, sub in properties.items():
        if draw(st.integers(0, 3)):  # most properties given: required ones too
            body[key] = draw(_plausible(sub) if draw(st.integers(0, 6)) else VALUES)
    for key in draw(st.lists(st.sampled_from(["unknownField", "loyaltySubscriptionId"]), max_size=1)):
        body[key] = draw(VALUES)
    return name, body


def _schemas() -> dict[str, Any]:
    found = {}
    for item in DOCUMENT["paths"].values():
        for spec in resolve(DOCUMENT, item).values():
            if isinstance(spec, dict) and "requestBody" in spec:
                request_body = resolve(DOCUMENT, spec["requestBody"])
                found[spec["operationId"]] = request_body["content"]["application/json"]["schema"]
    return found


DOCUMENT_SCHEMAS = _schemas()
CLEAN_SEEN: dict[str, int] = {}  # operations whose clean answer was exercised (see the last test)


def _full(body: BodySchema, value: Any) -> tuple[Any, list[Any], list[str]]:
    found = Found()
    new = body.check(value, found, None)
    return (value if new is None else new), found.problems, found.tolerated


@settings(max_examples=1500, deadline=None, derandomize=True)  # deterministic: the last test counts
@given(bodies())
def test_a_body_called_clean_is_one_the_full_validator_has_nothing_to_say_about(drawn: tuple[str, Any]) -> None:
    name, value = drawn
    body = BODIES[name]
    assert body.clean is not None, f"{name}: its body schema is not covered by the straight-line check"
    clean, _ = body.clean
    if not clean(copy.deepcopy(value)):
        return
    CLEAN_SEEN[name] = CLEAN_SEEN.get(name, 0) + 1
    checked = check_body(body, copy.deepcopy(value), Problem)
    full_value, problems, tolerated = _full(body, copy.deepcopy(value))
    assert problems == [] and tolerated == []
    assert checked.problems == [] and checked.tolerated == []
    assert checked.value == full_value


def test_the_benchmarks_write_takes_the_straight_line_check() -> None:
    clean, defaults = BODIES["beginTransaction"].clean  # type: ignore[misc]
    body = {"LoyaltySubscriptionId": "LS-000123", "balanceDefinitionId": "7f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "amount": 10, "autoComplete": True, "meta": {"source": "order", "orderId": "BENCH-000001"}}
    assert clean(body)
    assert not clean({**body, "amount": 0}) and not clean({**body, "amount": 10.0} | {"contactId": 1.0})
    assert not clean({**body, "loyaltySubscriptionId": "LS-1"})  # tolerated with a did-you-mean: the full check
    assert check_body(BODIES["beginTransaction"], dict(body), Problem).value == _full(
        BODIES["beginTransaction"], dict(body))[0]
    assert ("autoComplete", False) in defaults


def test_the_clean_answer_was_exercised_for_most_bodies() -> None:
    """The random bodies above must reach the True answer (else the first test checks nothing)."""
    assert len(CLEAN_SEEN) >= 5, CLEAN_SEEN
