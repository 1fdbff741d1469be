"""Writes for the charging workflow: refer, triage, case conversation, decision, action plan, actions, charge.

One function per state change; each checks the actor's permission and the stage on the server, is atomic,
writes a timeline event and moves the clocks: referral starts the 10-working-day charging clock (and stops the
investigation clock); an action plan ends that submission's clock; a decision to charge starts the 7-day charge
clock; the charge stops it and the time limits of the offences charged.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet

from cases import ledger
from cases.models import Case, Clock, Offence, Organisation, Role, User
from cases.rules import require
from cases.services import (
    TransitionError,
    _audited,
    _check_status,
    _not_future,
    cancel_open_clocks,
    event_record,
    language_check,
    lock_case,
    stop_investigation_clock,
    victim_update_clocks_open,
)

from .models import (
    Action,
    ActionPlan,
    CaseConversation,
    Charge,
    ChargingDecision,
    ChargingReferral,
    TriageReason,
)

REFERRABLE = (Case.Status.REPORTED, Case.Status.INVESTIGATION, Case.Status.ACTION_PLAN)


@transaction.atomic
def case_refer_to_cps(
    *,
    actor: User,
    case: Case,
    received_on: datetime.date,
    kind: str = ChargingReferral.Kind.CHARGING_DECISION,
    custody: bool = False,
    notes: str = "",
    cps_area: Organisation | None = None,
    today: datetime.date | None = None,
) -> ChargingReferral:
    """Submit the case to CPS (first referral or a resubmission after an action plan). The case's CPS Area
    is its force's Area unless the first referral names another (London forces are served by two Areas);
    from now on that Area's staff see the case."""
    require(actor, "charging.refer_case", case)
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    _check_status(case, REFERRABLE, "refer the case to CPS")
    if kind not in ChargingReferral.Kind.values:
        raise ValidationError({"kind": "Choose early advice or a charging decision."})
    _not_future(received_on, "received_on", today)
    if received_on < case.reported_on:
        raise ValidationError(
            {
                "received_on": f"{received_on:%d %B %Y} is before the report to police "
                f"({case.reported_on:%d %B %Y})."
            }
        )
    last = case.referrals.order_by("-sequence").first()
    if last is not None and received_on < (last.closed_on or last.received_on):
        raise ValidationError(
            {
                "received_on": f"{received_on:%d %B %Y} is before the previous submission ended "
                f"({(last.closed_on or last.received_on):%d %B %Y})."
            }
        )
    if cps_area is not None and (
        cps_area.kind != Organisation.Kind.CPS_AREA or (case.cps_area_id and cps_area.pk != case.cps_area_id)
    ):
        raise ValidationError({"cps_area": f"{cps_area} is not a CPS Area this case can be referred to."})
    if not case.offences.exists():
        raise TransitionError("Add at least one offence before referring the case.")
    with _audited(actor, "case_refer_to_cps"):
        sequence = (case.referrals.aggregate(n=Max("sequence"))["n"] or 0) + 1
        # The Area first, so the submission (and the charging clock) take their copy of it from the case.
        case.cps_area_id = case.cps_area_id or (cps_area.pk if cps_area else case.force.area_id)
        referral = ChargingReferral.objects.create(
            case=case,
            sequence=sequence,
            kind=kind,
            received_on=received_on,
            submitted_by=actor,
            custody=custody,
            notes=notes,
        )
        stop_investigation_clock(case, on=received_on)
        case.action_plans.filter(status=ActionPlan.Status.OPEN).update(status=ActionPlan.Status.RESUBMITTED)
        case.status = Case.Status.REFERRED
        case.save(update_fields=["status", "cps_area", "updated_at"])
        ledger.clock_open(
            case=case,
            kind=Clock.Kind.CHARGING_DECISION,
            side=Clock.Side.CPS,
            started_on=received_on,
            label=f"Charging decision on submission {sequence}",
            today=today,
            referral=referral,
        )
        # The STL clocks already exist; re-evaluating them now flags on receipt any within eight weeks.
        ledger.stl_clocks_sync(case, today=today)
        language_check(case=case, source=referral, actor=actor, notes=notes)
        event_record(
            case=case,
            kind="referred",
            actor=actor,
            summary=("Resubmitted" if sequence > 1 else "Referred")
            + f" to CPS for {referral.get_kind_display().lower()}"
            + (" (custody)" if custody else ""),
            data={"referral": referral.pk, "sequence": sequence},
        )
    return referral


