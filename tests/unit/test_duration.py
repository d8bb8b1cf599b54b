"""ISO 8601 durations as `POST /__mock__/clock {"advance": ...}` reads them: calendar months and years."""

from __future__ import annotations

import pytest

from mock_server.duration import Duration, DurationError, duration_of, parse_duration
from mock_server.store.models import DAY, HOUR, MINUTE, SECOND, iso, parse_iso


@pytest.mark.parametrize(("text", "start", "end"), [
    ("P30D", "2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"),
    ("P1M", "2027-01-31T10:00:00.000Z", "2027-02-28T10:00:00.000Z"),  # the day kept inside the month
    ("P1M", "2028-01-31T00:00:00.000Z", "2028-02-29T00:00:00.000Z"),  # a leap year
    ("P1Y", "2028-02-29T00:00:00.000Z", "2029-02-28T00:00:00.000Z"),
    ("P1Y2M", "2026-11-15T00:00:00.000Z", "2028-01-15T00:00:00.000Z"),
    ("P2W", "2026-11-01T00:00:00.000Z", "2026-11-15T00:00:00.000Z"),
    ("PT36H", "2026-11-01T00:00:00.000Z", "2026-11-02T12:00:00.000Z"),
    ("P1DT2H3M4.5S", "2026-11-01T00:00:00.000Z", "2026-11-02T02:03:04.500Z"),
    ("pt90m", "2026-11-01T00:00:00.000Z", "2026-11-01T01:30:00.000Z"),
    ("P0D", "2026-11-01T00:00:00.000Z", "2026-11-01T00:00:00.000Z"),
])
def test_a_duration_moves_a_moment_by_the_calendar(text: str, start: str, end: str):
    assert iso(parse_duration(text).after(parse_iso(start))) == end


def test_months_come_before_the_fixed_part():
    assert parse_duration("P1Y1M1W1DT1H1M1S") == Duration(13, 8 * DAY + HOUR + MINUTE + SECOND)


@pytest.mark.parametrize("text", ["", "P", "PT", "30D", "P1DT", "-P1D", "P1.5D", "P1D2H", "1 day", "P1S",
                                  "P101Y", "P1300M"])
def test_what_is_not_a_duration_is_named(text: str):
    with pytest.raises(DurationError, match=r"duration|longer"):
        parse_duration(text)


def test_a_non_string_is_refused():
    with pytest.raises(DurationError, match="string"):
        parse_duration(30)  # type: ignore[arg-type]


@pytest.mark.parametrize(("parts", "text"), [
    ({"days": 30}, "P30D"),
    ({"years": 1, "months": 2, "hours": 3}, "P1Y2MT3H"),
    ({"seconds": 1.5}, "PT1.5S"),
    ({}, "P0D"),
])
def test_duration_of_writes_what_parse_reads(parts: dict[str, float], text: str):
    assert duration_of(**parts) == text
    parse_duration(text)


def test_duration_of_refuses_going_back_and_fractions_of_days():
    with pytest.raises(DurationError, match="never goes back"):
        duration_of(days=-1)
    with pytest.raises(DurationError, match="whole"):
        duration_of(days=1.5)
