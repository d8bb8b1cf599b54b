"""The Loyalty webhook events: their names come from the contract's `webhooks` section.

The contract (contracts/loyalty.openapi.yaml) holds one payload schema per event; this module
reads the names from it and resolves each schema into a plain JSON Schema (no `$ref`), which the
tests validate rendered payloads against and `conformance-webhooks` draws payloads from.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mock_server.contract import load_contract
from mock_server.contract.loader import resolve

# Events that time causes (the clock moving), not an API call: their payload says `source: schedule`.
SCHEDULED = frozenset({
    "balance_expiration_reminder", "balance_value_expired", "membership_anniversary_reminder",
    "subscription_month_anniversary", "subscription_year_anniversary", "tier_association_month_anniversary",
    "tier_association_year_anniversary", "tier_anniversary_reminder", "voucher_expired",
    "voucher_expiration_reminder",
})


def event_names(document: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The 24 event names, in the contract's order."""
    return tuple((document or load_contract()).get("webhooks", {}))


@cache
def _default_schemas() -> dict[str, dict[str, Any]]:
    return _schemas(load_contract())


def payload_schemas(document: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Event name -> its payload's JSON Schema, every `$ref` inlined."""
    return _default_schemas() if document is None else _schemas(document)


def _schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for name, item in document.get("webhooks", {}).items():
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        found[name] = _inlined(document, schema)
    return found


def _inlined(document: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inlined(document, resolve(document, node))
        return {key: _inlined(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(document, value) for value in node]
    return node
