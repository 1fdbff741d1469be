"""Property tests (hypothesis) for cases/clocks.py. Dates bounded to 2000-2035, working days 0..300.

Run: .venv/bin/pytest tests/cases/test_clocks_properties.py -p no:django -q
"""

import calendar as stdlib_calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cases.clocks import (
    LONDON,
    ClockRules,
    ClockState,
    HolidayCalendar,
    add_months,
    add_working_days,
    clock_state,
    comms_act_stl,
    dapn_hearing_due,
    is_time_barred,
    is_working_day,
    london_today,
    previous_working_day,
    stl_expiry,
    stl_within_eight_weeks,
    working_days_between,
)

CAL = HolidayCalendar()
RULES = ClockRules()
MIN = date(2000, 1, 1)
MAX = date(2035, 12, 31)

dates = st.dates(min_value=MIN, max_value=MAX)
n_days = st.integers(min_value=0, max_value=300)
zones = st.sampled_from([UTC, LONDON, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])
aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 2),  # noqa: DTZ001 (hypothesis bounds are naive by design)
    max_value=datetime(2035, 12, 30),  # noqa: DTZ001
    timezones=zones,
    allow_imaginary=False,
)

# Local settings (not a global profile, so other test modules keep theirs). No deadline: the first call
# for a year builds that year's holiday set.
clock_settings = settings(max_examples=200, deadline=None)


# ---------------------------------------------------------------------------------------------
# Working days
# ---------------------------------------------------------------------------------------------


@clock_settings
@given(start=dates, n=n_days)
def test_working_days_between_inverts_add_working_days(start: date, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n, calendar=CAL), calendar=CAL) == n


@clock_settings
@given(start=dates, n=st.integers(min_value=1, max_value=300))
def test_add_working_days_lands_on_a_working_day(start: date, n: int) -> None:
    result = add_working_days(start, n, calendar=CAL)
    assert result > start
    assert is_working_day(result, calendar=CAL)


@clock_settings
@given(start=dates, n=st.integers(min_value=0, max_value=299))
def test_add_working_days_strictly_monotone(start: date, n: int) -> None:
    this = add_working_days(start, n, calendar=CAL)
    following = add_working_days(start, n + 1, calendar=CAL)
    assert this < following
    # and nothing in between is a working day
    day = this + timedelta(days=1)
    while day < following:
        assert not is_working_day(day, calendar=CAL)
        day += timedelta(days=1)


@clock_settings
@given(a=dates, b=dates)
def test_working_days_between_matches_day_by_day_count(a: date, b: date) -> None:
    start, end = min(a, b), max(a, b)
    if (end - start).days > 800:
        end = start + timedelta(days=800)
    expected = sum(
        1 for k in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=k), calendar=CAL)
    )
    assert working_days_between(start, end, calendar=CAL) == expected
    assert working_days_between(end, start, calendar=CAL) == 0


@clock_settings
@given(a=dates, b=dates, c=dates)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    x, y, z = sorted((a, b, c))
    total = working_days_between(x, z, calendar=CAL)
    assert working_days_between(x, y, calendar=CAL) + working_days_between(y, z, calendar=CAL) == total


@clock_settings
@given(day=dates)
def test_previous_working_day(day: date) -> None:
    result = previous_working_day(day, calendar=CAL)
    assert result <= day
    assert is_working_day(result, calendar=CAL)
    assert working_days_between(result, day, calendar=CAL) == 0
    assert (result == day) is is_working_day(day, calendar=CAL)


@clock_settings
@given(day=dates)
def test_bank_holidays_are_weekdays_of_their_year(day: date) -> None:
    year = day.year
    holidays_ = CAL.bank_holidays(year)
    assert all(h.year == year and h.weekday() < 5 for h in holidays_)
    assert 8 <= len(holidays_) <= 10
    assert CAL.is_bank_holiday(day) is (day in holidays_)


# ---------------------------------------------------------------------------------------------
# Months and statutory time limits
# ---------------------------------------------------------------------------------------------


@clock_settings
@given(day=dates, months=st.integers(min_value=-120, max_value=120))
def test_add_months_is_the_clamped_corresponding_date(day: date, months: int) -> None:
    result = add_months(day, months)
    last = stdlib_calendar.monthrange(result.year, result.month)[1]
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    assert result.day <= last
    assert result.day == day.day or result.day == last


@clock_settings
@given(a=dates, b=dates, months=st.integers(min_value=0, max_value=36))
def test_add_months_is_monotone(a: date, b: date, months: int) -> None:
    x, y = sorted((a, b))
    assert add_months(x, months) <= add_months(y, months)


@clock_settings
@given(offence=dates, lag=st.integers(min_value=0, max_value=3 * 366))
def test_s39a_never_earlier_than_s127(offence: date, lag: int) -> None:
    report = offence + timedelta(days=lag)
    s127 = stl_expiry(offence, summary_only=True, rules=RULES)
    s39a = stl_expiry(
        offence, summary_only=True, da_common_assault=True, first_qualifying_report=report, rules=RULES
    )
    assert s127 is not None and s39a is not None
    assert s39a >= s127
    assert s39a <= add_months(offence, RULES.s39a_cap_months)
    if offence >= RULES.s39a_applies_from:
        assert s39a <= add_months(report, RULES.s39a_report_months)
    else:
        assert s39a == s127
    assert (
        stl_expiry(offence, summary_only=False, da_common_assault=True, first_qualifying_report=report)
        is None
    )


