"""A stateful walk over the contract's links, with schemathesis' `as_state_machine()`.

The conformance runner's stateful phase does the same inside the engine;
this test drives the state machine directly, as a project's own suite would,
and checks that the walk really follows the links (from the program list to
members, their tiers, vouchers and rewards), every answer passing the checks.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, settings

from mock_server.conformance.budget import budgeted_session
from mock_server.conformance.discovery import discover
from mock_server.conformance.runner import RunOptions, build_schema
from mock_server.contract.loader import load_contract
from mock_server.testing import RunningMock


def test_the_links_are_walked_and_every_step_conforms(mock: RunningMock) -> None:
    options = RunOptions(base_url=mock.base_url, api_key=mock.api_key)
    session = budgeted_session(options.budget)
    session.headers["api-key"] = mock.api_key
    ids = discover(session, mock.base_url, api_key=mock.api_key)
    schema = build_schema(copy.deepcopy(load_contract()), options, ids)
    visited: dict[str, set[int]] = {}

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            visited.setdefault(case.operation.definition.raw["operationId"], set()).add(response.status_code)

    # Derandomized: the same walk on every run (the long conformance run explores further).
    Workflow.run(settings=settings(max_examples=15, stateful_step_count=8, deadline=None, database=None,
                                   derandomize=True, suppress_health_check=list(HealthCheck)))

    reached = {operation for operation, statuses in visited.items() if 200 in statuses}
    # Only the program list can start a walk; everything else below was reached through links.
    assert "getLPList" in reached
    through_links = reached - {"getLPList"}
    assert len(through_links) >= 8, visited
    assert {"getContactBalances", "getSubscriptionTier"} & through_links, visited
