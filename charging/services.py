"""Writes for the charging workflow: early advice, refer, triage, case conversation, decision, action plan and
its amendments, actions, charge.

One function per state change; each checks the actor's permission and the stage on the server, is atomic,
writes a timeline event and moves the clocks: referral starts the 10-working-day charging clock (and stops the
investigation clock; an early-advice request does neither); an action plan ends that submission's clock; a
decision records an outcome per offence (so per suspect), and a decision to charge anyone starts the 7-day
charge clock while the offences not charged have their time limits cancelled; each suspect's charge stops the
time limits of the offences charged, and the last one the charge clock.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from cases import ledger
from cases.kernel import (
    TransitionError,
    audited,
    check_status,
    event_record,
    language_check,
    lock_case,
    not_future,
)
from cases.models import Alert, Case, Clock, Offence, Organisation, Role, User
from cases.rules import require
from cases.services import cancel_open_clocks, stop_investigation_clock, victim_update_clocks_open

from .models import (
    Action,
    ActionPlan,
    CaseConversation,
    Charge,
    ChargingDecision,
    ChargingReferral,
    DecisionOutcome,
    EarlyAdvice,
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
    """Submit the full file to CPS for a charging decision (first referral or a resubmission after an action
    plan). The case's CPS Area is its force's Area unless the first referral or early-advice request names
    another (London forces are served by two Areas); from now on that Area's staff see the case. Early advice
    is ``early_advice_request``, not a referral."""
    require(actor, "charging.refer_case", case)
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    check_status(case, REFERRABLE, "refer the case to CPS")
    if kind == ChargingReferral.Kind.EARLY_ADVICE:
        raise ValidationError(
            {
                "kind": "Early advice is not a charging referral: ask for it with the early advice step "
                "(it does not stop the investigation clock)."
            }
        )
    if kind not in ChargingReferral.Kind.values:
        raise ValidationError({"kind": "Only a full file for a charging decision can be referred."})
    not_future(received_on, "received_on", today)
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
    with audited(actor, "case_refer_to_cps"):
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
    line manager (``alerts/engine.py``). Without one (a legal manager triaging without allocating) the Area's
    prosecutors are told until it is allocated."""
    require(actor, "charging.triage_referral", referral.case)
    lock_case(referral.case)
    referral = _lock_referral(referral)
    today = today or ledger.london_today()
    _awaiting(referral, "triage the referral")
    if referral.triage != ChargingReferral.Triage.PENDING:
        raise TransitionError("This submission has already been triaged.")
    not_future(on, "on", today)
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
    with audited(actor, "referral_triage"):
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
    not_future(held_on, "held_on", today)
    if held_on < case.reported_on:
        raise ValidationError({"held_on": "The conversation is dated before the report to police."})
    with audited(actor, "conversation_record"):
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
    not_future(decided_on, "decided_on", today)
    if decided_on < referral.received_on:
        raise ValidationError(
            {
                "decided_on": f"{decided_on:%d %B %Y} is before CPS received the referral "
                f"({referral.received_on:%d %B %Y})."
            }
        )
    if not reasons.strip():
        raise ValidationError({"reasons": "Give the reasons for the decision."})


#: The case's status after a decision, by the decision's overall outcome.
_DECIDED_STATUS = {
    ChargingDecision.Outcome.CHARGE: Case.Status.DECIDED,
    ChargingDecision.Outcome.NO_FURTHER_ACTION: Case.Status.NO_FURTHER_ACTION,
    ChargingDecision.Outcome.OUT_OF_COURT: Case.Status.OUT_OF_COURT,
}
_FINAL_OUTCOMES = (
    DecisionOutcome.Outcome.CHARGE,
    DecisionOutcome.Outcome.NO_FURTHER_ACTION,
    DecisionOutcome.Outcome.OUT_OF_COURT,
)


def overall_outcome(outcomes: Sequence[str]) -> str:
    """A decision's overall result from its offences' outcomes: charge when anyone is charged with anything
    (the case goes on to the charge), else an out-of-court resolution when there is one, else no further
    action."""
    if DecisionOutcome.Outcome.CHARGE in outcomes:
        return ChargingDecision.Outcome.CHARGE
    if DecisionOutcome.Outcome.OUT_OF_COURT in outcomes:
        return ChargingDecision.Outcome.OUT_OF_COURT
    return ChargingDecision.Outcome.NO_FURTHER_ACTION


