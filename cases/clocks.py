"""Deadline arithmetic for England and Wales: the pure rules module behind every clock.

No Django, no database: stdlib plus the ``holidays`` package. Every legal or pilot value lives in
:class:`ClockRules` (one field each, with its source); the bank holiday calendar is a
:class:`HolidayCalendar` built from the ``holidays`` package plus administrator overrides. Django
calls :func:`configure` at startup and whenever the settings or the holiday override table change;
every function also accepts an explicit ``rules`` / ``calendar`` so callers and tests need not touch
the module state.

Legal source for every rule: ``/work/shared/docs/domain-rules.md`` (summarised in ``docs/rules.md``).

Counting conventions (domain-rules.md, "Counting conventions"):

* A month is a calendar month; "within N months from" an event excludes the event day and ends on the
  corresponding date N months later, clamped to the last day of a shorter month (:func:`add_months`).
* "A period of N months beginning with a day" counts that day, so it ends the day before the
  corresponding date (:func:`comms_act_stl`).
* Weekends and bank holidays never move a statutory time limit; :func:`previous_working_day` gives the
  last working day before it for warnings.
* "N working days after" an event: the event day is day 0 whatever day it is; the first working day
  after it is day 1 (:func:`add_working_days`).
* All dates are local dates in Europe/London (:func:`london_today`).
"""

from __future__ import annotations

import calendar as _calendar
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from dateutil.easter import EASTER_WESTERN
from dateutil.easter import easter as _dateutil_easter

__all__ = [
    "LONDON",
    "STL_CLOCK_KINDS",
    "sql_list",
    "ClockRules",
    "ClockState",
    "HolidayCalendar",
    "StlRegime",
    "active_calendar",
    "active_rules",
    "add_months",
    "add_working_days",
    "BailAuthority",
    "BailRegime",
    "MaracReason",
    "VrrDates",
    "bail_extension_authority",
    "bail_initial_end",
    "bail_period_end",
    "bail_regime",
    "bail_start_date",
    "cps_vrr_request_dates",
    "ctl_alert_dates",
    "ctl_crown_court_expiry",
    "ctl_days_in_custody",
    "ctl_expiry",
    "ctl_magistrates_limit_days",
    "is_ctl_excluded_day",
    "marac_referral_reasons",
    "police_vrr_request_due",
    "police_vrr_response_dates",
    "rui_review_due",
    "StlBasis",
    "StlDecision",
    "StlReason",
    "age_attained_on",
    "charge_due",
    "common_assault_stl",
    "common_assault_stl_decision",
    "charging_decision_due",
    "clock_state",
    "comms_act_stl",
    "configure",
    "dapn_hearing_due",
    "dvpo_end_bounds",
    "easter_sunday",
    "investigation_due",
    "is_time_barred",
    "is_working_day",
    "london_today",
    "previous_working_day",
    "reported_after_offence_check",
    "stl_expiry",
    "stl_regime",
    "stl_within_eight_weeks",
    "victim_support_referral_due",
    "victim_update_due",
    "working_days_between",
]

LONDON = ZoneInfo("Europe/London")

_SATURDAY = 5
_SUNDAY = 6


# --------------------------------------------------------------------------------------------------
# Argument checks. datetime is a subclass of date, so a datetime passed where a date is meant would
# silently be accepted (and compare wrongly); reject it by name.
# --------------------------------------------------------------------------------------------------


def _check_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        raise TypeError(
            f"{name} must be a datetime.date, not a datetime.datetime ({value.isoformat()}); "
            "convert it to the Europe/London date first (london_today)"
        )
    if not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__} ({value!r})")
    return value


def _check_optional_date(value: object, name: str) -> date | None:
    if value is None:
        return None
    return _check_date(value, name)


def _check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} ({value!r})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(
            f"{name} must be a timezone-aware datetime.datetime, not {type(value).__name__} ({value!r})"
        )
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"{name} must be timezone-aware; got naive {value.isoformat()} "
            "(attach a zone, e.g. UTC or Europe/London, before calling)"
        )
    return value


def _check_not_before(earlier: date, earlier_name: str, later: date, later_name: str) -> None:
    if later < earlier:
        raise ValueError(
            f"{later_name} {later.isoformat()} is before the {earlier_name} {earlier.isoformat()}"
        )


# --------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------

# ClockRules fields holding a date (every other field is a non-negative int).
_DATE_RULE_FIELDS = frozenset({"s39a_applies_from", "bail_pcsc_in_force_on", "bail_2017_in_force_on"})


