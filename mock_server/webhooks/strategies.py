"""Hypothesis strategies for the JSON Schemas of the webhook payloads (`catalog.payload_schemas`).

The contract's payload schemas use a small part of JSON Schema: objects with properties and
required names, `allOf` (the common fields plus an event's own), `oneOf` (a tier or null),
`const`, `enum`, strings with `format` uuid or date-time, numbers and integers with bounds. This
builds a strategy for exactly that part and refuses anything else, so a schema the generator does
not understand fails loudly instead of producing invalid payloads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

_KNOWN = {"type", "properties", "required", "allOf", "oneOf", "anyOf", "const", "enum", "format", "minimum",
          "maximum", "minLength", "maxLength", "description", "examples", "items", "minItems", "maxItems"}
_LARGEST = 2**53 - 1  # integers a JSON reader keeps exactly


class UnsupportedSchema(ValueError):
    pass


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    unknown = set(schema) - _KNOWN
    if unknown:
        raise UnsupportedSchema(f"schema keywords {sorted(unknown)} are not supported")
    if "allOf" in schema:
        merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
        for part in schema["allOf"]:
            merged = _merge(merged, part)
        return from_schema(merged)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([from_schema(_merge({k: v for k, v in schema.items() if k != key}, branch))
                              for branch in schema[key]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": one}) for one in kind])
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(schema)
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum", -_LARGEST), max_value=schema.get("maximum", _LARGEST))
    if kind == "number":
        low, high = schema.get("minimum", -1e9), schema.get("maximum", 1e9)
        return st.one_of(st.integers(min_value=int(low), max_value=int(high)),
                         st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {"type": "string"})), min_size=schema.get("minItems", 0),
                        max_size=schema.get("maxItems", 3))
    raise UnsupportedSchema(f"schema type {kind!r} is not supported")


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Both schemas at once (the subset used: properties are merged, required names joined)."""
    merged = {**left}
    for key, value in right.items():
        if key == "properties":
            properties = dict(merged.get("properties", {}))
            for name, sub in value.items():
                properties[name] = _merge(properties[name], sub) if name in properties else sub
            merged["properties"] = properties
        elif key == "required":
            merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
        else:
            merged[key] = value
    return merged


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    if not properties:  # a free object (contact_properties, metadata): a few plain entries
        return st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(st.text(max_size=8), st.integers()),
                               max_size=3)
    return st.fixed_dictionaries(
        {name: from_schema(sub) for name, sub in properties.items() if name in required},
        optional={name: from_schema(sub) for name, sub in properties.items() if name not in required},
    )


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    form = schema.get("format")
    if form == "uuid":
        return st.uuids().map(str)
    if form == "date-time":
        moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                               timezones=st.just(UTC))
        return moments.map(lambda moment: moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    if form is not None:
        raise UnsupportedSchema(f"string format {form!r} is not supported")
    alphabet = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    return st.text(alphabet, min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))
