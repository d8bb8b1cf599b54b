"""ISO 8601 durations (``P30D``, ``P1Y2M``, ``PT36H``, ``P2W``), applied to a moment the calendar's way.

`POST /__mock__/clock {"advance": "P1M"}` moves an organisation's clock by one; years and months
are calendar units (2027-01-31 plus ``P1M`` is 2027-02-28, the day kept inside the month, as
`mock_server.store.models.add_period` does), weeks, days, hours, minutes and seconds are fixed
lengths. Negative durations do not exist here: the clock never goes back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mock_server.store.models import DAY, HOUR, MINUTE, SECOND, add_period

_PATTERN = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d{1,3})?)S)?)?"
)
# Beyond a century of moves the dates would leave what the mock renders (as spans elsewhere).
MAX_YEARS = 100


class DurationError(ValueError):
    """Not an ISO 8601 duration this mock accepts; the message says why."""


@dataclass(frozen=True, slots=True)
class Duration:
    months: int = 0  # years count as 12 months
    millis: int = 0  # weeks, days, hours, minutes and seconds

    def after(self, moment: int) -> int:
        """`moment` (epoch ms) moved forward: calendar months first, then the fixed part."""
        moved = add_period(moment, self.months, "month") if self.months else moment
        return moved + self.millis


def parse_duration(text: str) -> Duration:
    """``PnYnMnWnDTnHnMnS`` (any part may be left out, seconds may have up to 3 decimals) as a `Duration`."""
    if not isinstance(text, str):
        raise DurationError(f"expected an ISO 8601 duration string such as 'P30D', got {type(text).__name__}")
    found = _PATTERN.fullmatch(text.strip().upper())
    if found is None or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise DurationError(f"{text!r} is not an ISO 8601 duration (PnYnMnWnDTnHnMnS, e.g. 'P30D', 'P1M', "
                            "'PT12H')")
    parts = {name: value for name, value in found.groupdict().items() if value is not None}
    years, months = int(parts.get("years", 0)), int(parts.get("months", 0))
    seconds = float(parts.get("seconds", "0").replace(",", "."))
    millis = (int(parts.get("weeks", 0)) * 7 * DAY + int(parts.get("days", 0)) * DAY
              + int(parts.get("hours", 0)) * HOUR + int(parts.get("minutes", 0)) * MINUTE + round(seconds * SECOND))
    total_months = years * 12 + months
    if total_months > MAX_YEARS * 12 or millis > MAX_YEARS * 366 * DAY:
        raise DurationError(f"{text!r} is longer than the mock moves its clock at once ({MAX_YEARS} years)")
    return Duration(total_months, millis)


def duration_of(*, years: int = 0, months: int = 0, weeks: int = 0, days: int = 0, hours: int = 0,
                minutes: int = 0, seconds: float = 0) -> str:
    """The ISO 8601 text of a duration given by parts (what the pytest plugin sends)."""
    values = {"years": years, "months": months, "weeks": weeks, "days": days, "hours": hours, "minutes": minutes,
              "seconds": seconds}
    for name, value in values.items():
        if value < 0:
            raise DurationError(f"{name}={value}: the clock never goes back")
        if name != "seconds" and value != int(value):
            raise DurationError(f"{name}={value}: give whole {name} (only seconds take a fraction)")
    date = "".join(f"{int(value)}{unit}" for value, unit in ((years, "Y"), (months, "M"), (weeks, "W"), (days, "D"))
                   if value)
    secs = f"{seconds:.3f}".rstrip("0").rstrip(".") if seconds else ""
    clock = "".join(f"{value}{unit}" for value, unit in ((int(hours), "H"), (int(minutes), "M"), (secs, "S"))
                    if value)
    return "P" + (date or ("" if clock else "0D")) + (f"T{clock}" if clock else "")
