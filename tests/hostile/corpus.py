"""The hostile-input corpus: malformed requests a buggy client can send, as data.

Each `Case` is one request as it goes on the wire (method, request target, extra
headers, body) and what the mock must answer: the status, Brevo's error code,
and fragments the message must contain (what it names). Targets hold
placeholders for the seeded ids, filled in by `fill` from a world's summary:
``{pid} {bdid} {blid} {cid} {gid} {rid} {cpid}``, and ``{pid|nodash}`` /
``{pid|upper}`` for transformed ids.

``level``
    ``"app"``: the request reaches the app. The tests send it in-process (ASGI)
    and over a socket to the real command, and both answers must agree.
    ``"http"``: the server refuses it before the app (not HTTP/1.1, or past a
    limit of docs/limits.md); only a socket can send it.

Most cases are generated from the contract: every parameter of every read
operation gets the bad values of its kind (`integer_values`, `uuid_values`,
...), sent on an otherwise valid request (`baseline`), so that the answer can
only be about that parameter. Hand-written cases cover what is not a parameter:
encodings, NUL bytes, sizes, path traversal, methods and headers. The value
generators are also what the hypothesis fuzz (tests/fuzz) draws from.

The corpus is about requests a client reads with (a malformed query or path on a
GET); the writes' parameters, bodies and their refusals are tested in
tests/api/test_errors.py and the areas' write tests.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

from mock_server.contract import compile_contract, load_contract
from mock_server.contract.loader import resolve
from mock_server.contract.operations import CompiledContract, Operation
from mock_server.contract.params import Param
from mock_server.limits import MAX_HEAD_BYTES, MAX_HEADERS, MAX_TARGET_BYTES
from tests.support.operations import read_operations

BASE = "/v3"
# A well-formed id that names nothing, in upper case: a client that upper-cases ids.
UNKNOWN_UPPER_UUID = "0E5C1D2A-7B3F-4C6D-9E8F-A1B2C3D4E5F6"
UNKNOWN_UUID = "0e5c1d2a-7b3f-4c6d-9e8f-a1b2c3d4e5f6"

CATEGORIES = (
    "out-of-range", "non-numeric", "float", "huge", "empty", "duplicated", "missing",
    "uuid-malformed", "uuid-upper", "uuid-dashless", "enum", "boolean", "pattern",
    "utf8", "percent", "nul", "oversized", "traversal", "method", "header",
)


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    target: str  # request target, with placeholders; sent as latin-1 bytes
    status: int
    code: str
    names: tuple[str, ...] = ()  # fragments the message must contain
    method: str = "GET"
    headers: tuple[tuple[bytes, bytes], ...] = ()  # besides Host and the api-key
    body: bytes = b""
    level: str = "app"  # "app" or "http"
    api_key: bool = True  # send the valid api-key header
    operation: str | None = None

    def request_target(self, ids: dict[str, str]) -> bytes:
        return fill(self.target, ids).encode("latin-1")


@dataclass(frozen=True)
class Mutation:
    """One bad value for a parameter, and how the mock must take it."""

    category: str
    label: str
    raw: str  # as sent: already percent-encoded where the wire needs it
    outcome: str = "invalid"  # "invalid": the parameter's invalid status; "unknown": the not-found status


# --- placeholders ------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|(\w+))?\}")


def fill(template: str, ids: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1) not in ids:  # braces of a value, not a placeholder
            return match.group(0)
        value = ids[match.group(1)]
        transform = match.group(2)
        if transform == "upper":
            return value.upper()
        if transform == "nodash":
            return value.replace("-", "")
        return value

    return _PLACEHOLDER.sub(one, template)


def ids_from_summary(summary: dict[str, Any]) -> dict[str, str]:
    """The placeholder values: the first program that has every kind of record, and one of each."""
    for program in summary["programs"]:
        with_limits = [d for d in program["balanceDefinitions"] if d["limitIds"]]
        if with_limits and program["tierGroups"] and program["rewards"] and program["codePools"] and \
                program["members"]:
            return {
                "pid": program["id"],
                "bdid": with_limits[0]["id"],
                "blid": with_limits[0]["limitIds"][0],
                "cid": str(program["members"][0]["contactId"]),
                "gid": program["tierGroups"][0]["id"],
                "rid": program["rewards"][0]["id"],
                "cpid": program["codePools"][0]["id"],
            }
    raise ValueError("no seeded program has definitions with limits, tier groups, rewards, pools and members")


# --- the contract ------------------------------------------------------------------------------

@cache
def contract() -> CompiledContract:
    return compile_contract(load_contract())


@cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(operationId, parameter name) -> the parameter's resolved schema (for minimum and maximum)."""
    document = load_contract()
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for item in document["paths"].values():
        item = resolve(document, item)
        for spec in item.values():
            if not isinstance(spec, dict) or "operationId" not in spec:
                continue
            for raw in [*item.get("parameters", []), *spec.get("parameters", [])]:
                param = resolve(document, raw)
                found[(spec["operationId"], param["name"])] = resolve(document, param.get("schema", {}))
    return found


