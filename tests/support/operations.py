"""The contract's operations split by kind: reads (GET) and writes (everything else).

Tests about read behaviour (sample reads, the hostile query corpus, read-only
conformance) take `read_operations`; tests whose rule holds for writes too take
`write_operations` for the part they can already check. Both come from the
contract itself, so a new operation lands in the right group without a list
being edited by hand.
"""

from __future__ import annotations

from functools import cache

from mock_server.contract import CompiledContract, Operation, compile_contract, load_contract


@cache
def shipped_contract() -> CompiledContract:
    """The contract the mock serves (contracts/loyalty.openapi.yaml), compiled once per test session."""
    return compile_contract(load_contract())


def read_operations(contract: CompiledContract | None = None) -> dict[str, Operation]:
    """operationId -> operation, for every GET operation of the contract."""
    contract = contract or shipped_contract()
    return {op: operation for op, operation in contract.operations.items() if operation.method == "GET"}


def write_operations(contract: CompiledContract | None = None) -> dict[str, Operation]:
    """operationId -> operation, for every operation that is not a GET (POST, PUT, PATCH, DELETE)."""
    contract = contract or shipped_contract()
    return {op: operation for op, operation in contract.operations.items() if operation.method != "GET"}