def _awaiting(referral: ChargingReferral, doing: str) -> None:
    if referral.status != ChargingReferral.Status.AWAITING_DECISION:
        raise TransitionError(
            f"Cannot {doing}: this submission is already {referral.get_status_display().lower()}."
        )


def _submission_end(
    referral: ChargingReferral,
    case: Case,
    *,
    status: str,
    on: datetime.date,
    case_status: str,
    clock_outcome: str | None = None,
) -> None:
    """End a submission (decided, action plan, returned at triage): close it, stop its charging clock (met or
    missed by the date, or superseded) and move the case on."""
    referral.status, referral.closed_on = status, on
    referral.save()
    ledger.clocks_stop(referral.clocks.open(), on=on, outcome=clock_outcome)
    case.status = case_status
    case.save(update_fields=["status", "updated_at"])


def _lock_referral(referral: ChargingReferral) -> ChargingReferral:
    return ChargingReferral.objects.select_for_update().select_related("case").get(pk=referral.pk)


def area_prosecutors(case: Case) -> QuerySet[User]:
    """The prosecutors a submission of ``case`` can be allocated to: active prosecutors of its CPS Area."""
    if case.cps_area_id is None:
        return User.objects.none()
    return User.objects.filter(
        organisation_id=case.cps_area_id, roles__contains=[Role.PROSECUTOR], is_active=True
    ).order_by("last_name", "first_name", "username")


def _allocation(case: Case, *, actor: User, prosecutor: User | None) -> User | None:
    """The prosecutor a submission accepted at triage is allocated to: the one named, else the actor when the
    actor is a prosecutor of the Area, else nobody (the Area's prosecutors are told until someone is)."""
    if prosecutor is None:
        if actor.has_role(Role.PROSECUTOR) and actor.organisation_id == case.cps_area_id:
            return actor
        return None
    if not area_prosecutors(case).filter(pk=prosecutor.pk).exists():
        raise ValidationError({"prosecutor": f"{prosecutor.display_name} is not a prosecutor of this Area."})
    if not Case.objects.visible_to(prosecutor).filter(pk=case.pk).exists():
        raise ValidationError({"prosecutor": f"{prosecutor.display_name} may not see this restricted case."})
    return prosecutor


