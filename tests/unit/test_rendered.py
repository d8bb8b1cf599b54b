"""Static records rendered once per world: the same bytes as a fresh render, kept on their own world."""

import orjson

from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.routes.balance import definition_item
from mock_server.routes.program import program_item
from mock_server.routes.rendered import rendered
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers

H = contract_handlers()
WIDGET_PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"


def test_a_record_is_rendered_once_then_reused() -> None:
    data = build_world(3, 10).programs[0]
    calls = []

    def render() -> dict:
        calls.append(1)
        return program_item(data.program)

    first, second = rendered(data, "program", render), rendered(data, "program", render)
    assert first is second and len(calls) == 1
    # Embedded in an answer, the kept bytes are exactly a fresh render's.
    assert orjson.dumps({"items": [first]}) == orjson.dumps({"items": [program_item(data.program)]})


def test_answers_from_kept_renders_equal_fresh_renders() -> None:
    world = build_world(5, 20)
    for _ in range(2):  # the second pass reads what the first one kept
        listed = H["getLPList"](world, {"limit": 50})["items"]
        assert listed and all(H["getLoyaltyProgramInfo"](world, {"pid": item["id"]}) == item for item in listed)
        for data in world.programs:
            assert H["getLoyaltyProgramInfo"](world, {"pid": data.id}) == orjson.loads(
                orjson.dumps(program_item(data.program)))
            for definition in data.definitions:
                got = H["getBalanceDefinition"](world, {"pid": data.id, "bdid": definition.id, "version": "draft"})
                assert got == orjson.loads(orjson.dumps(definition_item(definition)))


def test_a_rebuilt_world_renders_its_own_records() -> None:
    # What `brevo_mock.load_fixture` does: a new world from the same seed, with a fixture on it.
    plain = build_world(7, 10)
    H["getLPList"](plain, {"limit": 50})  # fills the plain world's renders
    with_fixture = build_world(7, 10, [load_fixture(shipped_fixture("widget-member"))])
    ids = [item["id"] for item in H["getLPList"](with_fixture, {"limit": 50})["items"]]
    assert WIDGET_PID in ids and WIDGET_PID not in [data.id for data in plain.programs]
    assert H["getLoyaltyProgramInfo"](with_fixture, {"pid": WIDGET_PID})["id"] == WIDGET_PID