@clock_settings
@given(offence=dates, lag=st.integers(min_value=0, max_value=4 * 366))
def test_comms_act_stl_bounds(offence: date, lag: int) -> None:
    knowledge = offence + timedelta(days=lag)
    result = comms_act_stl(offence, knowledge, rules=RULES)
    assert result < add_months(offence, 36)
    assert result < add_months(knowledge, 6)
    assert result >= min(add_months(offence, 36), add_months(knowledge, 6)) - timedelta(days=1)


@clock_settings
@given(stl=st.one_of(st.none(), dates), on=dates)
def test_flag_and_time_bar_are_exclusive(stl: date | None, on: date) -> None:
    flagged = stl_within_eight_weeks(stl, on, rules=RULES)
    barred = is_time_barred(stl, on)
    assert not (flagged and barred)
    if stl is not None:
        assert flagged is (0 <= (stl - on).days <= 56)
        assert barred is ((stl - on).days < 0)


# ---------------------------------------------------------------------------------------------
# Clock state
# ---------------------------------------------------------------------------------------------


@clock_settings
@given(
    due=st.one_of(st.none(), dates),
    today=dates,
    stopped=st.one_of(st.none(), dates),
    soon=st.integers(min_value=0, max_value=30),
)
def test_clock_state_consistency(due: date | None, today: date, stopped: date | None, soon: int) -> None:
    state = clock_state(due_on=due, today=today, stopped_on=stopped, due_soon_days=soon)
    if due is None:
        assert state is ClockState.NOT_STARTED
    elif stopped is not None:
        assert state is (ClockState.MET if stopped <= due else ClockState.MISSED)
    else:
        assert state in {ClockState.RUNNING, ClockState.DUE_SOON, ClockState.OVERDUE}
        assert (state is ClockState.OVERDUE) is (today > due)
        assert (state is ClockState.RUNNING) is ((due - today).days > soon)


@clock_settings
@given(due=dates, today=dates, step=st.integers(min_value=1, max_value=60), soon=st.integers(0, 30))
def test_open_clock_state_only_advances_with_time(due: date, today: date, step: int, soon: int) -> None:
    order = [ClockState.RUNNING, ClockState.DUE_SOON, ClockState.OVERDUE]
    before = clock_state(due_on=due, today=today, due_soon_days=soon)
    after = clock_state(due_on=due, today=today + timedelta(days=step), due_soon_days=soon)
    assert order.index(before) <= order.index(after)


# ---------------------------------------------------------------------------------------------
# DAPN hearing and London dates
# ---------------------------------------------------------------------------------------------


@clock_settings
@given(served=aware_datetimes)
def test_dapn_at_least_48_hours_and_lands_on_a_counted_day(served: datetime) -> None:
    due = dapn_hearing_due(served, rules=RULES, calendar=CAL)
    assert due.tzinfo is LONDON
    assert due - served >= timedelta(hours=48)  # aware subtraction: real elapsed time
    # at most 48 h plus the disregarded days (the longest run is Christmas to a substitute: 5 days)
    assert due - served <= timedelta(hours=48 + 24 * 6)
    local_day = due.date()
    if (due.hour, due.minute, due.second, due.microsecond) == (0, 0, 0, 0):
        local_day -= timedelta(days=1)  # 00:00 is the end of the previous (counted) day
    assert not CAL.is_dapn_disregarded(local_day)


@clock_settings
@given(served=aware_datetimes)
def test_dapn_counts_exactly_48_hours_outside_disregarded_days(served: datetime) -> None:
    due = dapn_hearing_due(served, rules=RULES, calendar=CAL)
    start = served.astimezone(LONDON).replace(tzinfo=None)
    end = due.replace(tzinfo=None)
    counted = timedelta()
    day = start.date()
    while day <= end.date():
        if not CAL.is_dapn_disregarded(day):
            lo = max(start, datetime.combine(day, datetime.min.time()))
            hi = min(end, datetime.combine(day + timedelta(days=1), datetime.min.time()))
            if hi > lo:
                counted += hi - lo
        day += timedelta(days=1)
    assert counted == timedelta(hours=48)


@clock_settings
@given(now=aware_datetimes)
def test_london_today_is_the_london_wall_date(now: datetime) -> None:
    assert london_today(now) == now.astimezone(LONDON).date()
    assert london_today(now.astimezone(UTC)) == london_today(now)


@clock_settings
@given(made_on=dates)
def test_dvpo_bounds_are_the_last_days_of_periods_of_14_and_28_days_beginning_with_the_made_day(
    made_on: date,
) -> None:
    from cases.clocks import dvpo_end_bounds

    earliest, latest = dvpo_end_bounds(made_on, rules=RULES)

    def days_in_force(last_day: date) -> int:
        """Count the calendar days from the day it is made to its last day, both included."""
        n, day = 0, made_on
        while day <= last_day:
            n, day = n + 1, day + timedelta(days=1)
        return n

    assert days_in_force(earliest) == 14
    assert days_in_force(latest) == 28
    assert made_on < earliest < latest