PATH_PLACEHOLDERS = {"pid": "{pid}", "bdid": "{bdid}", "blid": "{blid}", "cid": "{cid}", "gid": "{gid}",
                     "rid": "{rid}", "cpid": "{cpid}"}
# Valid values for the query parameters a baseline request needs.
BASELINE_QUERY = {"balanceDefinitionId": "{bdid}", "contactId": "{cid}"}
# A real id of the kind each UUID parameter takes.
KNOWN_ID = {**PATH_PLACEHOLDERS, "balanceDefinitionId": "{bdid}", "rewardId": "{rid}"}


def baseline(operation: Operation) -> tuple[str, dict[str, str]]:
    """A valid request of the operation: its path (with placeholders) and query."""
    path = BASE + operation.path
    for param in operation.path_params:
        path = path.replace("{" + param.name + "}", PATH_PLACEHOLDERS[param.name])
    query = {name: BASELINE_QUERY[name] for name, param in operation.query_params.items() if param.required}
    if operation.requires_any_of:
        query.setdefault(operation.requires_any_of[0], BASELINE_QUERY[operation.requires_any_of[0]])
    return path, query


def target_of(path: str, query: dict[str, str] | list[tuple[str, str]]) -> str:
    pairs = list(query.items()) if isinstance(query, dict) else query
    return path + ("?" + "&".join(f"{name}={value}" for name, value in pairs) if pairs else "")


# --- bad values, by kind of parameter ----------------------------------------------------------

def kind_of(param: Param) -> str:
    expectation = param.expectation
    if expectation.startswith("a UUID"):
        return "uuid"
    if expectation.startswith("an integer"):
        return "integer"
    if expectation.startswith("one of"):
        return "enum"
    if expectation == "true or false":
        return "boolean"
    if expectation.startswith("a string matching"):
        return "pattern"
    return "string"


def integer_values(minimum: int | None, maximum: int | None) -> list[Mutation]:
    values = [
        Mutation("non-numeric", "letters", "abc"),
        Mutation("non-numeric", "hex", "0x1F"),
        Mutation("non-numeric", "word", "true"),
        Mutation("non-numeric", "underscore", "1_000"),
        Mutation("non-numeric", "plus-sign-as-space", "+1"),
        Mutation("non-numeric", "leading-space", "%201"),
        Mutation("non-numeric", "fullwidth-digit", "%EF%BC%95"),
        Mutation("non-numeric", "superscript-two", "%C2%B2"),
        Mutation("float", "decimal", "1.5"),
        Mutation("float", "exponent", "1e3"),
        Mutation("float", "nan", "NaN"),
        Mutation("float", "infinity", "Infinity"),
        Mutation("huge", "2^63", str(2**63)),
        Mutation("huge", "2^64", str(2**64)),
        Mutation("huge", "10^40", "1" + "0" * 40),
        Mutation("huge", "minus-2^63-minus-1", str(-(2**63) - 1)),
        Mutation("huge", "1000-digits", "9" * 1000),
        Mutation("empty", "empty", ""),
    ]
    if minimum is not None:
        values.append(Mutation("out-of-range", "below-minimum", str(minimum - 1)))
        values.append(Mutation("out-of-range", "negative", "-5"))
    if maximum is not None:
        values.append(Mutation("out-of-range", "above-maximum", str(maximum + 1)))
    return values


