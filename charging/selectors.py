"""Reads for the charging workflow."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cases import clocks
from cases.models import Case

from .models import ActionPlan, ChargingReferral


@dataclass(frozen=True)
class TimeWithEachSide:
    cps_working_days: int
    police_days_on_action_plans: int
    submissions: int


def time_with_each_side(case: Case, *, today: datetime.date) -> TimeWithEachSide:
    """Working days the case spent with CPS across all its submissions (receipt to decision, action plan or
    return; to today while one is open), and calendar days police spent on action plans (issue to the next
    submission, or to today)."""
    return time_with_each_side_of(
        list(case.referrals.order_by("sequence")),
        list(case.action_plans.select_related("decision")),
        today=today,
    )


def time_with_each_side_of(
    referrals: Sequence[ChargingReferral], plans: Iterable[ActionPlan], *, today: datetime.date
) -> TimeWithEachSide:
    """``time_with_each_side`` over rows already fetched (the case page has them; plans with their decision):
    no queries. A plan's time with police ends at the next submission after the one it answered (not at a
    submission received the same day the plan was issued, which is the one it answered)."""
    cps = sum(clocks.working_days_between(r.received_on, r.closed_on or today) for r in referrals)
    sequence_of = {r.pk: r.sequence for r in referrals}
    police = 0
    for plan in plans:
        answered = sequence_of.get(plan.decision.referral_id, 0)
        later = [r.received_on for r in referrals if r.sequence > answered]
        end = min(later) if later else (plan.closed_on or today)
        police += max(0, (end - plan.issued_on).days)
    return TimeWithEachSide(cps, police, len(referrals))