@transaction.atomic
def referral_triage(
    *,
    actor: User,
    referral: ChargingReferral,
    accept: bool,
    on: datetime.date,
    reasons: Sequence[str] = (),
    notes: str = "",
    respond_by: datetime.date | None = None,
    prosecutor: User | None = None,
    today: datetime.date | None = None,
) -> ChargingReferral:
    """CPS triage: accept the file, or return it to police with file-quality reasons and a date to respond by.
    A returned file ends the submission's charging clock; the police resubmission starts a new one.

    On acceptance the submission is allocated to ``prosecutor`` (a prosecutor of the case's Area who may see the
    case; by default the actor, when the actor is one): its CPS-side alerts go to them, its escalations to their
    line manager (``cases/alerts.py``). Without one (a legal manager triaging without allocating) the Area's
    prosecutors are told until it is allocated."""
    require(actor, "charging.triage_referral", referral.case)
    lock_case(referral.case)
    referral = _lock_referral(referral)
    today = today or ledger.london_today()
    _awaiting(referral, "triage the referral")
    if referral.triage != ChargingReferral.Triage.PENDING:
        raise TransitionError("This submission has already been triaged.")
    _not_future(on, "on", today)
    if on < referral.received_on:
        raise ValidationError({"on": "Triage cannot come before CPS received the referral."})
    unknown = [r for r in reasons if r not in TriageReason.values]
    if unknown:
        raise ValidationError({"reasons": f"Unknown reason(s): {', '.join(unknown)}."})
    if not accept and not reasons:
        raise ValidationError({"reasons": "Give at least one reason for returning the file."})
    if not accept and respond_by is None:
        raise ValidationError({"respond_by": "Give the date police must respond by."})
    if respond_by and respond_by < on:
        raise ValidationError({"respond_by": "The response date is before the triage date."})
    case = referral.case
    if accept:
        prosecutor = _allocation(case, actor=actor, prosecutor=prosecutor)
    with _audited(actor, "referral_triage"):
        referral.triage = ChargingReferral.Triage.ACCEPTED if accept else ChargingReferral.Triage.REJECTED
        referral.triaged_on, referral.triage_reasons, referral.triage_notes = on, list(reasons), notes
        if accept:
            referral.prosecutor = prosecutor
            referral.save()
            event_record(
                case=case,
                kind="triage_accepted",
                actor=actor,
                summary="Referral accepted at triage"
                + (f" and allocated to {prosecutor.display_name}" if prosecutor is not None else ""),
                data={"prosecutor": prosecutor.pk} if prosecutor is not None else None,
            )
            return referral
        referral.respond_by = respond_by
        _submission_end(
            referral,
            case,
            status=ChargingReferral.Status.REJECTED,
            on=on,
            case_status=Case.Status.INVESTIGATION,
            clock_outcome=Clock.State.SUPERSEDED,
        )
        language_check(case=case, source=referral, actor=actor, triage_notes=notes)
        event_record(
            case=case,
            kind="triage_rejected",
            actor=actor,
            reason=notes,
            summary=f"File returned at triage ({len(reasons)} reason{'s' if len(reasons) != 1 else ''}); "
            f"police to respond by {respond_by:%d %B %Y}",
            data={"reasons": list(reasons)},
        )
    return referral


@transaction.atomic
def conversation_record(
    *,
    actor: User,
    case: Case,
    held_on: datetime.date,
    mode: str,
    participants: Sequence[User] = (),
    reasonable_lines_of_inquiry: str = "",
    evidential_concerns: str = "",
    early_prosecution_strategy: str = "",
    protective_orders_considered: bool = False,
    protective_orders_notes: str = "",
    today: datetime.date | None = None,
) -> CaseConversation:
    """Record an early case conversation between police and prosecutor."""
    require(actor, "charging.record_conversation", case)
    case = lock_case(case)
    today = today or ledger.london_today()
    if case.is_closed:
        raise TransitionError(
            f"Cannot record a conversation: the case is {case.get_status_display().lower()}."
        )
    if mode not in CaseConversation.Mode.values:
        raise ValidationError({"mode": "Choose digital or face to face."})
    _not_future(held_on, "held_on", today)
    if held_on < case.reported_on:
        raise ValidationError({"held_on": "The conversation is dated before the report to police."})
    with _audited(actor, "conversation_record"):
        conversation = CaseConversation.objects.create(
            case=case,
            referral=case.referrals.filter(status=ChargingReferral.Status.AWAITING_DECISION).first(),
            held_on=held_on,
            mode=mode,
            reasonable_lines_of_inquiry=reasonable_lines_of_inquiry,
            evidential_concerns=evidential_concerns,
            early_prosecution_strategy=early_prosecution_strategy,
            protective_orders_considered=protective_orders_considered,
            protective_orders_notes=protective_orders_notes,
            recorded_by=actor,
        )
        conversation.participants.set({actor, *participants})
        language_check(
            case=case,
            source=conversation,
            actor=actor,
            reasonable_lines_of_inquiry=reasonable_lines_of_inquiry,
            evidential_concerns=evidential_concerns,
            early_prosecution_strategy=early_prosecution_strategy,
            protective_orders_notes=protective_orders_notes,
        )
        event_record(
            case=case,
            kind="conversation",
            actor=actor,
            summary=f"Case conversation ({conversation.get_mode_display().lower()})",
        )
    return conversation


