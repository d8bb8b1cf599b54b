"""Parameters compiled from their contract schema into checks that coerce raw strings.

Paths and query strings only carry text, so every value arrives as a string;
the schema says what it must become (integer, boolean, UUID, one of an enum).
Each parameter is compiled once into a chain of small checks; at request time
a value either comes out typed or raises `ParamProblem` with a sentence that
names the expectation and what was received.

Only the schema keywords below are supported; the compiler refuses anything
else rather than silently ignoring a rule of the contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_server.contract.loader import ContractError

SUPPORTED_KEYWORDS = frozenset(
    {"type", "format", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength", "default",
     "description", "example", "examples", "title"}
)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
SHOWN_CHARS = 60  # how much of a bad value an error message quotes

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

MISSING: Any = object()


class ParamProblem(ValueError):
    """A raw value that does not satisfy its parameter's schema."""


Check = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    location: str  # "path" or "query"
    required: bool
    default: Any  # MISSING when the contract gives none
    invalid_status: int  # 422, or 400 where the docs answer a bad value with 400
    expectation: str  # e.g. "an integer between 1 and 500"
    checks: tuple[Check, ...]

    def coerce(self, raw: str) -> Any:
        value: Any = raw
        for check in self.checks:
            value = check(value)
        return value


def shown(raw: str) -> str:
    """A bad value as quoted in an error message: bounded, control characters escaped."""
    text = raw if len(raw) <= SHOWN_CHARS else raw[:SHOWN_CHARS] + "…"
    return repr(text) if _CONTROL.search(text) else f"'{text}'"


def compile_param(spec: dict[str, Any], where: str) -> Param:
    """Compile a resolved OpenAPI parameter object; `where` names it in contract errors."""
    name, location = spec.get("name"), spec.get("in")
    if not isinstance(name, str) or location not in ("path", "query"):
        raise ContractError(f"{where}: only named path and query parameters are supported")
    schema = spec.get("schema") or {}
    unknown = set(schema) - SUPPORTED_KEYWORDS
    if unknown:
        raise ContractError(f"{where}: parameter {name!r} uses unsupported schema keywords {sorted(unknown)}")

    checks, expectation = _compile_schema(schema, f"{where} parameter {name!r}")
    default = schema.get("default", spec.get("x-mock-default", MISSING))
    invalid_status = int(spec.get("x-invalid-status", 422))
    if invalid_status not in (400, 422):
        raise ContractError(f"{where}: x-invalid-status of {name!r} must be 400 or 422")
    return Param(
        name=name,
        location=location,
        required=bool(spec.get("required", location == "path")),
        default=default,
        invalid_status=invalid_status,
        expectation=expectation,
        checks=tuple(checks),
    )


def _compile_schema(schema: dict[str, Any], where: str) -> tuple[list[Check], str]:
    kind = schema.get("type", "string")
    fmt = schema.get("format")
    if kind == "integer":
        checks, expectation = _integer_checks(schema, fmt)
    elif kind == "number":
        checks, expectation = _number_checks(schema)
    elif kind == "boolean":
        checks, expectation = [_boolean], "true or false"
    elif kind == "string":
        checks, expectation = _string_checks(schema, fmt, where)
    else:
        raise ContractError(f"{where}: unsupported parameter type {kind!r}")

    if "enum" in schema:
        allowed = tuple(schema["enum"])
        allowed_set = frozenset(allowed)
        listed = ", ".join(str(value) for value in allowed)

        def one_of(value: Any) -> Any:
            if value not in allowed_set:
                raise ParamProblem(f"must be one of {listed}")
            return value

        checks.append(one_of)
        expectation = f"one of {listed}"
    return checks, expectation


