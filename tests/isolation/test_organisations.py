"""Organisations: `--api-key KEY=ORG` gives each organisation its own world, and a key reads only its own.

Brevo scopes data by account; a mock that let any key read any program would
hide the authorisation bugs of the clients tested against it. Here, an id of
organisation A sent with a key of organisation B must answer exactly as an id
that exists nowhere: same status, same body (but for the id it quotes), and no
count or list of B's includes anything of A's.

Contact ids and loyaltySubscriptionIds are each organisation's own numbering
(as in Brevo, two accounts can both have a contact 42); they are reached only
through a program, so they are scoped by the program id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import build_worlds, create_app
from mock_server.contract.loader import resolve
from mock_server.settings import ApiKey, Settings, SettingsError
from mock_server.store.world import World
from tests.api.support import Request, find_ids, sample_writes
from tests.hostile.corpus import UNKNOWN_UUID, baseline, contract, fill, ids_from_summary, target_of
from tests.hostile.wire import in_process, scope_for
from tests.support.operations import read_operations, write_operations

KEYS = (ApiKey("key-a", "acme"), ApiKey("key-a2", "acme"), ApiKey("key-b", "globex"))
SETTINGS = Settings(seed=1, contacts=30, access_log=False, api_keys=KEYS)
KEY_OF = {"acme": "key-a", "globex": "key-b"}


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app(SETTINGS)


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def worlds(app: Any) -> dict[str, World]:
    return app.state.mock.worlds


def all_ids(summary: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for program in summary["programs"]:
        found.add(program["id"])
        for definition in program["balanceDefinitions"]:
            found.add(definition["id"])
            found.update(definition["limitIds"])
        for group in program["tierGroups"]:
            found.add(group["id"])
            found.update(tier["id"] for tier in group["tiers"])
        found.update(reward["id"] for reward in program["rewards"])
        found.update(pool["id"] for pool in program["codePools"])
    return found


def get(client: TestClient, target: str, key: str) -> Any:
    return client.get(target, headers={"api-key": key})


# --- one world per organisation -------------------------------------------------------------

def test_organisations_get_worlds_with_no_id_in_common(app: Any) -> None:
    acme, globex = (all_ids(worlds(app)[name].summary()) for name in ("acme", "globex"))
    assert len(acme) > 20 and len(globex) > 20
    assert not acme & globex


def test_a_world_derives_from_the_seed_and_the_organisation_name_only(app: Any) -> None:
    # The same organisation, declared alone, second, or under another key: the same world, byte for byte.
    alone = build_worlds(Settings(seed=1, contacts=30, api_keys=(ApiKey("other-key", "acme"),)))["acme"]
    reordered = build_worlds(Settings(seed=1, contacts=30, api_keys=(KEYS[2], KEYS[0])))["acme"]
    assert alone.summary(sample=30) == reordered.summary(sample=30) == worlds(app)["acme"].summary(sample=30)
    reseeded = build_worlds(Settings(seed=2, contacts=30, api_keys=(KEYS[0],)))["acme"]
    assert not all_ids(reseeded.summary()) & all_ids(alone.summary())


def test_two_keys_of_one_organisation_read_the_same_data(client: TestClient, app: Any) -> None:
    ids = ids_from_summary(worlds(app)["acme"].summary())
    for operation in read_operations(contract()).values():  # a write changes what the second key reads
        target = fill(target_of(*baseline(operation)), ids)
        first, second = get(client, target, "key-a"), get(client, target, "key-a2")
        assert first.status_code == 200, (operation.operation_id, first.text[:200])
        assert first.content == second.content, operation.operation_id


# --- another organisation's ids answer as unknown ones --------------------------------------

def _id_params(operation_id: str) -> list[str]:
    operation = contract().operations[operation_id]
    names = [param.name for param in operation.path_params if param.name != "cid"]
    return names + [name for name in ("balanceDefinitionId",) if name in operation.query_params and
                    operation.query_params[name].required]


def _swap(template: str, param: str, value: str) -> str:
    placeholder = {"balanceDefinitionId": "{bdid}"}.get(param, "{" + param + "}")
    return template.replace(placeholder, value)


# Reads here; writes in test_a_write_naming_an_id_of_another_organisation_answers_as_an_unknown_one.
CASES = [(op, param) for op in sorted(read_operations(contract())) for param in _id_params(op)]


@pytest.mark.parametrize(("operation_id", "param"), CASES, ids=[f"{op}-{p}" for op, p in CASES])
def test_an_id_of_another_organisation_answers_exactly_as_an_unknown_one(
        client: TestClient, app: Any, operation_id: str, param: str) -> None:
    """Organisation B's key, B's other ids, and one id of A's: the answer of an id that exists nowhere."""
    a_ids = ids_from_summary(worlds(app)["acme"].summary())
    b_ids = ids_from_summary(worlds(app)["globex"].summary())
    template = target_of(*baseline(contract().operations[operation_id]))
    placeholder = "bdid" if param == "balanceDefinitionId" else param
    foreign = get(client, fill(_swap(template, param, a_ids[placeholder]), b_ids), "key-b")
    unknown = get(client, fill(_swap(template, param, UNKNOWN_UUID), b_ids), "key-b")
    assert 400 <= foreign.status_code < 500, foreign.text
    assert foreign.status_code == unknown.status_code
    assert foreign.text == unknown.text.replace(UNKNOWN_UUID, a_ids[placeholder])
    assert a_ids[placeholder] in foreign.json()["message"]  # it names the id, as for any unknown one
    # and the owner's key does read it
    assert get(client, fill(template, a_ids), "key-a").status_code == 200