def _offence_outcomes(
    case: Case, *, outcome: str, code_test_failed: str, outcomes: Sequence[dict[str, Any]]
) -> tuple[str, list[tuple[Offence, str, str, str]]]:
    """Check a decision's outcomes: one for every offence of the case (``outcomes``), or ``outcome`` for them
    all. Returns the overall outcome and (offence, outcome, code test stage, reasons) per offence."""
    offences = list(case.offences.select_related("offence_type", "suspect").order_by("committed_on", "pk"))
    if code_test_failed not in DecisionOutcome.CodeTest.values:
        raise ValidationError({"code_test_failed": "Choose the evidential or the public interest stage."})
    if not outcomes:
        if outcome not in _DECIDED_STATUS:
            raise ValidationError(
                {
                    "outcome": "Choose charge, no further action or an out-of-court resolution; "
                    "to ask for more information, issue an action plan."
                }
            )
        if code_test_failed and outcome != ChargingDecision.Outcome.NO_FURTHER_ACTION:
            raise ValidationError(
                {"code_test_failed": "Only a decision of no further action names a failed stage."}
            )
        return outcome, [(o, outcome, code_test_failed, "") for o in offences]
    by_pk = {o.pk: o for o in offences}
    rows: dict[int, tuple[Offence, str, str, str]] = {}
    for i, spec in enumerate(outcomes):
        offence = spec.get("offence")
        pk = getattr(offence, "pk", offence)
        if pk not in by_pk:
            raise ValidationError({f"outcomes[{i}].offence": "Give an offence of this case."})
        if pk in rows:
            raise ValidationError({f"outcomes[{i}].offence": "This offence already has an outcome."})
        chosen = spec.get("outcome")
        if chosen not in _FINAL_OUTCOMES:
            raise ValidationError(
                {
                    f"outcomes[{i}].outcome": "Choose charge, no further action or an out-of-court resolution "
                    "(to ask for further evidence, issue an action plan)."
                }
            )
        stage = spec.get("code_test_failed") or ""
        if chosen == DecisionOutcome.Outcome.NO_FURTHER_ACTION:
            if stage not in (DecisionOutcome.CodeTest.EVIDENTIAL, DecisionOutcome.CodeTest.PUBLIC_INTEREST):
                raise ValidationError(
                    {
                        f"outcomes[{i}].code_test_failed": "Say which stage of the Full Code Test is not met: "
                        "evidential or public interest."
                    }
                )
        elif stage:
            raise ValidationError(
                {f"outcomes[{i}].code_test_failed": "Only no further action names a failed stage."}
            )
        rows[pk] = (by_pk[pk], chosen, stage, (spec.get("reasons") or "").strip())
    missing = [o for o in offences if o.pk not in rows]
    if missing:
        names = "; ".join(
            f"{o.offence_type.title}" + (f" ({o.suspect})" if o.suspect else "") for o in missing
        )
        raise ValidationError(
            {"outcomes": f"Give an outcome for every offence of the case; missing: {names}."}
        )
    overall = overall_outcome([r[1] for r in rows.values()])
    if outcome and outcome != overall:
        named = (
            ChargingDecision.Outcome(outcome).label if outcome in ChargingDecision.Outcome.values else outcome
        )
        raise ValidationError(
            {
                "outcome": f"The offences' outcomes make the decision "
                f"'{ChargingDecision.Outcome(overall).label.lower()}', not '{str(named).lower()}'."
            }
        )
    return overall, [rows[o.pk] for o in offences]


def _outcomes_summary(rows: Sequence[tuple[Offence, str, str, str]]) -> str:
    """'charge for Ann Smith; no further action for Bob Jones', per suspect (offences without a suspect under
    'the suspect')."""
    per_suspect: dict[str, list[str]] = {}
    for offence, outcome, _stage, _reasons in rows:
        label = str(DecisionOutcome.Outcome(outcome).label).lower()
        names = per_suspect.setdefault(str(offence.suspect) if offence.suspect else "the suspect", [])
        if label not in names:
            names.append(label)
    return "; ".join(f"{' and '.join(labels)} for {who}" for who, labels in per_suspect.items())