@dataclass(frozen=True)
class ClockRules:
    """Every value that law or the pilot may change. Defaults from domain-rules.md; each names its source.

    Django builds one from settings and passes it to :func:`configure`; never scatter these literals.
    """

    # JJP 2024 (NPCC/CPS DA Joint Justice Plan) strategic priority 1.2: "completing an investigation in
    # 21 days or less" (calendar days, report to police -> first referral to CPS or police outcome).
    investigation_days: int = 21
    # JJP 2024 strategic priority 1.2: "a charging decision within 10 working days or less".
    charging_decision_working_days: int = 10
    # JJP 2024 strategic priority 1.2: "charging the offender within 7 days of that decision" (calendar).
    charge_days: int = 7
    # JJP joint local principle 9: identify cases where the STL is "within eight weeks" (8 x 7 = 56 days).
    stl_flag_days: int = 56
    # Product policy: an STL this close (calendar days) raises an immediate alert.
    stl_urgent_days: int = 14
    # Product policy: an open clock is "due soon" from this many calendar days before its due date.
    due_soon_days: int = 3
    # Magistrates' Courts Act 1980 s.127(1): information laid "within six months from the time when the
    # offence was committed".
    stl_months: int = 6
    # Criminal Justice Act 1988 s.39A(4)(a) (inserted by PCSC Act 2022 s.49): within 2 years from the offence.
    s39a_cap_months: int = 24
    # CJA 1988 s.39A(4)(b): within 6 months from the first date condition A or B (statement / VRI) was met.
    s39a_report_months: int = 6
    # UNCONFIRMED: PCSC Act 2022 s.49 commencement (believed 28 June 2022) and whether it applies only to
    # offences committed on or after commencement. Setting: s39a_applies_if_offence_on_or_after.
    s39a_applies_from: date = date(2022, 6, 28)
    # Communications Act 2003 s.127(5)(b): "before the end of ... 3 years beginning with the day on which
    # the offence was committed".
    comms_act_cap_months: int = 36
    # CA 2003 s.127(5)(a): "before the end of ... 6 months beginning with the day on which evidence
    # sufficient in the opinion of the prosecutor ... comes to his knowledge".
    comms_act_knowledge_months: int = 6
    # Victims' Code (2020) Right 6: victim told of key decisions within 1 working day (enhanced rights).
    # 2020 wording UNCONFIRMED (confirmed for the 2015 Code).
    victim_update_enhanced_working_days: int = 1
    # Victims' Code Right 6: within 5 working days (standard). 2020 wording UNCONFIRMED.
    victim_update_standard_working_days: int = 5
    # Victims' Code Right 4: details passed to victim support services "within 2 days";
    # working-day basis UNCONFIRMED.
    victim_support_referral_working_days: int = 2
    # Domestic Abuse Act 2021 s.1(2)(a): domestic abuse needs both people "aged 16 or over" (on the day of the
    # behaviour); CJA 1988 s.39A applies only to domestic abuse.
    domestic_abuse_min_age: int = 16
    # Crime and Security Act 2010 s.28(10): a DVPO is in force for "no fewer than 14 days beginning with the day on
    # which it is made" and "no more than 28 days beginning with that day".
    dvpo_min_days: int = 14
    dvpo_max_days: int = 28
    # Domestic Abuse Act 2021 s.29(2)-(3): DAPO application heard no later than 48 hours after the DAPN
    # was given, disregarding Sundays, Christmas Day, Good Friday and bank holidays.
    dapn_hearing_hours: int = 48

    # --- Custody time limits (docs/rules.md "Custody time limits") ---
    # Prosecution of Offences (Custody Time Limits) Regulations 1987 (S.I. 1987/299) reg 4, made under the
    # Prosecution of Offences Act 1985 s.22: 56 days from first appearance to the start of summary trial
    # (summary-only offence).
    ctl_summary_days: int = 56
    # Reg 4: an either-way offence, 70 days from first appearance to the start of summary trial ...
    ctl_either_way_days: int = 70
    # ... or 56 days where the court decides on summary trial within that 56-day period.
    ctl_either_way_summary_decided_days: int = 56
    # Reg 5: 182 days from sending to the Crown Court to the start of trial, less any period(s) in the custody
    # of the magistrates' court (CrimPR 2020 r.14.18 note).
    ctl_crown_court_days: int = 182
    # Product policy (issue 17): a CTL due within 10 working days alerts at once, and again at 5.
    ctl_alert_working_days: int = 10
    ctl_second_alert_working_days: int = 5

    # --- Pre-charge bail (docs/rules.md "Pre-charge bail and RUI") ---
    # PCSC Act 2022 s.45(3)(a) and Sch 4 Part 4, in force 28 Oct 2022 (S.I. 2022/1075 reg 4): the new periods
    # apply only to a person arrested for the offence after the amendment came into force.
    bail_pcsc_in_force_on: date = date(2022, 10, 28)
    # PACE 1984 s.47ZB(1)(b) as amended: "the period of 3 months beginning with the person's bail start date".
    bail_initial_months: int = 3
    # PACE s.47ZD(2),(6): extension to 6 months by a "relevant officer", of the rank of inspector or above.
    bail_inspector_months: int = 6
    # PACE s.47ZDA(2),(6): extension to 9 months by a "senior officer", of the rank of superintendent or above.
    bail_superintendent_months: int = 9
    # PACE s.47ZE(3),(9): designated (exceptionally complex) case, to 12 months by a commander / ACC or above.
    bail_designated_months: int = 12
    # Policing and Crime Act 2017 s.63 (inserting PACE ss.47ZA-47ZM), applied to arrests from 3 Apr 2017
    # (College of Policing, 31 Mar 2017; the commencement regulations themselves UNCONFIRMED).
    bail_2017_in_force_on: date = date(2017, 4, 3)
    # PACE s.47ZB(1)(b) as enacted in 2017: "the period of 28 days beginning with the person's bail start date".
    bail_2017_initial_days: int = 28
    # PACE s.47ZD(2) as enacted in 2017: to 3 months, by a senior officer (superintendent or above).
    bail_2017_superintendent_months: int = 3
    # PACE s.47ZE as enacted in 2017: designated case, to 6 months by a commander / ACC or above.
    bail_2017_designated_months: int = 6
    # UNCONFIRMED (force setting): released under investigation has no statutory limit; review every 28 days by
    # default, the shortest statutory bail period, so a review is never later than under bail.
    rui_review_days: int = 28

    # --- MARAC referral (docs/rules.md "MARAC referral criteria"; SafeLives, "Marac referral criteria") ---
    # Visible high risk: 14 or more "yes" answers on the SafeLives DASH RIC.
    marac_dash_threshold: int = 14
    # Potential escalation: UNCONFIRMED local threshold; SafeLives: "common practice" is 3 domestic abuse
    # incidents in 12 months.
    marac_escalation_callouts: int = 3
    marac_escalation_months: int = 12
    # Repeat: a further incident within 12 months of the last MARAC referral (SafeLives, "Repeat Marac").
    marac_repeat_months: int = 12

    # --- Victims' Right to Review (docs/rules.md "Victims' Right to Review") ---
    # CPS VRR guidance (updated 27 May 2021): ask within 10 working days of the decision being communicated for
    # a prompt review (earlier text: 5). UNCONFIRMED in the scheme's own text (secondary source).
    vrr_cps_prompt_working_days: int = 10
    # CPS VRR: requests considered up to 3 months from communication (then exceptional circumstances only).
    # UNCONFIRMED in the scheme's own text (secondary sources agree).
    vrr_cps_request_months: int = 3
    # Police VRR (National Policing Guidelines on Police Victim Right to Review, as published by forces):
    # request within 3 months of being notified; acknowledged within 10 working days; review completed within
    # 30 working days of the request. UNCONFIRMED in the guidelines' own text.
    vrr_police_request_months: int = 3
    vrr_police_acknowledge_working_days: int = 10
    vrr_police_review_working_days: int = 30

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _DATE_RULE_FIELDS:
                _check_date(value, f"ClockRules.{f.name}")
            else:
                _check_int(value, f"ClockRules.{f.name}", minimum=0)


