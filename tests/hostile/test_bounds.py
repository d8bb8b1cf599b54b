"""What one request can make the mock keep or quote is bounded, however large the request."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.pipeline import MAX_TOLERATED_SHOWN, SHOWN_PATH_CHARS
from mock_server.settings import Settings
from tests.hostile.corpus import Case
from tests.hostile.wire import in_process, scope_for


@pytest.fixture
def app() -> Any:
    return create_app(Settings(seed=1, contacts=5, access_log=False))


def test_thousands_of_unknown_parameters_are_served_and_journaled_in_bounded_space(app: Any) -> None:
    query = "&".join(f"unknown{i}=1" for i in range(1000))
    answer = in_process(app, scope_for(Case("many", "-", "/v3/loyalty/config/programs?" + query, 200, ""), {}))
    assert answer.status == 200  # tolerated, as Brevo does
    [entry] = app.state.mock.journal.entries()
    assert len(entry.violations) == MAX_TOLERATED_SHOWN + 1
    assert entry.violations[-1] == f"and {1000 - MAX_TOLERATED_SHOWN} more unknown query parameters"


def test_an_unknown_path_is_quoted_cut_short(app: Any) -> None:
    path = "/v3/loyalty/" + "segment/" * 900
    answer = in_process(app, scope_for(Case("long", "-", path, 404, ""), {}))
    message = answer.json()["message"]
    assert answer.status == 404 and message.endswith("…")
    assert len(message) < SHOWN_PATH_CHARS + 50
    [entry] = app.state.mock.journal.entries()
    assert all(len(violation) < SHOWN_PATH_CHARS + 50 for violation in entry.violations)


def test_a_bad_value_is_quoted_cut_short(app: Any) -> None:
    answer = in_process(app, scope_for(Case("long", "-", "/v3/loyalty/config/programs?sort=" + "z" * 7000, 422, ""),
                                       {}))
    assert answer.status == 422 and len(answer.json()["message"]) < 200