@transaction.atomic
def decision_record(
    *,
    actor: User,
    referral: ChargingReferral,
    decided_on: datetime.date,
    reasons: str,
    outcome: str = "",
    outcomes: Sequence[dict[str, Any]] = (),
    code_test_failed: str = "",
    test: str = "",
    evidence_led_viable: bool | None = None,
    evidence_led_strategy: str = "",
    today: datetime.date | None = None,
) -> ChargingDecision:
    """A prosecutor's decision on a submission, per offence and so per suspect: charge (naming the test
    applied), no further action (naming the stage of the Full Code Test not met) or an out-of-court resolution.
    ``outcomes`` gives one per offence of the case (``offence``, ``outcome``, ``code_test_failed``, ``reasons``);
    ``outcome`` alone applies to every offence. (Further evidence needed is ``action_plan_issue``.)

    When anyone is charged, the case goes on to the charge (status decided, the 7-day charge clock) and the time
    limits of the offences not charged are cancelled; otherwise the case closes as before. Either way each
    victim is owed an update (Victims' Code Right 6)."""
    require(actor, "charging.record_decision", referral.case)
    case = lock_case(referral.case)
    referral = _lock_referral(referral)
    ledger.sync_rules()
    today = today or ledger.london_today()
    _decision_validate(referral, decided_on, reasons, today)
    overall, rows = _offence_outcomes(
        case, outcome=outcome, code_test_failed=code_test_failed, outcomes=outcomes
    )
    if overall == ChargingDecision.Outcome.CHARGE and test not in (
        ChargingDecision.Test.FULL_CODE,
        ChargingDecision.Test.THRESHOLD,
    ):
        raise ValidationError(
            {"test": "A decision to charge must name the test applied: Full Code or Threshold."}
        )
    if test not in ChargingDecision.Test.values:
        raise ValidationError({"test": "Choose the Full Code Test or the Threshold Test."})
    mixed = len({r[1] for r in rows}) > 1
    with audited(actor, "decision_record"):
        decision = ChargingDecision.objects.create(
            case=case,
            referral=referral,
            decided_on=decided_on,
            decided_by=actor,
            test=test,
            outcome=overall,
            evidence_led_viable=evidence_led_viable,
            evidence_led_strategy=evidence_led_strategy,
            reasons=reasons,
        )
        DecisionOutcome.objects.bulk_create(
            DecisionOutcome(
                decision=decision,
                offence=offence,
                suspect_id=offence.suspect_id,
                outcome=chosen,
                code_test_failed=stage,
                reasons=why,
            )
            for offence, chosen, stage, why in rows
        )
        _submission_end(
            referral,
            case,
            status=ChargingReferral.Status.DECIDED,
            on=decided_on,
            case_status=_DECIDED_STATUS[overall],
        )
        if overall == ChargingDecision.Outcome.CHARGE:
            ledger.clock_open(
                case=case,
                kind=Clock.Kind.CHARGE,
                side=Clock.Side.POLICE,
                started_on=decided_on,
                label="Charge the suspect" + ("s" if _suspects(rows, charged=True) > 1 else ""),
                today=today,
            )
            # Nobody will be charged with the other offences: their time limits no longer run.
            not_charged = [o.pk for o, chosen, _s, _r in rows if chosen != DecisionOutcome.Outcome.CHARGE]
            ledger.clocks_stop(
                case.clocks.open().filter(kind__in=Clock.STL_KINDS, offence__in=not_charged),
                on=decided_on,
                outcome=Clock.State.CANCELLED,
            )
        else:
            cancel_open_clocks(case, on=decided_on)
        summary = _outcomes_summary(rows) if mixed else decision.get_outcome_display().lower()
        victim_update_clocks_open(
            case,
            on=decided_on,
            side=Clock.Side.CPS,
            reason=f"CPS decision: {summary}"[:150],
            today=today,
        )
        language_check(
            case=case,
            source=decision,
            actor=actor,
            reasons=reasons,
            evidence_led_strategy=evidence_led_strategy,
            **{f"outcome_{o.pk}": why for o, _c, _s, why in rows if why},
        )
        event_record(
            case=case,
            kind="decision",
            actor=actor,
            reason=reasons,
            summary=(
                f"CPS decision: {summary}" if mixed else f"CPS decision: {decision.get_outcome_display()}"
            )[:250]
            + (f" ({decision.get_test_display()})" if test else ""),
            data={
                "decision": decision.pk,
                "outcome": overall,
                "offences": {str(o.pk): chosen for o, chosen, _s, _r in rows},
            },
        )
    return decision


