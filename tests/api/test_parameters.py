"""Parameters across the contract: defaults as documented, and every parameter's effect tested somewhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.contract import compile_contract, load_contract
from mock_server.contract.responses import load_validator
from tests.api import test_balance, test_member, test_program, test_reward, test_tier
from tests.api.support import Api, Request, client_for, find_ids, make_settings, sample_writes, world_of
from tests.api.test_errors import parameter_specs
from tests.support.operations import read_operations, write_operations

CONTRACT = compile_contract(load_contract())
# Read behaviour (defaults, effects of filters and pages); writes' parameters are tested with their handlers.
OPERATIONS = sorted(read_operations(CONTRACT))
WRITES = sorted(write_operations(CONTRACT))
AREA_MODULES = (test_program, test_balance, test_tier, test_reward, test_member)


def documented_default(spec: dict[str, Any]) -> Any:
    """The default the contract writes for a parameter: `schema.default`, else `x-mock-default`."""
    schema = spec.get("schema", {})
    return schema["default"] if "default" in schema else spec.get("x-mock-default")


def as_query_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_every_parameter_of_every_operation_has_its_effect_tested():
    covered: dict[str, set[str]] = {}
    for module in AREA_MODULES:
        for operation_id, names in module.COVERS.items():
            assert operation_id not in covered, f"{operation_id} is covered by two modules"
            covered[operation_id] = set(names)
    documented = {
        operation_id: {p.name for p in operation.path_params} | set(operation.query_params)
        for operation_id, operation in read_operations(CONTRACT).items()
    }
    assert covered == documented


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_an_absent_parameter_takes_the_documented_default(api: Api, samples, operation_id):
    request = samples[operation_id]
    specs = parameter_specs(api.contract, operation_id)
    defaults = {name: documented_default(spec) for name, spec in specs.items()
                if spec["in"] == "query" and documented_default(spec) is not None and name not in request.query}
    plain = api.send(operation_id, request)
    assert plain.status_code == 200
    for name, value in defaults.items():
        explicit = api.get(operation_id, request.path, {**request.query, name: as_query_value(value)})
        assert explicit.status_code == 200 and explicit.content == plain.content, (name, value)
    every = api.get(operation_id, request.path,
                    {**request.query, **{k: as_query_value(v) for k, v in defaults.items()}})
    assert every.content == plain.content


def test_the_default_page_size_of_contact_balances_is_fifty():
    app = create_app(make_settings(contacts=60))
    with client_for(app) as client:
        ids = find_ids(world_of(app))
        response = client.get(f"/v3/loyalty/balance/programs/{ids.pid}/contact-balances",
                              params={"balanceDefinitionId": ids.bdid})
        body = response.json()
        assert body["count"] == 60 and len(body["balances"]) == 50
        rest = client.get(f"/v3/loyalty/balance/programs/{ids.pid}/contact-balances",
                          params={"balanceDefinitionId": ids.bdid, "offset": 50}).json()
        assert len(rest["balances"]) == 10
        assert {r["contactId"] for r in body["balances"] + rest["balances"]} == set(ids.data.members.contact_ids)


def uuid_parameters(operation_id: str) -> set[str]:
    specs = parameter_specs(CONTRACT, operation_id)
    return {name for name, spec in specs.items() if spec["schema"].get("format") == "uuid"}


@pytest.mark.parametrize("operation_id", [op for op in OPERATIONS if uuid_parameters(op)])
def test_uuid_ids_are_read_in_any_letter_case(api: Api, samples, operation_id):
    """UUIDs compare case-insensitively: an id sent in upper case names the same record."""
    request = samples[operation_id]
    uuids = uuid_parameters(operation_id)
    path = {k: str(v).upper() if k in uuids else v for k, v in request.path.items()}
    query = {k: str(v).upper() if k in uuids else v for k, v in request.query.items()}
    assert (path, query) != (request.path, request.query)
    assert api.get(operation_id, path, query).content == api.send(operation_id, request).content


# --- writes: an id in upper case routes and answers as in lower case ---------------------------


@pytest.fixture(scope="module")
def writable() -> Iterator[tuple[Starlette, Api, dict[str, Request]]]:
    """An app of its own, reset before each write: the same write on the same world, once per letter case."""
    app = create_app(make_settings())
    with client_for(app) as client:
        yield app, Api(client, app.state.mock.contract, load_validator()), sample_writes(find_ids(world_of(app)))


def _on_a_fresh_world(app: Starlette, api: Api, operation_id: str, request: Request) -> Any:
    app.state.mock.backends.reset()
    return api.send(operation_id, request)


@pytest.mark.parametrize("operation_id", [op for op in WRITES if uuid_parameters(op)])
def test_uuid_ids_of_a_write_are_read_in_any_letter_case(writable, operation_id):
    """The same write with its ids in upper case, on the same fresh world, answers the same bytes."""
    app, api, writes = writable
    request = writes[operation_id]
    uuids = uuid_parameters(operation_id)
    upper = Request({k: str(v).upper() if k in uuids else v for k, v in request.path.items()},
                    {k: str(v).upper() if k in uuids else v for k, v in request.query.items()}, request.body)
    assert (upper.path, upper.query) != (request.path, request.query)
    lower_answer = _on_a_fresh_world(app, api, operation_id, request)
    upper_answer = _on_a_fresh_world(app, api, operation_id, upper)
    assert "Invalid parameter" not in lower_answer.text, lower_answer.text  # the sample's ids are well-formed
    assert (upper_answer.status_code, upper_answer.content) == (lower_answer.status_code, lower_answer.content)
