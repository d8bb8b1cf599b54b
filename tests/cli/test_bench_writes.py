"""`make bench`'s write plumbing on an in-process mock: what it posts, what the baseline answers, what it counts.

Nothing here is timed: the figures come from `make bench`. These tests check that
the write the benchmark measures is a real, accepted write of the mock, that the
baseline POST route answers a body of the same shape and size, and that the
load tools post and check what they claim.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from bench.baseline_app import baseline_path, create_baseline
from bench.figures import Resets, Row, Run, Series
from bench.post_client import PostError, post_exactly
from bench.report import targets
from bench.report_writes import write_section, write_targets
from bench.scenarios import Scenario, ScenarioError, world_path
from bench.write_ceiling import OPERATION as CEILING_OPERATION
from bench.write_ceiling import first_answer_only
from bench.write_profile import app_and_write
from bench.write_profile import main as write_profile_main
from bench.write_scenarios import AMOUNT, Write, choose_write
from bench.wrk import Load, LoadShape, run_wrk_post
from mock_server.routes import balance as balance_routes
from mock_server.settings import DEFAULT_API_KEY, Settings
from mock_server.testing import RunningMock, running_mock
from tests.cli.proc import serving

ALL_MEMBERS = 1_000_000


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(Settings(access_log=False)) as running:  # the default world, as `make bench` runs it
        yield running


def _request(mock: RunningMock, method: str, path: str, body: bytes | None = None,
             key: str | None = None) -> tuple[int, bytes]:
    return _request_at(mock.root_url, key or mock.api_key, method, path, body)


def _request_at(root_url: str, key: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    headers = {"api-key": key, "content-type": "application/json"}
    request = urllib.request.Request(root_url + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _world(mock: RunningMock, sample: int = ALL_MEMBERS) -> dict[str, Any]:
    status, body = _request(mock, "GET", world_path(sample))
    assert status == 200
    return dict(orjson.loads(body))


def _write(mock: RunningMock) -> Write:
    return choose_write(_world(mock), lambda path: _request(mock, "GET", path))


def _history(mock: RunningMock, write: Write, contact: int) -> list[dict[str, Any]]:
    status, body = _request(mock, "GET", f"/v3/loyalty/balance/programs/{write.pid}/transaction-history"
                                         f"?contactId={contact}&balanceDefinitionId={write.bdid}&limit=500")
    assert status == 200, body
    return list(orjson.loads(body)["transactionHistory"])


def test_the_write_credits_every_member_of_a_published_program_on_a_ranked_definition(mock: RunningMock) -> None:
    world = _world(mock)
    write = _write(mock)
    program = next(p for p in world["programs"] if p["id"] == write.pid)
    assert program["state"] == "active"
    assert write.bdid in {group["balanceDefinitionId"] for group in program["tierGroups"]}
    bodies = [orjson.loads(body) for body in write.bodies]
    assert len(bodies) == program["memberCount"]
    subscriptions = {member["loyaltySubscriptionId"] for member in program["members"]}
    assert {body["LoyaltySubscriptionId"] for body in bodies} == subscriptions
    assert all(body["autoComplete"] is True and body["amount"] == AMOUNT and body["balanceDefinitionId"] == write.bdid
               for body in bodies)


def test_a_rotation_too_short_for_a_credit_limit_is_refused_before_the_run(mock: RunningMock) -> None:
    # Ten members credited round-robin, one a logical second, would pass the seeded daily credit limit.
    with pytest.raises(ScenarioError, match="would reach balance limit"):
        choose_write(_world(mock, sample=10), lambda path: _request(mock, "GET", path))


def test_the_write_is_accepted_and_completed_by_the_mock(mock: RunningMock) -> None:
    write = _write(mock)
    status, answer = _request(mock, "POST", write.path, write.bodies[0])
    assert status == 200, answer
    transaction = orjson.loads(answer)
    assert transaction["status"] == "completed" and transaction["amount"] == AMOUNT
    assert write.expect.encode() in answer


def test_the_baseline_post_answers_the_mocks_answer_and_checks_the_body(mock: RunningMock) -> None:
    write = _write(mock)
    status, answer = _request(mock, "POST", write.path, write.bodies[1])
    assert status == 200, answer
    client = TestClient(create_baseline({}, mock.api_key, {"begin": answer}))
    headers = {"api-key": mock.api_key, "content-type": "application/json"}
    same = client.post(baseline_path("begin"), content=write.bodies[1], headers=headers)
    assert (same.status_code, same.content, same.headers["content-type"]) == (200, answer, "application/json")
    # The same refusals as the mock, in Brevo's error shape: no member named, not JSON, a wrong key.
    no_member = orjson.loads(orjson.dumps({k: v for k, v in orjson.loads(write.bodies[1]).items()
                                           if k != "LoyaltySubscriptionId"}))
    refused = client.post(baseline_path("begin"), content=orjson.dumps(no_member), headers=headers)
    assert refused.status_code == 400 and set(refused.json()) == {"code", "message"}
    assert "LoyaltySubscriptionId" in refused.json()["message"]
    assert client.post(baseline_path("begin"), content=b"{", headers=headers).status_code == 400
    wrong_key = client.post(baseline_path("begin"), content=write.bodies[1], headers={**headers, "api-key": "x"})
    mock_wrong_key = _request(mock, "POST", write.path, write.bodies[1], key="x")
    assert (wrong_key.status_code, set(wrong_key.json())) == (mock_wrong_key[0], set(orjson.loads(mock_wrong_key[1])))


def test_post_exactly_makes_exactly_that_many_writes(mock: RunningMock) -> None:
    write = _write(mock)
    program = next(p for p in _world(mock)["programs"] if p["id"] == write.pid)
    contacts = [member["contactId"] for member in program["members"][:3]]
    before = [len(_history(mock, write, contact)) for contact in contacts]
    port = int(mock.root_url.rsplit(":", 1)[1])
    posted = post_exactly(port, write.path, {"api-key": mock.api_key}, write.bodies[:3], 7,
                          write.expect.encode(), connections=4)
    assert posted.count == 7
    after = [len(_history(mock, write, contact)) for contact in contacts]
    assert [b - a for a, b in zip(before, after, strict=True)] == [3, 2, 2]  # round-robin over the three


def test_post_exactly_stops_at_an_answer_other_than_expected(mock: RunningMock) -> None:
    write = _write(mock)
    port = int(mock.root_url.rsplit(":", 1)[1])
    with pytest.raises(PostError, match="answered 200"):
        post_exactly(port, write.path, {"api-key": mock.api_key}, write.bodies[:1], 2, b'"status":"draft"')


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make bench installs it)")
def test_wrk_posts_the_bodies_and_counts_answers_that_are_not_completed_transactions(mock: RunningMock,
                                                                                    tmp_path: Path) -> None:
    write = _write(mock)
    bodies = tmp_path / "bodies.txt"
    bodies.write_bytes(b"\n".join(write.bodies[:20]) + b"\n")
    shape = LoadShape(1, 2)
    checked = run_wrk_post(mock.root_url + write.path, mock.api_key, shape, bodies, write.expect)
    assert checked.answered > 0 and checked.unexpected == 0 and checked.errors == 0
    wrong = run_wrk_post(mock.root_url + write.path, mock.api_key, shape, bodies, '"status":"draft"')
    assert wrong.answered > 0 and wrong.unexpected == wrong.answered
    assert '"status":"completed"' in wrong.first_unexpected


def _load(rps: float) -> Load:
    return Load(requests=int(rps), seconds=1.0, p50_ms=1.0, p99_ms=2.0, errors=0)


def test_the_write_targets_are_judged_on_same_round_ratios() -> None:
    write = Write("begin", "transaction begin", "p", "b", "/v3/x", (b"{}",))
    row = Row(write, 1000, b"{}")
    row.mock.loads = [_load(800), _load(500), _load(900)]
    row.baseline.loads = [_load(1000), _load(1000), _load(1000)]  # per-round ratios 0.8, 0.5, 0.9: median 0.8
    run = Run("python -m bench", "now", {}, {}, write=row, resets=Resets(1000, ms=[4.0, 6.0, 7.0]))
    judged = {target.name: target for target in write_targets(run)}
    begin = judged["transaction begin (autoComplete) throughput vs bare Starlette POST"]
    assert (begin.measured, begin.met) == ("0.80x", True)
    assert judged["reset of the default world after 1,000 writes (median)"].met is False  # 6 ms > 5 ms
    assert "| transaction begin | 2 | 800 | 1,000 | 0.80x |" in "\n".join(write_section(run))


def test_the_report_says_what_each_write_target_leaves_for_the_writes_domain_step() -> None:
    write = Row(Write("begin", "transaction begin", "p", "b", "/v3/x", (b"{}",)), 1000, b"{}")
    write.mock.loads, write.baseline.loads = [_load(5_000)], [_load(16_000)]  # 200 µs; the bare POST 62.5 µs
    prism = Row(write.scenario, 1000, b"{}")
    prism.mock.loads, prism.baseline.loads = [_load(5_000)], [_load(1_000)]  # 15x Prism: 66.7 µs a write
    program = Row(Scenario("program", "program read", "/v3/p"), 1000, b"{}")
    program.mock.loads = program.baseline.loads = [_load(40_000)]  # 25 µs: measured, but not what is subtracted
    ceiling = Series([_load(20_000), _load(25_000), _load(10_000)])  # median 20,000: 50 µs around the domain step
    run = Run("python -m bench", "now", {}, {}, rows=[program], write=write, write_ceiling=ceiling,
              prism_write=prism)
    text = "\n".join(write_section(run))
    assert "ran 20,000 req/s in the same rounds (1.25x the bare POST): 50 µs" in text
    assert "| at 0.75x the bare POST's rate (16,000 req/s) | 83 | 33 |" in text  # 83.3 - 50
    assert "| at 15x Prism's (1,000 req/s) | 67 | 17 |" in text  # 66.7 - 50
    assert "| the mock in this run (5,000 req/s) | 200 | **150** |" in text
    run.write_ceiling = None  # no ceiling measured (a run always has one with its write): no block, not a guess
    assert "What the targets leave" not in "\n".join(write_section(run))


def test_the_ceiling_answers_every_write_with_its_first_answer_after_the_usual_checks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = balance_routes.WRITE_HANDLERS[CEILING_OPERATION]

    def counted(backend: Any, params: Any, body: Any) -> Any:
        calls.append(body)
        return real(backend, params, body)

    monkeypatch.setitem(balance_routes.WRITE_HANDLERS, CEILING_OPERATION, first_answer_only(counted))
    app, _, write = app_and_write(Settings(access_log=False))
    client = TestClient(app, base_url="http://127.0.0.1", headers={"api-key": DEFAULT_API_KEY})
    json_type = {"content-type": "application/json"}
    answers = [client.post(write.path, content=body, headers=json_type) for body in write.bodies[:3]]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].content == answers[1].content == answers[2].content  # the first member's credit, thrice
    assert len(calls) == 1  # the domain step ran once
    # Around the handler, the mock is itself: a body the contract refuses never reaches it.
    refused = client.post(write.path, content=b'{"amount": "12"}', headers=json_type)
    assert refused.status_code == 422 and b"body.amount" in refused.content
    assert len(calls) == 1


def test_the_workers_read_target_is_judged_on_same_round_ratios() -> None:
    program = Row(Scenario("program", "program read", "/v3/p"), 1000, b"{}")
    program.mock.loads = program.baseline.loads = [_load(1000)]
    workers = Row(Scenario("program", "program read", "/v3/p"), 1000, b"{}")
    workers.mock.loads = [_load(1150), _load(900), _load(1200)]
    workers.baseline.loads = [_load(1000), _load(1000), _load(1000)]  # per-round 1.15, 0.9, 1.2: median 1.15
    run = Run("python -m bench", "now", {}, {}, rows=[program], workers=workers, workers_count=2)
    judged = {target.name: target for target in targets(run)}
    target = judged["program read at 2 workers vs one process (throughput, wrk not pinned)"]
    assert (target.goal, target.measured, target.met) == (">= 1.1x", "1.15x", True)
    workers.mock.loads = [_load(1050), _load(1200), _load(1000)]  # median 1.05: missed
    assert {t.name: t for t in targets(run)}[target.name].met is False


def test_the_write_profile_times_writes_with_cold_caches_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert write_profile_main(["--writes", "40", "--evict-mib", "1"]) == 0
    printed = capsys.readouterr().out
    assert "µs a write (40 writes, 1 MiB copied before each)" in printed
    assert write_profile_main(["--writes", "40"]) == 0
    assert "µs a write (40 writes);" in capsys.readouterr().out


def test_the_ceiling_command_serves_the_mock_with_every_write_answered_as_the_first() -> None:
    with serving("--no-access-log", module="bench.write_ceiling") as served:
        write = choose_write(served.get_json(world_path(ALL_MEMBERS)),
                             lambda path: _request_at(served.root, DEFAULT_API_KEY, "GET", path))
        answers = [_request_at(served.root, DEFAULT_API_KEY, "POST", write.path, body)
                   for body in write.bodies[:2]]  # two members' credits
    assert [status for status, _ in answers] == [200, 200]
    assert orjson.loads(answers[0][1])["status"] == "completed"
    assert answers[1] == answers[0]  # the second member got the first one's answer: the ceiling, not the mock
