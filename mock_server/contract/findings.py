"""What one validation run finds, and how a message describes a value, a location and a near miss.

Shared by the schema compiler (`mock_server.contract.schema`): each problem is
kept as (location, message, missing), each tolerated property as a sentence;
the location ``body.order.lines[0].qty`` is only joined when something is
reported, so a valid body costs nothing here.
"""

from __future__ import annotations

import difflib
from typing import Any

import orjson

ROOT = "body"
MAX_PROBLEMS = 20  # named one by one in an answer; the rest are counted (a 1 MiB body can hold 100,000)
MAX_TOLERATED = 20
SHOWN_CHARS = 60  # how much of a bad string a message quotes


class Found:
    """What one validation run finds.

    The JSON location is a stack of keys (a container pushes its own key only
    while it checks its children) plus the key of the value being checked,
    which each validator receives as an argument: a valid scalar costs no
    string building and no push. Locations are joined only to report.
    """

    __slots__ = ("keys", "more_problems", "more_tolerated", "problems", "tolerated")

    def __init__(self, keys: list[str | int] | None = None) -> None:
        self.problems: list[tuple[str, str, bool]] = []  # (location, message, missing)
        self.tolerated: list[str] = []
        self.keys: list[str | int] = keys if keys is not None else []
        self.more_problems = 0
        self.more_tolerated = 0

    def where(self, key: str | int | None = None) -> str:
        keys = self.keys if key is None else [*self.keys, key]
        return ROOT + "".join(step(part) for part in keys)

    def invalid(self, message: str, key: str | int | None) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            where = self.where(key)
            self.problems.append((where, f"{where}: {message}", False))
        else:
            self.more_problems += 1

    def missing(self, name: str, message: str | None = None) -> None:
        """Property `name` (of the value being checked) is absent; `message` says it otherwise."""
        if len(self.problems) < MAX_PROBLEMS:
            where = self.where(name)
            self.problems.append((where, message or f"{where} is required", True))
        else:
            self.more_problems += 1

    def tolerate(self, message: str) -> None:
        if len(self.tolerated) < MAX_TOLERATED:
            self.tolerated.append(message)
        else:
            self.more_tolerated += 1

    def branch(self) -> Found:
        """A separate run at the same location, for an alternative of oneOf/anyOf."""
        return Found(list(self.keys))

    def count(self) -> int:
        return len(self.problems) + self.more_problems


def step(key: str | int) -> str:
    """One step of a location: ``[3]``, ``.name``, or ``["odd name"]`` (a long name cut, as values are)."""
    if isinstance(key, int):
        return f"[{key}]"
    if key.isidentifier() and len(key) <= SHOWN_CHARS:
        return f".{key}"
    return "[" + shown_json(key) + "]"


def got(value: Any) -> str:
    """A received JSON value as a message describes it: its type, and the value when short."""
    if value is None:
        return "null"
    if value is True or value is False:
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        if abs(value) < 10**30:
            return f"the integer {value}"
        return f"an integer of {value.bit_length()} bits"  # str() of a huge int is slow, past 4,300 digits refused
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"
        return "the string " + orjson.dumps(text).decode()
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return "an object"


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


# JSON kinds of the exact scalar types orjson decodes to: `canonical`'s common case, without `json_kind`'s checks.
_SCALAR_KINDS = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def canonical(value: Any) -> Any:
    """A hashable key equal for equal JSON values (1 and 1.0 alike; true and 1 not)."""
    kind = _SCALAR_KINDS.get(type(value))
    if kind is not None:
        return (kind, value)
    if isinstance(value, dict):
        return ("object", frozenset((key, canonical(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(canonical(item) for item in value))
    return (json_kind(value), value)


def shown_json(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


DID_YOU_MEAN = "did you mean "  # how a hint reads; the pipeline looks for it in a refused body's notes


class Hints:
    """Did-you-mean for an unknown property: the same name in another case first, then a close one."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.folded = {_fold(name): name for name in names}

    def suggest(self, name: str) -> str:
        if len(name) > 2 * SHOWN_CHARS:  # no property name is that long; difflib's cost grows with it
            return ""
        hint = self.folded.get(_fold(name))
        if hint is None:
            close = difflib.get_close_matches(name, self.names, n=1, cutoff=0.75)
            hint = close[0] if close else None
        return f"; {DID_YOU_MEAN}'{hint}'?" if hint else ""


def _fold(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")
