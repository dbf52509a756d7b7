"""Properties of the deadline engine that must hold for any instant, checked with hypothesis."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cases.deadlines import (
    PARIS,
    RELIEF_TIME,
    Status,
    add_hours,
    add_months,
    apply_weekend_relief,
    dora_initial_due,
    is_late,
    is_working_day,
    status,
)

ZONES = st.sampled_from(
    [UTC, PARIS, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"), timezone(timedelta(hours=-3, minutes=-30))]
)


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() + 1) % 7)


@st.composite
def near_paris_dst_change(draw) -> datetime:
    """An instant within two days of a Paris clock change (EU rule: 01:00 UTC, last Sunday of March/October)."""
    year = draw(st.integers(2000, 2100))
    change = datetime.combine(_last_sunday(year, draw(st.sampled_from([3, 10]))), time(1), tzinfo=UTC)
    offset = timedelta(seconds=draw(st.integers(-2 * 86_400, 2 * 86_400)))
    return (change + offset).astimezone(draw(ZONES))


@st.composite
def months_before_paris_dst_change(draw) -> datetime:
    """A Paris instant around 00:00-05:00 on the day some months before a clock change.

    Adding those months lands at or near the spring gap or the repeated autumn hour.
    """
    year = draw(st.integers(2001, 2100))
    change = _last_sunday(year, draw(st.sampled_from([3, 10])))
    months = draw(st.integers(1, 12))
    index = change.month - 1 - months
    start_year, start_month = year + index // 12, index % 12 + 1
    assume(change.day <= calendar.monthrange(start_year, start_month)[1])
    minutes = draw(st.integers(0, 5 * 60))
    midnight = datetime.combine(date(start_year, start_month, change.day), time(), tzinfo=PARIS)
    return midnight.astimezone(UTC) + timedelta(minutes=minutes)


ANY_INSTANT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=ZONES)
INSTANTS = st.one_of(ANY_INSTANT, near_paris_dst_change())
MONTH_STARTS = st.one_of(ANY_INSTANT, near_paris_dst_change(), months_before_paris_dst_change())


def _utc(instant: datetime) -> datetime:
    """Python compares datetimes sharing a tzinfo by wall clock: the oracle compares instants."""
    return instant.astimezone(UTC)


def _wall(instant: datetime) -> datetime:
    return instant.astimezone(PARIS).replace(tzinfo=None)


def _exists_in_paris(naive: datetime) -> bool:
    return _wall(naive.replace(tzinfo=PARIS).astimezone(UTC)) == naive


def _clamped(instant: datetime, months: int) -> bool:
    local = instant.astimezone(UTC).astimezone(PARIS)
    index = local.month - 1 + months
    return local.day > calendar.monthrange(local.year + index // 12, index % 12 + 1)[1]


def _in_repeated_hour(instant: datetime) -> bool:
    """True during the autumn hour whose wall-clock times happen twice."""
    local = instant.astimezone(PARIS)
    return local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset()


@settings(max_examples=300)
@given(start=INSTANTS, hours=st.integers(1, 2000))
def test_add_hours_gives_exactly_that_many_real_hours_in_any_zone(start, hours):
    due = add_hours(start, hours)

    assert due - start == timedelta(hours=hours)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)


@settings(max_examples=300)
@given(start=MONTH_STARTS, months=st.integers(1, 24))
def test_add_months_keeps_the_day_clamped_to_month_end_and_the_wall_clock_time(start, months):
    local = start.astimezone(UTC).astimezone(PARIS)  # the real instant's wall clock (a gap time normalised)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    target = datetime.combine(date(year, month, day), local.time())

    due = _wall(add_months(start, months))

    if _exists_in_paris(target):
        assert due == target
    else:  # spring gap: the end of the gap, 03:00 summer time the same day
        assert due == datetime.combine(target.date(), time(3))


@settings(max_examples=300)
@given(first=MONTH_STARTS, later_by=st.integers(0, 6 * 3600), months=st.integers(1, 24))
def test_add_months_never_gives_a_later_start_an_earlier_due_date(first, later_by, months):
    second = first.astimezone(UTC) + timedelta(seconds=later_by)
    # Inside the repeated autumn hour the wall clock itself goes back: 02:10 (second
    # occurrence) follows 02:50 (first), and keeping the wall-clock time keeps that order.
    assume(not (_in_repeated_hour(first) and _in_repeated_hour(second)))
    # Clamping to the month's end keeps the wall-clock time, so two starts whose days clamp to the
    # same last day (30 Aug 23:00 and 31 Aug 00:00 + 1 month -> 30 Sep 23:00 and 30 Sep 00:00) can
    # swap order: the documented convention (31 Jan + 1 month = 28/29 Feb at the same time).
    assume(not (_clamped(first, months) or _clamped(second, months)))

    assert add_months(first, months) <= add_months(second, months)


@settings(max_examples=300)
@given(due=INSTANTS)
def test_weekend_relief_is_never_earlier_and_lands_on_a_working_day(due):
    relieved = apply_weekend_relief(due)
    due_day = due.astimezone(PARIS).date()
    relieved_local = relieved.astimezone(PARIS)

    assert relieved >= due
    assert is_working_day(relieved_local.date())
    if is_working_day(due_day):
        assert relieved == due
    else:
        assert relieved_local.time() == RELIEF_TIME
        skipped = (relieved_local.date() - due_day).days
        assert all(not is_working_day(due_day + timedelta(days=n)) for n in range(skipped))


@settings(max_examples=200)
@given(aware=INSTANTS, classified_after=st.integers(0, 72 * 3600))
def test_dora_initial_is_4_hours_after_classification_capped_at_24_hours_after_awareness(aware, classified_after):
    classified = aware.astimezone(UTC) + timedelta(seconds=classified_after)
    cap = aware.astimezone(UTC) + timedelta(hours=24)

    due = dora_initial_due(aware_at=aware, classified_at=classified)

    if classified <= cap:
        assert due == min(classified + timedelta(hours=4), cap)
    else:
        assert due == classified + timedelta(hours=4)
    assert due >= classified


OPTIONAL_INSTANTS = st.none() | INSTANTS


@settings(max_examples=300)
@given(due=OPTIONAL_INSTANTS, completed=OPTIONAL_INSTANTS, now=INSTANTS, started=st.booleans())
def test_status_is_done_exactly_when_completed(due, completed, now, started):
    result = status(due_at=due, completed_at=completed, not_applicable=False, now=now, started=started)

    assert (result in {Status.DONE_ON_TIME, Status.DONE_LATE}) is (completed is not None)
    if completed is not None:
        assert (result is Status.DONE_LATE) is (due is not None and _utc(completed) > _utc(due))


@settings(max_examples=300)
@given(due=OPTIONAL_INSTANTS, completed=OPTIONAL_INSTANTS, now=INSTANTS, started=st.booleans())
def test_not_applicable_wins_whatever_the_dates(due, completed, now, started):
    result = status(due_at=due, completed_at=completed, not_applicable=True, now=now, started=started)

    assert result is Status.NOT_APPLICABLE


@settings(max_examples=300)
@given(due=INSTANTS, completed=INSTANTS)
def test_is_late_exactly_when_completed_after_due(due, completed):
    assert is_late(due_at=due, completed_at=completed) is (_utc(completed) > _utc(due))


@settings(max_examples=300)
@given(due=INSTANTS, now=INSTANTS)
def test_open_obligation_status_follows_the_time_left(due, now):
    result = status(due_at=due, completed_at=None, not_applicable=False, now=now)

    if _utc(now) > _utc(due):
        assert result is Status.OVERDUE
    elif _utc(due) - _utc(now) <= timedelta(hours=24):
        assert result is Status.DUE_SOON
    else:
        assert result is Status.RUNNING
