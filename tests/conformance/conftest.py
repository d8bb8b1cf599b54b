"""Shared fixtures: one seeded mock for the module's tests, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server.settings import Settings
from mock_server.testing import RunningMock, running_mock


@pytest.fixture(scope="session")
def mock() -> Iterator[RunningMock]:
    with running_mock(Settings(access_log=False)) as running:
        yield running


@pytest.fixture
def fresh_mock(mock: RunningMock) -> RunningMock:
    """The session's mock with an empty journal and rate-limit counters."""
    mock.reset()
    return mock