def uuid_values(known: str) -> list[Mutation]:
    """`known` is the placeholder of a real id of that kind."""
    stem = known[:-1]  # "{pid"
    return [
        Mutation("uuid-malformed", "words", "not-a-uuid"),
        Mutation("uuid-malformed", "too-short", "0e5c1d2a-7b3f-4c6d-9e8f-a1b2c3d4e5f"),
        Mutation("uuid-malformed", "too-long", "0e5c1d2a-7b3f-4c6d-9e8f-a1b2c3d4e5f60"),
        Mutation("uuid-malformed", "non-hex", "0g5c1d2a-7b3f-4c6d-9e8f-a1b2c3d4e5f6"),
        Mutation("uuid-malformed", "braces", "%7B0e5c1d2a-7b3f-4c6d-9e8f-a1b2c3d4e5f6%7D"),
        Mutation("uuid-malformed", "urn", "urn:uuid:0e5c1d2a-7b3f-4c6d-9e8f-a1b2c3d4e5f6"),
        Mutation("uuid-malformed", "integer", "12345"),
        Mutation("uuid-malformed", "trailing-newline", known + "%0A"),
        Mutation("uuid-malformed", "surrounding-spaces", "%20" + known + "%20"),
        Mutation("uuid-dashless", "dashless-known", stem + "|nodash}"),
        Mutation("uuid-dashless", "dashless-unknown", UNKNOWN_UUID.replace("-", "")),
        Mutation("uuid-upper", "upper-unknown", UNKNOWN_UPPER_UUID, outcome="unknown"),
        Mutation("empty", "empty", ""),
    ]


def enum_values(allowed: str) -> list[Mutation]:
    first = allowed.split(", ")[0]
    return [
        Mutation("enum", "upper-case", first.upper() if first.upper() != first else first.lower()),
        Mutation("enum", "unknown-word", "sideways"),
        Mutation("enum", "padded", f"%20{first}"),
        Mutation("empty", "empty", ""),
    ]


BOOLEAN_VALUES = [
    Mutation("boolean", "upper-case", "TRUE"),
    Mutation("boolean", "digit", "1"),
    Mutation("boolean", "yes", "yes"),
    Mutation("empty", "empty", ""),
]

# Pattern parameters: vouchers' metadata_key_value (a non-empty key), account-info's contactId (a string
# of digits, 400 when bad) and params (a section list).
PATTERN_VALUES = {
    "metadata_key_value": [
        Mutation("pattern", "empty-key", ":gold"),
        Mutation("pattern", "blank-key", "%20%20:gold"),
        Mutation("empty", "empty", ""),
    ],
    "contactId": [
        Mutation("pattern", "zero", "0"),
        Mutation("pattern", "negative", "-1"),
        Mutation("pattern", "letters", "abc"),
        Mutation("pattern", "trailing-newline", "{cid}%0A"),
        Mutation("pattern", "twenty-digits", "1" * 20),
        Mutation("pattern", "decimal", "{cid}.0"),
        Mutation("empty", "empty", ""),
    ],
    "params": [
        Mutation("pattern", "upper-case", "BALANCE"),
        Mutation("pattern", "trailing-comma", "balance,"),
        Mutation("pattern", "unknown-section", "balance,secrets"),
        Mutation("pattern", "trailing-newline", "balance%0A"),
        Mutation("empty", "empty", ""),
    ],
}


