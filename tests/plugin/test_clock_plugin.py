"""The test clock as a user's tests drive it: ``brevo_mock.clock`` (the pytest plugin) and `MockClock`,
which go through ``/__mock__/clock`` over HTTP, so they work on a mock in another process too."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from mock_server.settings import ApiKey, Settings
from mock_server.testclock import ClockError, MockClock
from mock_server.testing import running_mock

pytest_plugins = ["pytester"]

PROJECT = '''
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from mock_server.testclock import ClockError

START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_a_credit_lapses_when_the_clock_passes_its_expiry(brevo_mock):
    program = brevo_mock.world["programs"][0]
    pid, bdid = program["id"], program["balanceDefinitions"][0]["id"]
    contact = program["members"][0]["contactId"]
    api = httpx.Client(base_url=brevo_mock.base_url, headers={"api-key": brevo_mock.api_key})
    assert brevo_mock.clock.now() == START

    def balance():
        answer = api.get(f"/loyalty/balance/programs/{pid}/subscriptions/{contact}/balances").json()
        return next(entry["value"] for entry in answer["balance"] if entry["balanceDefinitionId"] == bdid)

    before = balance()
    credit = api.post(f"/loyalty/balance/programs/{pid}/transactions", json={
        "contactId": contact, "balanceDefinitionId": bdid, "amount": 10, "autoComplete": True,
        "balanceExpiryInMinutes": 60}).json()
    assert balance() == before + 10
    moved = brevo_mock.clock.advance(hours=2)
    assert moved == START + timedelta(hours=2, seconds=1)  # one write ticked the logical clock a second
    assert balance() == before
    history = api.get(f"/loyalty/balance/programs/{pid}/transaction-history",
                      params={"contactId": contact, "balanceDefinitionId": bdid, "limit": 500}).json()
    assert {tx["id"]: tx["status"] for tx in history["transactionHistory"]}[credit["id"]] == "expired"


def test_the_clock_starts_again_in_each_test(brevo_mock):
    assert brevo_mock.clock.now() == START


def test_set_never_goes_back(brevo_mock):
    assert brevo_mock.clock.set(datetime(2027, 1, 1)) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(ClockError) as refused:
        brevo_mock.clock.set(datetime(2026, 12, 1))
    assert refused.value.status == 422 and "never goes back" in refused.value.body["message"]
    assert brevo_mock.clock.now() == datetime(2027, 1, 1, tzinfo=timezone.utc)
'''


def test_brevo_mock_clock_moves_the_mock_time_and_each_test_starts_again(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_clock=textwrap.dedent(PROJECT))
    pytester.makeini("[pytest]\nbrevo_mock_contacts = 20\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path), "-q")
    result.assert_outcomes(passed=3)


def test_a_mock_clock_names_its_organisation_by_key() -> None:
    keys = (ApiKey("key-a", "acme"), ApiKey("key-b", "globex"))
    with running_mock(Settings(access_log=False, contacts=5, api_keys=keys)) as mock:
        acme = MockClock(mock.root_url, "key-a")
        globex = acme.of("key-b")
        start = acme.now()
        assert globex.advance(months=1, days=2) == datetime(2026, 12, 3, tzinfo=UTC)
        assert acme.now() == start and globex.state()["organisation"] == "globex"
        assert mock.clock.now() == start  # the default organisation is the first key's: acme
        with pytest.raises(ClockError) as refused:
            MockClock(mock.root_url, "nobody").now()
        assert refused.value.status == 401


def test_a_run_whose_clock_moves_delivered_events_ends_without_a_traceback(pytester: pytest.Pytester) -> None:
    # Moving the widget member's clock a year sends webhooks to the plugin's receiver; when the run ends,
    # the mock's delivery process goes away from its kept-alive connection, which must not print a
    # ConnectionResetError traceback into the user's output (-s shows what the threads print).
    pytester.makepyfile(test_moves=textwrap.dedent('''
        from datetime import UTC, datetime

        def test_a_year_passes(brevo_mock):
            brevo_mock.clock.advance(days=30)
            assert brevo_mock.clock.set(datetime(2027, 1, 1, tzinfo=UTC)).year == 2027  # the run ends mid-delivery
    '''))
    pytester.makeini("[pytest]\nbrevo_mock_fixtures = widget-member\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path), "-q", "-s")
    result.assert_outcomes(passed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "Exception occurred" not in output, output
