"""The request pipeline on a tiny hand-made contract: auth, routing, validation, Prefer, errors.

These tests do not depend on the real contract or the seeded world, so a
failure here points at the pipeline itself.
"""

from types import SimpleNamespace

import orjson
import pytest

from mock_server.auth import KeyRing
from mock_server.contract import compile_contract
from mock_server.errors import NoContent, UnknownResource
from mock_server.journal import Journal
from mock_server.pipeline import LoyaltyApi
from mock_server.ratelimit import RateLimiter
from mock_server.settings import ApiKey, Settings

PID = "0f8fad5b-d9cb-469f-a165-70867728950e"
ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

TINY = {
    "openapi": "3.1.0",
    "servers": [{"url": "http://127.0.0.1:8080/v3"}],
    "components": {
        "schemas": {"Error": {"type": "object"}},
        "parameters": {
            "pid": {"name": "pid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        },
    },
    "paths": {
        "/things/{pid}": {
            "get": {
                "operationId": "getThing",
                "parameters": [
                    {"$ref": "#/components/parameters/pid"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5},
                     "x-mock-default": 2},
                    {"name": "contactId", "in": "query", "required": True,
                     "schema": {"type": "integer", "minimum": 1}},
                    {"name": "sort_field", "in": "query", "schema": {"type": "string", "enum": ["name"]},
                     "x-invalid-status": 400},
                ],
                "responses": {"200": {"description": "ok"}, "401": ERROR, "403": ERROR, "404": ERROR,
                              "422": ERROR, "400": ERROR, "500": ERROR},
            }
        },
        "/empty/{pid}": {
            "get": {
                "operationId": "getEmpty",
                "parameters": [{"$ref": "#/components/parameters/pid"}],
                "responses": {"200": {"description": "ok"}, "204": {"description": "none"}, "400": ERROR,
                              "422": ERROR},
            }
        },
    },
}

KEY = "good-key"


def get_thing(world, params):
    if params["pid"] != PID:
        raise UnknownResource("Thing", "pid", params["pid"])
    return {"world": world, **params}


def get_empty(world, params):
    if params["pid"] != PID:
        raise UnknownResource("Thing", "pid", params["pid"])
    raise NoContent()


@pytest.fixture
def api():
    settings = Settings(api_keys=(ApiKey(KEY, "acme"), ApiKey("other", "globex")), forbidden_keys=("nope",))
    return LoyaltyApi(
        compile_contract(TINY),
        # Backends stand-ins: the pipeline hands a read handler its organisation's `.world`.
        {"acme": SimpleNamespace(world="acme-world"), "globex": SimpleNamespace(world="globex-world")},
        KeyRing(settings),
        RateLimiter(settings.rate_limit),
        Journal(10),
        {"getThing": get_thing, "getEmpty": get_empty},
        {},
    )


def call(api, path, query="", key=KEY, method="GET", prefer=None):
    headers = [(b"api-key", key.encode())] if key is not None else []
    if prefer:
        headers.append((b"prefer", prefer.encode()))
    answer = api.answer(method, path.encode(), query.encode(), headers)
    body = orjson.loads(answer.body) if answer.body else None
    return answer, body


def test_happy_path_coerces_params_and_fills_defaults(api):
    answer, body = call(api, f"/v3/things/{PID}", "contactId=7")
    assert answer.status == 200
    assert body == {"world": "acme-world", "pid": PID, "contactId": 7, "limit": 2}
    assert answer.operation_id == "getThing"


def test_each_key_reads_its_own_organisation(api):
    _, body = call(api, f"/v3/things/{PID}", "contactId=7", key="other")
    assert body["world"] == "globex-world"


@pytest.mark.parametrize(("key", "status", "code"), [(None, 401, "unauthorized"), ("wrong", 401, "unauthorized"),
                                                      ("nope", 403, "permission_denied")])
def test_auth_failures_carry_no_data(api, key, status, code):
    answer, body = call(api, f"/v3/things/{PID}", "contactId=7", key=key)
    assert answer.status == status
    assert body["code"] == code and body["message"]
    assert "world" not in answer.body.decode()


def test_auth_comes_before_routing(api):
    answer, _ = call(api, "/v3/nowhere", key=None)
    assert answer.status == 401


def test_unknown_route_and_wrong_method(api):
    answer, body = call(api, "/v3/nowhere")
    assert answer.status == 404 and "/v3/nowhere" in body["message"]
    answer, body = call(api, f"/v3/things/{PID}", method="POST")
    assert answer.status == 405
    assert body == {"code": "method_not_allowed", "message": "POST Method is not allowed on this path"}
    assert (b"allow", b"GET, HEAD") in answer.headers


@pytest.mark.parametrize("query", ["contactId=7", "contactId=oops"])
def test_head_is_get_without_the_body(api, query):
    request = (f"/v3/things/{PID}".encode(), query.encode(), [(b"api-key", KEY.encode())])
    got, got_headers = api.response("GET", *request)
    headed, head_headers = api.response("HEAD", *request)
    assert headed.status == got.status and headed.operation_id == "getThing"
    assert headed.body == b"" and got.body
    assert (b"content-length", str(len(got.body)).encode()) in head_headers
    assert [h for h in head_headers if not h[0].startswith(b"x-sib-ratelimit")] == \
        [h for h in got_headers if not h[0].startswith(b"x-sib-ratelimit")]


def test_validation_collects_every_problem_and_names_each(api):
    answer, body = call(api, "/v3/things/not-a-uuid", "limit=9")
    assert answer.status == 422
    assert body["code"] == "invalid_parameter"
    for name in ("'pid'", "'limit'", "'contactId'"):
        assert name in body["message"]


def test_missing_only_is_missing_parameter(api):
    answer, body = call(api, f"/v3/things/{PID}")
    assert (answer.status, body["code"]) == (422, "missing_parameter")
    assert "contactId" in body["message"]


def test_x_invalid_status_400_is_honoured(api):
    answer, body = call(api, f"/v3/things/{PID}", "contactId=1&sort_field=bogus")
    assert answer.status == 400
    assert "sort_field" in body["message"]


def test_duplicated_parameter_is_refused(api):
    answer, body = call(api, f"/v3/things/{PID}", "contactId=1&contactId=2")
    assert answer.status == 422 and "more than once" in body["message"]


def test_invalid_utf8_in_query_is_a_clear_422(api):
    answer, body = call(api, f"/v3/things/{PID}", "contactId=%ff")
    assert answer.status == 422 and "UTF-8" in body["message"]


def test_unknown_parameters_are_tolerated_but_journaled_as_violations(api):
    answer, _ = call(api, f"/v3/things/{PID}", "contactId=1&contact_id=1")
    assert answer.status == 200
    assert any("contact_id" in v and "contactId" in v for v in answer.violations)


def test_unknown_id_takes_the_documented_not_found_status(api):
    other = "11111111-2222-4333-8444-555555555555"
    answer, body = call(api, f"/v3/things/{other}", "contactId=1")
    assert (answer.status, body["code"]) == (404, "document_not_found")
    assert other in body["message"]
    # getEmpty documents no 404: the documented 400 is used instead.
    answer, _ = call(api, f"/v3/empty/{other}")
    assert answer.status == 400


def test_no_content_is_an_empty_204(api):
    answer, _ = call(api, f"/v3/empty/{PID}")
    assert answer.status == 204 and answer.body == b""


@pytest.mark.parametrize("status", [400, 404, 422, 500, 401, 403])
def test_prefer_reaches_every_documented_status(api, status):
    answer, body = call(api, f"/v3/things/{PID}", "contactId=1", prefer=f"code={status}")
    assert answer.status == status
    assert set(body) == {"code", "message"} and "Prefer" in body["message"]


def test_prefer_undocumented_status_names_the_documented_ones(api):
    answer, body = call(api, f"/v3/things/{PID}", "contactId=1", prefer="code=418")
    assert answer.status == 422
    assert "418" in body["message"] and "200, 400, 401" in body["message"]


def test_prefer_does_not_bypass_auth(api):
    answer, _ = call(api, f"/v3/things/{PID}", "contactId=1", key=None, prefer="code=200")
    assert answer.status == 401


def test_rate_limit_headers_on_every_answer(api):
    for path in (f"/v3/things/{PID}", "/v3/nowhere"):
        answer, _ = call(api, path, "contactId=1")
        names = {name for name, _ in answer.headers}
        assert {b"x-sib-ratelimit-limit", b"x-sib-ratelimit-remaining", b"x-sib-ratelimit-reset"} <= names


def test_a_crashing_handler_answers_500_without_traceback(api):
    def boom(world, params):
        raise ZeroDivisionError("secret internals")

    api.handlers["getThing"] = boom
    answer, body = call(api, f"/v3/things/{PID}", "contactId=1")
    assert answer.status == 500
    assert "secret" not in answer.body.decode() and "Traceback" not in answer.body.decode()
    assert body["code"] == "internal_error"


def test_every_contract_operation_needs_a_handler():
    settings = Settings()
    with pytest.raises(RuntimeError, match="getEmpty"):
        LoyaltyApi(compile_contract(TINY), {}, KeyRing(settings), RateLimiter(None), Journal(1),
                   {"getThing": get_thing}, {})


def test_a_repeated_request_line_is_answered_and_reported_the_same_way(api):
    # Checked parameters are remembered per request line: the second answer must not differ.
    for query in ("contactId=7&limt=3", "contactId=0&sort_field=nope", f"contactId=7&pid={PID}"):
        first, second = call(api, f"/v3/things/{PID}", query), call(api, f"/v3/things/{PID}", query)
        assert (first[0].status, first[1], first[0].violations) == (second[0].status, second[1],
                                                                    second[0].violations)
        assert first[0].violations  # each of these queries breaks the contract somehow
    # The remembered check does not carry the organisation: another key reads its own world.
    assert call(api, f"/v3/things/{PID}", "contactId=7", key="other")[1]["world"] == "globex-world"


def test_remembered_checks_are_bounded(api):
    from mock_server.pipeline import CHECK_MEMO_MAX_TARGET, CHECK_MEMO_SIZE

    for contact in range(1, CHECK_MEMO_SIZE + 50):
        assert call(api, f"/v3/things/{PID}", f"contactId={contact}")[0].status == 200
    assert 0 < len(api._checked) <= CHECK_MEMO_SIZE
    api._checked.clear()
    long_query = "contactId=7&" + "x" * CHECK_MEMO_MAX_TARGET
    assert call(api, f"/v3/things/{PID}", long_query)[0].status == 200
    assert not api._checked  # a long request line is checked each time, not kept
