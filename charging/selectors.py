"""Reads for the charging workflow."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cases import clocks
from cases.models import Case


@dataclass(frozen=True)
class TimeWithEachSide:
    cps_working_days: int
    police_days_on_action_plans: int
    submissions: int


def time_with_each_side(case: Case, *, today: datetime.date) -> TimeWithEachSide:
    """Working days the case spent with CPS across all its submissions (receipt to decision, action plan or
    return; to today while one is open), and calendar days police spent on action plans (issue to the next
    submission, or to today)."""
    referrals = list(case.referrals.order_by("sequence"))
    cps = sum(clocks.working_days_between(r.received_on, r.closed_on or today) for r in referrals)
    police = 0
    for plan in case.action_plans.all():
        later = [r.received_on for r in referrals if r.received_on >= plan.issued_on]
        end = min(later) if later else (plan.closed_on or today)
        police += max(0, (end - plan.issued_on).days)
    return TimeWithEachSide(cps, police, len(referrals))
