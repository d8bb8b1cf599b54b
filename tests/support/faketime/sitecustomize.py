"""Loaded only by `make test-dates` (on PYTHONPATH there), in every Python process under libfaketime.

`make test-dates` fakes the wall clock and leaves the monotonic one alone (FAKETIME_DONT_FAKE_MONOTONIC=1:
with it faked, libfaketime's timed waits on locks never return). libfaketime 0.9.10 then answers EINVAL
to the absolute monotonic clock_nanosleep that `time.sleep` makes: sleep through `select` instead.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
