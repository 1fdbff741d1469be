"""Pure rules for protective orders that need no database (no Django imports), tested without one.

- ``dvpo_end_message``: the refusal when a DVPO's end date is outside the period Crime and Security Act 2010
  s.28(10) allows (the bounds come from ``cases.clocks.dvpo_end_bounds``).
- ``dapo_notification_due``: the last day for a person subject to a DAPO to notify the police of their name(s)
  and home address: "within the period of three days beginning with the day on which the order is made"
  (Domestic Abuse Act 2021 s.41(2)). The day the order is made is day 1, so an order made on 1 June must be
  notified by 3 June (never later).
- ``notification_state``: where that duty stands on a day, in the words of the clock states.
"""

from __future__ import annotations

from datetime import date, timedelta

from cases.clocks import ClockRules, dvpo_end_bounds

#: DA Act 2021 s.41(2): three days beginning with the day the order is made.
DAPO_NOTIFICATION_DAYS = 3


def long_date(day: date) -> str:
    """1 June 2026 (no leading zero)."""
    return f"{day.day} {day:%B %Y}"


def dvpo_end_message(made_on: date, *, rules: ClockRules | None = None) -> str:
    """The error for a DVPO made on ``made_on``: it must end between the two bounds of s.28(10)."""
    earliest, latest = dvpo_end_bounds(made_on, rules=rules)
    return (
        f"A DVPO made on {long_date(made_on)} must end between {long_date(earliest)} and {long_date(latest)} "
        "(Crime and Security Act 2010 s.28(10))."
    )


def dvpo_end_allowed(made_on: date, expires_on: date, *, rules: ClockRules | None = None) -> bool:
    """Whether a DVPO made on ``made_on`` may end on ``expires_on`` (its last day in force)."""
    earliest, latest = dvpo_end_bounds(made_on, rules=rules)
    return earliest <= expires_on <= latest


def dapo_notification_due(made_on: date, *, days: int = DAPO_NOTIFICATION_DAYS) -> date:
    """The last day of the period of ``days`` days beginning with the day the DAPO is made (s.41(2))."""
    if not isinstance(made_on, date) or hasattr(made_on, "hour"):
        raise TypeError("made_on must be a date")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise TypeError("days must be a whole number of days, 1 or more")
    return made_on + timedelta(days=days - 1)


def notification_state(*, due_on: date | None, notified_on: date | None, today: date) -> str:
    """``not_started`` (no duty), ``met`` / ``missed`` (notified by / after the due day), ``overdue`` (not
    notified and the due day has passed), ``due_soon`` (not notified, due day not passed: the period is three
    days, so it is always near)."""
    if due_on is None:
        return "not_started"
    if notified_on is not None:
        return "met" if notified_on <= due_on else "missed"
    return "overdue" if today > due_on else "due_soon"