def _suspects(rows: Sequence[tuple[Offence, str, str, str]], *, charged: bool) -> int:
    """How many suspects the rows are about (only those charged, with ``charged``)."""
    return len(
        {o.suspect_id for o, chosen, *_ in rows if not charged or chosen == DecisionOutcome.Outcome.CHARGE}
    )


def _actions_validate(
    actions: Sequence[dict[str, Any]], *, start: datetime.date, respond_by: datetime.date, field: str
) -> None:
    """New actions: each described, and due (when it has a date) between ``start`` and the plan's response
    date: an action due after the police must respond would be answered late by design."""
    for i, spec in enumerate(actions):
        if not (spec.get("description") or "").strip():
            raise ValidationError({f"{field}[{i}].description": "Describe the action."})
        due = spec.get("due_on")
        if due is not None and due < start:
            raise ValidationError({f"{field}[{i}].due_on": "The action is due before the plan was issued."})
        if due is not None and due > respond_by:
            raise ValidationError(
                {
                    f"{field}[{i}].due_on": f"The action is due on {due:%d %B %Y}, after the plan's response date "
                    f"({respond_by:%d %B %Y}): bring it forward or move the response date (with a reason)."
                }
            )


def _action_add(
    plan: ActionPlan, spec: dict[str, Any], *, case: Case, started_on: datetime.date, today: datetime.date
) -> Action:
    """Create an action of ``plan``; one with a due date gets its clock."""
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
            started_on=started_on,
            label=action.description[:200],
            today=today,
            action=action,
        )
    return action


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
    """Further information needed: return the case to police with an action plan (every offence's outcome:
    further evidence). Ends this submission's charging clock; each action with a due date gets a clock of its
    own. No action may be due after the plan's response date."""
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
    _actions_validate(actions, start=decided_on, respond_by=respond_by, field="actions")
    with audited(actor, "action_plan_issue"):
        decision = ChargingDecision.objects.create(
            case=case,
            referral=referral,
            decided_on=decided_on,
            decided_by=actor,
            outcome=ChargingDecision.Outcome.ACTION_PLAN,
            reasons=reasons,
        )
        DecisionOutcome.objects.bulk_create(
            DecisionOutcome(
                decision=decision,
                offence=offence,
                suspect_id=offence.suspect_id,
                outcome=DecisionOutcome.Outcome.FURTHER_EVIDENCE,
            )
            for offence in case.offences.order_by("committed_on", "pk")
        )
        plan = ActionPlan.objects.create(
            case=case, decision=decision, issued_on=decided_on, respond_by=respond_by
        )
        for spec in actions:
            _action_add(plan, spec, case=case, started_on=decided_on, today=today)
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


#: The alert outbox's threshold for "the other side changed the action plan" (one email a day per recipient).
PLAN_AMENDED_THRESHOLD = "action_plan_amended"


def _other_side_told(
    *, actor: User, case: Case, plan: ActionPlan, on: datetime.date, changes: int
) -> Alert | None:
    """Tell the other side that the plan changed: the OIC when CPS changed it, the prosecutor who issued it when
    police did. An email in the alert outbox (sent by its delivery; at most one a day per recipient and case),
    with the minimum, as every alert email: the case page has the rest."""
    police_changed = actor.organisation_id == case.force_id
    recipient = plan.decision.decided_by if police_changed else case.oic
    if recipient is None or recipient.pk == actor.pk or not recipient.is_active or not recipient.email:
        return None
    link = settings.SITE_URL.rstrip("/") + reverse("case_detail", args=[case.pk])
    who = case.force.name if police_changed else "CPS"
    text = (
        f"{who} amended the action plan of {plan.issued_on:%d %B %Y} on case {case.urn} on {on:%d %B %Y} "
        f"({changes} change{'s' if changes != 1 else ''}). The plan now asks for a response by "
        f"{plan.respond_by:%d %B %Y}.\n\nThe changes and their reasons are on the case page: {link}\n"
    )
    alert, _ = Alert.objects.get_or_create(
        recipient=recipient,
        case=case,
        clock=None,
        threshold=PLAN_AMENDED_THRESHOLD,
        day=on,
        defaults={
            "kind": Alert.Kind.IMMEDIATE,
            "subject": f"Case {case.urn}: the action plan was amended"[:200],
            "body_text": text,
            "body_html": "".join(f"<p>{html.escape(part)}</p>" for part in text.strip().split("\n\n")),
            "next_attempt_at": timezone.now(),
        },
    )
    return alert


