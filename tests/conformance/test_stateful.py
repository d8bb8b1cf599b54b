"""schemathesis' state machine (`as_state_machine()`) over the whole contract, writes included, on a fresh mock.

The walk follows the contract's links (program list -> program -> members, tiers, vouchers, rewards; a write's
answer -> the reads and writes of what it made), sending generated reads and writes in process to a freshly built
app, and every answer passes every built-in check plus the mock's own (an error is Brevo's {"code", "message"},
never a traceback). A write's documented business refusals (404, 409, 412, 417, 422, 424: completing twice,
enrolling in an unpublished program, a voucher not redeemable now ...) are correct answers to schema-valid requests:
`positive_data_acceptance` accepts, per operation, exactly those its contract entry documents
(tests/support/schemathesis_setup.py, docs/conformance.md). Bounded here; `make fuzz` runs it long.
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mock_server.app import create_app
from mock_server.contract import load_contract
from mock_server.contract.operations import HTTP_METHODS
from mock_server.settings import DEFAULT_API_KEY, Settings
from tests.support.schemathesis_setup import acceptance_overrides, app_config

TRACEBACK_MARKERS = ("Traceback", 'File "', "site-packages")
ROOT = Path(__file__).resolve().parents[2]


def assert_mock_error_shape(response: Any) -> None:
    """An error answer is Brevo's {"code", "message"}, both non-empty strings, and never a 5xx or a traceback."""
    if response.status_code < 400:
        return
    text = response.content.decode("utf-8", "replace")
    assert response.status_code < 500, text
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, text
    document = json.loads(text)
    assert set(document) == {"code", "message"}, text
    assert all(isinstance(document[key], str) and document[key] for key in ("code", "message")), text


def whole_contract_machine(examples: int, seed: int = 1) -> tuple[Any, dict[str, set[int]]]:
    """A state machine class over every operation of the contract against a fresh app, and what it reached."""
    app = create_app(Settings(seed=1, contacts=60, access_log=False))
    config = SchemathesisConfig.from_dict(
        app_config(app, load_contract(), examples=examples, seed=seed, api_key=DEFAULT_API_KEY))
    schema = schemathesis.openapi.from_asgi("/__mock__/openapi.json", app, config=config)
    visited: dict[str, set[int]] = defaultdict(set)

    class Walk(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Every scenario starts from the seeded world: a walk's writes must not change what the next one
            # meets (hypothesis replays scenarios and needs the same answers to the same requests).
            app.state.mock.reset()

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            visited[case.operation.definition.raw["operationId"]].add(response.status_code)
            super().validate_response(response, case, **kwargs)
            assert_mock_error_shape(response)

    return Walk, visited


def test_the_whole_contract_walked_with_writes_conforms() -> None:
    walk, visited = whole_contract_machine(examples=15)
    # Derandomized: the same walk on every run (`make fuzz` explores further).
    walk.run(settings=settings(max_examples=15, stateful_step_count=8, deadline=None, database=None,
                               derandomize=True, suppress_health_check=list(HealthCheck)))

    succeeded = {operation for operation, statuses in visited.items() if statuses & {200, 204}}
    writes = {spec["operationId"] for item in load_contract()["paths"].values()
              for method, spec in item.items() if method in HTTP_METHODS and method != "get"}
    assert "getLPList" in succeeded, visited
    assert len(succeeded - {"getLPList"}) >= 8, visited
    # Writes were sent and some took effect: the walk is not a read-only one.
    assert succeeded & writes, visited


def test_the_cli_configuration_accepts_what_the_contract_documents() -> None:
    """schemathesis.toml (for schemathesis' CLI) lists the same accepted statuses the tests derive from the contract."""
    entries = tomllib.loads((ROOT / "schemathesis.toml").read_text())["operations"]
    in_toml = {operation_id: entry["checks"]["positive_data_acceptance"]["expected-statuses"]
               for entry in entries for operation_id in entry["include-operation-id"]}
    assert in_toml == acceptance_overrides(load_contract())