def _decision_validate(
    referral: ChargingReferral, decided_on: datetime.date, reasons: str, today: datetime.date
) -> None:
    _awaiting(referral, "record a decision")
    if referral.triage == ChargingReferral.Triage.REJECTED:
        raise TransitionError("This submission was returned at triage; police must resubmit.")
    _not_future(decided_on, "decided_on", today)
    if decided_on < referral.received_on:
        raise ValidationError(
            {
                "decided_on": f"{decided_on:%d %B %Y} is before CPS received the referral "
                f"({referral.received_on:%d %B %Y})."
            }
        )
    if not reasons.strip():
        raise ValidationError({"reasons": "Give the reasons for the decision."})


@transaction.atomic
def decision_record(
    *,
    actor: User,
    referral: ChargingReferral,
    outcome: str,
    decided_on: datetime.date,
    reasons: str,
    test: str = "",
    evidence_led_viable: bool | None = None,
    evidence_led_strategy: str = "",
    today: datetime.date | None = None,
) -> ChargingDecision:
    """A prosecutor's decision on a submission: charge (naming the test applied), no further action, or an
    out-of-court resolution. (An action plan is ``action_plan_issue``.)"""
    require(actor, "charging.record_decision", referral.case)
    case = lock_case(referral.case)
    referral = _lock_referral(referral)
    ledger.sync_rules()
    today = today or ledger.london_today()
    _decision_validate(referral, decided_on, reasons, today)
    outcomes = {
        ChargingDecision.Outcome.CHARGE: Case.Status.DECIDED,
        ChargingDecision.Outcome.NO_FURTHER_ACTION: Case.Status.NO_FURTHER_ACTION,
        ChargingDecision.Outcome.OUT_OF_COURT: Case.Status.OUT_OF_COURT,
    }
    if outcome not in outcomes:
        raise ValidationError(
            {
                "outcome": "Choose charge, no further action or an out-of-court resolution; "
                "to ask for more information, issue an action plan."
            }
        )
    if outcome == ChargingDecision.Outcome.CHARGE and test not in (
        ChargingDecision.Test.FULL_CODE,
        ChargingDecision.Test.THRESHOLD,
    ):
        raise ValidationError(
            {"test": "A decision to charge must name the test applied: Full Code or Threshold."}
        )
    if test not in ChargingDecision.Test.values:
        raise ValidationError({"test": "Choose the Full Code Test or the Threshold Test."})
    with _audited(actor, "decision_record"):
        decision = ChargingDecision.objects.create(
            case=case,
            referral=referral,
            decided_on=decided_on,
            decided_by=actor,
            test=test,
            outcome=outcome,
            evidence_led_viable=evidence_led_viable,
            evidence_led_strategy=evidence_led_strategy,
            reasons=reasons,
        )
        _submission_end(
            referral,
            case,
            status=ChargingReferral.Status.DECIDED,
            on=decided_on,
            case_status=outcomes[outcome],
        )
        if outcome == ChargingDecision.Outcome.CHARGE:
            ledger.clock_open(
                case=case,
                kind=Clock.Kind.CHARGE,
                side=Clock.Side.POLICE,
                started_on=decided_on,
                label="Charge the suspect",
                today=today,
            )
        else:
            cancel_open_clocks(case, on=decided_on)
        victim_update_clocks_open(
            case,
            on=decided_on,
            side=Clock.Side.CPS,
            reason=f"CPS decision: {decision.get_outcome_display().lower()}",
            today=today,
        )
        language_check(
            case=case,
            source=decision,
            actor=actor,
            reasons=reasons,
            evidence_led_strategy=evidence_led_strategy,
        )
        event_record(
            case=case,
            kind="decision",
            actor=actor,
            reason=reasons,
            summary=f"CPS decision: {decision.get_outcome_display()}"
            + (f" ({decision.get_test_display()})" if test else ""),
            data={"decision": decision.pk, "outcome": outcome},
        )
    return decision