def mutations_for(operation: Operation, param: Param) -> list[Mutation]:
    kind = kind_of(param)
    schema = _schemas()[(operation.operation_id, param.name)]
    if kind == "integer":
        values = integer_values(schema.get("minimum"), schema.get("maximum"))
    elif kind == "uuid":
        values = uuid_values(KNOWN_ID[param.name])
        if param.location == "query":  # a well-formed unknown filter id is a question for the handler
            values = [value for value in values if value.outcome != "unknown"]
    elif kind == "enum":
        values = enum_values(param.expectation.removeprefix("one of "))
    elif kind == "boolean":
        values = BOOLEAN_VALUES
    elif kind == "pattern":
        values = PATTERN_VALUES[param.name]
    else:  # free strings: only the empty value can be wrong, and only where a length is required
        values = [Mutation("empty", "empty", "")] if param.invalid_status == 400 else []
    if param.location == "path" and operation.path.endswith("{" + param.name + "}"):
        # An empty last segment is another path (the list above it, or none): not this parameter's case.
        values = [value for value in values if value.category != "empty"]
    return values


def not_found_status(operation: Operation) -> int:
    """How an operation answers a well-formed id that names nothing: 404, else 400, else 422 (errors.py)."""
    return next((status for status in (404, 400, 422) if status in operation.statuses), 422)


# --- the generated cases -----------------------------------------------------------------------

def parameter_cases() -> Iterator[Case]:
    # Reads only: writes' parameters are covered with their bodies elsewhere (see the module docstring).
    for operation in read_operations(contract()).values():
        path, query = baseline(operation)
        op = operation.operation_id
        for param in (*operation.path_params, *operation.query_params.values()):
            for mutation in mutations_for(operation, param):
                if param.location == "path":
                    target = target_of(path.replace(PATH_PLACEHOLDERS[param.name], mutation.raw, 1), query)
                else:
                    target = target_of(path, {**query, param.name: mutation.raw})
                if mutation.outcome == "unknown":
                    status = not_found_status(operation)
                    code = "document_not_found" if status == 404 else "invalid_parameter"
                else:
                    status, code = param.invalid_status, "invalid_parameter"
                yield Case(f"{op}/{param.name}/{mutation.label}", mutation.category, target, status, code,
                           names=(f"'{param.name}'",), operation=op)
            if param.location == "query":
                valid = query.get(param.name) or _a_valid_value(operation, param)
                pairs = [*query.items()] if param.name in query else [*query.items(), (param.name, valid)]
                pairs.append((param.name, valid))
                yield Case(f"{op}/{param.name}/duplicated", "duplicated", target_of(path, pairs),
                           param.invalid_status, "invalid_parameter", names=(f"'{param.name}'", "more than once"),
                           operation=op)
            if param.location == "query" and param.required:
                without = {name: value for name, value in query.items() if name != param.name}
                yield Case(f"{op}/{param.name}/missing", "missing", target_of(path, without), 422,
                           "missing_parameter", names=(f"'{param.name}'",), operation=op)
        if operation.requires_any_of:  # account-info: one of contactId, loyaltySubscriptionId
            names = operation.requires_any_of
            without = {name: value for name, value in query.items() if name not in names}
            status = max(operation.query_params[name].invalid_status for name in names)
            yield Case(f"{op}/{'-or-'.join(names)}/missing", "missing", target_of(path, without), status,
                       "missing_parameter", names=tuple(f"'{name}'" for name in names), operation=op)


def _a_valid_value(operation: Operation, param: Param) -> str:
    kind = kind_of(param)
    if kind == "enum":
        return param.expectation.removeprefix("one of ").split(", ")[0]
    if kind == "boolean":
        return "false"
    if kind == "integer":
        return "1" if "1" in param.expectation else "0"
    if kind == "uuid":
        return KNOWN_ID[param.name]
    if kind == "pattern":
        return "{cid}" if param.name == "contactId" else "balance"
    return "x"


