"""Long schemathesis run of the contract against the app, in-process (`make fuzz`; not in `make test`).

Reads only for now: a fuzzed write would change the world the next cases read, and the writes'
handlers are still being merged (see the end of this docstring). Every read operation gets
FUZZ_EXAMPLES generated requests (default 500), valid and invalid ones ("mode: all"), with the
seeded world's real ids mixed in so that most requests reach real records; every built-in check runs on every answer
(no 5xx, documented status, content type, response schema and headers, invalid
data rejected, valid data accepted), plus the mock's own: every error is
Brevo's ``{"code", "message"}`` with no trace of the mock's insides. A stateful
run then follows the contract's links from the program list down.

Once every write has its handler, writes should be fuzzed here too, on an app reset between cases.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mock_server.app import create_app
from mock_server.contract import load_contract
from mock_server.contract.operations import HTTP_METHODS
from mock_server.settings import DEFAULT_API_KEY, Settings

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", str(max(20, EXAMPLES // 5))))
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' defaults
TRACEBACK_MARKERS = ("Traceback", 'File "', "site-packages")

APP = create_app(Settings(seed=1, contacts=200, access_log=False))


def _ids() -> dict[str, list[Any]]:
    """The seeded world's ids, by the parameter names that take them."""
    summary = APP.state.mock.worlds["default"].summary(sample=20)
    found: dict[str, list[Any]] = {name: [] for name in ("pid", "bdid", "blid", "gid", "rid", "cpid", "cid")}
    for program in summary["programs"]:
        found["pid"].append(program["id"])
        for definition in program["balanceDefinitions"]:
            found["bdid"].append(definition["id"])
            found["blid"] += definition["limitIds"]
        found["gid"] += [group["id"] for group in program["tierGroups"]]
        found["rid"] += [reward["id"] for reward in program["rewards"]]
        found["cpid"] += [pool["id"] for pool in program["codePools"]]
        found["cid"] += [member["contactId"] for member in program["members"]]
    found["balanceDefinitionId"] = found["bdid"]
    found["rewardId"] = found["rid"]
    found["contactId"] = found["cid"]
    return {name: values for name, values in found.items() if values}


def _not_found_overrides(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Operations that answer a well-formed unknown id with 400 or 422 (they document no 404)."""
    overrides = []
    for item in document["paths"].values():
        for method in HTTP_METHODS:
            spec = item.get(method)
            if not isinstance(spec, dict):
                continue
            statuses = {str(code) for code in spec.get("responses", {})}
            not_found = next((code for code in ("400", "422") if code in statuses), None)
            if "404" not in statuses and not_found:
                overrides.append({"include-operation-id": spec["operationId"],
                                  "checks": {"positive_data_acceptance": {
                                      "expected-statuses": [*POSITIVE_EXPECTED, not_found]}}})
    return overrides


def _config() -> SchemathesisConfig:
    ids = _ids()
    return SchemathesisConfig.from_dict({
        "seed": int(os.environ.get("FUZZ_SEED", "1")),
        "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none",
                       # Brevo tolerates unknown query parameters, and so does the mock (contracts/README.md).
                       "allow-extra-parameters": False},
        "auth": {"openapi": {"api-key": {"api_key": DEFAULT_API_KEY}}},
        "warnings": False,
        "operations": _not_found_overrides(load_contract()),
        "dictionaries": {name: {"values": values} for name, values in ids.items()},
        "parameters": {name: {"dictionary": name, "probability": 0.8} for name in ids},
    })


# Writes excluded (an exclusion holds; an inclusion would be ORed with the configuration's own filter).
schema = schemathesis.openapi.from_asgi("/__mock__/openapi.json", APP, config=_config()).exclude(
    method=["POST", "PUT", "PATCH", "DELETE"])


def assert_mock_error_shape(response: Any) -> None:
    if response.status_code < 400:
        return
    text = response.content.decode("utf-8", "replace")
    assert response.status_code < 500, text
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, text
    document = json.loads(text)
    assert set(document) == {"code", "message"}, text
    assert all(isinstance(document[key], str) and document[key] for key in ("code", "message")), text


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_every_operation(case: Any) -> None:
    response = case.call_and_validate()
    assert_mock_error_shape(response)


Stateful = schema.as_state_machine()


class LinkWalk(Stateful):  # type: ignore[misc, valid-type]
    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        super().validate_response(response, case, **kwargs)
        assert_mock_error_shape(response)


TestLinks = LinkWalk.TestCase
TestLinks.settings = settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=8, deadline=None,
                                  suppress_health_check=list(HealthCheck), database=None)