def _uuid_names(operation_id: str) -> list[tuple[str, str]]:
    """(location, name) of a write's UUID inputs: path ids, query ids and top-level body fields of the contract."""
    operation = contract().operations[operation_id]
    document = contract().document
    spec = resolve(document, document["paths"][operation.path])[operation.method.lower()]
    found = [("path", p.name) for p in operation.path_params if p.expectation.startswith("a UUID")]
    found += [("query", name) for name, p in operation.query_params.items() if "UUID" in p.expectation]
    if "requestBody" in spec:
        schema = resolve(document, resolve(document, spec["requestBody"])["content"]["application/json"]["schema"])
        found += [("body", name) for name, sub in (schema.get("properties") or {}).items()
                  if resolve(document, sub).get("format") == "uuid"]
    return found


def _with(request: Request, location: str, name: str, value: str) -> Request:
    if location == "path":
        return Request({**request.path, name: value}, request.query, request.body)
    if location == "query":
        return Request(request.path, {**request.query, name: value}, request.body)
    return Request(request.path, request.query, {**request.body, name: value})


def _held(request: Request, location: str, name: str) -> Any:
    return {"path": request.path, "query": request.query, "body": request.body or {}}[location].get(name)


# Every write that names a record (all but createNewLP, which names none).
@pytest.mark.parametrize("operation_id", sorted(op for op, operation in write_operations(contract()).items()
                                                if operation.path_params))
def test_a_write_naming_an_id_of_another_organisation_answers_as_an_unknown_one(
        client: TestClient, app: Any, operation_id: str) -> None:
    """B's sample write with one id of A's answers as with an id that exists nowhere, whatever the status.

    Both are refused, so the world stays as it is. Whether the write succeeds with B's own ids is the area's test.
    """
    a_write = sample_writes(find_ids(worlds(app)["acme"]))[operation_id]
    b_write = sample_writes(find_ids(worlds(app)["globex"]))[operation_id]
    operation = contract().operations[operation_id]

    def send(request: Request) -> Any:
        url = contract().base_path + operation.path.format(**request.path)
        return client.request(operation.method, url, params=request.query, json=request.body,
                              headers={"api-key": "key-b"})

    names = [(location, name) for location, name in _uuid_names(operation_id)
             if _held(b_write, location, name) is not None]  # the ids the sample sends
    assert names, operation_id
    for location, name in names:
        foreign_id = str(_held(a_write, location, name))
        foreign = send(_with(b_write, location, name, foreign_id))
        unknown = send(_with(b_write, location, name, UNKNOWN_UUID))
        assert foreign.status_code >= 400, (name, foreign.text)  # never carried out
        assert foreign.status_code == unknown.status_code, name
        assert foreign.text == unknown.text.replace(UNKNOWN_UUID, foreign_id), name
        assert foreign_id in foreign.json()["message"], name


def test_every_id_of_one_organisation_is_unknown_to_the_other(client: TestClient, app: Any) -> None:
    """Each program of A, and each record under it, read with B's key on the program's own path."""
    for program in worlds(app)["acme"].summary()["programs"]:
        pid = program["id"]
        checks = [f"/v3/loyalty/config/programs/{pid}",
                  f"/v3/loyalty/balance/programs/{pid}/balance-definitions",
                  f"/v3/loyalty/tier/programs/{pid}/tier-groups",
                  f"/v3/loyalty/offer/programs/{pid}/offers"]
        checks += [f"/v3/loyalty/balance/programs/{pid}/balance-definitions/{d['id']}"
                   for d in program["balanceDefinitions"]]
        checks += [f"/v3/loyalty/tier/programs/{pid}/tier-groups/{g['id']}" for g in program["tierGroups"]]
        checks += [f"/v3/loyalty/offer/programs/{pid}/rewards/{r['id']}" for r in program["rewards"]]
        checks += [f"/v3/loyalty/balance/programs/{pid}/subscriptions/{m['contactId']}/balances"
                   for m in program["members"]]
        for target in checks:
            assert get(client, target, "key-a").status_code == 200, target
            foreign = get(client, target, "key-b")
            assert foreign.status_code in (404, 422), (target, foreign.text)  # 422: the list that documents no 404
            assert foreign.json()["message"].count(pid) == 1  # the program is what it does not know


# --- lists and counts ------------------------------------------------------------------------

