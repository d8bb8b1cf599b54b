"""The fixture format's shape: the keys each mapping takes, what kind of value each holds.

One source for two readers: the loader (`fixtures._Reader` takes its allowed,
required and exclusive keys from `SHAPES`, and its voucher-code rule from
`VOUCHER_CODE`) and editors, through the JSON Schema `fixture_schema()` builds
from the same table. The schema ships as ``fixtures/fixture.schema.json`` (in
the package: ``mock_server/_data/fixtures/``); ``brevo-loyalty-mock
fixture-schema`` prints it. What only the loader can check (names that refer
to each other, balances that add up, dates against the mock's clock, codes
unique in a program) stays in the loader; the schema describes those in words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mock_server.store.models import (
    BALANCE_UNITS,
    PROGRAM_STATES,
    REFERENCE_NOW_ISO,
    TRANSACTION_STATUSES,
    TRANSACTION_TYPES,
)

OFFER_STATES = ("active", "inactive", "expired", "draft")
EXPIRY_UNITS = ("day", "week", "month", "year")
VOUCHER_CODE = r"[\x21-\x7e]{1,64}"  # printable ASCII without spaces, as a voucher code is typed and sent
SUBSCRIPTION_ID_MAX = 64
SCHEMA_FILE = "fixture.schema.json"

JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    """One kind of mapping of a fixture file."""

    description: str
    properties: dict[str, JsonSchema]  # key -> the JSON Schema of its value (with a description)
    required: tuple[str, ...] = ()
    exclusive: tuple[tuple[str, str, str], ...] = ()  # (key, key, the problem when both are given)
    needs_one_of: tuple[tuple[str, ...], str] | None = None  # (keys, the problem when none is given)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(key for key in self.properties if key not in self.required)


# ---------------------------------------------------------------- value kinds


def _text(description: str, **more: Any) -> JsonSchema:
    return {"type": "string", "pattern": r"\S", "description": description, **more}


def _integer(description: str, minimum: int) -> JsonSchema:
    return {"type": "integer", "minimum": minimum, "description": description}


# A number, or a string holding one (YAML readers may quote amounts such as "12.50").
_DECIMAL = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


def _number(description: str, minimum: int | None = None, positive: bool = False) -> JsonSchema:
    number: JsonSchema = {"type": "number"}
    if positive:
        number["exclusiveMinimum"] = 0
    elif minimum is not None:
        number["minimum"] = minimum
    return {"anyOf": [number, {"type": "string", "pattern": _DECIMAL}], "description": description}


def _choice(description: str, options: tuple[str, ...]) -> JsonSchema:
    return {"enum": list(options), "description": description}


def _moment(description: str, after_clock: bool = False) -> JsonSchema:
    rule = "" if after_clock else f"; not after the mock's clock, {REFERENCE_NOW_ISO}"
    return {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}",
            "description": f"{description} (ISO 8601 date-time such as 2026-03-01T10:00:00Z{rule})"}


def _list(of: str, description: str, min_items: int = 0, nullable: bool = False) -> JsonSchema:
    schema: JsonSchema = {"type": ["array", "null"] if nullable else "array",
                          "items": {"$ref": f"#/definitions/{of}"}, "description": description}
    if min_items:
        schema["minItems"] = min_items
    return schema


def _meta(description: str) -> JsonSchema:
    return {"type": ["object", "null"], "description": description}


_UUID = r"^(urn:uuid:|uuid:)?\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?$"

# ---------------------------------------------------------------- the format

SHAPES: dict[str, Shape] = {
    "fixture": Shape(
        "A scenario layered on the mock's seeded world (brevo-loyalty-mock serve --fixture FILE).",
        {
            "name": _text("The scenario's name (default: the file name)."),
            "description": _text("What this scenario is for."),
            "programs": _list("program", "The programs the scenario touches or creates (at least one).", 1),
        },
        required=("programs",),
    ),
    "program": Shape(
        "A loyalty program, matched by name among the world's programs and created if absent.",
        {
            "name": _text("Matched by name; created if absent."),
            "id": {"type": "string", "pattern": _UUID, "description": "A fixed UUID for a created program."},
            "state": _choice("The state of a created program (default active).", PROGRAM_STATES),
            "description": _text("Free text."),
            "pattern": {"type": "string", "pattern": r"(#.*){4}",
                        "description": "loyaltySubscriptionIds made for new members; each '#' is a digit (4 or more)."},
            "balanceDefinitions": _list("balanceDefinition", "Balance definitions, matched by name."),
            "tierGroups": _list("tierGroup", "Tier groups, matched by name (a given group replaces its tiers)."),
            "offers": _list("offer", "Offers (rewards), matched by name."),
            "members": _list("member", "Members, matched by contactId."),
        },
        required=("name",),
    ),
    "balanceDefinition": Shape(
        "A balance definition of the program.",
        {
            "name": _text("Matched by name in the program."),
            "unit": _choice("What the balance counts (default POINTS).", BALANCE_UNITS),
            "internal": {"type": "boolean", "description": "Hidden from members (default false)."},
            "description": _text("Free text."),
            "expiry": {"anyOf": [{"$ref": "#/definitions/expiry"}, {"type": "null"}],
                       "description": "How long credits last; null: they never expire."},
        },
        required=("name",),
    ),
    "expiry": Shape(
        "A lifetime: value units.",
        {
            "value": _integer("How many units.", 1),
            "unit": _choice("The unit.", EXPIRY_UNITS),
        },
        required=("value", "unit"),
    ),
    "tierGroup": Shape(
        "A tier group: tiers reached by thresholds on one balance definition.",
        {
            "name": _text("Matched by name in the program."),
            "balanceDefinition": _text("The name of the balance definition the thresholds count."),
            "tiers": _list("tier", "The tiers, lowest threshold first (at least one).", 1),
        },
        required=("name", "balanceDefinition", "tiers"),
    ),
    "tier": Shape(
        "A tier and the balance that reaches it.",
        {
            "name": _text("The tier's name."),
            "threshold": _integer("The balance that reaches this tier; greater than the tier below.", 0),
        },
        required=("name", "threshold"),
    ),
    "offer": Shape(
        "An offer (reward) of the program.",
        {
            "name": _text("Matched by name in the program."),
            "publicName": _text("The name members see (default: name)."),
            "publicDescription": _text("What members get."),
            "state": _choice("The offer's state (default active).", OFFER_STATES),
            "value": _number("The reward's value.", minimum=0),
            "unit": _text("What value counts (default percentage)."),
            "code": _text("One fixed code shared by all the offer's vouchers."),
            "codes": _integer("The size of the offer's code pool (default 100).", 0),
        },
        required=("name",),
        exclusive=(("code", "codes", "takes either 'code' (one fixed code) or 'codes' (a pool size), not both"),),
    ),
    "member": Shape(
        "A member of the program, matched by contactId.",
        {
            "contactId": _integer("The Brevo contact id.", 1),
            "loyaltySubscriptionId": _text("The member's own id (default: the program pattern, filled).",
                                           maxLength=SUBSCRIPTION_ID_MAX),
            "subscribedAt": _moment("When the member joined"),
            "balances": _list("balance", "The member's balances, one per balance definition.", nullable=True),
            "vouchers": _list("voucher", "The member's vouchers (absent: keep the seeded ones; empty: none).",
                              nullable=True),
        },
        required=("contactId",),
    ),
    "balance": Shape(
        "A member's balance: a target, an exact history, or both (they must agree).",
        {
            "balanceDefinition": _text("The name of the balance definition."),
            "balance": _number("The member's total.", minimum=0),
            "transactions": _list("transaction", "The exact history, oldest first; completed credits minus "
                                  "completed debits make the balance.", nullable=True),
            "transactionCount": _integer("How many transactions to invent for the balance (default 4).", 0),
        },
        required=("balanceDefinition",),
        exclusive=(("transactions", "transactionCount", "takes either 'transactions' or 'transactionCount', "
                    "not both"),),
        needs_one_of=(("balance", "transactions"), "needs a 'balance', 'transactions', or both"),
    ),
    "transaction": Shape(
        "One transaction of a balance's history.",
        {
            "type": _choice("Credit or debit.", TRANSACTION_TYPES),
            "amount": _number("The amount, greater than 0.", positive=True),
            "status": _choice("The status (default completed); only completed ones count.", TRANSACTION_STATUSES),
            "createdAt": _moment("When it was made (on every transaction or on none)"),
            "expiresAt": _moment("When a credit expires", after_clock=True),
            "rejectReason": _text("Why it was rejected (rejected transactions only)."),
            "meta": _meta("Free key/values."),
        },
        required=("type", "amount"),
    ),
    "voucher": Shape(
        "A voucher the member holds.",
        {
            "offer": _text("The name of an offer of the program."),
            "code": {"type": "string", "pattern": f"^{VOUCHER_CODE}$",
                     "description": "The voucher's code: 1 to 64 printable characters without spaces, once per "
                     "program (an offer's fixed code excepted)."},
            "createdAt": _moment("When it was given"),
            "expiresAt": _moment("When it expires (default: createdAt plus the offer's voucher lifetime)",
                                 after_clock=True),
            "consumedAt": {"anyOf": [_moment("When it was redeemed"), {"type": "null"}],
                           "description": "When it was redeemed; absent or null: not redeemed."},
            "meta": _meta("Free key/values, searchable with metadata_key_value."),
        },
        required=("offer", "code"),
    ),
}


def _object_schema(shape: Shape) -> JsonSchema:
    schema: JsonSchema = {
        "type": "object",
        "description": shape.description,
        "properties": shape.properties,
        "additionalProperties": False,
    }
    if shape.required:
        schema["required"] = list(shape.required)
    rules: list[JsonSchema] = [{"not": {"required": [first, second]}} for first, second, _ in shape.exclusive]
    if shape.needs_one_of is not None:
        rules.append({"anyOf": [{"required": [key]} for key in shape.needs_one_of[0]]})
    if rules:
        schema["allOf"] = rules
    return schema


def fixture_schema() -> JsonSchema:
    """The JSON Schema (draft-07, what YAML editors support best) of a fixture file."""
    top = _object_schema(SHAPES["fixture"])
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "brevo-loyalty-mock fixture",
        **top,
        "definitions": {name: _object_schema(shape) for name, shape in SHAPES.items() if name != "fixture"},
    }


def schema_text() -> str:
    """The schema as the shipped file holds it (what ``brevo-loyalty-mock fixture-schema`` prints)."""
    return json.dumps(fixture_schema(), indent=2, ensure_ascii=False) + "\n"
