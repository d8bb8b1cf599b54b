"""The contract (contracts/loyalty.openapi.yaml) compiled once at start-up.

Nothing here re-reads the YAML per request: `compile_contract` turns every
operation into an `Operation` with its route, its compiled parameters and the
statuses it documents; request handling is then dictionary look-ups and
pre-built checks.
"""

from mock_server.contract.loader import load_contract
from mock_server.contract.operations import CompiledContract, Operation, compile_contract

__all__ = ["CompiledContract", "Operation", "compile_contract", "load_contract"]