# --- the hand-written cases --------------------------------------------------------------------

PROGRAM = BASE + "/loyalty/config/programs/{pid}"
PROGRAMS = BASE + "/loyalty/config/programs"
BALANCES = BASE + "/loyalty/balance/programs/{pid}/subscriptions/{cid}/balances"
TIER = BASE + "/loyalty/balance/programs/{pid}/subscriptions/{cid}/tier"
CONTACT_BALANCES = BASE + "/loyalty/balance/programs/{pid}/contact-balances"
HISTORY = BASE + "/loyalty/balance/programs/{pid}/transaction-history?contactId={cid}&balanceDefinitionId={bdid}"
JSON = ((b"content-type", b"application/json"),)


def _invalid(name: str, category: str, target: str, param: str, status: int = 422, **extra: Any) -> Case:
    return Case(name, category, target, status, "invalid_parameter", names=(f"'{param}'",), **extra)


def _not_found(name: str, category: str, target: str, *names: str) -> Case:
    return Case(name, category, target, 404, "document_not_found", names=names)


def _refused(name: str, category: str, target: str, status: int, *names: str, **extra: Any) -> Case:
    return Case(name, category, target, status, "bad_request", names=names, level="http", **extra)


def encoding_cases() -> Iterator[Case]:
    yield _invalid("path/invalid-utf8", "utf8", BASE + "/loyalty/config/programs/%ff%fe", "pid")
    yield _invalid("path/overlong-utf8-slash", "utf8", BASE + "/loyalty/config/programs/%C0%AF", "pid")
    yield _invalid("path/utf16-surrogate", "utf8", BASE + "/loyalty/config/programs/%ED%A0%80", "pid")
    yield _invalid("path/truncated-utf8", "utf8", BASE + "/loyalty/config/programs/%E2%82", "pid")
    yield _invalid("path/cid-emoji", "utf8", BASE + "/loyalty/balance/programs/{pid}/subscriptions/%F0%9F%98%80/tier",
                   "cid")
    yield Case("query/invalid-utf8-value", "utf8", PROGRAMS + "?sort=asc&limit=%ff", 422, "invalid_parameter",
               names=("UTF-8", "'limit'"))
    yield Case("query/invalid-utf8-name", "utf8", PROGRAMS + "?%ff%fe=1", 422, "invalid_parameter", names=("UTF-8",))
    yield Case("query/overlong-utf8", "utf8", PROGRAMS + "?sort=%C0%AF", 422, "invalid_parameter",
               names=("UTF-8", "'sort'"))
    yield _invalid("path/percent-not-hex", "percent", BASE + "/loyalty/config/programs/%zz", "pid")
    yield _invalid("path/percent-alone", "percent", BASE + "/loyalty/config/programs/{pid}%", "pid")
    yield _invalid("path/percent-one-digit", "percent", BASE + "/loyalty/config/programs/%4", "pid")
    yield _invalid("path/encoded-slash", "percent", BASE + "/loyalty/config/programs/{pid}%2Faccount-info", "pid")
    yield _invalid("query/percent-not-hex", "percent", PROGRAMS + "?limit=%zz", "limit")
    yield _invalid("query/percent-alone", "percent", PROGRAMS + "?limit=%", "limit")
    yield _invalid("query/percent-encoded-digits-and-sign", "percent", PROGRAMS + "?offset=%2D%31", "offset")
    yield _invalid("query/double-encoded", "percent", PROGRAMS + "?limit=%2531", "limit")
    yield _refused("path/raw-non-ascii", "utf8", BASE + "/loyalty/config/programs/\xff\xfe", 400, "Malformed")
    yield _refused("query/raw-non-ascii", "utf8", PROGRAMS + "?limit=\xe9", 400, "Malformed")
    yield _refused("path/raw-space", "percent", BASE + "/loyalty/config/programs/a b", 400, "Malformed")


