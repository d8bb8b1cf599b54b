"""Operation handlers, one module per area of the Loyalty API.

A handler implements one operation of the contract, named by its operationId.
It receives the organisation's `World` and the request's parameters, already
validated, coerced and completed with defaults by the contract layer, keyed by
the contract's own parameter names (``sort_field``, ``contactId``,
``metadata_key_value`` ...). It returns the JSON-ready body (dicts, lists,
str, int, float, bool, None, and `orjson.Fragment` for static records
rendered once, see `rendered.py`), raises `NoContent` for a documented 204,
or raises an `ApiError` (usually `UnknownResource`). It never sees HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.store.world import World

Params = Mapping[str, Any]
Handler = Callable[["World", Params], Any]


def all_handlers() -> dict[str, Handler]:
    """operationId -> handler, for every operation the mock implements."""
    from mock_server.routes import balance, member, program, reward, tier

    handlers: dict[str, Handler] = {}
    for module in (program, balance, tier, reward, member):
        overlap = handlers.keys() & module.HANDLERS.keys()
        if overlap:
            raise RuntimeError(f"operationIds handled twice: {sorted(overlap)}")
        handlers.update(module.HANDLERS)
    return handlers
