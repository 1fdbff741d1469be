"""Table tests for cases/clocks.py: every worked example in domain-rules.md, plus edges.

Pure: no Django, no database. Run: .venv/bin/pytest tests/cases/test_clocks.py -p no:django -q
"""

import ast
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from dateutil.easter import easter  # type: ignore[import-untyped]

from cases import clocks
from cases.clocks import (
    LONDON,
    ClockRules,
    ClockState,
    HolidayCalendar,
    StlRegime,
    active_calendar,
    active_rules,
    add_months,
    add_working_days,
    charge_due,
    charging_decision_due,
    clock_state,
    comms_act_stl,
    configure,
    dapn_hearing_due,
    easter_sunday,
    investigation_due,
    is_time_barred,
    is_working_day,
    london_today,
    previous_working_day,
    reported_after_offence_check,
    stl_expiry,
    stl_regime,
    stl_within_eight_weeks,
    victim_support_referral_due,
    victim_update_due,
    working_days_between,
)

D = date
CAL = HolidayCalendar()
RULES = ClockRules()


@pytest.fixture
def restore_active() -> Iterator[None]:
    """configure() sets module state; put it back whatever the test does."""
    rules, calendar = active_rules(), active_calendar()
    try:
        yield
    finally:
        configure(rules=rules, calendar=calendar)


# ---------------------------------------------------------------------------------------------
# Section 9: England and Wales bank holidays
# ---------------------------------------------------------------------------------------------

GOV_UK_BANK_HOLIDAYS = {
    2024: {D(2024, 1, 1), D(2024, 3, 29), D(2024, 4, 1), D(2024, 5, 6), D(2024, 5, 27), D(2024, 8, 26),
           D(2024, 12, 25), D(2024, 12, 26)},
    2025: {D(2025, 1, 1), D(2025, 4, 18), D(2025, 4, 21), D(2025, 5, 5), D(2025, 5, 26), D(2025, 8, 25),
           D(2025, 12, 25), D(2025, 12, 26)},
    2026: {D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25), D(2026, 8, 31),
           D(2026, 12, 25), D(2026, 12, 28)},
    2027: {D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29), D(2027, 5, 3), D(2027, 5, 31), D(2027, 8, 30),
           D(2027, 12, 27), D(2027, 12, 28)},
    2028: {D(2028, 1, 3), D(2028, 4, 14), D(2028, 4, 17), D(2028, 5, 1), D(2028, 5, 29), D(2028, 8, 28),
           D(2028, 12, 25), D(2028, 12, 26)},
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(GOV_UK_BANK_HOLIDAYS))
def test_bank_holidays_match_gov_uk_list_exactly(year: int) -> None:
    assert CAL.bank_holidays(year) == frozenset(GOV_UK_BANK_HOLIDAYS[year])


@pytest.mark.parametrize("year", sorted(GOV_UK_BANK_HOLIDAYS))
def test_every_listed_day_is_a_bank_holiday_and_not_a_working_day(year: int) -> None:
    for day in GOV_UK_BANK_HOLIDAYS[year]:
        assert CAL.is_bank_holiday(day), day
        assert not is_working_day(day, calendar=CAL), day


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (D(2020, 5, 8), "VE Day 75 (replaced 4 May)"),
        (D(2022, 6, 2), "spring bank holiday moved from 30 May"),
        (D(2022, 6, 3), "Platinum Jubilee"),
        (D(2022, 9, 19), "State Funeral of Queen Elizabeth II"),
        (D(2023, 5, 8), "Coronation of King Charles III"),
    ],
)
def test_one_off_bank_holidays(day: date, why: str) -> None:
    assert CAL.is_bank_holiday(day), why
    assert not is_working_day(day, calendar=CAL), why


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (D(2020, 5, 4), "early May holiday moved to 8 May 2020"),
        (D(2022, 5, 30), "spring holiday moved to 2 Jun 2022"),
    ],
)
def test_moved_holidays_are_ordinary_working_days(day: date, why: str) -> None:
    assert not CAL.is_bank_holiday(day), why
    assert is_working_day(day, calendar=CAL), why


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 12, 26),  # Sat: Boxing Day nominal, observed Mon 28 Dec
        D(2027, 12, 25),  # Sat: Christmas nominal, observed Mon 27 Dec
        D(2027, 12, 26),  # Sun: Boxing Day nominal, observed Tue 28 Dec
        D(2028, 1, 1),  # Sat: New Year nominal, observed Mon 3 Jan
        D(2022, 1, 1),  # Sat
        D(2023, 1, 1),  # Sun
    ],
)
def test_weekend_nominal_dates_are_not_bank_holidays(day: date) -> None:
    assert day.weekday() >= 5
    assert day in holidays.country_holidays("GB", subdiv="ENG", years=day.year)  # the package lists it
    assert not CAL.is_bank_holiday(day)
    assert day not in CAL.bank_holidays(day.year)