@transaction.atomic
def action_plan_issue(
    *,
    actor: User,
    referral: ChargingReferral,
    decided_on: datetime.date,
    reasons: str,
    respond_by: datetime.date,
    actions: Sequence[dict[str, Any]],
    today: datetime.date | None = None,
) -> ActionPlan:
    """Further information needed: return the case to police with an action plan. Ends this submission's
    charging clock; each action with a due date gets a clock of its own."""
    require(actor, "charging.issue_action_plan", referral.case)
    case = lock_case(referral.case)
    referral = _lock_referral(referral)
    ledger.sync_rules()
    today = today or ledger.london_today()
    _decision_validate(referral, decided_on, reasons, today)
    if not actions:
        raise ValidationError({"actions": "An action plan needs at least one action."})
    if respond_by < decided_on:
        raise ValidationError({"respond_by": "The response date is before the decision date."})
    for i, spec in enumerate(actions):
        if not (spec.get("description") or "").strip():
            raise ValidationError({f"actions[{i}].description": "Describe the action."})
        due = spec.get("due_on")
        if due is not None and due < decided_on:
            raise ValidationError({f"actions[{i}].due_on": "The action is due before the plan was issued."})
    with _audited(actor, "action_plan_issue"):
        decision = ChargingDecision.objects.create(
            case=case,
            referral=referral,
            decided_on=decided_on,
            decided_by=actor,
            outcome=ChargingDecision.Outcome.ACTION_PLAN,
            reasons=reasons,
        )
        plan = ActionPlan.objects.create(
            case=case, decision=decision, issued_on=decided_on, respond_by=respond_by
        )
        for spec in actions:
            action = Action.objects.create(
                plan=plan,
                description=spec["description"].strip(),
                category=spec.get("category", ""),
                due_on=spec.get("due_on"),
                owner=spec.get("owner") or case.oic,
            )
            if action.due_on is not None:
                ledger.clock_open(
                    case=case,
                    kind=Clock.Kind.ACTION,
                    side=Clock.Side.POLICE,
                    started_on=decided_on,
                    label=action.description[:200],
                    today=today,
                    action=action,
                )
        _submission_end(
            referral,
            case,
            status=ChargingReferral.Status.ACTION_PLAN,
            on=decided_on,
            case_status=Case.Status.ACTION_PLAN,
            clock_outcome=Clock.State.SUPERSEDED,
        )
        language_check(
            case=case,
            source=plan,
            actor=actor,
            reasons=reasons,
            **{f"action_{a.pk}": a.description for a in plan.actions.all()},
        )
        event_record(
            case=case,
            kind="action_plan",
            actor=actor,
            reason=reasons,
            summary=f"Action plan issued with {len(actions)} action{'s' if len(actions) != 1 else ''}; "
            f"respond by {respond_by:%d %B %Y}",
            data={"plan": plan.pk, "actions": len(actions)},
        )
    return plan