@transaction.atomic
def action_plan_amend(
    *,
    actor: User,
    plan: ActionPlan,
    on: datetime.date,
    reason: str,
    respond_by: datetime.date | None = None,
    add: Sequence[dict[str, Any]] = (),
    moves: Sequence[dict[str, Any]] = (),
    today: datetime.date | None = None,
) -> ActionPlan:
    """Amend an issued action plan while it is with police: move its response date (``respond_by``), add
    actions (``add``: as ``action_plan_issue``'s), move actions' due dates (``moves``: ``action`` and the new
    ``due_on``), all for ``reason``. Adding actions and moving the response date are CPS's (the plan is CPS's
    request); either side may move an action's date. No action may end up due after the plan's response date.
    Each change is an entry on the timeline with the reason, and the other side is told (an email in the alert
    outbox)."""
    case = plan.case
    require(actor, "charging.update_action", case)
    if add or respond_by is not None:
        require(actor, "charging.issue_action_plan", case)
    case = lock_case(case)
    plan = ActionPlan.objects.select_for_update().select_related("decision__decided_by").get(pk=plan.pk)
    ledger.sync_rules()
    today = today or ledger.london_today()
    if plan.status != ActionPlan.Status.OPEN or case.is_closed:
        raise TransitionError(
            f"Cannot amend the action plan: it is {plan.get_status_display().lower()}, no longer with police."
        )
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the change."})
    not_future(on, "on", today)
    if on < plan.issued_on:
        raise ValidationError({"on": "The date is before the action plan was issued."})
    if respond_by is None and not add and not moves:
        raise ValidationError(
            {"respond_by": "Nothing to amend: move the response date, add or move an action."}
        )
    if respond_by is not None and respond_by == plan.respond_by:
        raise ValidationError(
            {"respond_by": f"The plan already asks for a response by {respond_by:%d %B %Y}."}
        )
    if respond_by is not None and respond_by < on:
        raise ValidationError({"respond_by": "The new response date is before the date of the change."})
    new_respond_by = respond_by or plan.respond_by
    actions = {a.pk: a for a in plan.actions.select_for_update()}
    new_due: dict[int, datetime.date] = {}
    for i, spec in enumerate(moves):
        action = spec.get("action")
        pk = getattr(action, "pk", action)
        if pk not in actions:
            raise ValidationError({f"moves[{i}].action": "Give an action of this plan."})
        if pk in new_due:
            raise ValidationError({f"moves[{i}].action": "This action is already moved."})
        action = actions[pk]
        due = spec.get("due_on")
        if not isinstance(due, datetime.date):
            raise ValidationError({f"moves[{i}].due_on": "Give the new date the action is required by."})
        if action.status not in Action.OPEN_STATUSES:
            raise ValidationError(
                {
                    f"moves[{i}].action": f"The action is {action.get_status_display().lower()}: its date cannot move."
                }
            )
        if due == action.due_on:
            raise ValidationError({f"moves[{i}].due_on": f"The action is already due on {due:%d %B %Y}."})
        if due < plan.issued_on:
            raise ValidationError({f"moves[{i}].due_on": "The date is before the plan was issued."})
        if due > new_respond_by:
            raise ValidationError(
                {
                    f"moves[{i}].due_on": f"{due:%d %B %Y} is after the plan's response date "
                    f"({new_respond_by:%d %B %Y}): move the response date too (with a reason)."
                }
            )
        new_due[pk] = due
    _actions_validate(add, start=on, respond_by=new_respond_by, field="add")
    for action in actions.values():
        due = new_due.get(action.pk, action.due_on)
        if action.status in Action.OPEN_STATUSES and due is not None and due > new_respond_by:
            raise ValidationError(
                {
                    "respond_by": f"'{action.description[:60]}' is due on {due:%d %B %Y}, after "
                    f"{new_respond_by:%d %B %Y}: move that action's date too."
                }
            )
    changes = 0
    with audited(actor, "action_plan_amend"):
        if respond_by is not None:
            before = plan.respond_by
            plan.respond_by = respond_by
            plan.save(update_fields=["respond_by"])
            event_record(
                case=case,
                kind="action_plan_amended",
                actor=actor,
                reason=reason,
                summary=f"Action plan response date moved from {before:%d %B %Y} to {respond_by:%d %B %Y}",
                data={
                    "plan": plan.pk,
                    "change": "respond_by",
                    "from": before.isoformat(),
                    "to": respond_by.isoformat(),
                },
            )
            changes += 1
        for pk, due in new_due.items():
            action = actions[pk]
            before_due = action.due_on
            action.due_on, action.latest_reason = due, reason
            action.save(update_fields=["due_on", "latest_reason"])
            open_clocks = action.clocks.open()
            if open_clocks.exists():
                ledger.clocks_recompute(open_clocks, today=today)
            else:
                ledger.clock_open(
                    case=case,
                    kind=Clock.Kind.ACTION,
                    side=Clock.Side.POLICE,
                    started_on=on,
                    label=action.description[:200],
                    today=today,
                    action=action,
                )
            event_record(
                case=case,
                kind="action_plan_amended",
                actor=actor,
                reason=reason,
                summary=(
                    f"Action date moved from {before_due:%d %B %Y} to {due:%d %B %Y}: "
                    if before_due
                    else f"Action date set to {due:%d %B %Y}: "
                )
                + action.description[:80],
                data={
                    "plan": plan.pk,
                    "change": "action_due_on",
                    "action": pk,
                    "from": before_due.isoformat() if before_due else None,
                    "to": due.isoformat(),
                },
            )
            changes += 1
        for spec in add:
            action = _action_add(plan, spec, case=case, started_on=on, today=today)
            event_record(
                case=case,
                kind="action_plan_amended",
                actor=actor,
                reason=reason,
                summary=f"Action added to the action plan: {action.description[:80]}"
                + (f" (required by {action.due_on:%d %B %Y})" if action.due_on else ""),
                data={"plan": plan.pk, "change": "action_added", "action": action.pk},
            )
            changes += 1
        language_check(
            case=case,
            source=plan,
            actor=actor,
            reason=reason,
            **{f"added_{i}": spec["description"] for i, spec in enumerate(add)},
        )
        _other_side_told(actor=actor, case=case, plan=plan, on=on, changes=changes)
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
    not_future(on, "on", today)
    if on < action.plan.issued_on:
        raise ValidationError({"on": "The date is before the action plan was issued."})
    with audited(actor, "action_update"):
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