@pytest.mark.parametrize(
    "day",
    [D(2026, 12, 28), D(2027, 12, 27), D(2027, 12, 28), D(2028, 1, 3), D(2022, 1, 3), D(2023, 1, 2),
     D(2022, 12, 26), D(2022, 12, 27)],
)  # fmt: skip
def test_christmas_and_new_year_substitutes_are_bank_holidays(day: date) -> None:
    assert day.weekday() < 5
    assert CAL.is_bank_holiday(day)


@pytest.mark.parametrize(
    ("good_friday", "easter_monday"),
    [
        (D(2024, 3, 29), D(2024, 4, 1)),
        (D(2025, 4, 18), D(2025, 4, 21)),
        (D(2026, 4, 3), D(2026, 4, 6)),
        (D(2027, 3, 26), D(2027, 3, 29)),
        (D(2028, 4, 14), D(2028, 4, 17)),
        (D(2019, 4, 19), D(2019, 4, 22)),  # latest-ish Easter
        (D(2008, 3, 21), D(2008, 3, 24)),  # early Easter
    ],
)
def test_easter(good_friday: date, easter_monday: date) -> None:
    assert CAL.is_bank_holiday(good_friday)
    assert CAL.is_bank_holiday(easter_monday)
    assert easter_sunday(good_friday.year) == good_friday + timedelta(days=2)
    assert CAL.is_dapn_disregarded(good_friday)


def test_easter_computus_matches_dateutil() -> None:
    for year in range(1900, 2201):
        assert easter_sunday(year) == easter(year), year


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 9, 6), False),  # Saturday
        (D(2025, 9, 7), False),  # Sunday
        (D(2025, 9, 8), True),  # Monday
        (D(2025, 9, 12), True),  # Friday
        (D(2025, 12, 24), True),  # Christmas Eve is not a bank holiday
        (D(2025, 12, 25), False),
        (D(2025, 12, 26), False),
        (D(2025, 12, 29), True),
        (D(2026, 1, 1), False),
        (D(2026, 12, 26), False),  # Saturday, whatever the package says
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day, calendar=CAL) is working


def test_bank_holidays_cached_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(holidays, "country_holidays", counting)
    cal = HolidayCalendar()
    assert working_days_between(D(2024, 1, 1), D(2028, 12, 31), calendar=cal) > 0
    add_working_days(D(2024, 1, 1), 1000, calendar=cal)
    for day in (D(2024, 1, 1) + timedelta(days=n) for n in range((D(2028, 12, 31) - D(2024, 1, 1)).days + 1)):
        is_working_day(day, calendar=cal)
        cal.is_dapn_disregarded(day)
    assert sorted(calls) == [2024, 2025, 2026, 2027, 2028]  # type: ignore[type-var]
    assert cal.bank_holidays(2025) is cal.bank_holidays(2025)


# ---------------------------------------------------------------------------------------------
# Administrator overrides
# ---------------------------------------------------------------------------------------------


def test_override_add_makes_a_new_bank_holiday() -> None:
    one_off = D(2028, 6, 7)  # a Wednesday, hypothetical proclaimed holiday
    cal = HolidayCalendar(add=[one_off])
    assert cal.is_bank_holiday(one_off)
    assert not CAL.is_bank_holiday(one_off)
    assert cal.bank_holidays(2028) == frozenset(GOV_UK_BANK_HOLIDAYS[2028] | {one_off})
    assert add_working_days(D(2028, 6, 6), 1, calendar=cal) == D(2028, 6, 8)
    assert working_days_between(D(2028, 6, 5), D(2028, 6, 9), calendar=cal) == 3
    assert cal.is_dapn_disregarded(one_off)


def test_override_remove_drops_a_bank_holiday() -> None:
    cal = HolidayCalendar(remove=[D(2025, 12, 26)])
    assert not cal.is_bank_holiday(D(2025, 12, 26))
    assert is_working_day(D(2025, 12, 26), calendar=cal)
    # Charging example moves one working day earlier: Mon 15 Dec 2025 -> Tue 30 Dec 2025.
    assert charging_decision_due(D(2025, 12, 15), calendar=cal) == D(2025, 12, 30)
    assert charging_decision_due(D(2025, 12, 15), calendar=CAL) == D(2025, 12, 31)


def test_override_remove_wins_over_add() -> None:
    day = D(2028, 6, 7)
    cal = HolidayCalendar(add=[day], remove=[day])
    assert not cal.is_bank_holiday(day)


def test_christmas_and_good_friday_stay_dapn_disregarded_when_removed_as_bank_holidays() -> None:
    cal = HolidayCalendar(remove=[D(2026, 4, 3), D(2026, 12, 25)])
    assert not cal.is_bank_holiday(D(2026, 4, 3))
    assert cal.is_dapn_disregarded(D(2026, 4, 3))  # Good Friday named in s.29(3)
    assert cal.is_dapn_disregarded(D(2026, 12, 25))  # Christmas Day named in s.29(3)