def nul_cases() -> Iterator[Case]:
    yield _invalid("path/encoded-nul", "nul", BASE + "/loyalty/config/programs/%00", "pid")
    yield _invalid("path/encoded-nul-after-id", "nul", BASE + "/loyalty/config/programs/{pid}%00", "pid")
    yield _invalid("query/encoded-nul-value", "nul", PROGRAMS + "?limit=1%00", "limit")
    yield _invalid("query/encoded-nul-enum", "nul", PROGRAMS + "?sort=asc%00", "sort")
    yield _invalid("query/encoded-nul-cid", "nul", HISTORY.replace("contactId={cid}", "contactId=%00"), "contactId")
    yield _refused("path/raw-nul", "nul", BASE + "/loyalty/config/programs/\x00", 400, "Malformed")
    yield _refused("query/raw-nul", "nul", PROGRAMS + "?limit=\x00", 400, "Malformed")
    yield _refused("header/nul-in-api-key", "nul", PROGRAMS, 400, "Malformed", api_key=False,
                   headers=((b"api-key", b"xkeysib-loyalty\x00-mock-local-key"),))
    yield _refused("header/nul-in-name", "nul", PROGRAMS, 400, "Malformed", headers=((b"x-a\x00b", b"1"),))


def oversized_cases() -> Iterator[Case]:
    # Past the limits: refused by the server (docs/limits.md).
    yield _refused("query/past-target-limit", "oversized", PROGRAMS + "?q=" + "a" * MAX_TARGET_BYTES, 414,
                   "Request target too long", str(MAX_TARGET_BYTES))
    yield _refused("path/past-target-limit", "oversized", PROGRAMS + "/" + "a" * MAX_TARGET_BYTES, 414,
                   "Request target too long")
    yield _refused("header/past-head-limit", "oversized", PROGRAMS, 431, "Request headers too large",
                   str(MAX_HEAD_BYTES), headers=((b"x-big", b"a" * (MAX_HEAD_BYTES + 1)),))
    yield _refused("header/past-head-limit-in-many-lines", "oversized", PROGRAMS, 431, "Request headers too large",
                   headers=tuple((f"x-big-{i}".encode(), b"b" * 4000) for i in range(5)))
    yield _refused("header/past-header-count", "oversized", PROGRAMS, 431, "Too many request headers",
                   str(MAX_HEADERS), headers=tuple((f"x-h{i}".encode(), b"1") for i in range(MAX_HEADERS + 1)))
    yield _refused("header/huge-api-key", "oversized", PROGRAMS, 431, "Request headers too large", api_key=False,
                   headers=((b"api-key", b"k" * 100_000),))
    # Within the limits: the app answers, and quotes a bounded part of what it got.
    yield _invalid("query/long-value", "oversized", PROGRAMS + "?limit=" + "7" * 7000, "limit")
    yield _invalid("query/long-enum", "oversized", PROGRAMS + "?sort=" + "a" * 7000, "sort")
    yield _invalid("path/long-id", "oversized", BASE + "/loyalty/config/programs/" + "f" * 7000, "pid")
    yield _invalid("query/many-duplicates", "oversized", PROGRAMS + "?" + "&".join(["limit=1"] * 1000), "limit")
    yield _not_found("path/long-unknown", "oversized", BASE + "/loyalty/" + "x/" * 3500, "No Loyalty endpoint")
    yield Case("header/long-wrong-key", "oversized", PROGRAMS, 401, "unauthorized", names=("api-key",),
               api_key=False, headers=((b"api-key", b"k" * 12_000),))


