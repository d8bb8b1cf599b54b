"""Handlers called as plain functions, with parameters completed as the pipeline does.

Handlers read defaults from their params (the contract's defaults, filled in
by the pipeline) instead of restating them; tests that call handlers directly
go through this wrapper so that the defaults still come from the contract, and
get the body back as the JSON values a client would read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from mock_server.contract import compile_contract, load_contract
from mock_server.contract.params import MISSING
from mock_server.routes import Handler, all_handlers


def contract_handlers() -> dict[str, Handler]:
    contract = compile_contract(load_contract())
    wrapped: dict[str, Handler] = {}
    for operation_id, handler in all_handlers().items():
        operation = contract.operations[operation_id]
        defaults = {name: p.default for name, p in operation.query_params.items() if p.default is not MISSING}

        def call(world: Any, params: Mapping[str, Any], _h: Handler = handler, _d: dict = defaults) -> Any:
            # As a client reads it: plain JSON values (records rendered once come as orjson fragments).
            return orjson.loads(orjson.dumps(_h(world, {**_d, **params})))

        wrapped[operation_id] = call
    return wrapped