def test_override_rejects_datetimes() -> None:
    with pytest.raises(TypeError, match="not a datetime.datetime"):
        HolidayCalendar(add=[datetime(2028, 6, 7, tzinfo=UTC)])


def test_configure_sets_and_keeps_active_rules_and_calendar(restore_active: None) -> None:
    rules = ClockRules(investigation_days=28)
    calendar = HolidayCalendar(add=[D(2025, 9, 2)])
    configure(rules=rules, calendar=calendar)
    assert active_rules() is rules
    assert active_calendar() is calendar
    assert investigation_due(D(2025, 9, 1)) == D(2025, 9, 29)
    assert add_working_days(D(2025, 9, 1), 1) == D(2025, 9, 3)
    configure()  # None keeps what is active
    assert active_rules() is rules
    assert active_calendar() is calendar
    configure(calendar=HolidayCalendar())
    assert active_rules() is rules
    assert add_working_days(D(2025, 9, 1), 1) == D(2025, 9, 2)


def test_configure_rejects_wrong_types(restore_active: None) -> None:
    with pytest.raises(TypeError, match="ClockRules"):
        configure(rules={"investigation_days": 21})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="HolidayCalendar"):
        configure(calendar=[D(2025, 1, 1)])  # type: ignore[arg-type]


def test_explicit_arguments_beat_active_state(restore_active: None) -> None:
    configure(rules=ClockRules(investigation_days=28), calendar=HolidayCalendar(add=[D(2025, 9, 2)]))
    assert investigation_due(D(2025, 9, 1), rules=RULES) == D(2025, 9, 22)
    assert add_working_days(D(2025, 9, 1), 1, calendar=CAL) == D(2025, 9, 2)


# ---------------------------------------------------------------------------------------------
# Calendar arithmetic
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2025, 3, 5), 6, D(2025, 9, 5)),
        (D(2024, 8, 31), 6, D(2025, 2, 28)),  # February has no 31st
        (D(2023, 8, 31), 6, D(2024, 2, 29)),  # leap year
        (D(2024, 9, 30), 6, D(2025, 3, 30)),  # not moved to 31 Mar
        (D(2024, 9, 30), 4, D(2025, 1, 30)),  # Dodds v Walker
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 3, 31), 1, D(2025, 4, 30)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 24, D(2026, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2025, 2, 28), 6, D(2025, 8, 28)),  # not moved to month end either
        (D(2025, 7, 15), 6, D(2026, 1, 15)),  # year rollover
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
        (D(2025, 5, 20), 0, D(2025, 5, 20)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 1, 15), -1, D(2024, 12, 15)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2025, 9, 1), 0, D(2025, 9, 1)),
        (D(2025, 9, 7), 0, D(2025, 9, 7)),  # Sunday: days == 0 returns start as is
        (D(2025, 9, 5), 1, D(2025, 9, 8)),  # Fri -> Mon
        (D(2025, 9, 6), 1, D(2025, 9, 8)),  # Sat -> Mon (start not counted whatever day)
        (D(2025, 9, 7), 1, D(2025, 9, 8)),  # Sun -> Mon
        (D(2025, 12, 25), 1, D(2025, 12, 29)),  # start on a bank holiday
        (D(2025, 4, 17), 1, D(2025, 4, 22)),  # over Easter
        (D(2027, 12, 24), 1, D(2027, 12, 29)),
        (D(2027, 12, 31), 1, D(2028, 1, 4)),  # New Year substitute 3 Jan 2028
        (D(2025, 9, 1), 5, D(2025, 9, 8)),
        (D(2025, 12, 15), 10, D(2025, 12, 31)),
    ],
)
def test_add_working_days(start: date, days: int, expected: date) -> None:
    assert add_working_days(start, days, calendar=CAL) == expected


def test_add_working_days_negative_is_value_error() -> None:
    with pytest.raises(ValueError, match=r"days must be >= 0 \(counting forward from 2025-09-01\), got -1"):
        add_working_days(D(2025, 9, 1), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2025, 9, 1), D(2025, 9, 1), 0),
        (D(2025, 9, 8), D(2025, 9, 1), 0),  # end before start
        (D(2025, 9, 1), D(2025, 9, 2), 1),
        (D(2025, 9, 5), D(2025, 9, 8), 1),  # Fri -> Mon
        (D(2025, 9, 6), D(2025, 9, 7), 0),  # Sat -> Sun
        (D(2025, 12, 15), D(2025, 12, 31), 10),
        (D(2025, 12, 23), D(2026, 1, 2), 5),
        (D(2025, 4, 17), D(2025, 4, 23), 2),
        (D(2024, 12, 31), D(2025, 12, 31), 253),  # 261 weekdays - 8 bank holidays
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end, calendar=CAL) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 9, 9), D(2025, 9, 9)),  # a Tuesday is itself
        (D(2025, 9, 7), D(2025, 9, 5)),  # STL on Sunday: warn Friday
        (D(2025, 4, 21), D(2025, 4, 17)),  # Easter Monday: warn Maundy Thursday
        (D(2027, 12, 28), D(2027, 12, 24)),
        (D(2028, 1, 3), D(2027, 12, 31)),
        (D(2025, 3, 1), D(2025, 2, 28)),
    ],
)
def test_previous_working_day(day: date, expected: date) -> None:
    assert previous_working_day(day, calendar=CAL) == expected