# --------------------------------------------------------------------------------------------------
# Holidays
# --------------------------------------------------------------------------------------------------


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday, from ``dateutil.easter`` (Good Friday is two days before)."""
    _check_int(year, "year", minimum=1583)
    return _dateutil_easter(year, EASTER_WESTERN)


class HolidayCalendar:
    """England and Wales bank holidays, with administrator overrides.

    Source: domain-rules.md section 9 (GOV.UK list; Banking and Financial Dealings Act 1971 Sch. 1 and
    Royal Proclamations). Built from ``holidays.country_holidays("GB", subdiv="ENG")`` keeping weekday
    entries only: the package also lists the nominal Saturday/Sunday date beside the "(observed)"
    substitute (26 Dec 2026, 25-26 Dec 2027, 1 Jan 2028), which GOV.UK does not list.

    ``add`` dates are bank holidays as given (e.g. a new proclaimed one-off not yet in the package);
    ``remove`` dates are never bank holidays. ``remove`` wins over ``add``. Results are cached per year,
    so loops over days never recompute the calendar.
    """

    def __init__(self, *, add: Iterable[date] = (), remove: Iterable[date] = ()) -> None:
        self._add: frozenset[date] = frozenset(_check_date(d, "HolidayCalendar add date") for d in add)
        self._remove: frozenset[date] = frozenset(
            _check_date(d, "HolidayCalendar remove date") for d in remove
        )
        self._by_year: dict[int, frozenset[date]] = {}
        self._good_friday: dict[int, date] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        added = sorted(d.isoformat() for d in self._add)
        removed = sorted(d.isoformat() for d in self._remove)
        return f"HolidayCalendar(add={added}, remove={removed})"

    @property
    def added(self) -> frozenset[date]:
        return self._add

    @property
    def removed(self) -> frozenset[date]:
        return self._remove

    def bank_holidays(self, year: int) -> frozenset[date]:
        """The England and Wales bank holidays in ``year`` (GOV.UK semantics: weekday dates)."""
        _check_int(year, "year", minimum=1)
        cached = self._by_year.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._by_year.get(year)
            if cached is None:
                package = holidays.country_holidays("GB", subdiv="ENG", years=year)
                base = {d for d in package if d.year == year and d.weekday() < _SATURDAY}
                extra = {d for d in self._add if d.year == year}
                cached = frozenset((base | extra) - self._remove)
                self._by_year[year] = cached
        return cached

    def is_bank_holiday(self, day: date) -> bool:
        _check_date(day, "day")
        return day in self.bank_holidays(day.year)

    def _is_good_friday(self, day: date) -> bool:
        good_friday = self._good_friday.get(day.year)
        if good_friday is None:
            good_friday = easter_sunday(day.year) - timedelta(days=2)
            self._good_friday[day.year] = good_friday
        return day == good_friday

    def is_dapn_disregarded(self, day: date) -> bool:
        """DA Act 2021 s.29(3): a Sunday, Christmas Day (even on a Saturday), Good Friday or bank holiday.

        Christmas Day and Good Friday are named separately (common-law holidays), so they stay
        disregarded even if an administrator removes them from the bank holiday list. A Saturday that is
        only the package's nominal Boxing Day or New Year's Day (e.g. 26 Dec 2026) is *not* disregarded.
        """
        _check_date(day, "day")
        return (
            day.weekday() == _SUNDAY
            or (day.month == 12 and day.day == 25)
            or self._is_good_friday(day)
            or self.is_bank_holiday(day)
        )


# --------------------------------------------------------------------------------------------------
# Module state: set by Django at startup and when settings or the holiday override table change.
# --------------------------------------------------------------------------------------------------

_active_rules: ClockRules = ClockRules()
_active_calendar: HolidayCalendar = HolidayCalendar()


def rules_from_environment(environ: Mapping[str, str], *, prefix: str = "JJP_RULE_") -> dict[str, Any]:
    """Every :class:`ClockRules` value an administrator set in the environment as ``JJP_RULE_<NAME>`` (e.g.
    ``JJP_RULE_DVPO_MAX_DAYS=28``, ``JJP_RULE_BAIL_PCSC_IN_FORCE_ON=2022-10-28``): whole numbers, or ISO dates
    for the date values. A malformed value is a ValueError naming the variable, so a bad setting fails at start."""
    values: dict[str, Any] = {}
    for f in fields(ClockRules):
        key = prefix + f.name.upper()
        if key not in environ:
            continue
        raw = environ[key].strip()
        try:
            values[f.name] = date.fromisoformat(raw) if f.name in _DATE_RULE_FIELDS else int(raw)
        except ValueError as exc:
            kind = "an ISO date like 2022-10-28" if f.name in _DATE_RULE_FIELDS else "a whole number"
            raise ValueError(f"{key}={raw!r} is not {kind}") from exc
    return values


def configure(*, rules: ClockRules | None = None, calendar: HolidayCalendar | None = None) -> None:
    """Set the active rules and/or calendar. An argument left as ``None`` keeps the current value."""
    global _active_rules, _active_calendar
    if rules is not None:
        if not isinstance(rules, ClockRules):
            raise TypeError(f"rules must be a ClockRules, not {type(rules).__name__}")
        _active_rules = rules
    if calendar is not None:
        if not isinstance(calendar, HolidayCalendar):
            raise TypeError(f"calendar must be a HolidayCalendar, not {type(calendar).__name__}")
        _active_calendar = calendar


def active_rules() -> ClockRules:
    return _active_rules


def active_calendar() -> HolidayCalendar:
    return _active_calendar


def _rules(rules: ClockRules | None) -> ClockRules:
    return _active_rules if rules is None else rules


def _calendar_or_active(calendar: HolidayCalendar | None) -> HolidayCalendar:
    return _active_calendar if calendar is None else calendar


# --------------------------------------------------------------------------------------------------
# Calendar arithmetic
# --------------------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The corresponding date ``months`` calendar months later (earlier if negative), clamped to month end.

    Interpretation Act 1978 Sch. 1; Dodds v Walker [1981]: 31 Aug + 6 = 28 Feb (29 in a leap year);
    30 Sep + 6 = 30 Mar (not moved to 31 Mar).
    """
    _check_date(day, "day")
    _check_int(months, "months")
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"{day.isoformat()} + {months} months is outside the supported date range")
    last = _calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def is_working_day(day: date, *, calendar: HolidayCalendar | None = None) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    _check_date(day, "day")
    return day.weekday() < _SATURDAY and not _calendar_or_active(calendar).is_bank_holiday(day)


def add_working_days(start: date, days: int, *, calendar: HolidayCalendar | None = None) -> date:
    """The ``days``-th working day after ``start`` (``start`` is day 0 whatever day it is).

    ``days == 0`` returns ``start`` unchanged; negative ``days`` is a ValueError.
    """
    _check_date(start, "start")
    _check_int(days, "days")
    if days < 0:
        raise ValueError(f"days must be >= 0 (counting forward from {start.isoformat()}), got {days}")
    cal = _calendar_or_active(calendar)
    current = start
    remaining = days
    one = timedelta(days=1)
    while remaining:
        current += one
        if current.weekday() < _SATURDAY and current not in cal.bank_holidays(current.year):
            remaining -= 1
    return current


def _weekdays_through(day: date) -> int:
    """Number of Monday-Friday dates from 0001-01-01 (a Monday) up to and including ``day``."""
    ordinal = day.toordinal()  # 0001-01-01 is ordinal 1 and a Monday
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def working_days_between(start: date, end: date, *, calendar: HolidayCalendar | None = None) -> int:
    """Number of working days ``d`` with ``start < d <= end``; 0 when ``end <= start``.

    Computed arithmetically (weekdays minus weekday bank holidays per year), not day by day.
    """
    _check_date(start, "start")
    _check_date(end, "end")
    if end <= start:
        return 0
    cal = _calendar_or_active(calendar)
    count = _weekdays_through(end) - _weekdays_through(start)
    for year in range(start.year, end.year + 1):
        count -= sum(1 for h in cal.bank_holidays(year) if start < h <= end and h.weekday() < _SATURDAY)
    return count


