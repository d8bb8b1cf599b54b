"""The request budget that keeps a run against the real Brevo inside its quota.

Unit tests drive `RequestBudget` with a fake clock; the end-to-end tests run
the conformance runner against a local fake that sends x-sib-ratelimit-*
headers and answers 429 once its window is spent (tests/conformance/servers.py).
No test needs the internet.
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.conformance.budget import (
    BudgetExhausted,
    RequestBudget,
    WriteRefused,
    budgeted_session,
    parse_rate,
)
from mock_server.conformance.report import EXIT_INCOMPLETE
from mock_server.conformance.runner import RunOptions, run_conformance
from mock_server.settings import DEFAULT_API_KEY, Settings
from tests.conformance.servers import QuotaFake
from tests.support.serving import serve_asgi


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(**kwargs: object) -> tuple[RequestBudget, FakeClock]:
    clock = FakeClock()
    return RequestBudget(clock=clock, sleep=clock.sleep, **kwargs), clock  # type: ignore[arg-type]


def test_the_count_is_bounded() -> None:
    found, _ = budget(max_requests=3)
    for _ in range(3):
        found.acquire("GET")
    with pytest.raises(BudgetExhausted, match="budget of 3 spent"):
        found.acquire("GET")
    assert found.sent == 3


def test_requests_are_spaced_by_the_rate() -> None:
    found, clock = budget(min_interval=parse_rate("600/hour"))
    for _ in range(4):
        found.acquire("GET")
    assert clock.slept == [6.0, 6.0, 6.0]  # 600/hour: one request every 6 s


def test_a_429_waits_for_the_reset_the_headers_give() -> None:
    found, clock = budget()
    found.acquire("GET")
    assert found.observe(429, {"x-sib-ratelimit-remaining": "0", "x-sib-ratelimit-reset": "42"}) == 42
    found.acquire("GET")
    assert clock.slept == [42] and found.rate_limited == 1


def test_a_429_without_reset_header_honours_retry_after() -> None:
    found, _ = budget()
    assert found.observe(429, {"retry-after": "7"}) == 7


def test_the_last_requests_of_the_window_are_left_to_the_account() -> None:
    found, clock = budget(honour_remaining=True, reserve=20)
    found.acquire("GET")
    found.observe(200, {"x-sib-ratelimit-remaining": "25", "x-sib-ratelimit-reset": "900"})
    found.acquire("GET")
    assert clock.slept == []
    found.observe(200, {"x-sib-ratelimit-remaining": "20", "x-sib-ratelimit-reset": "900"})
    found.acquire("GET")
    assert clock.slept == [900]


def test_a_wait_for_the_window_is_said_but_the_rate_spacing_is_not() -> None:
    told: list[str] = []
    found, clock = budget(honour_remaining=True, reserve=20, min_interval=parse_rate("600/hour"), notify=told.append)
    found.acquire("GET")
    found.acquire("GET")  # spaced by the rate: 6 s, not worth a line
    found.observe(200, {"x-sib-ratelimit-remaining": "20", "x-sib-ratelimit-reset": "900"})
    found.acquire("GET")
    assert clock.slept == [6.0, 900]
    assert told == ["waiting 900 s for the server's rate-limit window (x-sib-ratelimit-reset; --reserve 20, at most "
                    "--max-wait 3600 s)"]


def test_a_window_too_far_away_stops_the_run_instead_of_hanging() -> None:
    found, clock = budget(max_wait=60)
    found.acquire("GET")
    found.observe(429, {"x-sib-ratelimit-reset": "3600"})
    with pytest.raises(BudgetExhausted, match="resets in 3600 s"):
        found.acquire("GET")
    assert clock.slept == [] and found.stopped


def test_read_only_never_sends_a_write(app: Starlette) -> None:
    fake = QuotaFake(app, per_window=100, window=60)
    with serve_asgi(fake) as root:
        session = budgeted_session(RequestBudget(read_only=True))
        with pytest.raises(WriteRefused):
            session.post(f"{root}/v3/loyalty/config/programs", timeout=5)
        assert session.get(f"{root}/v3/loyalty/config/programs", headers={"api-key": DEFAULT_API_KEY},
                           timeout=5).status_code == 200
    assert [method for _, method, _ in fake.arrivals] == ["GET"]


@pytest.mark.parametrize("text", ["600", "0/hour", "ten/second", "5/fortnight"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="N/second"):
        parse_rate(text)


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(Settings(access_log=False))


def test_a_run_against_a_quota_stays_inside_its_budget_and_waits_out_429s(app: Starlette) -> None:
    # The fake allows 25 requests a second; without honouring `remaining` the run meets 429s,
    # waits x-sib-ratelimit-reset and retries; it stops at the budget of 80.
    fake = QuotaFake(app, per_window=25, window=1.0)
    quota = RequestBudget(max_requests=80, read_only=True, max_wait=5)
    with serve_asgi(fake) as root:
        report = run_conformance(RunOptions(base_url=root + "/v3", api_key=DEFAULT_API_KEY, max_examples=3,
                                            budget=quota, property_examples=2))
    # What reached the server never exceeds the budget (a request uvicorn refuses as malformed
    # counts against the budget without reaching the app, hence <=).
    assert len(fake.arrivals) + fake.others <= quota.sent == 80
    assert quota.rate_limited >= 1
    statuses = [status for _, _, status in fake.arrivals]
    first_429 = statuses.index(429)
    retried_at = fake.arrivals[first_429 + 1][0]
    assert retried_at - fake.arrivals[first_429][0] >= 0.9  # waited for the window to reset
    assert {method for _, method, _ in fake.arrivals} == {"GET"}
    assert report.exit_code == EXIT_INCOMPLETE, report.to_markdown()
    assert "budget of 80 spent" in (report.stopped_early or "")


def test_honouring_remaining_avoids_429s_altogether(app: Starlette) -> None:
    fake = QuotaFake(app, per_window=30, window=1.0)
    quota = RequestBudget(max_requests=70, honour_remaining=True, reserve=0, read_only=True, max_wait=5)
    with serve_asgi(fake) as root:
        run_conformance(RunOptions(base_url=root + "/v3", api_key=DEFAULT_API_KEY, max_examples=3, budget=quota,
                                   properties=False))
    assert len(fake.arrivals) + fake.others <= quota.sent == 70
    assert 429 not in {status for _, _, status in fake.arrivals}
    assert quota.waited_seconds > 0


def test_a_refused_key_is_a_run_error_not_a_pass(app: Starlette) -> None:
    with serve_asgi(app) as root:
        report = run_conformance(RunOptions(base_url=root + "/v3", api_key="not-a-key"))
    assert report.exit_code == 1
    assert "refused the API key" in report.errors[0]


def test_an_unreachable_target_is_a_run_error() -> None:
    report = run_conformance(RunOptions(base_url="http://127.0.0.1:9/v3", api_key="k", request_timeout=2))
    assert report.exit_code == 1 and "cannot reach" in report.errors[0]
