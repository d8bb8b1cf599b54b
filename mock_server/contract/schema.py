"""JSON Schema (the subset an OpenAPI 3.1 contract uses), compiled once into nested closures.

A JSON value is typed already, so nothing is coerced: a string where the schema
wants a number is wrong, as Brevo's own servers decode it. Each schema node
becomes one closure with its `$ref`s resolved; a value then costs only the checks
it reaches, and a check reports into a `Found` (every problem, with its JSON
location) rather than stopping at the first.

- **missing**: a required property that is absent (``anyOf`` of ``required``
  lists alone reads as "a or b is required", missing too);
- **invalid**: everything else: a wrong type (``null`` included, unless the
  schema allows it), format, enum, const, not, range, length, pattern, item
  count, duplicate items, an alternative of oneOf/anyOf not matched, a property
  the schema forbids (``additionalProperties: false``).

Properties a schema names nothing about (no ``additionalProperties``) are
accepted and reported as *tolerated*, with a did-you-mean when a known name is
close; an explicit ``additionalProperties`` (true, ``{}`` or a schema, as a
free-form ``meta`` is written) accepts them silently. Defaults of absent
properties are filled in (outside oneOf/anyOf alternatives, which must not
change a value they fail on).

Integers follow JSON Schema: ``400.0`` is an integer (and comes out as the int
400), ``1.5`` is not; they are bounded to 64 bits (32 with ``format: int32``),
as query parameters are. Formats checked: date-time, date, uuid, email (the
shape only), uri (absolute), int32/int64 on strings; double and float are
annotations. Only the keywords below are supported: the compiler refuses
anything else rather than ignore a rule of the contract.
"""

from __future__ import annotations

import calendar
import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_server.contract.findings import ROOT, Found, Hints, canonical, got, shown_json, step
from mock_server.contract.loader import ContractError, resolve
from mock_server.contract.params import _UUID, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, ecma_anchors

VALIDATION_KEYWORDS = frozenset({
    "type", "format", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minLength", "maxLength", "pattern", "required", "properties", "additionalProperties",
    "items", "minItems", "maxItems", "uniqueItems", "oneOf", "anyOf", "allOf", "not", "nullable", "$ref",
})
ANNOTATIONS = frozenset({
    "description", "title", "example", "examples", "default", "deprecated", "readOnly", "writeOnly",
    "discriminator", "externalDocs", "xml", "$comment",
})

# Dates and date-times are read as RFC 3339 (a real day of a real month, hours up to 23, a leap second
# at most), so that a body the contract's readers refuse is refused here too.
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE_TIME_PARTS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
                              r"(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # loose on purpose: the address's shape, not RFC 5322
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*")  # absolute: a scheme, then anything but spaces
_DIGITS = re.compile(r"-?[0-9]+")


def _is_date(text: str) -> bool:
    match = _DATE.fullmatch(text)
    return match is not None and _real_day(*match.groups())


def _is_date_time(text: str) -> bool:
    match = _DATE_TIME_PARTS.fullmatch(text)
    if match is None or not _real_day(*match.groups()[:3]):
        return False
    hour, minute, second, offset_hour, offset_minute = match.groups()[3:]
    return (int(hour) <= 23 and int(minute) <= 59 and int(second) <= 60
            and (offset_hour is None or (int(offset_hour) <= 23 and int(offset_minute) <= 59)))


def _real_day(year: str, month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]


def _matching(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: pattern.fullmatch(text) is not None


STRING_FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "date-time": (_is_date_time, "an RFC 3339 date-time"),
    "date": (_is_date, "a date (YYYY-MM-DD)"),
    "uuid": (_matching(_UUID), "a UUID (8-4-4-4-12 hexadecimal digits)"),
    "email": (_matching(_EMAIL), "an e-mail address"),
    "uri": (_matching(_URI), "an absolute URI"),
    "int64": (_matching(_DIGITS), "a string of digits"),
    "int32": (_matching(_DIGITS), "a string of digits"),
    "int": (_matching(_DIGITS), "a string of digits"),
}
INTEGER_RANGES = {"int32": (INT32_MIN, INT32_MAX), "int64": (INT64_MIN, INT64_MAX), "int": (INT64_MIN, INT64_MAX),
                  None: (INT64_MIN, INT64_MAX)}