def previous_working_day(day: date, *, calendar: HolidayCalendar | None = None) -> date:
    """The last working day on or before ``day`` (warn then about an STL falling on ``day``)."""
    _check_date(day, "day")
    cal = _calendar_or_active(calendar)
    current = day
    one = timedelta(days=1)
    while current.weekday() >= _SATURDAY or current in cal.bank_holidays(current.year):
        current -= one
    return current


# --------------------------------------------------------------------------------------------------
# JJP timeliness clocks (domain-rules.md section 2)
# --------------------------------------------------------------------------------------------------


def investigation_due(reported_on: date, *, rules: ClockRules | None = None) -> date:
    """Reported to police + 21 calendar days (JJP SP 1.2). Mon 1 Sep 2025 -> Mon 22 Sep 2025."""
    _check_date(reported_on, "reported_on")
    return reported_on + timedelta(days=_rules(rules).investigation_days)


def charging_decision_due(
    received_on: date, *, rules: ClockRules | None = None, calendar: HolidayCalendar | None = None
) -> date:
    """CPS receipt + 10 working days (JJP SP 1.2). Mon 15 Dec 2025 -> Wed 31 Dec 2025."""
    _check_date(received_on, "received_on")
    return add_working_days(received_on, _rules(rules).charging_decision_working_days, calendar=calendar)


def charge_due(decided_on: date, *, rules: ClockRules | None = None) -> date:
    """Decision to charge + 7 calendar days (JJP SP 1.2). Wed 31 Dec 2025 -> Wed 7 Jan 2026."""
    _check_date(decided_on, "decided_on")
    return decided_on + timedelta(days=_rules(rules).charge_days)


# --------------------------------------------------------------------------------------------------
# Statutory time limits (domain-rules.md section 1)
# --------------------------------------------------------------------------------------------------


class StlRegime(StrEnum):
    """Which statutory time limit governs a summary-only offence (domain-rules.md 1.2 "stl_regime")."""

    MCA127 = "MCA127"  # Magistrates' Courts Act 1980 s.127
    CJA39A = "CJA39A"  # Criminal Justice Act 1988 s.39A


def stl_regime(
    offence_date: date,
    *,
    summary_only: bool,
    da_common_assault: bool = False,
    first_qualifying_report: date | None = None,
    rules: ClockRules | None = None,
) -> StlRegime | None:
    """The regime :func:`stl_expiry` applies; ``None`` when no STL applies (not summary-only)."""
    _check_date(offence_date, "offence_date")
    report = _check_optional_date(first_qualifying_report, "first_qualifying_report")
    if report is not None:
        _check_not_before(offence_date, "offence date", report, "first qualifying report dated")
    if not summary_only:
        return None
    if da_common_assault and report is not None and offence_date >= _rules(rules).s39a_applies_from:
        return StlRegime.CJA39A
    return StlRegime.MCA127


def stl_expiry(
    offence_date: date,
    *,
    summary_only: bool,
    da_common_assault: bool = False,
    first_qualifying_report: date | None = None,
    rules: ClockRules | None = None,
) -> date | None:
    """Last day on which the information may be laid; ``None`` when the offence is not summary-only.

    * MCA 1980 s.127(1): the corresponding date 6 months after the offence (offence day excluded).
      Either-way offences, even tried summarily (e.g. criminal damage <= 5,000 GBP), have no STL.
    * CJA 1988 s.39A (DA common assault/battery with a qualifying witness statement or VRI, offence on or
      after ``rules.s39a_applies_from``): min(offence + 24 months, first qualifying report + 6 months).
      Without a qualifying report (evidence-led prosecution) s.127 applies.

    A ``first_qualifying_report`` before ``offence_date`` is a ValueError naming both dates.
    """
    r = _rules(rules)
    regime = stl_regime(
        offence_date,
        summary_only=summary_only,
        da_common_assault=da_common_assault,
        first_qualifying_report=first_qualifying_report,
        rules=r,
    )
    if regime is None:
        return None
    if regime is StlRegime.CJA39A and first_qualifying_report is not None:
        return min(
            add_months(offence_date, r.s39a_cap_months),
            add_months(first_qualifying_report, r.s39a_report_months),
        )
    return add_months(offence_date, r.stl_months)


def comms_act_stl(offence_date: date, knowledge_on: date, *, rules: ClockRules | None = None) -> date:
    """Communications Act 2003 s.127(5): last day to lay the information.

    Both periods are "beginning with" a day, so each ends the day before the corresponding date:
    min(offence + 36 months - 1 day, knowledge + 6 months - 1 day). Evidence sufficient 15 Jan 2025 ->
    14 Jul 2025; offence 1 Feb 2023 -> cap 31 Jan 2026.
    """
    _check_date(offence_date, "offence_date")
    _check_date(knowledge_on, "knowledge_on")
    _check_not_before(offence_date, "offence date", knowledge_on, "prosecutor's knowledge dated")
    r = _rules(rules)
    one = timedelta(days=1)
    return min(
        add_months(offence_date, r.comms_act_cap_months) - one,
        add_months(knowledge_on, r.comms_act_knowledge_months) - one,
    )


#: The clock kinds that are statutory time limits (an offence's own, and the common assault a charge could be
#: reduced to): named once here, for the pure rules, the models, the ledger's SQL and the delivery apps.
STL_CLOCK_KINDS = ("stl", "stl_common_assault")


def sql_list(values: Iterable[str]) -> str:
    """``('a', 'b')`` for a SQL ``IN`` of fixed, known words (never user input)."""
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


class StlBasis(StrEnum):
    """Which rule gave an offence's statutory time limit (the API's ``stl_basis``)."""

    S127 = "s127"  # Magistrates' Courts Act 1980 s.127(1)
    S39A = "s39a"  # Criminal Justice Act 1988 s.39A
    CA2003 = "ca2003_s127_5"  # Communications Act 2003 s.127(5)
    NONE = "none"  # not summary-only: no statutory time limit


class StlReason(StrEnum):
    """Why a common assault's limit is the one it is: the s.39A condition met, or each one that is not."""

    S39A_REPORT = "s39a_report"  # all conditions met: the complainant's own statement or VRI
    NO_COMPLAINANT = "no_complainant"  # the offence does not name its complainant yet
    NO_REPORT = "no_report"  # the complainant has made no qualifying statement or VRI (yet)
    BEFORE_COMMENCEMENT = "before_commencement"  # offence before s.39A applies (rules.s39a_applies_from)
    COMPLAINANT_AGE_UNKNOWN = "complainant_age_unknown"
    COMPLAINANT_UNDER_AGE = "complainant_under_age"
    SUSPECT_AGE_UNKNOWN = "suspect_age_unknown"
    SUSPECT_UNDER_AGE = "suspect_under_age"
    CONNECTION_UNKNOWN = "connection_unknown"  # no relationship recorded between complainant and suspect
    NOT_CONNECTED = "not_connected"  # recorded as not personally connected (DA Act 2021 s.2)
    REPORT_BEFORE_OFFENCE = "report_before_offence"  # the complainant's report predates this offence
    NOT_DOMESTIC_ABUSE = "not_domestic_abuse"  # the case is recorded as not domestic abuse (DA Act 2021 s.1)