# ---------------------------------------------------------------------------------------------
# Section 2: JJP timeliness clocks
# ---------------------------------------------------------------------------------------------


def test_investigation_due_example() -> None:
    assert investigation_due(D(2025, 9, 1), rules=RULES) == D(2025, 9, 22)


def test_charging_decision_due_example() -> None:
    # 25 and 26 Dec are bank holidays.
    assert charging_decision_due(D(2025, 12, 15), rules=RULES, calendar=CAL) == D(2025, 12, 31)


def test_charge_due_example() -> None:
    assert charge_due(D(2025, 12, 31), rules=RULES) == D(2026, 1, 7)


def test_clocks_follow_rules() -> None:
    rules = ClockRules(investigation_days=14, charging_decision_working_days=5, charge_days=3)
    assert investigation_due(D(2025, 9, 1), rules=rules) == D(2025, 9, 15)
    assert charging_decision_due(D(2025, 12, 15), rules=rules, calendar=CAL) == D(2025, 12, 22)
    assert charge_due(D(2025, 12, 31), rules=rules) == D(2026, 1, 3)


# ---------------------------------------------------------------------------------------------
# Section 1: statutory time limits
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offence", "expected"),
    [
        (D(2025, 3, 5), D(2025, 9, 5)),
        (D(2024, 8, 31), D(2025, 2, 28)),
        (D(2023, 8, 31), D(2024, 2, 29)),
        (D(2024, 9, 30), D(2025, 3, 30)),
    ],
)
def test_mca_s127_examples(offence: date, expected: date) -> None:
    assert stl_expiry(offence, summary_only=True, rules=RULES) == expected
    assert stl_regime(offence, summary_only=True, rules=RULES) is StlRegime.MCA127


def test_no_stl_when_not_summary_only() -> None:
    # Either-way offences (ABH, criminal damage <= 5,000 GBP tried summarily) have no STL.
    assert stl_expiry(D(2025, 3, 5), summary_only=False) is None
    assert (
        stl_expiry(
            D(2025, 3, 5), summary_only=False, da_common_assault=True, first_qualifying_report=D(2025, 4, 1)
        )
        is None
    )
    assert stl_regime(D(2025, 3, 5), summary_only=False) is None


@pytest.mark.parametrize(
    ("offence", "report", "expected"),
    [
        (D(2024, 1, 10), D(2025, 6, 1), D(2025, 12, 1)),  # report + 6 months binds
        (D(2024, 1, 10), D(2025, 10, 1), D(2026, 1, 10)),  # 2-year cap binds
        (D(2024, 2, 29), D(2025, 12, 1), D(2026, 2, 28)),  # cap by corresponding date
        (D(2025, 3, 5), D(2025, 3, 5), D(2025, 9, 5)),  # statement the same day: same as s.127
        (D(2024, 8, 31), D(2024, 8, 31), D(2025, 2, 28)),
        (D(2022, 6, 28), D(2023, 6, 1), D(2023, 12, 1)),  # offence on the commencement day
    ],
)
def test_cja_s39a_examples(offence: date, report: date, expected: date) -> None:
    got = stl_expiry(
        offence, summary_only=True, da_common_assault=True, first_qualifying_report=report, rules=RULES
    )
    assert got == expected
    regime = stl_regime(
        offence, summary_only=True, da_common_assault=True, first_qualifying_report=report, rules=RULES
    )
    assert regime is StlRegime.CJA39A


@pytest.mark.parametrize(
    ("offence", "da_common_assault", "report", "expected", "why"),
    [
        (D(2024, 1, 10), True, None, D(2024, 7, 10), "no statement or VRI: evidence-led, s.127"),
        (D(2024, 1, 10), False, D(2025, 6, 1), D(2024, 7, 10), "not DA common assault (e.g. PHA s.2)"),
        (D(2022, 6, 27), True, D(2023, 6, 1), D(2022, 12, 27), "offence before s.39A applies"),
    ],
)
def test_s39a_does_not_apply(
    offence: date, da_common_assault: bool, report: date | None, expected: date, why: str
) -> None:
    kwargs = {"da_common_assault": da_common_assault, "first_qualifying_report": report, "rules": RULES}
    assert stl_expiry(offence, summary_only=True, **kwargs) == expected, why  # type: ignore[arg-type]
    assert stl_regime(offence, summary_only=True, **kwargs) is StlRegime.MCA127, why  # type: ignore[arg-type]