@transaction.atomic
def action_update(
    *,
    actor: User,
    action: Action,
    status: str,
    on: datetime.date,
    reason: str = "",
    today: datetime.date | None = None,
) -> Action:
    """Move an action on: in progress, completed, withdrawn, or re-opened (with a reason)."""
    case = action.plan.case
    require(actor, "charging.update_action", case)
    case = lock_case(case)
    action = Action.objects.select_for_update().select_related("plan").get(pk=action.pk)
    today = today or ledger.london_today()
    if status not in Action.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if case.is_closed or action.plan.status == ActionPlan.Status.CLOSED:
        raise TransitionError("Cannot change an action: its action plan or the case is closed.")
    if status not in Action.TRANSITIONS[action.status]:
        raise TransitionError(
            f"Cannot move an action from {action.get_status_display().lower()} to "
            f"{Action.Status(status).label.lower()}."
        )
    if status in (Action.Status.WITHDRAWN, Action.Status.REOPENED) and not reason.strip():
        raise ValidationError({"reason": "Give the reason for the change."})
    _not_future(on, "on", today)
    if on < action.plan.issued_on:
        raise ValidationError({"on": "The date is before the action plan was issued."})
    with _audited(actor, "action_update"):
        action.status = status
        action.latest_reason = reason
        action.completed_on = on if status == Action.Status.COMPLETED else None
        action.save()
        open_clocks = action.clocks.open()
        if status == Action.Status.COMPLETED:
            ledger.clocks_stop(open_clocks, on=on)
        elif status == Action.Status.WITHDRAWN:
            ledger.clocks_stop(open_clocks, on=on, outcome=Clock.State.CANCELLED)
        elif status == Action.Status.REOPENED and action.due_on and not open_clocks.exists():
            ledger.clock_open(
                case=case,
                kind=Clock.Kind.ACTION,
                side=Clock.Side.POLICE,
                started_on=on,
                label=action.description[:200],
                today=today,
                action=action,
            )
        language_check(case=case, source=action, actor=actor, latest_reason=reason)
        event_record(
            case=case,
            kind="action_updated",
            actor=actor,
            reason=reason,
            summary=f"Action {Action.Status(status).label.lower()}: {action.description[:80]}",
        )
    return action


@transaction.atomic
def charge_record(
    *,
    actor: User,
    case: Case,
    charged_on: datetime.date,
    offences: Sequence[Offence] = (),
    information_laid_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> Charge:
    """Record the charge after a decision to charge. Stops the 7-day charge clock; the information laid (or,
    when its date is not yet known, the charge) stops the statutory time limits of the offences charged."""
    require(actor, "charging.record_charge", case)
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    _check_status(case, (Case.Status.DECIDED,), "record a charge")
    decision = (
        case.decisions.filter(outcome=ChargingDecision.Outcome.CHARGE).order_by("-decided_on", "-pk").first()
    )
    if decision is None:
        raise TransitionError("There is no CPS decision to charge on this case.")
    _not_future(charged_on, "charged_on", today)
    if charged_on < decision.decided_on:
        raise ValidationError(
            {
                "charged_on": f"{charged_on:%d %B %Y} is before the decision to charge "
                f"({decision.decided_on:%d %B %Y})."
            }
        )
    if information_laid_on and information_laid_on < charged_on:
        raise ValidationError({"information_laid_on": "The information cannot be laid before the charge."})
    offences = list(offences) or list(case.offences.all())
    stray = [o for o in offences if o.case_id != case.pk]
    if stray:
        raise ValidationError({"offences": "Only this case's offences can be charged."})
    with _audited(actor, "charge_record"):
        charge = Charge.objects.create(
            case=case,
            decision=decision,
            charged_on=charged_on,
            information_laid_on=information_laid_on,
            charged_by=actor,
        )
        charge.offences.set(offences)
        ledger.clocks_stop(case.clocks.open().filter(kind=Clock.Kind.CHARGE), on=charged_on)
        ledger.clocks_stop(
            case.clocks.open().filter(kind=Clock.Kind.STL, offence__in=offences),
            on=information_laid_on or charged_on,
        )
        case.status = Case.Status.CHARGED
        case.save(update_fields=["status", "updated_at"])
        victim_update_clocks_open(
            case, on=charged_on, side=Clock.Side.POLICE, reason="suspect charged", today=today
        )
        event_record(
            case=case,
            kind="charged",
            actor=actor,
            summary=f"Charged with {len(offences)} offence{'s' if len(offences) != 1 else ''}",
            data={"charge": charge.pk},
        )
    return charge