@dataclass(frozen=True)
class StlDecision:
    """A common assault's limit with the rule that gave it and why (every unmet s.39A condition, in order)."""

    due_on: date
    basis: StlBasis
    reasons: tuple[StlReason, ...]


def age_attained_on(born_on: date, age: int) -> date:
    """The day a person born on ``born_on`` attains ``age`` years: the anniversary of the birth date (Family Law
    Reform Act 1969 s.9). Born on 29 February, in a year without one the anniversary is taken as 1 March, the
    later of the two days it could be: a person is never treated as 16 before the law could, so s.39A (the later
    limit) is never applied too early. (Which day applies is UNCONFIRMED; this is the safe reading.)"""
    _check_date(born_on, "born_on")
    _check_int(age, "age", minimum=0)
    year = born_on.year + age
    if not 1 <= year <= 9999:
        raise ValueError(f"{born_on.isoformat()} + {age} years is outside the supported date range")
    if born_on.month == 2 and born_on.day == 29 and not _calendar.isleap(year):
        return date(year, 3, 1)
    return born_on.replace(year=year)


def common_assault_stl_decision(
    *,
    offence_on: date,
    complainant_born_on: date | None,
    suspect_born_on: date | None,
    personally_connected: bool | None,
    first_qualifying_report_on: date | None,
    rules: ClockRules | None = None,
) -> StlDecision:
    """The statutory time limit of a common assault or battery (CJA 1988 s.39), with its basis and reasons.

    CJA 1988 s.39A (inserted by PCSC Act 2022 s.49) gives ``min(offence + 24 months, report + 6 months)`` only
    when every one of these holds; otherwise MCA 1980 s.127 gives ``offence + 6 months``:

    * the offence is on or after ``rules.s39a_applies_from`` (commencement; UNCONFIRMED, a setting);
    * the behaviour is domestic abuse (s.39A(1); DA Act 2021 s.1(2)(a)): the complainant and the suspect are each
      aged 16 or over on the offence day (an unknown date of birth does not count as 16) and personally connected
      (DA Act 2021 s.2; ``None``, not recorded, does not count);
    * the complainant's **own** first witness statement (condition A, s.39A(2)) or video-recorded interview
      (condition B, s.39A(3)) exists: ``first_qualifying_report_on`` is its date.

    A report dated before the offence, or a date of birth after it, is impossible and raises ValueError.
    Months count by the corresponding-date rule (:func:`add_months`).
    """
    _check_date(offence_on, "offence_on")
    complainant_born_on = _check_optional_date(complainant_born_on, "complainant_born_on")
    suspect_born_on = _check_optional_date(suspect_born_on, "suspect_born_on")
    report = _check_optional_date(first_qualifying_report_on, "first_qualifying_report_on")
    if personally_connected is not None and not isinstance(personally_connected, bool):
        raise TypeError(
            f"personally_connected must be True, False or None, not {type(personally_connected).__name__}"
        )
    if report is not None:
        _check_not_before(offence_on, "offence date", report, "first qualifying report dated")
    for born, who in ((complainant_born_on, "complainant"), (suspect_born_on, "suspect")):
        if born is not None and born > offence_on:
            raise ValueError(
                f"the {who}'s date of birth {born.isoformat()} is after the offence date {offence_on.isoformat()}"
            )
    r = _rules(rules)
    reasons: list[StlReason] = []
    if offence_on < r.s39a_applies_from:
        reasons.append(StlReason.BEFORE_COMMENCEMENT)
    for born, unknown, under in (
        (complainant_born_on, StlReason.COMPLAINANT_AGE_UNKNOWN, StlReason.COMPLAINANT_UNDER_AGE),
        (suspect_born_on, StlReason.SUSPECT_AGE_UNKNOWN, StlReason.SUSPECT_UNDER_AGE),
    ):
        if born is None:
            reasons.append(unknown)
        elif age_attained_on(born, r.domestic_abuse_min_age) > offence_on:
            reasons.append(under)
    if personally_connected is None:
        reasons.append(StlReason.CONNECTION_UNKNOWN)
    elif not personally_connected:
        reasons.append(StlReason.NOT_CONNECTED)
    if report is None:
        reasons.append(StlReason.NO_REPORT)
    s127 = add_months(offence_on, r.stl_months)
    if reasons:
        return StlDecision(s127, StlBasis.S127, tuple(reasons))
    s39a = min(add_months(offence_on, r.s39a_cap_months), add_months(report, r.s39a_report_months))  # type: ignore[arg-type]
    # s.39A(5): the section has effect despite s.127; the report can never precede the offence, so s39a >= s127.
    return StlDecision(s39a, StlBasis.S39A, (StlReason.S39A_REPORT,))


def common_assault_stl(
    *,
    offence_on: date,
    complainant_born_on: date | None,
    suspect_born_on: date | None,
    personally_connected: bool | None,
    first_qualifying_report_on: date | None,
    rules: ClockRules | None = None,
) -> date:
    """The last day to lay the information for a common assault or battery: the s.39A date only when every
    condition of :func:`common_assault_stl_decision` holds, else the s.127 date (offence + 6 months)."""
    return common_assault_stl_decision(
        offence_on=offence_on,
        complainant_born_on=complainant_born_on,
        suspect_born_on=suspect_born_on,
        personally_connected=personally_connected,
        first_qualifying_report_on=first_qualifying_report_on,
        rules=rules,
    ).due_on


def stl_within_eight_weeks(stl: date | None, on: date, *, rules: ClockRules | None = None) -> bool:
    """JJP joint local principle 9: ``on <= stl <= on + 56 days``. STL 1 Dec 2025: flagged from 6 Oct."""
    stl = _check_optional_date(stl, "stl")
    _check_date(on, "on")
    if stl is None:
        return False
    return on <= stl <= on + timedelta(days=_rules(rules).stl_flag_days)


def is_time_barred(stl: date | None, on: date) -> bool:
    """The STL has passed: ``on > stl``. STL 1 Dec 2025: time-barred from 2 Dec 2025."""
    stl = _check_optional_date(stl, "stl")
    _check_date(on, "on")
    return stl is not None and on > stl


# --------------------------------------------------------------------------------------------------
# Victims' Code (domain-rules.md section 4)
# --------------------------------------------------------------------------------------------------