def test_s39a_applies_from_is_a_setting() -> None:
    rules = ClockRules(s39a_applies_from=D(2020, 1, 1))
    got = stl_expiry(
        D(2022, 6, 27),
        summary_only=True,
        da_common_assault=True,
        first_qualifying_report=D(2023, 6, 1),
        rules=rules,
    )
    assert got == D(2023, 12, 1)


def test_stl_uses_active_rules(restore_active: None) -> None:
    configure(rules=ClockRules(stl_months=12))
    assert stl_expiry(D(2025, 3, 5), summary_only=True) == D(2026, 3, 5)


def test_report_before_offence_is_value_error() -> None:
    with pytest.raises(
        ValueError, match="first qualifying report dated 2025-01-01 is before the offence date 2025-02-01"
    ):
        stl_expiry(
            D(2025, 2, 1), summary_only=True, da_common_assault=True, first_qualifying_report=D(2025, 1, 1)
        )
    with pytest.raises(ValueError, match="2025-01-01 is before the offence date 2025-02-01"):
        stl_regime(
            D(2025, 2, 1), summary_only=True, da_common_assault=True, first_qualifying_report=D(2025, 1, 1)
        )


@pytest.mark.parametrize(
    ("offence", "knowledge", "expected"),
    [
        (D(2024, 12, 1), D(2025, 1, 15), D(2025, 7, 14)),  # 6 months beginning with knowledge
        (D(2023, 2, 1), D(2025, 12, 1), D(2026, 1, 31)),  # 3-year cap beginning with the offence
        (D(2023, 2, 1), D(2023, 2, 1), D(2023, 7, 31)),
        (D(2025, 8, 31), D(2025, 8, 31), D(2026, 2, 27)),  # day before the clamped corresponding date
        (D(2025, 3, 1), D(2025, 3, 1), D(2025, 8, 31)),
    ],
)
def test_comms_act_examples(offence: date, knowledge: date, expected: date) -> None:
    assert comms_act_stl(offence, knowledge, rules=RULES) == expected


def test_comms_act_knowledge_before_offence_is_value_error() -> None:
    with pytest.raises(
        ValueError, match="prosecutor's knowledge dated 2023-01-31 is before the offence date 2023-02-01"
    ):
        comms_act_stl(D(2023, 2, 1), D(2023, 1, 31))


@pytest.mark.parametrize(
    ("on", "flagged", "barred"),
    [
        (D(2025, 10, 5), False, False),  # 57 days before
        (D(2025, 10, 6), True, False),  # 56 days before: flagged from here
        (D(2025, 11, 17), True, False),
        (D(2025, 12, 1), True, False),  # STL day itself
        (D(2025, 12, 2), False, True),  # time-barred from here
        (D(2026, 6, 1), False, True),
    ],
)
def test_stl_eight_weeks_and_time_barred(on: date, flagged: bool, barred: bool) -> None:
    stl = D(2025, 12, 1)
    assert stl_within_eight_weeks(stl, on, rules=RULES) is flagged
    assert is_time_barred(stl, on) is barred


def test_no_stl_is_never_flagged_or_barred() -> None:
    assert stl_within_eight_weeks(None, D(2025, 12, 1)) is False
    assert is_time_barred(None, D(2025, 12, 1)) is False


def test_stl_flag_days_is_a_setting() -> None:
    rules = ClockRules(stl_flag_days=14)
    assert not stl_within_eight_weeks(D(2025, 12, 1), D(2025, 11, 16), rules=rules)
    assert stl_within_eight_weeks(D(2025, 12, 1), D(2025, 11, 17), rules=rules)


# ---------------------------------------------------------------------------------------------
# Section 4: Victims' Code
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "enhanced", "expected"),
    [
        (D(2025, 12, 19), True, D(2025, 12, 22)),  # Fri -> Mon
        (D(2025, 12, 23), False, D(2026, 1, 2)),  # skips 25, 26 Dec and 1 Jan
        (D(2025, 12, 24), True, D(2025, 12, 29)),
        (D(2025, 9, 1), False, D(2025, 9, 8)),
    ],
)
def test_victim_update_due(event: date, enhanced: bool, expected: date) -> None:
    assert victim_update_due(event, enhanced=enhanced, rules=RULES, calendar=CAL) == expected


def test_victim_support_referral_due_example() -> None:
    # Skips Good Friday 18 Apr and Easter Monday 21 Apr 2025.
    assert victim_support_referral_due(D(2025, 4, 17), rules=RULES, calendar=CAL) == D(2025, 4, 23)


# ---------------------------------------------------------------------------------------------
# Section 6: DAPN -> DAPO hearing, 48 hours disregarding Sundays, Christmas, Good Friday, bank holidays
# ---------------------------------------------------------------------------------------------


