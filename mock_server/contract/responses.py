"""Responses checked against the contract, compiled once per operation and status.

The server never needs this (it builds its answers from the same contract);
the proxy checks every upstream answer with it, and the tests use it to check
what the mock sends. Each documented response is compiled once into a
`ResponseSpec`: its media types, a JSON Schema validator for its body and its
headers. Checking a response is then look-ups and one validator call, and it
collects every problem instead of stopping at the first.

`jsonschema_rs` is a dependency of schemathesis, so it is present wherever the
conformance tooling is installed; the mock server itself never imports this
module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from mock_server.contract.loader import load_contract, resolve
from mock_server.contract.operations import HTTP_METHODS

MAX_BODY_PROBLEMS = 10  # a list of 500 broken items must not flood the journal
SHOWN_CHARS = 80


@dataclass(frozen=True, slots=True)
class HeaderSpec:
    name: str  # lower case
    required: bool
    kind: str  # the schema type: integer, number, boolean or string


@dataclass(frozen=True, slots=True)
class ResponseSpec:
    operation_id: str
    status: int
    media_types: tuple[str, ...]  # empty: the response documents no body
    body: jsonschema_rs.Validator | None
    headers: tuple[HeaderSpec, ...]


class ResponseValidator:
    """Every documented response of every operation, ready to check answers with."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._specs: dict[tuple[str, int], ResponseSpec] = {}
        self._statuses: dict[str, tuple[int, ...]] = {}
        # Schemas are validated inside a copy of the components, so that local
        # `#/components/...` references resolve exactly as in the contract.
        components = document.get("components", {})
        for item in (document.get("paths") or {}).values():
            item = resolve(document, item)
            for method in HTTP_METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                operation_id = operation["operationId"]
                statuses = []
                for code, response in (operation.get("responses") or {}).items():
                    if not str(code).isdigit():
                        continue
                    status = int(code)
                    statuses.append(status)
                    spec = _compile_response(document, components, operation_id, status, response)
                    self._specs[(operation_id, status)] = spec
                self._statuses[operation_id] = tuple(sorted(statuses))

    def spec(self, operation_id: str, status: int) -> ResponseSpec | None:
        return self._specs.get((operation_id, status))

    def check(self, operation_id: str, status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Every way this answer breaks the contract; an empty list when it conforms.

        `headers` must be readable by lower-case name (an httpx or Starlette
        header mapping, or a plain dict with lower-case keys).
        """
        documented = self._statuses.get(operation_id)
        if documented is None:
            return [f"{operation_id} is not an operation of the contract"]
        spec = self._specs.get((operation_id, status))
        if spec is None:
            listed = ", ".join(str(code) for code in documented)
            return [f"status {status} is not documented for {operation_id} (it documents {listed})"]
        problems = _check_headers(spec, headers)
        if not spec.media_types:
            if body.strip():
                problems.append(f"status {status} of {operation_id} documents no body, got {len(body)} byte(s)")
            return problems
        content_type = headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in spec.media_types:
            problems.append(
                f"content-type {content_type or '(none)'!r} is not documented for status {status} "
                f"(expected {', '.join(spec.media_types)})"
            )
            return problems  # the body cannot be read as the documented type
        try:
            instance = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            problems.append(f"body is not valid JSON: {error}")
            return problems
        if spec.body is not None:
            problems.extend(_body_problems(spec.body, instance))
        return problems


def _compile_response(
    document: dict[str, Any], components: dict[str, Any], operation_id: str, status: int, response: Any
) -> ResponseSpec:
    response = resolve(document, response)
    media_types: list[str] = []
    validator = None
    for media_type, content in (response.get("content") or {}).items():
        media_types.append(media_type.lower())
        schema = (content or {}).get("schema")
        if schema is not None and media_type.lower() == "application/json":
            root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": components,
                    "allOf": [schema]}
            validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    headers = []
    for name, header in (response.get("headers") or {}).items():
        header = resolve(document, header)
        kind = str((header.get("schema") or {}).get("type", "string"))
        headers.append(HeaderSpec(name.lower(), bool(header.get("required", False)), kind))
    return ResponseSpec(operation_id, status, tuple(media_types), validator, tuple(headers))


def _check_headers(spec: ResponseSpec, headers: Mapping[str, str]) -> list[str]:
    problems = []
    for header in spec.headers:
        value = headers.get(header.name)
        if value is None:
            if header.required:
                problems.append(f"required header '{header.name}' is missing")
            continue
        if not _header_value_fits(header.kind, value):
            problems.append(f"header '{header.name}' must be {header.kind}, got {_shown(value)}")
    return problems


def _header_value_fits(kind: str, value: str) -> bool:
    text = value.strip()
    if kind == "integer":
        return text.lstrip("-").isdigit()
    if kind == "number":
        try:
            float(text)
        except ValueError:
            return False
        return True
    if kind == "boolean":
        return text in ("true", "false")
    return True


def _body_problems(validator: jsonschema_rs.Validator, instance: Any) -> list[str]:
    problems = []
    for error in validator.iter_errors(instance):
        if len(problems) == MAX_BODY_PROBLEMS:
            problems.append("... more body problems not shown")
            break
        where = "/" + "/".join(str(part) for part in error.instance_path)
        problems.append(f"body at {where}: {_shorten(error.message)}")
    return problems


def _shorten(text: str) -> str:
    return text if len(text) <= 2 * SHOWN_CHARS else text[: 2 * SHOWN_CHARS] + "…"


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…")


def load_validator(document: dict[str, Any] | None = None) -> ResponseValidator:
    """A validator for `document`, or for the packaged contract."""
    if document is None:
        document = load_contract()
    return ResponseValidator(document)
