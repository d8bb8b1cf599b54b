"""Value rules of the store: dates, amounts, periods, frozen metadata."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.store.models import (
    REFERENCE_NOW,
    REFERENCE_NOW_ISO,
    Voucher,
    add_period,
    freeze,
    iso,
    next_yearly,
    parse_iso,
    period_start,
    previous_yearly,
    render_amount,
    thaw,
    unit_scale,
)


def test_reference_clock_is_fixed_and_rendered_with_milliseconds():
    assert REFERENCE_NOW_ISO == "2026-11-01T00:00:00.000Z"
    assert iso(REFERENCE_NOW) == REFERENCE_NOW_ISO


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000Z"),
        ("2026-01-01T00:00:00.123Z", "2026-01-01T00:00:00.123Z"),
        ("2026-01-01T02:00:00+02:00", "2026-01-01T00:00:00.000Z"),
        ("2026-01-01T00:00:00", "2026-01-01T00:00:00.000Z"),
    ],
)
def test_iso_round_trips_and_normalises_to_utc(text, expected):
    assert iso(parse_iso(text)) == expected


YEAR_1000, YEAR_10000 = -30_610_224_000_000, 253_402_300_800_000


@given(st.integers(min_value=YEAR_1000, max_value=YEAR_10000 - 1))
def test_iso_is_the_calendars_date_to_the_millisecond(ms):
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    assert iso(ms) == moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert iso(ms) == iso(ms)  # the second call reads the formatted pieces back


def _months_later_by_datetime(ms: int, months: int) -> int:
    """The calendar rule, spelled with datetime: the same day of the month (kept inside it), same time."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    year, month = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    last = (datetime(year + (month == 11), (month + 1) % 12 + 1, 1, tzinfo=UTC) - timedelta(days=1)).day
    moved = moment.replace(year=year, month=month + 1, day=min(moment.day, last))
    return (moved - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@given(st.integers(min_value=-2_000_000_000_000, max_value=6_000_000_000_000), st.integers(-1200, 1200))
def test_month_and_year_periods_follow_the_calendar(ms: int, months: int):
    assert add_period(ms, months, "month") == _months_later_by_datetime(ms, months)
    assert add_period(ms, months // 12, "year") == _months_later_by_datetime(ms, 12 * (months // 12))


@given(st.integers(min_value=-2_000_000_000_000, max_value=6_000_000_000_000))
def test_period_starts_are_calendar_starts(ms: int):
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = {"hour": moment.replace(minute=0, second=0, microsecond=0), "day": midnight,
              "week": midnight - timedelta(days=moment.weekday()), "month": midnight.replace(day=1),
              "year": midnight.replace(month=1, day=1)}
    for unit, start in starts.items():
        assert period_start(ms, unit) == (start - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_add_period_clamps_month_ends_and_goes_backwards():
    assert iso(add_period(parse_iso("2026-01-31T10:00:00.250Z"), 1, "month")) == "2026-02-28T10:00:00.250Z"
    assert iso(add_period(parse_iso("2024-02-29T00:00:00Z"), 1, "year")) == "2025-02-28T00:00:00.000Z"
    assert iso(add_period(REFERENCE_NOW, -12, "month")) == "2025-11-01T00:00:00.000Z"
    assert add_period(REFERENCE_NOW, 2, "week") - REFERENCE_NOW == 14 * 86_400_000
    with pytest.raises(ValueError, match="unknown period unit"):
        add_period(REFERENCE_NOW, 1, "fortnight")


def test_yearly_dates_are_the_next_and_last_midnight_of_that_day():
    def at(text: str) -> str:
        return iso(parse_iso(text))

    assert iso(next_yearly(parse_iso("2026-03-15T08:00:00Z"), "01/01")) == at("2027-01-01T00:00:00Z")
    assert iso(next_yearly(parse_iso("2027-01-01T00:00:00Z"), "01/01")) == at("2028-01-01T00:00:00Z")  # strictly after
    assert iso(next_yearly(parse_iso("2026-03-15T08:00:00Z"), "15/06")) == at("2026-06-15T00:00:00Z")
    assert iso(next_yearly(parse_iso("2027-01-10T00:00:00Z"), "29/02")) == at("2027-02-28T00:00:00Z")
    assert iso(next_yearly(parse_iso("2027-12-01T00:00:00Z"), "29/02")) == at("2028-02-29T00:00:00Z")
    assert iso(previous_yearly(REFERENCE_NOW, "01/01")) == at("2026-01-01T00:00:00Z")
    assert iso(previous_yearly(REFERENCE_NOW, "01/11")) == REFERENCE_NOW_ISO  # at or before
    assert iso(previous_yearly(REFERENCE_NOW, "02/11")) == at("2025-11-02T00:00:00Z")
    for bad in ("1/1", "32/01", "01/13", "0101", "aa/bb"):
        with pytest.raises(ValueError):
            next_yearly(REFERENCE_NOW, bad)


def test_amounts_render_as_int_points_and_two_decimal_money():
    assert unit_scale("POINTS") == 1
    assert unit_scale("EUR") == 100
    assert render_amount(340, 1) == 340
    assert isinstance(render_amount(340, 1), int)
    assert render_amount(1234, 100) == 12.34
    assert orjson.dumps(render_amount(1010, 100)) == b"10.1"
    assert orjson.dumps(render_amount(7, 100)) == b"0.07"


def test_freeze_makes_meta_read_only_and_thaw_gives_plain_json():
    frozen = freeze({"a": [1, {"b": True}], "c": None})
    with pytest.raises(TypeError):
        frozen["a"] = 2
    assert thaw(frozen) == {"a": [1, {"b": True}], "c": None}
    assert orjson.dumps(thaw(frozen)) == b'{"a":[1,{"b":true}],"c":null}'


def test_voucher_is_available_only_unconsumed_and_unexpired():
    base = {"id": "v", "contact_id": 1, "reward_id": "r", "code": "C", "created_at": 0, "updated_at": 0,
            "valid_from": 0, "meta": freeze({}), "unit": "percentage", "value": 10}
    assert Voucher(**base, expiration_date=REFERENCE_NOW + 1, consumed_at=None).available()
    assert not Voucher(**base, expiration_date=REFERENCE_NOW, consumed_at=None).available()
    assert not Voucher(**base, expiration_date=REFERENCE_NOW + 1, consumed_at=5).available()


def test_hand_written_copies_keep_every_field():
    """`Transaction.completed`, `Subscription.changed_at`, `Member.with_ledgers` are `replace` written out for
    speed: a field added to the record and forgotten there would be lost silently, so compare with `replace`."""
    from dataclasses import fields, replace

    from mock_server.store.models import Ledger, Member, Subscription, Transaction

    tx = Transaction(*(f"v{i}" for i in range(len(fields(Transaction)))))
    assert tx.completed(7, 8, 9) == replace(tx, amount=7, status="completed", completed_at=8,
                                            balance_expiration_date=9, expires_at=None)
    subscription = Subscription(*(f"s{i}" for i in range(len(fields(Subscription)))))
    assert subscription.changed_at(5) == replace(subscription, updated_at=5)
    member = Member(*(f"m{i}" for i in range(len(fields(Member)))))
    ledgers = (Ledger("bd", 1, 2, (), ()),)
    assert member.with_ledgers(subscription, ledgers) == replace(member, subscription=subscription, ledgers=ledgers)


def test_a_positional_draft_sets_every_field_by_name():
    """`Transaction.draft` builds a record positionally (a write's hot path): a field moved or added would put a value
    in the wrong place, so compare with the same draft built by keyword."""
    from mock_server.store.models import Transaction

    meta = freeze({"orderId": "A-1"})
    by_name = Transaction(id="t", balance_definition_id="bd", transaction_type="credit", amount=5, status="draft",
                          created_at=9, completed_at=None, cancelled_at=None, rejected_at=None, reject_reason=None,
                          balance_expiration_date=None, meta=meta, event_time=3, expires_at=11)
    assert Transaction.draft("t", "bd", "credit", 5, 9, meta, event_time=3, expires_at=11) == by_name