def _ldn(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        (_ldn(2025, 12, 20, 10), _ldn(2025, 12, 23, 10)),  # Sunday 21 disregarded
        (_ldn(2027, 12, 24, 12), _ldn(2027, 12, 30, 12)),  # 25 Xmas (Sat), 26 Sun, 27-28 substitutes
        (_ldn(2026, 4, 2, 18), _ldn(2026, 4, 7, 18)),  # Good Friday, Sunday, Easter Monday
        (_ldn(2026, 12, 24, 15), _ldn(2026, 12, 29, 15)),  # Sat 26 Dec 2026 NOT disregarded
        (_ldn(2025, 9, 1, 9, 30), _ldn(2025, 9, 3, 9, 30)),  # plain weekdays
        (_ldn(2025, 9, 5, 9), _ldn(2025, 9, 8, 9)),  # Fri: Sat counts, Sun does not
        (_ldn(2025, 12, 14, 15), _ldn(2025, 12, 17, 0)),  # served on Sunday: from Mon 00:00
        (_ldn(2026, 4, 3, 11), _ldn(2026, 4, 8, 0)),  # served Good Friday: Sat 24h, Sun+Mon skipped, Tue 24h
        (_ldn(2025, 12, 13, 0), _ldn(2025, 12, 16, 0)),  # Sat 00:00: Sat 24h, Sun skipped, Mon 24h
        (_ldn(2026, 3, 28, 10), _ldn(2026, 3, 31, 10)),  # BST starts Sun 29 Mar (disregarded)
        (_ldn(2026, 10, 24, 10), _ldn(2026, 10, 27, 10)),  # GMT resumes Sun 25 Oct (disregarded)
        (_ldn(2028, 12, 31, 20), _ldn(2029, 1, 4, 0)),  # Sun 31 Dec and Mon 1 Jan 2029 (BH) disregarded
    ],
)
def test_dapn_hearing_due(served: datetime, expected: datetime) -> None:
    got = dapn_hearing_due(served, rules=RULES, calendar=CAL)
    assert got == expected
    assert got.replace(tzinfo=None) == expected.replace(tzinfo=None)  # same London wall-clock time
    assert got.tzinfo == LONDON


def test_dapn_accepts_any_zone_and_answers_in_london() -> None:
    served_utc = datetime(2026, 4, 2, 17, 0, tzinfo=UTC)  # 18:00 BST
    got = dapn_hearing_due(served_utc, calendar=CAL)
    assert got == _ldn(2026, 4, 7, 18)
    assert (got.hour, got.tzinfo) == (18, LONDON)
    # 23:30 UTC on Sat 4 Apr 2026 is 00:30 BST on Sunday 5 Apr: a disregarded day, so start Tue 00:00.
    got = dapn_hearing_due(datetime(2026, 4, 4, 23, 30, tzinfo=UTC), calendar=CAL)
    assert got == _ldn(2026, 4, 9, 0)
    served_ny = datetime(2025, 12, 20, 5, 0, tzinfo=ZoneInfo("America/New_York"))  # 10:00 London
    assert dapn_hearing_due(served_ny, calendar=CAL) == _ldn(2025, 12, 23, 10)


def test_dapn_hours_is_a_setting() -> None:
    assert dapn_hearing_due(
        _ldn(2025, 9, 1, 9), rules=ClockRules(dapn_hearing_hours=24), calendar=CAL
    ) == _ldn(2025, 9, 2, 9)


def test_dapn_naive_is_value_error() -> None:
    with pytest.raises(ValueError, match="served_at must be timezone-aware; got naive 2025-12-20T10:00:00"):
        dapn_hearing_due(datetime(2025, 12, 20, 10))  # noqa: DTZ001


def test_dapn_date_is_type_error() -> None:
    with pytest.raises(TypeError, match="served_at must be a timezone-aware datetime.datetime, not date"):
        dapn_hearing_due(D(2025, 12, 20))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "disregarded"),
    [
        (D(2025, 12, 21), True),  # Sunday
        (D(2025, 12, 20), False),  # Saturday
        (D(2027, 12, 25), True),  # Christmas Day on a Saturday
        (D(2026, 12, 26), False),  # Saturday nominal Boxing Day: not a bank holiday
        (D(2028, 1, 1), False),  # Saturday nominal New Year's Day
        (D(2026, 12, 28), True),  # Boxing Day substitute
        (D(2026, 4, 3), True),  # Good Friday
        (D(2026, 4, 4), False),  # Easter Saturday
        (D(2026, 4, 6), True),  # Easter Monday
        (D(2026, 4, 7), False),
        (D(2025, 12, 24), False),
    ],
)
def test_is_dapn_disregarded(day: date, disregarded: bool) -> None:
    assert CAL.is_dapn_disregarded(day) is disregarded


