"""Custody time limits and Victims' Right to Review (issue 17): table tests and hypothesis properties for the pure
rules in cases/clocks.py. Every worked example is in docs/rules.md.

Pure: no Django, no database. Run: .venv/bin/pytest tests/cases/test_court_rules.py -p no:django -q
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.clocks import (
    ClockRules,
    HolidayCalendar,
    VrrDates,
    add_months,
    add_working_days,
    cps_vrr_request_dates,
    ctl_alert_dates,
    ctl_crown_court_expiry,
    ctl_days_in_custody,
    ctl_expiry,
    ctl_magistrates_limit_days,
    is_ctl_excluded_day,
    is_working_day,
    police_vrr_request_due,
    police_vrr_response_dates,
)

D = date
CAL = HolidayCalendar()
RULES = ClockRules()

# --------------------------------------------------------------------------------------------------
# Custody time limits: CTL Regulations 1987 reg 2(4)-(5), 4, 5
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("began", "limit", "expiry"),
    [
        # Plain: Mon 5 Jan 2026 + 56 = Mon 2 Mar 2026 (the day custody began not counted).
        (D(2026, 1, 5), 56, D(2026, 3, 2)),
        # domain-rules.md s.5: 28 Dec 2026 (Boxing Day substitute) -> Sun 27, Sat 26, Fri 25 -> Thu 24 Dec.
        (D(2026, 11, 2), 56, D(2026, 12, 24)),
        # Nominal Saturday 7 Mar 2026 -> Fri 6 Mar.
        (D(2026, 1, 10), 56, D(2026, 3, 6)),
        # Nominal Easter Monday 6 Apr 2026 -> Sun 5, Sat 4, Good Friday 3 -> Thu 2 Apr.
        (D(2026, 2, 9), 56, D(2026, 4, 2)),
        # Either-way 70 days: Wed 7 Jan 2026 -> Wed 18 Mar 2026.
        (D(2026, 1, 7), 70, D(2026, 3, 18)),
        # Crown Court 182 days from sending Thu 2 Jul 2026 -> Thu 31 Dec 2026.
        (D(2026, 7, 2), 182, D(2026, 12, 31)),
        # Nominal New Year's Day substitute Mon 3 Jan 2028 -> Sun 2, Sat 1 Jan, Fri 31 Dec 2027 is a working day.
        (D(2027, 11, 8), 56, D(2027, 12, 31)),
    ],
    ids=["plain", "christmas-2026", "saturday", "easter-2026", "either-way-70", "crown-182", "new-year-2028"],
)
def test_ctl_expiry_worked_examples(began: date, limit: int, expiry: date) -> None:
    assert ctl_expiry(began, limit, calendar=CAL) == expiry


def test_ctl_expiry_keeps_christmas_and_good_friday_even_if_removed_from_bank_holidays() -> None:
    cal = HolidayCalendar(remove={D(2025, 12, 25), D(2026, 4, 3)})
    # Nominal Thu 25 Dec 2025 -> Wed 24 Dec.
    assert ctl_expiry(D(2025, 12, 25) - timedelta(days=56), 56, calendar=cal) == D(2025, 12, 24)
    # Nominal Good Friday 3 Apr 2026 -> Thu 2 Apr.
    assert ctl_expiry(D(2026, 4, 3) - timedelta(days=56), 56, calendar=cal) == D(2026, 4, 2)
    assert is_ctl_excluded_day(D(2025, 12, 25), calendar=cal)
    assert is_ctl_excluded_day(D(2026, 4, 3), calendar=cal)


def test_ctl_expiry_honours_an_added_bank_holiday() -> None:
    cal = HolidayCalendar(add={D(2026, 3, 2)})
    assert ctl_expiry(D(2026, 1, 5), 56, calendar=cal) == D(2026, 2, 27)


def test_ctl_expiry_checks_its_input() -> None:
    with pytest.raises(TypeError, match="datetime.datetime"):
        ctl_expiry(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), 56)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit_days must be >= 1"):
        ctl_expiry(D(2026, 1, 5), 0)
    with pytest.raises(TypeError, match="limit_days must be an int"):
        ctl_expiry(D(2026, 1, 5), True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("either_way", "decided", "on", "days"),
    [
        (False, None, None, 56),  # summary-only (reg 4)
        (True, D(2026, 2, 1), None, 56),  # either-way, summary trial decided within 56 days
        (True, D(2026, 3, 2), None, 56),  # decided on the 56th day (first appearance 5 Jan not counted)
        (True, D(2026, 3, 3), None, 70),  # decided on the 57th day
        (True, None, D(2026, 2, 1), 56),  # undecided, still inside the window: the earlier limit
        (True, None, D(2026, 3, 3), 70),  # undecided past the window: 70
    ],
    ids=["summary", "decided-early", "decided-day-56", "decided-day-57", "undecided-early", "undecided-late"],
)
def test_ctl_magistrates_limit_days(
    either_way: bool, decided: date | None, on: date | None, days: int
) -> None:
    limit = ctl_magistrates_limit_days(
        D(2026, 1, 5), either_way=either_way, summary_trial_decided_on=decided, on=on
    )
    assert limit == days


def test_ctl_magistrates_limit_days_refuses_a_decision_before_first_appearance() -> None:
    with pytest.raises(ValueError, match="before the first appearance"):
        ctl_magistrates_limit_days(D(2026, 1, 5), either_way=True, summary_trial_decided_on=D(2026, 1, 4))


def test_ctl_crown_court_expiry_less_time_served() -> None:
    # Remanded Mon 5 Jan 2026, sent Mon 2 Feb 2026: 28 days served; 154 days from sending -> Mon 6 Jul 2026,
    # the same day as 182 days of continuous custody from 5 Jan.
    served = ctl_days_in_custody(D(2026, 1, 5), D(2026, 2, 2))
    assert served == 28
    assert ctl_crown_court_expiry(D(2026, 2, 2), served, calendar=CAL) == D(2026, 7, 6)
    assert ctl_expiry(D(2026, 1, 5), 182, calendar=CAL) == D(2026, 7, 6)
    assert ctl_crown_court_expiry(D(2026, 7, 2), 0, calendar=CAL) == D(2026, 12, 31)


def test_ctl_crown_court_expiry_refuses_a_used_up_limit() -> None:
    with pytest.raises(ValueError, match="custody time limit has expired"):
        ctl_crown_court_expiry(D(2026, 7, 2), 182)
    with pytest.raises(ValueError, match="before the custody began"):
        ctl_days_in_custody(D(2026, 2, 2), D(2026, 1, 5))


def test_ctl_limits_and_alerts_are_settings() -> None:
    assert (
        RULES.ctl_summary_days,
        RULES.ctl_either_way_days,
        RULES.ctl_either_way_summary_decided_days,
        RULES.ctl_crown_court_days,
        RULES.ctl_alert_working_days,
        RULES.ctl_second_alert_working_days,
    ) == (56, 70, 56, 182, 10, 5)
    rules = ClockRules(ctl_crown_court_days=112, ctl_alert_working_days=3, ctl_second_alert_working_days=1)
    assert ctl_crown_court_expiry(D(2026, 1, 5), 0, rules=rules, calendar=CAL) == D(2026, 4, 27)
    assert ctl_alert_dates(D(2026, 12, 24), rules=rules, calendar=CAL) == (D(2026, 12, 21), D(2026, 12, 23))


def test_ctl_alert_dates_worked_example() -> None:
    # CTL Thu 24 Dec 2026: 10 working days before is Thu 10 Dec, 5 is Thu 17 Dec.
    assert ctl_alert_dates(D(2026, 12, 24), calendar=CAL) == (D(2026, 12, 10), D(2026, 12, 17))
    # Across Easter 2026 (Good Friday 3 Apr, Easter Monday 6 Apr): CTL Fri 10 Apr 2026.
    assert ctl_alert_dates(D(2026, 4, 10), calendar=CAL) == (D(2026, 3, 25), D(2026, 4, 1))


# --------------------------------------------------------------------------------------------------
# Victims' Right to Review
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("communicated", "expected"),
    [
        # Tue 23 Dec 2025: 10 working days skip 25, 26 Dec and 1 Jan -> Fri 9 Jan 2026; 3 months -> 23 Mar 2026.
        (D(2025, 12, 23), VrrDates(D(2026, 1, 9), D(2026, 3, 23))),
        # Month end: 30 Nov 2025 + 3 months -> 28 Feb 2026 (clamped).
        (D(2025, 11, 30), VrrDates(D(2025, 12, 12), D(2026, 2, 28))),
    ],
    ids=["christmas", "month-end"],
)
def test_cps_vrr_request_dates(communicated: date, expected: VrrDates) -> None:
    assert cps_vrr_request_dates(communicated, calendar=CAL) == expected


def test_police_vrr_dates() -> None:
    assert police_vrr_request_due(D(2025, 8, 31)) == D(2025, 11, 30)
    # Requested Mon 1 Dec 2025: acknowledged by Mon 15 Dec; review completed by Thu 15 Jan 2026.
    assert police_vrr_response_dates(D(2025, 12, 1), calendar=CAL) == (D(2025, 12, 15), D(2026, 1, 15))
    rules = ClockRules(vrr_police_request_months=1, vrr_cps_prompt_working_days=5)
    assert police_vrr_request_due(D(2025, 1, 31), rules=rules) == D(2025, 2, 28)
    assert cps_vrr_request_dates(D(2025, 12, 23), rules=rules, calendar=CAL).prompt_by == D(2026, 1, 2)


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2035, 12, 31))
limits = st.integers(min_value=1, max_value=400)
prop_settings = settings(max_examples=200, deadline=None)


@prop_settings
@given(began=dates, limit=limits)
def test_ctl_expiry_is_the_latest_counting_day_not_after_the_nominal_day(began: date, limit: int) -> None:
    nominal = began + timedelta(days=limit)
    expiry = ctl_expiry(began, limit, calendar=CAL)
    assert expiry <= nominal
    assert not is_ctl_excluded_day(expiry, calendar=CAL)
    assert is_working_day(expiry, calendar=CAL)
    day = expiry + timedelta(days=1)
    while day <= nominal:
        assert is_ctl_excluded_day(day, calendar=CAL)
        day += timedelta(days=1)
    # Never more than a long weekend plus Christmas back.
    assert (nominal - expiry).days <= 5


@prop_settings
@given(began=dates, limit=st.integers(min_value=1, max_value=399))
def test_ctl_expiry_never_decreases_with_a_longer_limit(began: date, limit: int) -> None:
    assert ctl_expiry(began, limit, calendar=CAL) <= ctl_expiry(began, limit + 1, calendar=CAL)


@prop_settings
@given(first=dates, served=st.integers(min_value=0, max_value=181))
def test_ctl_crown_court_equals_continuous_custody_from_first_remand(first: date, served: int) -> None:
    sent = first + timedelta(days=served)
    assert ctl_days_in_custody(first, sent) == served
    assert ctl_crown_court_expiry(sent, served, calendar=CAL) == ctl_expiry(first, 182, calendar=CAL)


@prop_settings
@given(began=dates, limit=st.integers(min_value=30, max_value=400))
def test_ctl_alerts_are_the_tenth_and_fifth_working_days_before_expiry(began: date, limit: int) -> None:
    expiry = ctl_expiry(began, limit, calendar=CAL)
    first, second = ctl_alert_dates(expiry, calendar=CAL)
    assert first < second < expiry
    assert add_working_days(first, 10, calendar=CAL) == expiry
    assert add_working_days(second, 5, calendar=CAL) == expiry


@prop_settings
@given(communicated=dates)
def test_vrr_prompt_date_is_before_the_three_month_limit(communicated: date) -> None:
    dates_ = cps_vrr_request_dates(communicated, calendar=CAL)
    assert communicated < dates_.prompt_by < dates_.latest_by
    assert dates_.latest_by == add_months(communicated, 3)
