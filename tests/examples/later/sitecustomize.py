"""Loaded by Python at start-up (PYTHONPATH): moves the wall clock to BREVO_TEST_NOW (epoch seconds).

tests/examples runs the examples under it: what a user sees must not depend on the date it is run.
Shifts `time.time` and `datetime.now`/`utcnow`/`today` (a subclass put in place before anything imports it).
"""

import datetime as _datetime
import os
import time as _time

_offset = float(os.environ["BREVO_TEST_NOW"]) - _time.time()
_real_time = _time.time
_time.time = lambda: _real_time() + _offset
_time.time_ns = lambda: int((_real_time() + _offset) * 1e9)
_shift = _datetime.timedelta(seconds=_offset)


class _LaterDatetime(_datetime.datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return super().now(tz) + _shift

    @classmethod
    def utcnow(cls):  # type: ignore[no-untyped-def, override]
        return super().utcnow() + _shift

    @classmethod
    def today(cls):  # type: ignore[no-untyped-def, override]
        return cls.now()


_datetime.datetime = _LaterDatetime  # type: ignore[misc]