def traversal_cases() -> Iterator[Case]:
    yield _not_found("dot-dot-to-admin", "traversal", BASE + "/../__mock__/world", "No Loyalty endpoint")
    yield _not_found("dot-dot-in-api", "traversal", PROGRAM + "/../../programs", "No Loyalty endpoint")
    yield _not_found("dot-dot-etc-passwd", "traversal", BASE + "/loyalty/config/../../../../etc/passwd",
                     "No Loyalty endpoint")
    yield _not_found("dot-segment", "traversal", BASE + "/loyalty/./config/programs", "No Loyalty endpoint")
    yield _not_found("double-slash", "traversal", BASE + "/loyalty//config/programs", "No Loyalty endpoint")
    yield _not_found("admin-then-dot-dot", "traversal", "/__mock__/../v3/loyalty/config/programs", "Nothing at")
    yield _not_found("leading-double-slash", "traversal", "//v3/loyalty/config/programs", "Nothing at")
    yield _not_found("encoded-v3", "traversal", "/%2e%2e/v3/loyalty/config/programs", "Nothing at")
    yield _invalid("encoded-dot-dot-as-id", "traversal", BASE + "/loyalty/config/programs/%2e%2e", "pid")
    yield _invalid("encoded-slashes-as-id", "traversal",
                   BASE + "/loyalty/config/programs/..%2F..%2F..%2Fetc%2Fpasswd", "pid")
    yield _invalid("backslashes-as-id", "traversal", BASE + "/loyalty/config/programs/..%5C..%5Cwin.ini", "pid")
    yield _invalid("dot-dot-as-contact", "traversal", BASE + "/loyalty/balance/programs/{pid}/subscriptions/../tier",
                   "cid")


def method_cases() -> Iterator[Case]:
    # Methods that are no operation of their path: a program takes PUT, PATCH and DELETE (writes) but no POST,
    # a member's tier and the contact-balance list take only GET.
    body = b'{"name": "hostile"}'
    with_body = (*JSON, (b"content-length", str(len(body)).encode()))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        target = PROGRAM if method == "POST" else TIER
        yield Case(f"{method.lower()}-with-body", "method", target, 405, "method_not_allowed", names=(method,),
                   method=method, headers=with_body, body=body)
    yield Case("post-on-list-with-body", "method", CONTACT_BALANCES, 405, "method_not_allowed", names=("POST",),
               method="POST", headers=with_body, body=body)
    yield Case("delete-member-with-body", "method", BALANCES, 405, "method_not_allowed", names=("DELETE",),
               method="DELETE", headers=with_body, body=body)
    yield Case("propfind-with-body", "method", PROGRAM, 405, "method_not_allowed", names=("PROPFIND",),
               method="PROPFIND", headers=with_body, body=body)
    yield Case("trace", "method", PROGRAMS, 405, "method_not_allowed", names=("TRACE",), method="TRACE")
    yield Case("options-without-origin", "method", PROGRAMS, 405, "method_not_allowed", names=("OPTIONS",),
               method="OPTIONS")
    yield Case("post-with-body-never-sent", "method", PROGRAM, 405, "method_not_allowed", names=("POST",),
               method="POST", headers=((b"content-length", b"1000000000000"),))
    yield Case("post-chunked-body", "method", CONTACT_BALANCES, 405, "method_not_allowed", names=("POST",),
               method="POST", headers=((b"transfer-encoding", b"chunked"),), body=b"5\r\nhello\r\n0\r\n\r\n")
    yield Case("post-on-admin-openapi", "method", "/__mock__/openapi.json", 405, "method_not_allowed",
               names=("POST",), method="POST", headers=with_body, body=body, api_key=False)
    yield _refused("unknown-method-with-body", "method", PROGRAMS, 400, "Malformed", method="FROBNICATE",
                   headers=with_body, body=body)
    yield _refused("lower-case-method", "method", PROGRAMS, 400, "Malformed", method="get")
    yield _refused("connect-to-elsewhere", "method", "elsewhere.invalid:443", 400, "Malformed", method="CONNECT")
    yield _refused("conflicting-lengths", "method", PROGRAMS, 400, "Malformed", method="POST",
                   headers=((b"content-length", b"1"), (b"content-length", b"2")), body=b"ab")
    yield _refused("bad-chunk-size", "method", PROGRAMS, 400, "Malformed", method="POST",
                   headers=((b"transfer-encoding", b"chunked"),), body=b"zz\r\nhello\r\n0\r\n\r\n")