def victim_update_due(
    event_on: date,
    *,
    enhanced: bool,
    rules: ClockRules | None = None,
    calendar: HolidayCalendar | None = None,
) -> date:
    """Right 6: tell the victim within 1 working day (enhanced) or 5 (standard) of the decision or event."""
    _check_date(event_on, "event_on")
    r = _rules(rules)
    days = r.victim_update_enhanced_working_days if enhanced else r.victim_update_standard_working_days
    return add_working_days(event_on, days, calendar=calendar)


def victim_support_referral_due(
    reported_on: date, *, rules: ClockRules | None = None, calendar: HolidayCalendar | None = None
) -> date:
    """Right 4: details to victim support services within 2 working days (working-day basis UNCONFIRMED)."""
    _check_date(reported_on, "reported_on")
    days = _rules(rules).victim_support_referral_working_days
    return add_working_days(reported_on, days, calendar=calendar)


# --------------------------------------------------------------------------------------------------
# Protective orders (domain-rules.md section 6)
# --------------------------------------------------------------------------------------------------


def dvpo_end_bounds(made_on: date, *, rules: ClockRules | None = None) -> tuple[date, date]:
    """The earliest and the latest last day of a DVPO made on ``made_on``: it is in force for no fewer than 14 and
    no more than 28 days "beginning with the day on which it is made" (Crime and Security Act 2010 s.28(10)), so
    the day it is made is day 1. Made 1 Jun 2026: (14 Jun 2026, 28 Jun 2026)."""
    _check_date(made_on, "made_on")
    r = _rules(rules)
    if r.dvpo_min_days < 1 or r.dvpo_max_days < r.dvpo_min_days:
        raise ValueError(f"DVPO bounds {r.dvpo_min_days}-{r.dvpo_max_days} days are not a period")
    return made_on + timedelta(days=r.dvpo_min_days - 1), made_on + timedelta(days=r.dvpo_max_days - 1)


def dapn_hearing_due(
    served_at: datetime, *, rules: ClockRules | None = None, calendar: HolidayCalendar | None = None
) -> datetime:
    """DA Act 2021 s.29(2)-(3): latest DAPO hearing, 48 hours after the DAPN was given.

    Counted in Europe/London wall-clock hours, skipping every whole disregarded London calendar day
    (Sunday, Christmas Day, Good Friday, bank holiday). Served on a disregarded day, counting starts at
    00:00 of the next day that is not disregarded. Returns an aware Europe/London datetime.

    UK clock changes happen on Sundays, which are disregarded, so wall-clock and elapsed hours agree on
    every counted day.
    """
    _check_aware(served_at, "served_at")
    cal = _calendar_or_active(calendar)
    remaining = timedelta(hours=_rules(rules).dapn_hearing_hours)
    local = served_at.astimezone(LONDON)
    cursor = local.replace(tzinfo=None)  # London wall-clock time
    while True:
        day = cursor.date()
        next_midnight = datetime.combine(day + timedelta(days=1), time())
        if not cal.is_dapn_disregarded(day):
            available = next_midnight - cursor
            if remaining <= available:
                return (cursor + remaining).replace(tzinfo=LONDON)
            remaining -= available
        cursor = next_midnight


# --------------------------------------------------------------------------------------------------
# Clock state and "today"
# --------------------------------------------------------------------------------------------------


