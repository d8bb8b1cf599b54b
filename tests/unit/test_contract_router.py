"""The path router: literals, templates, backtracking."""

from types import SimpleNamespace

from mock_server.contract.router import Router


def op(method, name):
    return SimpleNamespace(method=method, operation_id=name)


def router():
    r = Router()
    r.add("/v3/programs/{pid}", op("GET", "program"))
    r.add("/v3/programs/{pid}/rewards/{rid}", op("GET", "reward"))
    r.add("/v3/programs/{pid}/rewards/attribute", op("POST", "attribute"))
    r.add("/v3/programs/{pid}/rewards/attribute/extra", op("GET", "extra"))
    return r


def test_templates_capture_values_in_order():
    match = router().match(["v3", "programs", "p1", "rewards", "r1"])
    assert match.methods["GET"].operation_id == "reward"
    assert match.values == ["p1", "r1"]


def test_literal_wins_over_template():
    match = router().match(["v3", "programs", "p1", "rewards", "attribute"])
    assert set(match.methods) == {"POST"}
    assert match.values == ["p1"]


def test_backtracks_from_literal_to_template():
    match = router().match(["v3", "programs", "attribute"])
    assert match.methods["GET"].operation_id == "program"
    assert match.values == ["attribute"]


def test_unknown_paths_do_not_match():
    r = router()
    assert r.match(["v3", "programs"]) is None
    assert r.match(["v3", "programs", "p1", "nope"]) is None
    assert r.match(["v4", "programs", "p1"]) is None
