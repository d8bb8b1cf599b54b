"""Long schemathesis run of the whole contract, writes included, against the app in process (`make fuzz`).

Every operation gets FUZZ_EXAMPLES generated requests (default 500), valid and invalid ones ("mode: all"), with
the seeded world's real ids mixed in so that most requests reach real records; the app is reset to its seeded
world before each case, so a fuzzed write never changes what the next case meets. Every built-in check runs on
every answer (no 5xx, documented status, content type, response schema and headers, invalid data rejected, valid
data accepted: a write's documented business refusals count as accepted, see tests/support/schemathesis_setup.py),
plus the mock's own: every error is Brevo's ``{"code", "message"}`` with no trace of the mock's insides. A stateful
run then follows the contract's links, reads and writes, each scenario from the seeded world.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mock_server.app import create_app
from mock_server.contract import load_contract
from mock_server.settings import DEFAULT_API_KEY, Settings
from tests.conformance.test_stateful import assert_mock_error_shape, whole_contract_machine
from tests.support.schemathesis_setup import app_config

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", str(max(20, EXAMPLES // 5))))
SEED = int(os.environ.get("FUZZ_SEED", "1"))

APP = create_app(Settings(seed=1, contacts=200, access_log=False))
schema = schemathesis.openapi.from_asgi("/__mock__/openapi.json", APP, config=SchemathesisConfig.from_dict(
    app_config(APP, load_contract(), examples=EXAMPLES, seed=SEED, api_key=DEFAULT_API_KEY)))


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_every_operation(case: Any) -> None:
    APP.state.mock.reset()  # the seeded world, an empty journal and fresh rate counts for every case
    response = case.call_and_validate()
    assert_mock_error_shape(response)


def test_links_walked_with_writes() -> None:
    walk, visited = whole_contract_machine(examples=STATEFUL_EXAMPLES, seed=SEED)
    walk.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=10, deadline=None,
                               database=None, suppress_health_check=list(HealthCheck)))
    assert any(statuses & {200, 204} for statuses in visited.values()), visited
