"""Writes for the governance of action plans (DA Joint Justice Plan outcome 6): police supervision's rating of
a plan's proportionality, the national escalation policy for a disproportionate plan (raised by police,
answered by the CPS legal manager, resolved), and the reason an action is incomplete from the shared list.

Kept apart from ``charging/services.py`` (the charging workflow); the same conventions apply: one function per
state change, keyword-only, atomic, the case row locked, ``require(actor, perm, case)`` (predicates in
``governance/rules.py``), transitions checked here, each step dated and written on the case timeline.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from cases import ledger
from cases.kernel import TransitionError, audited, event_record, lock_case, not_future
from cases.models import User
from cases.rules import require
from charging.models import (
    Action,
    ActionPlan,
    ActionPlanEscalation,
    ActionPlanRating,
    IncompleteReason,
)


def _plan_dates(plan: ActionPlan, on: datetime.date, field: str, today: datetime.date) -> None:
    not_future(on, field, today)
    if on < plan.issued_on:
        raise ValidationError(
            {field: f"{on:%d %B %Y} is before the action plan was issued ({plan.issued_on:%d %B %Y})."}
        )


@transaction.atomic
def action_plan_rate(
    *,
    actor: User,
    plan: ActionPlan,
    rating: str,
    on: datetime.date,
    notes: str = "",
    today: datetime.date | None = None,
) -> ActionPlanRating:
    """A police supervisor rates an action plan proportionate or disproportionate (once per plan; a
    disproportionate rating needs notes saying why, and opens the way to an escalation)."""
    require(actor, "governance.rate_action_plan", plan.case)
    case = lock_case(plan.case)
    plan = ActionPlan.objects.select_for_update().get(pk=plan.pk)
    today = today or ledger.london_today()
    if rating not in ActionPlanRating.Rating.values:
        raise ValidationError({"rating": "Choose proportionate or disproportionate."})
    if rating == ActionPlanRating.Rating.DISPROPORTIONATE and not notes.strip():
        raise ValidationError({"notes": "Say why the plan is disproportionate."})
    _plan_dates(plan, on, "on", today)
    if ActionPlanRating.objects.filter(plan=plan).exists():
        raise TransitionError("This action plan has already been rated.")
    with audited(actor, "action_plan_rate"):
        result = ActionPlanRating.objects.create(
            plan=plan, rating=rating, rated_by=actor, rated_on=on, notes=notes.strip()
        )
        event_record(
            case=case,
            kind="action_plan_rated",
            actor=actor,
            reason=notes.strip(),
            summary=f"Police supervision rated the action plan of {plan.issued_on:%d %B %Y} "
            f"{result.get_rating_display().lower()}",
            data={"plan": plan.pk, "rating": rating},
        )
    return result


def _lock_escalation(escalation: ActionPlanEscalation) -> ActionPlanEscalation:
    return ActionPlanEscalation.objects.select_for_update().select_related("plan").get(pk=escalation.pk)


@transaction.atomic
def action_plan_escalation_raise(
    *,
    actor: User,
    plan: ActionPlan,
    on: datetime.date,
    grounds: str,
    today: datetime.date | None = None,
) -> ActionPlanEscalation:
    """A police supervisor escalates an action plan rated disproportionate under the national escalation
    policy, while the plan is with police. One escalation at a time per plan."""
    require(actor, "governance.raise_escalation", plan.case)
    case = lock_case(plan.case)
    plan = ActionPlan.objects.select_for_update().get(pk=plan.pk)
    today = today or ledger.london_today()
    if not grounds.strip():
        raise ValidationError({"grounds": "Give the grounds for the escalation."})
    _plan_dates(plan, on, "on", today)
    rating = ActionPlanRating.objects.filter(plan=plan).first()
    if rating is None or rating.rating != ActionPlanRating.Rating.DISPROPORTIONATE:
        raise TransitionError(
            "Only an action plan rated disproportionate by police supervision can be escalated."
        )
    if plan.status != ActionPlan.Status.OPEN:
        raise TransitionError(
            f"Cannot escalate: the action plan is {plan.get_status_display().lower()}, no longer with police."
        )
    if plan.escalations.exclude(status=ActionPlanEscalation.Status.RESOLVED).exists():
        raise TransitionError("This action plan already has an escalation under way.")
    with audited(actor, "action_plan_escalation_raise"):
        escalation = ActionPlanEscalation.objects.create(
            plan=plan, raised_by=actor, raised_on=on, grounds=grounds.strip()
        )
        event_record(
            case=case,
            kind="escalation_raised",
            actor=actor,
            reason=grounds.strip(),
            summary=f"Action plan of {plan.issued_on:%d %B %Y} escalated as disproportionate "
            "(national escalation policy)",
            data={"plan": plan.pk, "escalation": escalation.pk},
        )
    return escalation


@transaction.atomic
def action_plan_escalation_answer(
    *,
    actor: User,
    escalation: ActionPlanEscalation,
    on: datetime.date,
    response: str,
    notes: str,
    today: datetime.date | None = None,
) -> ActionPlanEscalation:
    """The CPS legal manager answers an escalation: the plan stands, is amended, or actions are withdrawn."""
    case = escalation.plan.case
    require(actor, "governance.answer_escalation", case)
    case = lock_case(case)
    escalation = _lock_escalation(escalation)
    today = today or ledger.london_today()
    if escalation.status != ActionPlanEscalation.Status.RAISED:
        raise TransitionError(
            f"Cannot answer: the escalation is {escalation.get_status_display().lower()} already."
        )
    if response not in ActionPlanEscalation.Response.values:
        raise ValidationError({"response": "Choose: the plan stands, is amended, or actions are withdrawn."})
    if not notes.strip():
        raise ValidationError({"notes": "Explain the answer to police."})
    not_future(on, "on", today)
    if on < escalation.raised_on:
        raise ValidationError(
            {"on": f"The answer is dated before the escalation ({escalation.raised_on:%d %B %Y})."}
        )
    with audited(actor, "action_plan_escalation_answer"):
        escalation.status = ActionPlanEscalation.Status.ANSWERED
        escalation.answered_by, escalation.answered_on = actor, on
        escalation.response, escalation.response_notes = response, notes.strip()
        escalation.save()
        event_record(
            case=case,
            kind="escalation_answered",
            actor=actor,
            reason=notes.strip(),
            summary=f"CPS legal manager answered the escalation: {escalation.get_response_display().lower()}",
            data={"escalation": escalation.pk, "response": response},
        )
    return escalation


@transaction.atomic
def action_plan_escalation_resolve(
    *,
    actor: User,
    escalation: ActionPlanEscalation,
    on: datetime.date,
    resolution: str,
    today: datetime.date | None = None,
) -> ActionPlanEscalation:
    """Close an answered escalation with what was agreed (police supervisor or CPS legal manager)."""
    case = escalation.plan.case
    require(actor, "governance.resolve_escalation", case)
    case = lock_case(case)
    escalation = _lock_escalation(escalation)
    today = today or ledger.london_today()
    if escalation.status != ActionPlanEscalation.Status.ANSWERED:
        raise TransitionError(
            "Only an escalation the CPS legal manager has answered can be resolved."
            if escalation.status == ActionPlanEscalation.Status.RAISED
            else "This escalation is already resolved."
        )
    if not resolution.strip():
        raise ValidationError({"resolution": "Record what was agreed."})
    not_future(on, "on", today)
    if on < escalation.answered_on:
        raise ValidationError(
            {"on": f"The resolution is dated before the answer ({escalation.answered_on:%d %B %Y})."}
        )
    with audited(actor, "action_plan_escalation_resolve"):
        escalation.status = ActionPlanEscalation.Status.RESOLVED
        escalation.resolved_by, escalation.resolved_on = actor, on
        escalation.resolution = resolution.strip()
        escalation.save()
        event_record(
            case=case,
            kind="escalation_resolved",
            actor=actor,
            reason=resolution.strip(),
            summary="Action plan escalation resolved",
            data={"escalation": escalation.pk},
        )
    return escalation


@transaction.atomic
def action_incomplete_reason_record(
    *,
    actor: User,
    action: Action,
    reason: str,
    notes: str = "",
) -> Action:
    """Record why an action is not complete, from the shared list (``IncompleteReason``); "other" needs notes.
    Not for a completed action."""
    case = action.plan.case
    require(actor, "charging.update_action", case)
    case = lock_case(case)
    action = Action.objects.select_for_update().select_related("plan").get(pk=action.pk)
    if not reason or reason not in IncompleteReason.values:
        raise ValidationError({"reason": "Choose a reason from the list."})
    if reason == IncompleteReason.OTHER and not notes.strip():
        raise ValidationError({"notes": "Explain the reason when it is 'other'."})
    if action.status == Action.Status.COMPLETED:
        raise TransitionError("The action is complete; there is no reason to record.")
    with audited(actor, "action_incomplete_reason_record"):
        action.incomplete_reason = reason
        if notes.strip():
            action.latest_reason = notes.strip()
        action.save(update_fields=["incomplete_reason", "latest_reason"])
        event_record(
            case=case,
            kind="action_incomplete_reason",
            actor=actor,
            reason=notes.strip(),
            summary=f"Action not complete ({IncompleteReason(reason).label.lower()}): {action.description[:80]}",
            data={"action": action.pk, "reason": reason},
        )
    return action
