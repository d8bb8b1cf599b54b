"""Request bodies: each operation's ``requestBody`` compiled once into a validator.

The schema (``application/json``) is compiled by `mock_server.contract.schema`;
this module adds what is the operation's: whether a body is required, the
status of its problems, and the outcome handlers and the pipeline read.

Missing or invalid (the error code the pipeline answers with):

- **missing** (``missing_parameter``): a required property that is absent, or
  no body at all where the requestBody is ``required``;
- **invalid** (``invalid_parameter``): everything else (type, format, enum,
  range, length, pattern, items, a forbidden property, ...).

A request whose problems are all "missing" is answered ``missing_parameter``,
otherwise ``invalid_parameter``, with the body's status: 422, or what the
requestBody's ``x-invalid-status`` says (400 or 422), as for parameters.
Unknown properties the schema does not forbid are accepted, as Brevo accepts
them, and come back as *tolerated* (with a did-you-mean) for the client check
(``serve --check-client``, the proxy, the pytest marker).

An empty body (`NO_BODY`, from `mock_server.bodyread.parse_json_body`) is
missing where the requestBody is required, and checked as ``{}`` where it is
optional (so that required properties are still named).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mock_server.contract.findings import MAX_PROBLEMS, ROOT, Found
from mock_server.contract.loader import ContractError, resolve
from mock_server.contract.schema import Validator, compile_schema

__all__ = ["MAX_PROBLEMS", "NO_BODY", "BodyCheck", "BodySchema", "check_body", "compile_body"]


@dataclass(slots=True)
class BodyCheck:
    """The outcome of checking a body: the value handlers get, what is wrong, what is tolerated."""

    value: Any  # the body, with the contract's defaults filled in
    problems: list[Any] = field(default_factory=list)  # `operations.Problem`s
    tolerated: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BodySchema:
    """An operation's compiled request body."""

    operation_id: str
    required: bool  # the requestBody's `required`: an absent body is then "missing"
    is_object: bool  # an absent, optional body is checked as {} (so required properties are still named)
    invalid_status: int
    check: Validator


def compile_body(document: dict[str, Any], operation_id: str, request_body: Any) -> BodySchema | None:
    """The operation's `requestBody`, compiled; None when it takes no JSON body."""
    if request_body is None:
        return None
    spec = resolve(document, request_body)
    content = spec.get("content") or {}
    media = content.get("application/json")
    if media is None:
        raise ContractError(f"{operation_id}: requestBody must have application/json content "
                            f"(found {sorted(content)})")
    schema = resolve(document, media.get("schema", {}))
    invalid_status = int(spec.get("x-invalid-status", 422))
    if invalid_status not in (400, 422):
        raise ContractError(f"{operation_id}: x-invalid-status of the requestBody must be 400 or 422")
    kind = schema.get("type") if isinstance(schema, dict) else None
    return BodySchema(
        operation_id=operation_id,
        required=bool(spec.get("required", False)),
        is_object=kind == "object" or (isinstance(schema, dict) and "properties" in schema),
        invalid_status=invalid_status,
        check=compile_schema(schema, document, operation_id),
    )


NO_BODY: Any = type("NoBody", (), {"__repr__": lambda self: "NO_BODY", "__slots__": ()})()
"""What `mock_server.bodyread.parse_json_body` returns for an empty body."""


def check_body(body: BodySchema, value: Any, problem: Callable[..., Any]) -> BodyCheck:
    """Validate one parsed body; `problem(param, location, message, status, missing)` builds a Problem."""
    if value is NO_BODY:
        if body.required:
            return BodyCheck(None, [problem(ROOT, "body", "The request body is required: send a JSON "
                                            f"{'object' if body.is_object else 'value'} ({body.operation_id})",
                                            body.invalid_status, True)])
        if not body.is_object:
            return BodyCheck(None)
        value = {}
    found = Found()
    new = body.check(value, found, None)
    if new is not None:
        value = new
    if not found.problems and not found.tolerated:
        return BodyCheck(value)  # the common case: nothing to report
    problems = [problem(where, "body", message, body.invalid_status, missing)
                for where, message, missing in found.problems]
    if found.more_problems:
        problems.append(problem(ROOT, "body", f"and {found.more_problems} more problems in the body",
                                body.invalid_status, all(missing for _, _, missing in found.problems)))
    tolerated = found.tolerated
    if found.more_tolerated:
        tolerated.append(f"and {found.more_tolerated} more unknown body properties")
    return BodyCheck(value, problems, tolerated)