def offences_to_charge(case: Case) -> tuple[ChargingDecision | None, list[Offence]]:
    """The latest decision to charge on the case and the offences it said to charge that are not charged yet
    (every offence of the case for a decision recorded without per-offence outcomes)."""
    decision = (
        case.decisions.filter(outcome=ChargingDecision.Outcome.CHARGE).order_by("-decided_on", "-pk").first()
    )
    if decision is None:
        return None, []
    decided = DecisionOutcome.objects.filter(decision=decision)
    offences = (
        case.offences.select_related("offence_type", "suspect")
        .filter(
            Q(pk__in=decided.filter(outcome=DecisionOutcome.Outcome.CHARGE).values("offence_id"))
            | ~Exists(decided)  # a decision recorded without per-offence outcomes: every offence
        )
        .exclude(charges__decision=decision)
        .order_by("committed_on", "pk")
    )
    return decision, list(offences)


@transaction.atomic
def charge_record(
    *,
    actor: User,
    case: Case,
    charged_on: datetime.date,
    offences: Sequence[Offence] = (),
    information_laid_on: datetime.date | None = None,
    bail: str = "",
    first_hearing_on: datetime.date | None = None,
    court: str = "",
    today: datetime.date | None = None,
) -> Charge:
    """Record one suspect's charge after a decision to charge: the offences charged (only those the decision
    said to charge; by default all of them when they are one suspect's), bail or remand, and the first hearing.
    The information laid (or, when its date is not yet known, the charge) stops the statutory time limits of
    the offences charged. Once every offence the decision said to charge is charged, the 7-day charge clock
    stops and the case is charged; until then it stays decided (another suspect is still to be charged)."""
    require(actor, "charging.record_charge", case)
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    check_status(case, (Case.Status.DECIDED,), "record a charge")
    decision, to_charge = offences_to_charge(case)
    if decision is None:
        raise TransitionError("There is no CPS decision to charge on this case.")
    not_future(charged_on, "charged_on", today)
    if charged_on < decision.decided_on:
        raise ValidationError(
            {
                "charged_on": f"{charged_on:%d %B %Y} is before the decision to charge "
                f"({decision.decided_on:%d %B %Y})."
            }
        )
    if information_laid_on and information_laid_on < charged_on:
        raise ValidationError({"information_laid_on": "The information cannot be laid before the charge."})
    if bail not in Charge.Bail.values:
        raise ValidationError(
            {"bail": "Choose released on bail, remanded in custody or released without bail."}
        )
    if first_hearing_on and first_hearing_on < charged_on:
        raise ValidationError({"first_hearing_on": "The first hearing cannot be before the charge."})
    court = court.strip()
    offences = list(offences)
    if any(o.case_id != case.pk for o in offences):
        raise ValidationError({"offences": "Only this case's offences can be charged."})
    allowed = {o.pk for o in to_charge}
    refused = [o for o in offences if o.pk not in allowed]
    if refused:
        raise ValidationError(
            {
                "offences": f"{refused[0].offence_type.title}"
                + (f" ({refused[0].suspect})" if refused[0].suspect_id else "")
                + " is not one the decision said to charge, or it is charged already."
            }
        )
    if not offences:
        if len({o.suspect_id for o in to_charge}) > 1:
            raise ValidationError(
                {
                    "offences": "The decision charges more than one suspect: name the offences charged, one "
                    "suspect's at a time."
                }
            )
        offences = to_charge
    if not offences:
        raise TransitionError("Every offence the decision said to charge is charged already.")
    if len({o.suspect_id for o in offences}) > 1:
        raise ValidationError(
            {
                "offences": "These offences are alleged against different suspects: record each suspect's charge "
                "(with their bail or remand and first hearing) separately."
            }
        )
    suspect = offences[0].suspect
    remaining = [o for o in to_charge if o not in offences]
    with audited(actor, "charge_record"):
        charge = Charge.objects.create(
            case=case,
            decision=decision,
            suspect=suspect,
            charged_on=charged_on,
            information_laid_on=information_laid_on,
            charged_by=actor,
            bail=bail,
            first_hearing_on=first_hearing_on,
            court=court,
        )
        charge.offences.set(offences)
        ledger.clocks_stop(
            case.clocks.open().filter(kind=Clock.Kind.STL, offence__in=offences),
            on=information_laid_on or charged_on,
        )
        if not remaining:
            ledger.clocks_stop(case.clocks.open().filter(kind=Clock.Kind.CHARGE), on=charged_on)
            case.status = Case.Status.CHARGED
            case.save(update_fields=["status", "updated_at"])
        victim_update_clocks_open(
            case, on=charged_on, side=Clock.Side.POLICE, reason="suspect charged", today=today
        )
        hearing = f"first hearing {first_hearing_on:%d %B %Y}" if first_hearing_on else ""
        if court:
            hearing = f"{hearing} at {court}" if hearing else f"court: {court}"
        details = ", ".join(d for d in (str(Charge.Bail(bail).label).lower() if bail else "", hearing) if d)
        event_record(
            case=case,
            kind="charged",
            actor=actor,
            summary=(
                "Charged"
                + (f" {suspect}" if suspect is not None else "")
                + f" with {len(offences)} offence{'s' if len(offences) != 1 else ''}"
                + (f"; {details}" if details else "")
                + (
                    f"; {len(remaining)} offence{'s' if len(remaining) != 1 else ''} still to charge"
                    if remaining
                    else ""
                )
            )[:300],
            data={
                "charge": charge.pk,
                "offences": [o.pk for o in offences],
                "bail": bail,
                "first_hearing_on": first_hearing_on.isoformat() if first_hearing_on else None,
                "remaining": [o.pk for o in remaining],
            },
        )
    return charge


