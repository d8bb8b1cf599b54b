"""Operation handlers, one module per area of the Loyalty API.

A handler implements one operation of the contract, named by its operationId.
A read handler receives the organisation's `World` and the request's parameters,
already validated, coerced and completed with defaults by the contract layer,
keyed by the contract's own parameter names (``sort_field``, ``contactId``,
``metadata_key_value`` ...). A write handler receives the organisation's
`Backend`, the parameters and the JSON body (already checked against the
contract), and makes one backend call. Both return the JSON-ready body (dicts,
lists, str, int, float, bool, None, and `orjson.Fragment` for static records
rendered once, see `rendered.py`), raise `NoContent` for a documented 204, or
raise an `ApiError` (usually `UnknownResource`). They never see HTTP.
"""

from __future__ import annotations

from typing import Any

from mock_server.routes import balance, member, program, reward, tier
from mock_server.routes.signatures import Handler, Params, WriteHandler

__all__ = ["Handler", "Params", "WriteHandler", "all_handlers", "all_write_handlers"]


def all_handlers() -> dict[str, Handler]:
    """operationId -> handler, for every read operation the mock implements."""
    return _collect("HANDLERS")


def all_write_handlers() -> dict[str, WriteHandler]:
    """operationId -> handler, for every write operation the mock implements."""
    return _collect("WRITE_HANDLERS")


def _collect(table: str) -> dict[str, Any]:
    handlers: dict[str, Any] = {}
    for module in (program, balance, tier, reward, member):
        found = getattr(module, table, {})
        overlap = handlers.keys() & found.keys()
        if overlap:
            raise RuntimeError(f"operationIds handled twice: {sorted(overlap)}")
        handlers.update(found)
    return handlers