# ---------------------------------------------------------------------------------------------
# Clock state, London today, report order
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_on", "today", "stopped_on", "due_soon_days", "expected"),
    [
        (None, D(2025, 9, 1), None, None, ClockState.NOT_STARTED),
        (None, D(2025, 9, 1), D(2025, 9, 1), None, ClockState.NOT_STARTED),
        (D(2025, 9, 22), D(2025, 9, 1), None, None, ClockState.RUNNING),
        (D(2025, 9, 22), D(2025, 9, 18), None, None, ClockState.RUNNING),
        (D(2025, 9, 22), D(2025, 9, 19), None, None, ClockState.DUE_SOON),  # 3 days before
        (D(2025, 9, 22), D(2025, 9, 22), None, None, ClockState.DUE_SOON),  # due day
        (D(2025, 9, 22), D(2025, 9, 23), None, None, ClockState.OVERDUE),
        (D(2025, 9, 22), D(2025, 9, 12), None, 10, ClockState.DUE_SOON),
        (D(2025, 9, 22), D(2025, 9, 21), None, 0, ClockState.RUNNING),
        (D(2025, 9, 22), D(2025, 9, 22), None, 0, ClockState.DUE_SOON),
        (D(2025, 9, 22), D(2025, 10, 30), D(2025, 9, 22), None, ClockState.MET),  # stopped on due day
        (D(2025, 9, 22), D(2025, 10, 30), D(2025, 9, 2), None, ClockState.MET),
        (D(2025, 9, 22), D(2025, 10, 30), D(2025, 9, 23), None, ClockState.MISSED),
        (D(2025, 9, 22), D(2025, 9, 5), D(2025, 9, 3), None, ClockState.MET),
    ],
)
def test_clock_state(
    due_on: date | None, today: date, stopped_on: date | None, due_soon_days: int | None, expected: ClockState
) -> None:
    got = clock_state(
        due_on=due_on, today=today, stopped_on=stopped_on, due_soon_days=due_soon_days, rules=RULES
    )
    assert got is expected


def test_clock_state_values_are_stable_strings() -> None:
    assert [s.value for s in ClockState] == ["not_started", "running", "due_soon", "overdue", "met", "missed"]


def test_clock_state_due_soon_days_from_rules() -> None:
    rules = ClockRules(due_soon_days=7)
    assert clock_state(due_on=D(2025, 9, 22), today=D(2025, 9, 15), rules=rules) is ClockState.DUE_SOON
    assert clock_state(due_on=D(2025, 9, 22), today=D(2025, 9, 14), rules=rules) is ClockState.RUNNING


def test_clock_state_negative_due_soon_days_is_value_error() -> None:
    with pytest.raises(ValueError, match="due_soon_days must be >= 0, got -1"):
        clock_state(due_on=D(2025, 9, 22), today=D(2025, 9, 1), due_soon_days=-1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 6, 30, 23, 30, tzinfo=UTC), D(2025, 7, 1)),  # 00:30 BST
        (datetime(2025, 7, 1, 0, 30, tzinfo=LONDON), D(2025, 7, 1)),
        (datetime(2025, 6, 30, 22, 59, tzinfo=UTC), D(2025, 6, 30)),  # 23:59 BST
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), D(2025, 12, 31)),  # GMT: same as UTC
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), D(2026, 1, 1)),
        (datetime(2025, 7, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), D(2025, 7, 1)),  # 00:00 BST
        (datetime(2025, 7, 1, 0, 59, tzinfo=timezone(timedelta(hours=2))), D(2025, 6, 30)),
    ],
)
def test_london_today(now: datetime, expected: date) -> None:
    assert london_today(now) == expected


def test_london_today_naive_is_value_error() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware; got naive 2025-07-01T00:30:00"):
        london_today(datetime(2025, 7, 1, 0, 30))  # noqa: DTZ001


def test_reported_after_offence_check() -> None:
    reported_after_offence_check(D(2025, 2, 1), D(2025, 2, 1))  # same day is fine
    reported_after_offence_check(D(2025, 2, 1), D(2025, 3, 1))
    with pytest.raises(ValueError, match="^report dated 2025-01-01 is before the offence date 2025-02-01$"):
        reported_after_offence_check(D(2025, 2, 1), D(2025, 1, 1))


# ---------------------------------------------------------------------------------------------
# Type checks: datetime is a subclass of date, so it must be refused by name
# ---------------------------------------------------------------------------------------------

DT = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)