# --------------------------------------------------------------------------------------------------------------
# Early advice: not a charging referral
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def early_advice_request(
    *,
    actor: User,
    case: Case,
    requested_on: datetime.date,
    question: str,
    cps_area: Organisation | None = None,
    today: datetime.date | None = None,
) -> EarlyAdvice:
    """Police ask a prosecutor for early advice during the investigation. It is not a charging referral: the
    21-day investigation clock keeps running (only the full file stops it), no charging-decision clock opens
    and the case stays under investigation. The first request sets the case's CPS Area, as a first referral
    does, so that the Area's prosecutors can see the case and advise."""
    require(actor, "charging.refer_case", case)
    case = lock_case(case)
    today = today or ledger.london_today()
    check_status(case, REFERRABLE, "ask for early advice")
    not_future(requested_on, "requested_on", today)
    if requested_on < case.reported_on:
        raise ValidationError(
            {
                "requested_on": f"{requested_on:%d %B %Y} is before the report to police "
                f"({case.reported_on:%d %B %Y})."
            }
        )
    if not question.strip():
        raise ValidationError({"question": "Say what you would like advice on."})
    if cps_area is not None and (
        cps_area.kind != Organisation.Kind.CPS_AREA or (case.cps_area_id and cps_area.pk != case.cps_area_id)
    ):
        raise ValidationError({"cps_area": f"{cps_area} is not a CPS Area this case can be referred to."})
    waiting = case.early_advice.filter(given_on__isnull=True).first()
    if waiting is not None:
        raise TransitionError(
            f"Early advice asked for on {waiting.requested_on:%d %B %Y} has not been given yet."
        )
    with audited(actor, "early_advice_request"):
        case.cps_area_id = case.cps_area_id or (cps_area.pk if cps_area else case.force.area_id)
        case.save(update_fields=["cps_area", "updated_at"])
        request = EarlyAdvice.objects.create(
            case=case, requested_on=requested_on, requested_by=actor, question=question.strip()
        )
        language_check(case=case, source=request, actor=actor, question=question)
        event_record(
            case=case,
            kind="early_advice_requested",
            actor=actor,
            reason=question.strip(),
            summary="Early advice asked of CPS (not a charging referral: the investigation clock runs on)",
            data={"early_advice": request.pk},
        )
    return request