def test_the_program_list_is_the_keys_organisations(client: TestClient, app: Any) -> None:
    for organisation, key in KEY_OF.items():
        body = get(client, "/v3/loyalty/config/programs?limit=500", key).json()
        own = [program["id"] for program in worlds(app)[organisation].summary()["programs"]]
        assert sorted(item["id"] for item in body["items"]) == sorted(own)


def test_counts_under_a_program_are_the_organisations_own(client: TestClient, app: Any) -> None:
    for organisation, key in KEY_OF.items():
        world = worlds(app)[organisation]
        ids = ids_from_summary(world.summary())
        data = world.program(ids["pid"])
        assert data is not None
        members = get(client, f"/v3/loyalty/balance/programs/{ids['pid']}/contact-balances?"
                              f"balanceDefinitionId={ids['bdid']}&limit=1", key).json()
        assert members["count"] == len(data.members)
        offers = get(client, f"/v3/loyalty/offer/programs/{ids['pid']}/offers?limit=1", key).json()
        assert offers["totalCount"] == len(data.rewards)
        definitions = get(client, f"/v3/loyalty/balance/programs/{ids['pid']}/balance-definitions", key).json()
        assert len(definitions["items"]) == len(data.definitions)


def test_keys_of_two_organisations_in_one_request_are_refused(client: TestClient, app: Any) -> None:
    pid = ids_from_summary(worlds(app)["acme"].summary())["pid"]
    answer = client.get(f"/v3/loyalty/config/programs/{pid}", headers=[("api-key", "key-a"), ("api-key", "key-b")])
    assert answer.status_code == 401
    assert answer.json() == {"code": "unauthorized",
                             "message": "Header 'api-key' is sent 2 times: send exactly one key"}
    assert pid not in answer.text


# --- the mock's own endpoints ------------------------------------------------------------------

ADMIN_GETS = ("/__mock__/world", "/__mock__/requests", "/__mock__/world?organisation=globex")


def _admin(app: Any, method: str, target: str, client_address: tuple[str, int]) -> Any:
    from tests.hostile.corpus import Case

    case = Case("admin", "-", target, 200, "", method=method, api_key=False)
    return in_process(app, scope_for(case, {}, client=client_address))


@pytest.mark.parametrize("address", ["203.0.113.7", "10.0.0.2", "::ffff:198.51.100.1", "fe80::1"])
def test_admin_endpoints_refuse_clients_off_loopback(app: Any, address: str) -> None:
    for target in ADMIN_GETS:
        answer = _admin(app, "GET", target, (address, 40000))
        assert answer.status == 403 and answer.json()["code"] == "permission_denied", target
        assert b"acme" not in answer.body and b"globex" not in answer.body
    assert _admin(app, "POST", "/__mock__/reset", (address, 40000)).status == 403
    health = _admin(app, "GET", "/__mock__/health", (address, 40000))
    assert health.status == 200 and health.json() == {"status": "ok"}  # up, and no organisation names


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1"])
def test_admin_endpoints_answer_loopback_clients(app: Any, address: str) -> None:
    answer = _admin(app, "GET", "/__mock__/world?organisation=globex", (address, 40000))
    assert answer.status == 200 and answer.json()["organisation"] == "globex"
    assert answer.json()["apiKeys"] == ["key-b"]
    assert _admin(app, "GET", "/__mock__/health", (address, 40000)).json()["organisations"] == ["acme", "globex"]


def test_no_admin_turns_every_admin_endpoint_off() -> None:
    app = create_app(Settings(seed=1, contacts=5, access_log=False, admin=False))
    with TestClient(app) as client:
        for target in ("/__mock__/health", "/__mock__/world", "/__mock__/requests", "/__mock__/openapi.json",
                       "/__mock__/"):
            answer = client.get(target)
            assert answer.status_code == 404 and answer.json()["code"] == "document_not_found", target
        assert client.post("/__mock__/reset").status_code in (404, 405)


# --- settings that would blur which organisation a key reads -----------------------------------

@pytest.mark.parametrize(("keys", "forbidden", "fragment"), [
    ((ApiKey("k", "acme"), ApiKey("k", "globex")), (), "two organisations"),
    ((ApiKey("k", "acme"),), ("k",), "both accepted"),
    ((), (), "no api key"),
    ((ApiKey("my key", "acme"),), (), "'my key'"),
    ((ApiKey("k,x", "acme"),), (), "commas"),
    ((ApiKey("k", "ac,me"),), (), "'ac,me'"),
])
def test_settings_refuse_an_ambiguous_key_mapping(keys: tuple[ApiKey, ...], forbidden: tuple[str, ...],
                                                  fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings(api_keys=keys, forbidden_keys=forbidden)


def test_a_key_listed_twice_for_one_organisation_is_fine() -> None:
    settings = Settings(api_keys=(ApiKey("k", "acme"), ApiKey("k", "acme"), ApiKey("j", "acme")))
    assert settings.organisations == ("acme",)