DATE_ONLY_CALLS: list[tuple[str, Callable[[], object]]] = [
    ("day", lambda: add_months(DT, 6)),
    ("day", lambda: is_working_day(DT)),
    ("start", lambda: add_working_days(DT, 1)),
    ("end", lambda: working_days_between(D(2025, 9, 1), DT)),
    ("day", lambda: previous_working_day(DT)),
    ("reported_on", lambda: investigation_due(DT)),
    ("received_on", lambda: charging_decision_due(DT)),
    ("decided_on", lambda: charge_due(DT)),
    ("offence_date", lambda: stl_expiry(DT, summary_only=True)),
    (
        "first_qualifying_report",
        lambda: stl_expiry(D(2025, 9, 1), summary_only=True, first_qualifying_report=DT),
    ),
    ("knowledge_on", lambda: comms_act_stl(D(2025, 9, 1), DT)),
    ("stl", lambda: stl_within_eight_weeks(DT, D(2025, 9, 1))),
    ("on", lambda: is_time_barred(D(2025, 9, 1), DT)),
    ("event_on", lambda: victim_update_due(DT, enhanced=True)),
    ("reported_on", lambda: victim_support_referral_due(DT)),
    ("today", lambda: clock_state(due_on=D(2025, 9, 1), today=DT)),
    ("due_on", lambda: clock_state(due_on=DT, today=D(2025, 9, 1))),
    ("reported_on", lambda: reported_after_offence_check(D(2025, 9, 1), DT)),
    ("day", lambda: CAL.is_bank_holiday(DT)),
    ("day", lambda: CAL.is_dapn_disregarded(DT)),
]


@pytest.mark.parametrize(
    ("name", "call"), DATE_ONLY_CALLS, ids=[f"{i}-{n}" for i, (n, _) in enumerate(DATE_ONLY_CALLS)]
)
def test_datetime_where_date_expected_is_type_error(name: str, call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match=f"^{name} must be a datetime.date, not a datetime.datetime"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_months("2025-09-01", 6),  # type: ignore[arg-type]
        lambda: add_months(D(2025, 9, 1), 6.0),  # type: ignore[arg-type]
        lambda: add_months(D(2025, 9, 1), True),
        lambda: add_working_days(D(2025, 9, 1), "3"),  # type: ignore[arg-type]
        lambda: stl_expiry(None, summary_only=True),  # type: ignore[arg-type]
        lambda: CAL.bank_holidays("2025"),  # type: ignore[arg-type]
    ],
)
def test_wrong_types_are_type_errors(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="must be"):
        call()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"investigation_days": -1}, ValueError, "ClockRules.investigation_days must be >= 0, got -1"),
        ({"stl_months": True}, TypeError, "ClockRules.stl_months must be an int, not bool"),
        ({"charge_days": 7.5}, TypeError, "ClockRules.charge_days must be an int, not float"),
        (
            {"s39a_applies_from": datetime(2022, 6, 28, tzinfo=UTC)},
            TypeError,
            "ClockRules.s39a_applies_from must be a datetime.date, not a datetime.datetime",
        ),
    ],
)
def test_clock_rules_validation(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        ClockRules(**kwargs)  # type: ignore[arg-type]


def test_clock_rules_defaults_match_domain_rules() -> None:
    defaults = ClockRules()
    assert defaults == ClockRules(
        investigation_days=21,
        charging_decision_working_days=10,
        charge_days=7,
        stl_flag_days=56,
        stl_urgent_days=14,
        due_soon_days=3,
        stl_months=6,
        s39a_cap_months=24,
        s39a_report_months=6,
        s39a_applies_from=D(2022, 6, 28),
        comms_act_cap_months=36,
        comms_act_knowledge_months=6,
        victim_update_enhanced_working_days=1,
        victim_update_standard_working_days=5,
        victim_support_referral_working_days=2,
        dapn_hearing_hours=48,
    )


def test_module_imports_only_stdlib_and_holidays() -> None:
    tree = ast.parse(Path(str(clocks.__file__)).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names)
    assert third_party <= {"holidays", "dateutil"}, third_party


# --------------------------------------------------------------------------------------------------
# DVPO duration (Crime and Security Act 2010 s.28(10))
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("made_on", "earliest", "latest"),
    [
        (D(2026, 6, 1), D(2026, 6, 14), D(2026, 6, 28)),
        # Across the end of a 28-day February.
        (D(2026, 2, 20), D(2026, 3, 5), D(2026, 3, 19)),
        # Across the end of a leap-year February (29 Feb 2028 is counted).
        (D(2028, 2, 20), D(2028, 3, 4), D(2028, 3, 18)),
        # Across the year end.
        (D(2026, 12, 25), D(2027, 1, 7), D(2027, 1, 21)),
    ],
    ids=["1-jun-2026", "month-end-2026", "leap-year-2028", "year-end"],
)
def test_dvpo_end_bounds_worked_examples(made_on: date, earliest: date, latest: date) -> None:
    assert clocks.dvpo_end_bounds(made_on) == (earliest, latest)


def test_dvpo_end_bounds_follow_the_rules_and_check_their_input() -> None:
    rules = ClockRules(dvpo_min_days=7, dvpo_max_days=10)
    assert clocks.dvpo_end_bounds(D(2026, 6, 1), rules=rules) == (D(2026, 6, 7), D(2026, 6, 10))
    with pytest.raises(TypeError):
        clocks.dvpo_end_bounds(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a period"):
        clocks.dvpo_end_bounds(D(2026, 6, 1), rules=ClockRules(dvpo_min_days=28, dvpo_max_days=14))
