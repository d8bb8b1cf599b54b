"""Fixtures of the HTTP tests: one app on a small seeded world (seed 1, 50 contacts per program).

Expectations in these tests come from the world the app was built from (its
`World`, read through the store) or from the contract, never from the response
under test. `Api.ok` checks every 200 body against the contract's response
schema, so every happy-path test is also a contract check.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.contract.operations import CompiledContract
from mock_server.contract.responses import ResponseValidator, load_validator
from mock_server.store.world import World
from tests.api.support import (
    Api,
    Ids,
    Request,
    client_for,
    find_ids,
    make_settings,
    sample_requests,
    sample_writes,
    world_of,
)


@pytest.fixture(scope="session")
def validator() -> ResponseValidator:
    return load_validator()


@pytest.fixture(scope="session")
def app() -> Starlette:
    return create_app(make_settings())


@pytest.fixture(scope="session")
def world(app: Starlette) -> World:
    return world_of(app)


@pytest.fixture(scope="session")
def ids(world: World) -> Ids:
    return find_ids(world)


@pytest.fixture(scope="session")
def samples(ids: Ids) -> dict[str, Request]:
    return sample_requests(ids)


@pytest.fixture(scope="session")
def writes(ids: Ids) -> dict[str, Request]:
    return sample_writes(ids)


@pytest.fixture(scope="session")
def contract(app: Starlette) -> CompiledContract:
    return app.state.mock.contract


@pytest.fixture(scope="session")
def client(app: Starlette) -> Iterator[TestClient]:
    with client_for(app) as client:
        yield client


@pytest.fixture(scope="session")
def api(client: TestClient, contract: CompiledContract, validator: ResponseValidator) -> Api:
    return Api(client, contract, validator)

