"""The in-process conformance run: our mock must pass every check and every property.

This is the run `make test` does on each change (bounded examples; `make
conformance-long` runs the same with many more). A failure here is a real
disagreement between the mock and the contract: the report names the check
and gives a curl. The run sends reads only (mock_server/conformance/runner.py):
the journal of a mock of its own shows that no write operation was called.
"""

from __future__ import annotations

import time

from mock_server.conformance.budget import RequestBudget
from mock_server.conformance.report import EXIT_PASSED
from mock_server.conformance.runner import RunOptions, run_conformance
from mock_server.settings import Settings
from mock_server.testing import running_mock
from tests.support.operations import read_operations, write_operations

MAX_EXAMPLES = 10
SECONDS_BUDGET = 120  # far above the ~15 s it takes on 2 cores: a guard against a run that explodes


JOURNAL = 1_000_000  # every request of the run is kept, to see that none was a write


def test_the_mock_passes_every_check_and_property() -> None:
    with running_mock(Settings(access_log=False, journal_size=JOURNAL)) as mock:
        started = time.monotonic()
        report = run_conformance(RunOptions(base_url=mock.base_url, api_key=mock.api_key,
                                            max_examples=MAX_EXAMPLES, budget=RequestBudget()))
        elapsed = time.monotonic() - started
        called = {entry.operation_id for entry in mock.requests}
        assert report.requests_sent <= len(mock.requests) < JOURNAL  # the journal kept them all

    assert report.exit_code == EXIT_PASSED, report.to_markdown()
    assert set(report.operations) == set(read_operations())
    assert all(result.tested for result in report.operations.values())
    assert called & set(write_operations()) == set(), "a conformance run sent a write"
    held = {prop.name for prop in report.properties if prop.status == "passed"}
    # The mock is seeded: the seeded-only properties run too, none is skipped.
    assert held == {prop.name for prop in report.properties} and len(held) >= 12
    assert report.requests_sent and report.requests_sent > 500  # all four phases ran
    assert elapsed < SECONDS_BUDGET, f"in-process conformance took {elapsed:.0f} s"
