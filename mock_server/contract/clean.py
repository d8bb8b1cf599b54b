"""A straight-line check that a request body is clean, compiled once per operation.

The contract's validator (`schema.py`) is a tree of closures: a clean six-property body costs a dozen
calls, on every write. Most bodies are clean, and for them nothing needs saying. For the shapes write
bodies have (an object of scalar properties and free-form objects, required names, `anyOf`/`oneOf` of
required lists, defaults), this module generates one function, `clean(value) -> bool`, that answers only
"clean": the full validator would find no problem, tolerate no unknown property and convert no value.

It never reports anything itself. When it answers False, the full validator runs and says what is wrong
(its messages have one source); a property it does not cover answers False when present; a body schema
it does not cover gets no function at all (`compile_clean` returns None). So it can only be a shortcut to
"nothing to say", and `tests/contract/test_clean_bodies.py` checks that on every operation's body.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from mock_server.contract.loader import resolve
from mock_server.contract.params import ecma_anchors
from mock_server.contract.schema import ANNOTATIONS, FORMAT_PATTERNS, INTEGER_RANGES, STRING_FORMATS

Clean = Callable[[Any], bool]

_ROOT_KEYS = frozenset({"type", "properties", "required", "additionalProperties", "anyOf", "oneOf"})
_SCALAR_KEYS = frozenset({"type", "format", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                          "minLength", "maxLength", "pattern", "not"})
_KINDS = {"string": "str", "integer": "int", "number": "int, float", "boolean": "bool"}


class _Uncovered(Exception):
    """A schema feature this module does not compile: the full validator alone checks it."""


def compile_clean(schema: Any, document: dict[str, Any]) -> tuple[Clean, tuple[tuple[str, Any], ...]] | None:
    """(the clean check of a body schema, the defaults the full validator fills in), or None if not covered."""
    try:
        return _Generator(document).root(resolve(document, schema))
    except _Uncovered:
        return None


class _Generator:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.constants: dict[str, Any] = {"isfinite": math.isfinite}

    def constant(self, value: Any) -> str:
        name = f"C{len(self.constants)}"
        self.constants[name] = value
        return name

    def root(self, schema: Any) -> tuple[Clean, tuple[tuple[str, Any], ...]]:
        if not isinstance(schema, dict) or schema.get("type") != "object" or schema.get("nullable") is True:
            raise _Uncovered
        if set(schema) - ANNOTATIONS - _ROOT_KEYS:
            raise _Uncovered
        properties = schema.get("properties") or {}
        required = tuple(schema.get("required") or ())
        extra = schema.get("additionalProperties", None)
        # Unknown names: tolerated with a word (no additionalProperties), refused (false), or accepted
        # silently (true or {}): only the last is clean. A schema for them is not covered.
        if extra not in (None, True, False, {}):
            raise _Uncovered
        unknown_ok = extra is True or extra == {} or (extra is None and not properties)
        lines = ["def clean(value):", "    if type(value) is not dict:", "        return False",
                 "    for name, item in value.items():", "        kind = type(item)"]
        keyword = "if"
        for name, sub in properties.items():
            lines.append(f"        {keyword} name == {name!r}:")
            lines.extend("            " + line for line in self.property(resolve(self.document, sub)))
            keyword = "elif"
        unknown = "pass" if unknown_ok else "return False"
        if properties:
            lines += ["        else:", f"            {unknown}"]
        else:
            lines.append(f"        {unknown}")
        if required:
            lines.append(f"    if not {self.constant(frozenset(required))}.issubset(value):")
            lines.append("        return False")
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                lines.extend(self.alternatives(schema[keyword], exactly_one=keyword == "oneOf"))
        lines.append("    return True")
        namespace = dict(self.constants)
        exec(compile("\n".join(lines), "<clean body check>", "exec"), namespace)  # source generated above
        required_set = frozenset(required)
        resolved = {name: resolve(self.document, sub) for name, sub in properties.items()}
        defaults = tuple((name, sub["default"]) for name, sub in resolved.items()
                         if isinstance(sub, dict) and "default" in sub and name not in required_set)
        return namespace["clean"], defaults

    def alternatives(self, members: Any, exactly_one: bool) -> list[str]:
        """`anyOf`/`oneOf` of `required` lists alone (a or b must be given); anything else is not covered."""
        if not isinstance(members, list) or not members:
            raise _Uncovered
        resolved = [resolve(self.document, member) for member in members]
        if not all(isinstance(member, dict) and set(member) - ANNOTATIONS == {"required"} for member in resolved):
            raise _Uncovered
        sets = [self.constant(frozenset(member["required"])) for member in resolved]
        given = " + ".join(f"{name}.issubset(value)" for name in sets)
        test = f"({given}) == 1" if exactly_one else " or ".join(f"{name}.issubset(value)" for name in sets)
        return [f"    if not ({test}):", "        return False"]

    def property(self, schema: Any) -> list[str]:
        """The lines that return False unless `item` (of type `kind`) is clean for `schema`."""
        try:
            return self.scalar(schema) if schema.get("type") != "object" else self.free_form(schema)
        except (_Uncovered, AttributeError):
            return ["return False  # not covered here: the full validator decides"]

    def free_form(self, schema: dict[str, Any]) -> list[str]:
        """A free-form object (`meta`): any object, nothing inside checked."""
        if set(schema) - ANNOTATIONS - {"type", "additionalProperties"} or schema.get("nullable") is True:
            raise _Uncovered
        if schema.get("additionalProperties", True) not in (True, {}):
            raise _Uncovered
        return ["if kind is not dict:", "    return False"]

    def scalar(self, schema: dict[str, Any]) -> list[str]:
        kind = schema.get("type")
        if type(kind) is not str or kind not in _KINDS or schema.get("nullable") is True \
                or set(schema) - ANNOTATIONS - _SCALAR_KEYS:
            raise _Uncovered
        # An integer sent as 400.0 is converted by the full validator: not clean here, so it runs.
        lines = [f"if kind is not {_KINDS[kind]}:" if kind != "number" else "if kind is not int and kind is not float:",
                 "    return False"]
        fmt = schema.get("format")
        if kind == "number":
            lines += ["if kind is float and not isfinite(item):", "    return False"]
        if kind == "integer":
            if fmt not in INTEGER_RANGES:
                raise _Uncovered
            low, high = INTEGER_RANGES[fmt]
            lines += [f"if not {low} <= item <= {high}:", "    return False"]
        if kind in ("integer", "number"):
            lines += self.bounds(schema)
        if kind == "string":
            lines += self.string(schema, fmt)
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values or not all(type(value) is str for value in values):
                raise _Uncovered
            lines += [f"if item not in {self.constant(frozenset(values))}:", "    return False"]
        if "not" in schema:
            forbidden = resolve(self.document, schema["not"])
            keywords = set(forbidden) - ANNOTATIONS if isinstance(forbidden, dict) else set()
            if keywords == {"const"}:
                values = [forbidden["const"]]
            elif keywords == {"enum"}:
                values = list(forbidden["enum"])
            else:
                raise _Uncovered
            # `canonical(item)` is (JSON kind, item) for a scalar of the type checked above: the forbidden values
            # of that kind, compared as they are, decide alike (0 and 0.0 are one number; a bool is not).
            kinds = {"string": (str,), "integer": (int, float), "number": (int, float), "boolean": (bool,)}[kind]
            same_kind = frozenset(value for value in values if type(value) in kinds)
            lines += [f"if item in {self.constant(same_kind)}:", "    return False"]
        return lines

    def bounds(self, schema: dict[str, Any]) -> list[str]:
        """`minimum` and friends (OpenAPI 3.0's boolean exclusive forms too), as `schema._number_checks` reads them."""
        if "multipleOf" in schema:
            raise _Uncovered
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        low_ex, high_ex = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if low_ex is True:
            minimum, low_ex = None, minimum
        if high_ex is True:
            maximum, high_ex = None, maximum
        lines = []
        for bound, holds, exclusive in ((minimum, ">=", False), (low_ex, ">", True), (maximum, "<=", False),
                                        (high_ex, "<", True)):
            if isinstance(bound, (int, float)) and not (exclusive and bound is False):
                lines += [f"if not item {holds} {self.constant(bound)}:", "    return False"]
        return lines

    def string(self, schema: dict[str, Any], fmt: Any) -> list[str]:
        lines = []
        if fmt is not None:
            if fmt not in STRING_FORMATS:
                raise _Uncovered
            pattern = FORMAT_PATTERNS.get(fmt)
            if pattern is not None:  # the format's own pattern, matched here rather than through its function
                lines += [f"if {self.constant(pattern)}.fullmatch(item) is None:", "    return False"]
            else:
                lines += [f"if not {self.constant(STRING_FORMATS[fmt][0])}(item):", "    return False"]
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None or high is not None:
            lines += [f"if len(item) < {int(low or 0)}:", "    return False"]
            if high is not None:
                lines += [f"if len(item) > {int(high)}:", "    return False"]
        if "pattern" in schema:
            try:
                pattern = re.compile(ecma_anchors(schema["pattern"]))
            except (re.error, TypeError):
                raise _Uncovered from None
            lines += [f"if not {self.constant(pattern)}.search(item):", "    return False"]
        return lines