NUMBER_FORMATS = frozenset({"double", "float", "int32", "int64", None})

_TYPE_NAMES = {"object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}


# A check reports into `Found`, and returns None, or the value to use instead (an integral float as an int).
Validator = Callable[[Any, Found, "str | int | None"], Any]


# --- compiling ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    document: dict[str, Any]
    operation_id: str
    refs: dict[tuple[str, bool, bool], Validator]
    fill_defaults: bool = True  # off inside oneOf/anyOf: a branch that fails must not change the body
    report_unknown: bool = True  # off for allOf's members: the union of their properties is checked instead

    def but(self, **changes: bool) -> _Context:
        return _Context(self.document, self.operation_id, self.refs,
                        changes.get("fill_defaults", self.fill_defaults),
                        changes.get("report_unknown", self.report_unknown))


def compile_schema(schema: Any, document: dict[str, Any], operation_id: str) -> Validator:
    """One validator for a schema of `document` (its `$ref`s resolved against it); raises `ContractError`."""
    return _compile(schema, _Context(document, operation_id, {}), f"{operation_id}: {ROOT}")


def _compile(schema: Any, ctx: _Context, where: str) -> Validator:
    if schema is True or schema == {}:
        return _accept
    if schema is False:
        return _refuse_all
    if not isinstance(schema, dict):
        raise ContractError(f"{where}: a schema must be an object or a boolean, got {schema!r}")
    unknown = {key for key in schema if not key.startswith("x-")} - VALIDATION_KEYWORDS - ANNOTATIONS
    if unknown:
        raise ContractError(f"{where}: unsupported schema keywords {sorted(unknown)}")
    if "$ref" in schema:
        siblings = {key: value for key, value in schema.items()
                    if key != "$ref" and key in VALIDATION_KEYWORDS}
        target = _compile_ref(schema["$ref"], ctx, where)
        if not siblings:
            return target
        return _all_of([target, _compile(siblings, ctx, where)])

    checks: list[Validator] = []
    types = _types(schema, where)
    if "enum" in schema:
        checks.append(_enum(schema["enum"], where))
    if "const" in schema:
        checks.append(_const(schema["const"]))
    checks.extend(_number_checks(schema))
    checks.extend(_string_checks(schema, types, where))
    checks.extend(_array_checks(schema, ctx, where))
    # With allOf, the union of this schema's and its members' properties is what "unknown" means.
    object_check = _object_check(schema, ctx, where, report_own=ctx.report_unknown and "allOf" not in schema)
    if object_check is not None:
        checks.append(object_check)
    if "allOf" in schema:
        checks.append(_compile_all_of(schema, ctx, where))
    if "anyOf" in schema:
        checks.append(_one_or_any(schema["anyOf"], ctx, where, exactly_one=False))
    if "oneOf" in schema:
        checks.append(_one_or_any(schema["oneOf"], ctx, where, exactly_one=True))
    if "not" in schema:
        checks.append(_not(schema["not"], ctx, where))
    if types is not None:
        return _typed(types, schema, where, checks)
    if not checks:
        return _accept
    return checks[0] if len(checks) == 1 else _all_of(checks)


def _accept(value: Any, found: Found, key: str | int | None) -> None:
    return None


def _refuse_all(value: Any, found: Found, key: str | int | None) -> None:
    found.invalid(f"no value is allowed here, got {got(value)}", key)


def _all_of(checks: list[Validator]) -> Validator:
    def all_of(value: Any, found: Found, key: str | int | None) -> Any:
        replaced = None
        for check in checks:
            new = check(value, found, key)
            if new is not None:
                value = replaced = new
        return replaced

    return all_of


def _compile_ref(ref: Any, ctx: _Context, where: str) -> Validator:
    key = (str(ref), ctx.fill_defaults, ctx.report_unknown)
    known = ctx.refs.get(key)
    if known is not None:
        return known
    cell: list[Validator] = []

    # Only a schema that refers to itself keeps this indirection: the others get the compiled one below.
    def recursive(value: Any, found: Found, key: str | int | None) -> Any:
        return cell[0](value, found, key)

    ctx.refs[key] = recursive
    compiled = _compile(resolve(ctx.document, {"$ref": ref}), ctx, f"{where} ({ref})")
    cell.append(compiled)
    ctx.refs[key] = compiled
    return compiled


def _types(schema: dict[str, Any], where: str) -> tuple[str, ...] | None:
    kind = schema.get("type")
    if kind is None:
        return None
    types = tuple(kind) if isinstance(kind, list) else (kind,)
    for name in types:
        if name not in _TYPE_NAMES:
            raise ContractError(f"{where}: unsupported type {name!r}")
    if schema.get("nullable") is True and "null" not in types:  # OpenAPI 3.0's spelling of ["...", "null"]
        types = (*types, "null")
    return types


def _typed(types: tuple[str, ...], schema: dict[str, Any], where: str, checks: list[Validator]) -> Validator:
    """The type check, then (only for a value of the right type) the schema's other checks.

    A number with no fractional part is an integer (JSON Schema says so, and clients that send ``400.0``
    are not wrong): it is accepted and handed on as an int, the one replacement a check makes.
    """
    expectation = " or ".join(_TYPE_NAMES[name] for name in types)
    fmt = schema.get("format")
    integer_only = "integer" in types and "number" not in types
    if integer_only and fmt not in INTEGER_RANGES:
        raise ContractError(f"{where}: unsupported integer format {fmt!r}")
    if "number" in types and fmt not in NUMBER_FORMATS:
        raise ContractError(f"{where}: unsupported number format {fmt!r}")
    low, high = INTEGER_RANGES[fmt if integer_only else None]
    bits = "32" if fmt == "int32" else "64"
    python_types = {"object": {dict}, "array": {list}, "string": {str}, "integer": {int, float},
                    "number": {int, float}, "boolean": {bool}, "null": {type(None)}}
    allowed = frozenset(kind for name in types for kind in python_types[name])  # exact: bool is not an int
    bounded = float in allowed
    rest = tuple(checks)
    if not bounded:
        return _typed_exactly(allowed, expectation, rest)

    def typed(value: Any, found: Found, key: str | int | None) -> Any:
        kind = type(value)
        if kind not in allowed:
            found.invalid(f"expected {expectation}, got {got(value)}", key)
            return None
        replaced = None
        if bounded:
            if kind is float:
                if not math.isfinite(value):
                    found.invalid(f"expected a finite number, got {got(value)}", key)
                    return None
                if integer_only:
                    if not value.is_integer():
                        found.invalid(f"expected {expectation}, got {got(value)}", key)
                        return None
                    value = replaced = int(value)
            if integer_only and not low <= value <= high:
                shown = got(value if replaced is None else float(value))  # as sent
                found.invalid(f"expected a {bits}-bit integer, got {shown} (out of range)", key)
                return None
        for check in rest:
            check(value, found, key)
        return replaced

    return typed


def _typed_exactly(allowed: frozenset[type], expectation: str, rest: tuple[Validator, ...]) -> Validator:
    """`_typed` for types a value never needs converting or bounding for (no number): the type check, then the
    others; shaped by how many others there are, as most properties have none or one (a body's hot path)."""
    if not rest:
        def typed_only(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) not in allowed:
                found.invalid(f"expected {expectation}, got {got(value)}", key)

        return typed_only
    if len(rest) == 1:
        only = rest[0]

        def typed_then(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) not in allowed:
                found.invalid(f"expected {expectation}, got {got(value)}", key)
            else:
                only(value, found, key)

        return typed_then

    def typed_all(value: Any, found: Found, key: str | int | None) -> None:
        if type(value) not in allowed:
            found.invalid(f"expected {expectation}, got {got(value)}", key)
            return
        for check in rest:
            check(value, found, key)

    return typed_all


def _enum(values: Any, where: str) -> Validator:
    if not isinstance(values, list) or not values:
        raise ContractError(f"{where}: enum must be a non-empty list")
    allowed = frozenset(canonical(value) for value in values)
    strings = frozenset(value for value in values if type(value) is str)  # most enums: one set look-up
    listed = ", ".join(shown_json(value) for value in values)

    def enum(value: Any, found: Found, key: str | int | None) -> None:
        ok = value in strings if type(value) is str else canonical(value) in allowed
        if not ok:
            found.invalid(f"expected one of {listed}, got {got(value)}", key)

    return enum


def _const(expected: Any) -> Validator:
    wanted = canonical(expected)
    shown = shown_json(expected)

    def const(value: Any, found: Found, key: str | int | None) -> None:
        if canonical(value) != wanted:
            found.invalid(f"expected {shown}, got {got(value)}", key)

    return const


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _number_checks(schema: dict[str, Any]) -> list[Validator]:
    checks: list[Validator] = []
    bounds: list[tuple[str, float, Callable[[Any, float], bool]]] = []
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    low_ex, high_ex = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if low_ex is True:  # OpenAPI 3.0: a boolean that makes `minimum` exclusive
        minimum, low_ex = None, minimum
    if high_ex is True:
        maximum, high_ex = None, maximum
    if isinstance(minimum, (int, float)):
        bounds.append((f">= {minimum}", minimum, lambda value, bound: value >= bound))
    if isinstance(low_ex, (int, float)) and low_ex is not False:
        bounds.append((f"> {low_ex}", low_ex, lambda value, bound: value > bound))
    if isinstance(maximum, (int, float)):
        bounds.append((f"<= {maximum}", maximum, lambda value, bound: value <= bound))
    if isinstance(high_ex, (int, float)) and high_ex is not False:
        bounds.append((f"< {high_ex}", high_ex, lambda value, bound: value < bound))
    for text, bound, holds in bounds:
        def in_range(value: Any, found: Found, key: str | int | None, text: str = text, bound: float = bound,
                     holds: Callable[[Any, float], bool] = holds) -> None:
            if _is_number(value) and not holds(value, bound):
                found.invalid(f"must be {text}, got {got(value)}", key)

        checks.append(in_range)
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        def multiple(value: Any, found: Found, key: str | int | None) -> None:
            if _is_number(value):
                quotient = value / step
                if not (math.isfinite(quotient) and abs(quotient - round(quotient)) < 1e-9):
                    found.invalid(f"must be a multiple of {step}, got {got(value)}", key)

        checks.append(multiple)
    return checks


def _string_checks(schema: dict[str, Any], types: tuple[str, ...] | None, where: str) -> list[Validator]:
    checks: list[Validator] = []
    fmt = schema.get("format")
    if fmt is not None and types is not None and "string" in types:
        if fmt not in STRING_FORMATS:
            raise ContractError(f"{where}: unsupported string format {fmt!r} (supported: {sorted(STRING_FORMATS)})")
        valid, expectation = STRING_FORMATS[fmt]

        def formatted(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) is str and not valid(value):
                found.invalid(f"expected {expectation}, got {got(value)}", key)

        checks.append(formatted)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None or high is not None:
        low = low or 0
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"

        def length(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) is str and (len(value) < low or (high is not None and len(value) > high)):
                found.invalid(f"must be {bound} characters long, got {len(value)}", key)

        checks.append(length)
    if "pattern" in schema:
        text = schema["pattern"]
        try:
            compiled = re.compile(ecma_anchors(text))
        except (re.error, TypeError) as error:
            raise ContractError(f"{where}: invalid pattern {text!r}: {error}") from None

        def matches(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) is str and not compiled.search(value):  # JSON Schema patterns are unanchored
                found.invalid(f"must match {text}, got {got(value)}", key)

        checks.append(matches)
    return checks


def _array_checks(schema: dict[str, Any], ctx: _Context, where: str) -> list[Validator]:
    checks: list[Validator] = []
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None or high is not None:
        low = low or 0
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"

        def count(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) is list and (len(value) < low or (high is not None and len(value) > high)):
                found.invalid(f"must have {bound} items, got {len(value)}", key)

        checks.append(count)
    if schema.get("uniqueItems") is True:
        def unique(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) is not list:
                return
            seen: dict[Any, int] = {}
            for index, item in enumerate(value):
                first = seen.setdefault(canonical(item), index)
                if first != index:
                    found.invalid(f"items must be unique, but item {index} repeats item {first}", key)
                    return

        checks.append(unique)
    if "items" in schema:
        item_check = _compile(schema["items"], ctx.but(report_unknown=True), f"{where}[]")
        if item_check is not _accept:
            def items(value: Any, found: Found, key: str | int | None) -> None:
                if type(value) is not list:
                    return
                if key is not None:
                    found.keys.append(key)
                for index, item in enumerate(value):
                    new = item_check(item, found, index)
                    if new is not None:
                        value[index] = new
                if key is not None:
                    found.keys.pop()

            checks.append(items)
    return checks


def _object_check(schema: dict[str, Any], ctx: _Context, where: str, report_own: bool) -> Validator | None:
    properties = schema.get("properties") or {}
    required = tuple(schema.get("required") or ())
    # Silent (no additionalProperties): other properties are accepted but reported, with a did-you-mean.
    # Explicit (true, {} or a schema, as a free-form `meta` is written): accepted without a word.
    silent = "additionalProperties" not in schema
    extra = schema.get("additionalProperties", True)
    inner = ctx.but(report_unknown=True)  # `report_unknown` is about this object's own properties only
    extra_check = _compile(extra, inner, f"{where}.*") if extra not in (True, False) else None
    if extra_check is _accept:
        extra, extra_check = True, None
    if not properties and not required and extra is True:
        return None  # nothing to check, and no property is named: no name is "unknown" either
    for name in required:
        if name not in properties and extra is False:
            raise ContractError(f"{where}: required property {name!r} is forbidden by additionalProperties")
    checks = {name: _compile(sub, inner, f"{where}.{name}") for name, sub in properties.items()}
    required_set = frozenset(required)
    defaults: tuple[tuple[str, Any], ...] = ()
    if ctx.fill_defaults:
        resolved = {name: resolve(ctx.document, sub) for name, sub in properties.items()}
        defaults = tuple((name, sub["default"]) for name, sub in resolved.items()
                         if isinstance(sub, dict) and "default" in sub and name not in required_set)
    forbid = extra is False
    report = report_own and silent and bool(checks)
    hints = Hints(tuple(properties))
    operation_id = ctx.operation_id

    def object_check(value: Any, found: Found, key: str | int | None) -> None:
        if type(value) is not dict:
            return  # the type check says what is wrong
        keys = found.keys
        if key is not None:
            keys.append(key)
        others = False
        for name, item in value.items():  # the body's keys, usually fewer than the schema's
            check = checks.get(name)
            if check is None:
                others = True
            else:
                new = check(item, found, name)
                if new is not None:
                    value[name] = new  # an integral float, as an int (never adds or removes a key)
        if required_set and not required_set.issubset(value):
            for name in required:  # in the contract's order
                if name not in value:
                    found.missing(name)
        if others:
            _others(value, found)
        for name, default in defaults:
            if name not in value:
                # A list or object default is copied: a handler may change the body it is given.
                value[name] = copy.deepcopy(default) if isinstance(default, (dict, list)) else default
        if key is not None:
            keys.pop()

    def _others(value: dict[str, Any], found: Found) -> None:
        for name, item in value.items():
            if name in checks:
                continue
            if forbid:
                found.invalid(f"property {shown_json(name)} is not allowed{hints.suggest(name)}", None)
            elif extra_check is not None:
                new = extra_check(item, found, name)
                if new is not None:
                    value[name] = new
            elif report:
                found.tolerate(f"Unknown body property {found.where(name)} for {operation_id}{hints.suggest(name)}")

    return object_check



def _compile_all_of(schema: dict[str, Any], ctx: _Context, where: str) -> Validator:
    members = schema["allOf"]
    if not isinstance(members, list) or not members:
        raise ContractError(f"{where}: allOf must be a non-empty list")
    inner = ctx.but(report_unknown=False)
    checks = [_compile(member, inner, f"{where}.allOf[{index}]") for index, member in enumerate(members)]
    names: set[str] = set(schema.get("properties") or {})
    open_ended = schema.get("additionalProperties", True) is True
    for member in members:
        member = resolve(ctx.document, member)
        if isinstance(member, dict):
            names.update(member.get("properties") or {})
            open_ended = open_ended and member.get("additionalProperties", True) is True
    if ctx.report_unknown and open_ended and names:
        hints = Hints(tuple(sorted(names)))
        known = frozenset(names)
        operation_id = ctx.operation_id

        def unknown_of_all(value: Any, found: Found, key: str | int | None) -> None:
            if type(value) is dict:
                for name in value:
                    if name not in known:
                        where = found.where(key) + step(name)
                        found.tolerate(f"Unknown body property {where} for {operation_id}{hints.suggest(name)}")

        checks.append(unknown_of_all)
    return _all_of(checks)


def _one_or_any(members: Any, ctx: _Context, where: str, exactly_one: bool) -> Validator:
    keyword = "oneOf" if exactly_one else "anyOf"
    if not isinstance(members, list) or not members:
        raise ContractError(f"{where}: {keyword} must be a non-empty list")
    resolved = [resolve(ctx.document, member) for member in members]
    if all(isinstance(member, dict) and set(member) - ANNOTATIONS == {"required"} for member in resolved):
        return _required_alternatives([tuple(member["required"]) for member in resolved], exactly_one)
    inner = ctx.but(fill_defaults=False)
    branches = [_compile(member, inner, f"{where}.{keyword}[{index}]") for index, member in enumerate(members)]
    total = len(branches)

    def alternatives(value: Any, found: Found, key: str | int | None) -> None:
        matched: list[Found] = []
        closest: Found | None = None
        for branch in branches:
            run = found.branch()
            branch(value, run, key)
            if not run.count():
                matched.append(run)
                if not exactly_one:
                    break
            elif closest is None or run.count() < closest.count():
                closest = run
        if len(matched) == 1 or (matched and not exactly_one):
            for message in matched[0].tolerated:
                found.tolerate(message)
            return
        if matched:
            found.invalid(f"matches {len(matched)} of the {total} alternatives of its oneOf, but must match "
                          "exactly one", key)
            return
        assert closest is not None
        reasons = "; ".join(message for _, message, _ in closest.problems[:3])
        found.invalid(f"matches none of its {total} alternatives (closest: {reasons})", key)

    return alternatives


def _required_alternatives(alternatives: list[tuple[str, ...]], exactly_one: bool) -> Validator:
    """`anyOf: [{required: [a]}, {required: [b]}]`: a or b must be given (a "missing" problem when neither is)."""
    names = sorted({name for names in alternatives for name in names})

    def listed(found: Found) -> str:
        return " or ".join(" and ".join(found.where(name) for name in names) for names in alternatives)

    sets = tuple(frozenset(names) for names in alternatives)

    def required_alternatives(value: Any, found: Found, key: str | int | None) -> None:
        if type(value) is not dict:
            return
        if not exactly_one:  # anyOf: the first alternative given is enough
            for alternative in sets:
                if alternative.issubset(value):
                    return
            given = []
        else:
            given = [alternative for alternative in sets if alternative.issubset(value)]
            if len(given) == 1:
                return
        if key is not None:
            found.keys.append(key)
        if not given:
            found.missing(names[0], f"{listed(found)} is required")
        else:
            found.invalid(f"give only one of {listed(found)}", None)
        if key is not None:
            found.keys.pop()

    return required_alternatives


def _not(schema: Any, ctx: _Context, where: str) -> Validator:
    resolved = resolve(ctx.document, schema)
    keywords = set(resolved) - ANNOTATIONS if isinstance(resolved, dict) else set()
    if keywords == {"const"} or keywords == {"enum"}:  # `not: {const: 0}`: one set look-up, no message built
        values = [resolved["const"]] if keywords == {"const"} else list(resolved["enum"])
        forbidden = frozenset(canonical(value) for value in values)
        said = ("must not be " if len(values) == 1 and keywords == {"const"} else "must not be one of ") + \
            ", ".join(shown_json(value) for value in values)

        def not_value(value: Any, found: Found, key: str | int | None) -> None:
            if canonical(value) in forbidden:
                found.invalid(f"{said}, got {got(value)}", key)

        return not_value
    inner = _compile(schema, ctx.but(fill_defaults=False), f"{where}.not")

    def not_(value: Any, found: Found, key: str | int | None) -> None:
        run = found.branch()
        inner(value, run, key)
        if not run.count():
            found.invalid(f"must not match the schema its `not` forbids, got {got(value)}", key)

    return not_