@transaction.atomic
def early_advice_give(
    *,
    actor: User,
    request: EarlyAdvice,
    given_on: datetime.date,
    advice: str,
    today: datetime.date | None = None,
) -> EarlyAdvice:
    """A prosecutor gives the early advice asked for. Moves no clock and does not change the case's stage."""
    require(actor, "charging.record_decision", request.case)
    case = lock_case(request.case)
    request = EarlyAdvice.objects.select_for_update().get(pk=request.pk)
    today = today or ledger.london_today()
    if request.given_on is not None:
        raise TransitionError(f"This early advice was given on {request.given_on:%d %B %Y}.")
    not_future(given_on, "given_on", today)
    if given_on < request.requested_on:
        raise ValidationError(
            {"given_on": f"{given_on:%d %B %Y} is before the request ({request.requested_on:%d %B %Y})."}
        )
    if not advice.strip():
        raise ValidationError({"advice": "Write the advice given."})
    with audited(actor, "early_advice_give"):
        request.given_on, request.given_by, request.advice = given_on, actor, advice.strip()
        request.save()
        language_check(case=case, source=request, actor=actor, advice=advice)
        event_record(
            case=case,
            kind="early_advice_given",
            actor=actor,
            reason=advice.strip(),
            summary=f"Early advice given (asked for on {request.requested_on:%d %B %Y})",
            data={"early_advice": request.pk},
        )
    return request