class ClockState(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MISSED = "missed"


def clock_state(
    *,
    due_on: date | None,
    today: date,
    stopped_on: date | None = None,
    due_soon_days: int | None = None,
    rules: ClockRules | None = None,
) -> ClockState:
    """State of one clock on the London date ``today`` (the SQL sweep mirrors this exactly).

    * ``due_on`` is None -> NOT_STARTED.
    * stopped: MET if ``stopped_on <= due_on`` else MISSED.
    * open: OVERDUE if ``today > due_on``; DUE_SOON if ``today >= due_on - due_soon_days``; else RUNNING.
    """
    due = _check_optional_date(due_on, "due_on")
    _check_date(today, "today")
    stopped = _check_optional_date(stopped_on, "stopped_on")
    soon = _rules(rules).due_soon_days if due_soon_days is None else due_soon_days
    _check_int(soon, "due_soon_days", minimum=0)
    if due is None:
        return ClockState.NOT_STARTED
    if stopped is not None:
        return ClockState.MET if stopped <= due else ClockState.MISSED
    if today > due:
        return ClockState.OVERDUE
    if today >= due - timedelta(days=soon):
        return ClockState.DUE_SOON
    return ClockState.RUNNING


def london_today(now: datetime) -> date:
    """The Europe/London calendar date of an aware instant (00:30 BST 1 Jul is 1 Jul, not UTC 30 Jun)."""
    _check_aware(now, "now")
    return now.astimezone(LONDON).date()


def reported_after_offence_check(offence_date: date, reported_on: date) -> None:
    """ValueError if the report is dated before the offence (a report can never precede it)."""
    _check_date(offence_date, "offence_date")
    _check_date(reported_on, "reported_on")
    _check_not_before(offence_date, "offence date", reported_on, "report dated")


# --------------------------------------------------------------------------------------------------
# Custody time limits (docs/rules.md "Custody time limits"; issue 17)
# --------------------------------------------------------------------------------------------------


def is_ctl_excluded_day(day: date, *, calendar: HolidayCalendar | None = None) -> bool:
    """CTL Regulations 1987 reg 2(5): Saturday, Sunday, Christmas Day, Good Friday or an England and Wales bank
    holiday. Christmas Day and Good Friday count even if an administrator removes them from the bank holidays
    (as :meth:`HolidayCalendar.is_dapn_disregarded`)."""
    _check_date(day, "day")
    return day.weekday() == _SATURDAY or _calendar_or_active(calendar).is_dapn_disregarded(day)


def ctl_expiry(custody_began_on: date, limit_days: int, *, calendar: HolidayCalendar | None = None) -> date:
    """The day a custody time limit of ``limit_days`` expires (CTL Regulations 1987 reg 2(4)-(5)).

    Reg 2(4): the day custody began is not counted, so the limit nominally expires on
    ``custody_began_on + limit_days``. Reg 2(5): if that day is a Saturday, Sunday, Christmas Day, Good Friday or
    bank holiday, the limit expires on the next **preceding** day that is none of those. Custody from Mon 2 Nov
    2026, 56 days: 28 Dec 2026 (Boxing Day substitute) -> Thu 24 Dec 2026.
    """
    _check_date(custody_began_on, "custody_began_on")
    _check_int(limit_days, "limit_days", minimum=1)
    cal = _calendar_or_active(calendar)
    current = custody_began_on + timedelta(days=limit_days)
    one = timedelta(days=1)
    while is_ctl_excluded_day(current, calendar=cal):
        current -= one
    return current


def ctl_magistrates_limit_days(
    first_appearance_on: date,
    *,
    either_way: bool,
    summary_trial_decided_on: date | None = None,
    on: date | None = None,
    rules: ClockRules | None = None,
) -> int:
    """The magistrates' court CTL in days (CTL Regulations 1987 reg 4).

    Summary-only: 56. Either-way: 56 when the court decides on summary trial within 56 days of the first
    appearance (the first appearance day not counted, reg 2(4)), else 70. Undecided: 56 (the earlier limit, since
    the decision may still come within the period) unless ``on`` is already past the 56th day, then 70.
    """
    _check_date(first_appearance_on, "first_appearance_on")
    decided = _check_optional_date(summary_trial_decided_on, "summary_trial_decided_on")
    today = _check_optional_date(on, "on")
    r = _rules(rules)
    if not either_way:
        return r.ctl_summary_days
    window_end = first_appearance_on + timedelta(days=r.ctl_either_way_summary_decided_days)
    if decided is not None:
        _check_not_before(first_appearance_on, "first appearance", decided, "summary trial decided on")
        return r.ctl_either_way_summary_decided_days if decided <= window_end else r.ctl_either_way_days
    if today is not None and today > window_end:
        return r.ctl_either_way_days
    return r.ctl_either_way_summary_decided_days


def ctl_days_in_custody(custody_began_on: date, custody_ended_on: date) -> int:
    """Days counted in one unbroken period of custody (reg 2(4): the day it began is not counted).

    Remanded on Mon 5 Jan 2026 and sent to the Crown Court on Mon 2 Feb 2026: 28 days."""
    _check_date(custody_began_on, "custody_began_on")
    _check_date(custody_ended_on, "custody_ended_on")
    _check_not_before(custody_began_on, "custody began on", custody_ended_on, "custody ended on")
    return (custody_ended_on - custody_began_on).days


def ctl_crown_court_expiry(
    sent_on: date,
    days_served_before: int,
    *,
    rules: ClockRules | None = None,
    calendar: HolidayCalendar | None = None,
) -> date:
    """Crown Court CTL (reg 5): 182 days from sending, less the days already in the custody of the magistrates'
    court for the offence (:func:`ctl_days_in_custody` for each period), then reg 2(4)-(5) as :func:`ctl_expiry`.

    A limit already used up (``days_served_before`` >= 182) is a ValueError: the CTL expired before sending.
    """
    _check_date(sent_on, "sent_on")
    _check_int(days_served_before, "days_served_before", minimum=0)
    limit = _rules(rules).ctl_crown_court_days
    remaining = limit - days_served_before
    if remaining < 1:
        raise ValueError(
            f"{days_served_before} days already served use up the {limit}-day Crown Court limit "
            f"(sent {sent_on.isoformat()}): the custody time limit has expired"
        )
    return ctl_expiry(sent_on, remaining, calendar=calendar)


def _working_days_before(day: date, days: int, cal: HolidayCalendar) -> date:
    """The working day ``d`` with exactly ``days`` working days in ``(d, day]`` when ``day`` is a working day."""
    current = day
    remaining = days
    one = timedelta(days=1)
    while remaining:
        current -= one
        if current.weekday() < _SATURDAY and current not in cal.bank_holidays(current.year):
            remaining -= 1
    return current


def ctl_alert_dates(
    expiry_on: date, *, rules: ClockRules | None = None, calendar: HolidayCalendar | None = None
) -> tuple[date, date]:
    """The days from which a CTL is "due within" 10 and within 5 working days (issue 17; settings).

    Each is the working day with exactly that many working days after it up to the expiry. CTL Thu 24 Dec 2026:
    (Thu 10 Dec 2026, Thu 17 Dec 2026)."""
    _check_date(expiry_on, "expiry_on")
    r = _rules(rules)
    cal = _calendar_or_active(calendar)
    return (
        _working_days_before(expiry_on, r.ctl_alert_working_days, cal),
        _working_days_before(expiry_on, r.ctl_second_alert_working_days, cal),
    )


# --------------------------------------------------------------------------------------------------
# Pre-charge bail and RUI (docs/rules.md "Pre-charge bail and RUI"; issue 18)
# --------------------------------------------------------------------------------------------------


class BailRegime(StrEnum):
    """Which pre-charge bail periods apply to an arrest."""

    PCSC2022 = (
        "pcsc2022"  # PACE ss.47ZA-47ZM as amended by PCSC Act 2022 Sch 4 (arrested on/after 28 Oct 2022)
    )
    PACE2017 = "pace2017"  # PACE ss.47ZA-47ZM as inserted by Policing and Crime Act 2017 s.63
    NONE = "none"  # arrested before the 2017 limits applied: no statutory bail period


class BailAuthority(StrEnum):
    """Who may authorise an applicable bail period to run to a given total (PACE ss.47ZD-47ZG)."""

    INSPECTOR = "inspector"  # s.47ZD(6) "relevant officer" (PCSC 2022)
    SUPERINTENDENT = "superintendent"  # s.47ZDA(6) / 2017 s.47ZD "senior officer"
    COMMANDER_OR_ACC = "commander_or_acc"  # s.47ZE(9) "qualifying police officer" (designated case)
    MAGISTRATES_COURT = "magistrates_court"  # ss.47ZF-47ZG


def bail_regime(arrested_on: date, *, rules: ClockRules | None = None) -> BailRegime:
    """PCSC Act 2022 s.45(3)(a): the 2022 periods apply only to arrests after Sch 4 came into force (28 Oct 2022);
    earlier arrests keep the 2017 periods; arrests before the 2017 limits applied have none."""
    _check_date(arrested_on, "arrested_on")
    r = _rules(rules)
    if arrested_on >= r.bail_pcsc_in_force_on:
        return BailRegime.PCSC2022
    if arrested_on >= r.bail_2017_in_force_on:
        return BailRegime.PACE2017
    return BailRegime.NONE


def bail_start_date(arrested_on: date) -> date:
    """PACE s.47ZB(4)(a): "the day after the day on which the person was arrested for the relevant offence"."""
    _check_date(arrested_on, "arrested_on")
    return arrested_on + timedelta(days=1)


def bail_period_end(bail_start_on: date, *, months: int) -> date:
    """Last day of "the period of ``months`` months beginning with the person's bail start date" (PACE s.47ZB,
    47ZD-47ZG): the start day counts, so it ends the day before the corresponding date (:func:`add_months`).

    Start 1 Dec 2025, 3 months -> 28 Feb 2026. Start 31 Aug 2025 -> 29 Nov 2025 (corresponding date clamped to
    30 Nov, the day before it; the other reading, 30 Nov, is later, so the earlier is taken)."""
    _check_date(bail_start_on, "bail_start_on")
    _check_int(months, "months", minimum=1)
    return add_months(bail_start_on, months) - timedelta(days=1)


def bail_initial_end(arrested_on: date, *, rules: ClockRules | None = None) -> date | None:
    """End of the initial applicable bail period for a standard case (police), from the arrest date.

    2022 regime: 3 months beginning with the bail start date (s.47ZB(1)(b)). 2017 regime: 28 days beginning with
    it (bail start + 27 days). No statutory period before the 2017 limits: ``None``."""
    r = _rules(rules)
    regime = bail_regime(arrested_on, rules=r)
    start = bail_start_date(arrested_on)
    if regime is BailRegime.PCSC2022:
        return bail_period_end(start, months=r.bail_initial_months)
    if regime is BailRegime.PACE2017:
        return start + timedelta(days=r.bail_2017_initial_days - 1)
    return None


def bail_extension_authority(
    arrested_on: date, new_total_months: int, *, designated: bool = False, rules: ClockRules | None = None
) -> BailAuthority:
    """The lowest authority that may extend a standard police case's bail period to ``new_total_months`` months
    from the bail start date (PACE ss.47ZD-47ZG; the 2017 or the 2022 periods by :func:`bail_regime`).

    2022: to 6 months an inspector (s.47ZD), to 9 a superintendent (s.47ZDA), to 12 in a DPP-designated case a
    commander or assistant chief constable (s.47ZE), beyond a magistrates' court (ss.47ZF-47ZG). 2017: to 3 months
    a superintendent, to 6 in a designated case a commander or ACC, beyond a magistrates' court.
    A total within the initial period needs no extension (ValueError), as does an arrest with no bail limits.
    """
    _check_int(new_total_months, "new_total_months", minimum=1)
    r = _rules(rules)
    regime = bail_regime(arrested_on, rules=r)
    if regime is BailRegime.NONE:
        raise ValueError(f"no statutory bail period applies to an arrest on {arrested_on.isoformat()}")
    if regime is BailRegime.PCSC2022:
        if new_total_months <= r.bail_initial_months:
            raise ValueError(
                f"{new_total_months} months is within the initial {r.bail_initial_months}-month period"
            )
        steps = [
            (r.bail_inspector_months, BailAuthority.INSPECTOR),
            (r.bail_superintendent_months, BailAuthority.SUPERINTENDENT),
        ]
        designated_months = r.bail_designated_months
    else:
        # The 2017 initial period is 28 days, shorter than any whole month.
        steps = [(r.bail_2017_superintendent_months, BailAuthority.SUPERINTENDENT)]
        designated_months = r.bail_2017_designated_months
    if designated:
        steps.append((designated_months, BailAuthority.COMMANDER_OR_ACC))
    for limit, authority in steps:
        if new_total_months <= limit:
            return authority
    return BailAuthority.MAGISTRATES_COURT


def rui_review_due(released_on: date, *, rules: ClockRules | None = None) -> date:
    """Next review of a release under investigation: ``released_on + rui_review_days`` (UNCONFIRMED force setting;
    RUI has no statutory limit)."""
    _check_date(released_on, "released_on")
    return released_on + timedelta(days=_rules(rules).rui_review_days)


# --------------------------------------------------------------------------------------------------
# MARAC referral criteria (docs/rules.md "MARAC referral criteria"; issue 18)
# --------------------------------------------------------------------------------------------------


class MaracReason(StrEnum):
    """The four SafeLives criteria for a referral to MARAC."""

    HIGH_RISK = "high_risk"  # visible high risk: 14+ "yes" answers on the DASH
    PROFESSIONAL_JUDGEMENT = "professional_judgement"
    POTENTIAL_ESCALATION = "potential_escalation"  # 3+ incidents / call-outs in 12 months (local setting)
    REPEAT = "repeat"  # a further incident within 12 months of the last MARAC referral


def marac_referral_reasons(
    *,
    dash_yes_answers: int | None,
    professional_judgement: bool,
    police_callouts_12_months: int,
    last_marac_on: date | None,
    on: date,
    rules: ClockRules | None = None,
) -> list[MaracReason]:
    """Every SafeLives MARAC referral criterion met on ``on`` (the new incident or assessment), in order.

    ``dash_yes_answers`` None means no DASH completed. Repeat: ``last_marac_on <= on <= last_marac_on + 12
    months`` (corresponding date included: a repeat is never missed on the boundary)."""
    if dash_yes_answers is not None:
        _check_int(dash_yes_answers, "dash_yes_answers", minimum=0)
    if not isinstance(professional_judgement, bool):
        raise TypeError(f"professional_judgement must be a bool, not {type(professional_judgement).__name__}")
    _check_int(police_callouts_12_months, "police_callouts_12_months", minimum=0)
    last = _check_optional_date(last_marac_on, "last_marac_on")
    _check_date(on, "on")
    r = _rules(rules)
    reasons: list[MaracReason] = []
    if dash_yes_answers is not None and dash_yes_answers >= r.marac_dash_threshold:
        reasons.append(MaracReason.HIGH_RISK)
    if professional_judgement:
        reasons.append(MaracReason.PROFESSIONAL_JUDGEMENT)
    if police_callouts_12_months >= r.marac_escalation_callouts:
        reasons.append(MaracReason.POTENTIAL_ESCALATION)
    if last is not None:
        _check_not_before(last, "last MARAC referral", on, "incident dated")
        if on <= add_months(last, r.marac_repeat_months):
            reasons.append(MaracReason.REPEAT)
    return reasons


# --------------------------------------------------------------------------------------------------
# Victims' Right to Review (docs/rules.md "Victims' Right to Review"; issue 17)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VrrDates:
    """A VRR request's dates: ask by ``prompt_by`` for a prompt review; accepted up to ``latest_by``."""

    prompt_by: date
    latest_by: date


def cps_vrr_request_dates(
    communicated_on: date, *, rules: ClockRules | None = None, calendar: HolidayCalendar | None = None
) -> VrrDates:
    """CPS VRR: ask within 10 working days of the decision being communicated for a prompt review; requests are
    considered up to 3 months from communication (corresponding date, :func:`add_months`). UNCONFIRMED settings.
    Communicated Tue 23 Dec 2025: (Fri 9 Jan 2026, Mon 23 Mar 2026)."""
    _check_date(communicated_on, "communicated_on")
    r = _rules(rules)
    return VrrDates(
        prompt_by=add_working_days(communicated_on, r.vrr_cps_prompt_working_days, calendar=calendar),
        latest_by=add_months(communicated_on, r.vrr_cps_request_months),
    )


def police_vrr_request_due(notified_on: date, *, rules: ClockRules | None = None) -> date:
    """Police VRR (NFA): request within 3 months of being notified (UNCONFIRMED setting)."""
    _check_date(notified_on, "notified_on")
    return add_months(notified_on, _rules(rules).vrr_police_request_months)


def police_vrr_response_dates(
    requested_on: date, *, rules: ClockRules | None = None, calendar: HolidayCalendar | None = None
) -> tuple[date, date]:
    """Police VRR: (acknowledge by, review completed by): 10 and 30 working days after the request (UNCONFIRMED)."""
    _check_date(requested_on, "requested_on")
    r = _rules(rules)
    return (
        add_working_days(requested_on, r.vrr_police_acknowledge_working_days, calendar=calendar),
        add_working_days(requested_on, r.vrr_police_review_working_days, calendar=calendar),
    )