def _integer_checks(schema: dict[str, Any], fmt: str | None) -> tuple[list[Check], str]:
    # Without a format the mock still bounds integers to 64 bits: every integer
    # Brevo takes (ids, limits, offsets) is a long at most.
    low, high = (INT32_MIN, INT32_MAX) if fmt == "int32" else (INT64_MIN, INT64_MAX)
    low = max(low, schema.get("minimum", low))
    high = min(high, schema.get("maximum", high))
    if low <= INT32_MIN or low == INT64_MIN:
        expectation = f"an integer <= {high}" if high < INT64_MAX else "an integer"
    elif high >= INT64_MAX:
        expectation = f"an integer >= {low}"
    else:
        expectation = f"an integer between {low} and {high}"
    longest = len(str(INT64_MIN)) + 1

    def integer(raw: str) -> int:
        if not _INTEGER.fullmatch(raw):
            raise ParamProblem(f"must be {expectation}, got {shown(raw)}")
        if len(raw) > longest:  # checked before int() so that huge inputs cost nothing
            raise ParamProblem(f"must be {expectation}, got {shown(raw)} (out of range)")
        value = int(raw)
        if value < low or value > high:
            raise ParamProblem(f"must be {expectation}, got {shown(raw)}")
        return value

    return [integer], expectation


def _number_checks(schema: dict[str, Any]) -> tuple[list[Check], str]:
    low, high = schema.get("minimum"), schema.get("maximum")
    expectation = "a number" + (f" >= {low}" if low is not None else "") + (
        f" <= {high}" if high is not None else ""
    )

    def number(raw: str) -> float:
        if not _NUMBER.fullmatch(raw):
            raise ParamProblem(f"must be {expectation}, got {shown(raw)}")
        value = float(raw)
        if (low is not None and value < low) or (high is not None and value > high):
            raise ParamProblem(f"must be {expectation}, got {shown(raw)}")
        return value

    return [number], expectation


def _boolean(raw: str) -> bool:
    if raw == "true":
        return True
    if raw == "false":
        return False
    raise ParamProblem(f"must be true or false, got {shown(raw)}")


def _string_checks(schema: dict[str, Any], fmt: str | None, where: str) -> tuple[list[Check], str]:
    checks: list[Check] = []
    expectation = "a string"
    if fmt == "uuid":
        expectation = "a UUID (8-4-4-4-12 hexadecimal digits)"
        checks.append(_full_match(_UUID, expectation))
    elif fmt == "date-time":
        expectation = "an RFC 3339 date-time"
        checks.append(_full_match(_DATE_TIME, expectation))
    elif fmt in ("int64", "int32", "int"):
        expectation = "a string of digits"
        checks.append(_full_match(re.compile(r"-?[0-9]+"), expectation))
    elif fmt is not None:
        raise ContractError(f"{where}: unsupported string format {fmt!r}")

    min_length, max_length = schema.get("minLength"), schema.get("maxLength")
    if min_length is not None or max_length is not None:
        low, high = min_length or 0, max_length

        def length(raw: str) -> str:
            if len(raw) < low or (high is not None and len(raw) > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                raise ParamProblem(f"must be {bound} characters long, got {len(raw)}")
            return raw

        checks.append(length)
    if "pattern" in schema:
        try:
            pattern = re.compile(ecma_anchors(schema["pattern"]))
        except re.error as error:
            raise ContractError(f"{where}: invalid pattern: {error}") from None
        expectation = f"a string matching {schema['pattern']}"

        def matches(raw: str) -> str:
            if not pattern.search(raw):  # JSON Schema patterns are unanchored
                raise ParamProblem(f"must match {schema['pattern']}, got {shown(raw)}")
            return raw

        checks.append(matches)
    return checks, expectation


def ecma_anchors(pattern: str) -> str:
    r"""A JSON Schema (ECMA-262) pattern for Python's `re`: its `$` is the end of the input.

    Python's `$` also matches before a final newline, so '^[1-9][0-9]*$' would let
    '5\n' (``contactId=5%0A``) through. Outside character classes and escapes, `$`
    becomes `\Z`; everything else is left as written.
    """
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = "\\Z"
        out.append(char)
        index += 1
    return "".join(out)


def _full_match(pattern: re.Pattern[str], expectation: str) -> Check:
    def check(raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise ParamProblem(f"must be {expectation}, got {shown(raw)}")
        return raw

    return check