def header_cases() -> Iterator[Case]:
    yield Case("no-api-key", "header", PROGRAMS, 401, "unauthorized", names=("api-key",), api_key=False)
    yield Case("empty-api-key", "header", PROGRAMS, 401, "unauthorized", names=("api-key",), api_key=False,
               headers=((b"api-key", b""),))
    yield Case("wrong-api-key", "header", PROGRAM, 401, "unauthorized", names=("api-key",), api_key=False,
               headers=((b"api-key", b"xkeysib-not-a-key"),))
    yield Case("latin1-api-key", "header", PROGRAMS, 401, "unauthorized", names=("api-key",), api_key=False,
               headers=((b"api-key", b"xkeysib-\xe9\xff"),))
    yield Case("api-key-in-query", "header", PROGRAMS + "?api-key=xkeysib-loyalty-mock-local-key", 401,
               "unauthorized", names=("api-key",), api_key=False)
    yield Case("duplicated-api-key", "header", PROGRAM, 401, "unauthorized", names=("'api-key'", "2 times"),
               headers=((b"api-key", b"xkeysib-loyalty-mock-local-key"),))
    yield Case("duplicated-api-key-one-wrong", "header", PROGRAM, 401, "unauthorized", names=("'api-key'",),
               headers=((b"api-key", b"xkeysib-not-a-key"),))
    yield Case("prefer-not-a-status", "header", PROGRAMS, 422, "invalid_parameter", names=("Prefer",),
               headers=((b"prefer", b"code=abc"),))
    yield Case("prefer-superscript-digits", "header", PROGRAMS, 422, "invalid_parameter", names=("Prefer",),
               headers=((b"prefer", b"code=\xb2\xb2\xb2"),))
    yield Case("prefer-huge-status", "header", PROGRAMS, 422, "invalid_parameter", names=("Prefer",),
               headers=((b"prefer", b"code=" + b"9" * 4000),))
    yield Case("prefer-undocumented-status", "header", PROGRAMS, 422, "invalid_parameter", names=("Prefer", "418"),
               headers=((b"prefer", b"code=418"),))
    yield Case("cors-preflight-disallowed-method", "header", PROGRAMS, 400, "bad_request", names=("CORS",),
               method="OPTIONS", api_key=False,
               headers=((b"origin", b"http://localhost:3000"), (b"access-control-request-method", b"TRACE")))
    yield Case("origin-not-utf8", "header", PROGRAMS + "?limit=0", 422, "invalid_parameter", names=("'limit'",),
               headers=((b"origin", b"http://\xff\xfe"),))


def hand_written_cases() -> Iterator[Case]:
    yield from encoding_cases()
    yield from nul_cases()
    yield from oversized_cases()
    yield from traversal_cases()
    yield from method_cases()
    yield from header_cases()


@cache
def corpus() -> tuple[Case, ...]:
    cases = (*parameter_cases(), *hand_written_cases())
    duplicates = [name for name, count in Counter(case.name for case in cases).items() if count > 1]
    if duplicates:
        raise ValueError(f"corpus case names used twice: {duplicates}")
    return cases


@dataclass
class Summary:
    total: int
    by_category: dict[str, int] = field(default_factory=dict)
    by_level: dict[str, int] = field(default_factory=dict)
    operations: set[str] = field(default_factory=set)


def summary() -> Summary:
    cases = corpus()
    return Summary(len(cases), dict(Counter(case.category for case in cases)),
                   dict(Counter(case.level for case in cases)),
                   {case.operation for case in cases if case.operation})


def quoted(value: str) -> str:
    """A free string as a query value (for the fuzz)."""
    return quote(value, safe="")
