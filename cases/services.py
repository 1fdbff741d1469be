"""Writes to the case record: one function per state change.

Each is atomic, checks the actor's permission and that the change is allowed at this stage, validates its
input with messages that say what is wrong, writes a timeline event, and opens or stops clocks through
``cases/ledger.py``. Web forms and API endpoints call these; nothing else writes case data.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from . import clocks, hooks, kernel, ledger
from .kernel import (
    TransitionError,
    audited,
    born_on_check,
    check_status,
    event_record,
    language_check,
    lock_case,
    not_future,
    sync_rules,
)
from .models import (
    BankHolidayOverride,
    Case,
    Clock,
    Offence,
    OffenceType,
    Organisation,
    Person,
    User,
)
from .rules import require
from .selectors import victim_label


def _offence_validate(
    *,
    offence_type: OffenceType,
    committed_on: datetime.date,
    committed_from: datetime.date | None,
    reported_on: datetime.date,
    today: datetime.date,
    prefix: str = "",
) -> None:
    not_future(committed_on, f"{prefix}committed_on", today)
    if committed_from and committed_from > committed_on:
        raise ValidationError(
            {
                f"{prefix}committed_from": f"The first act ({committed_from:%d %B %Y}) is after the last act "
                f"({committed_on:%d %B %Y})."
            }
        )
    try:
        clocks.reported_after_offence_check(committed_on, reported_on)
    except ValueError as exc:
        raise ValidationError(
            {f"{prefix}committed_on": f"The case was reported before this offence: {exc}."}
        ) from exc


@transaction.atomic
def case_create(
    *,
    actor: User,
    urn: str,
    reported_on: datetime.date,
    offences: Sequence[dict[str, Any]],
    suspects: Sequence[dict[str, Any]] = (),
    summary: str = "",
    domestic_abuse: bool = True,
    risk_level: str = Case.RiskLevel.UNKNOWN,
    risk_tool: str = "",
    children_in_household: bool = False,
    police_perpetrated: bool = False,
    first_qualifying_report_on: datetime.date | None = None,
    first_qualifying_report_kind: str = "",
    oic: User | None = None,
    today: datetime.date | None = None,
) -> Case:
    """Open a case for the actor's force with its offences and suspects; starts the 21-day investigation
    clock and a statutory time limit clock for each summary-only offence."""
    require(actor, "cases.create_case")
    sync_rules()
    today = today or ledger.london_today()
    urn = (urn or "").strip().upper()
    errors: dict[str, str] = {}
    if not urn:
        errors["urn"] = "Enter the case URN."
    elif Case.objects.filter(force=actor.organisation, urn=urn).exists():
        errors["urn"] = f"{actor.organisation.name} already has a case with URN {urn}."
    if not offences:
        errors["offences"] = "Add at least one offence."
    if risk_level not in Case.RiskLevel.values:
        errors["risk_level"] = (
            f"{risk_level!r} is not a risk level; choose one of {', '.join(Case.RiskLevel.values)}."
        )
    if risk_tool not in Case.RiskTool.values:
        errors["risk_tool"] = "Choose DASH, DARA or not assessed."
    if first_qualifying_report_kind not in Case.QualifyingReportKind.values:
        errors["first_qualifying_report_kind"] = "Choose a witness statement or a video-recorded interview."
    elif bool(first_qualifying_report_on) != bool(first_qualifying_report_kind):
        errors["first_qualifying_report_on"] = (
            "Give both the date and the kind of the first qualifying report."
        )
    if errors:
        raise ValidationError(errors)
    not_future(reported_on, "reported_on", today)
    for i, spec in enumerate(suspects):
        born_on_check(spec.get("date_of_birth"), f"suspects[{i}].date_of_birth", today)
    if first_qualifying_report_on:
        not_future(first_qualifying_report_on, "first_qualifying_report_on", today)
        if first_qualifying_report_on < reported_on:
            raise ValidationError(
                {
                    "first_qualifying_report_on": (
                        f"The first qualifying report ({first_qualifying_report_on:%d %B %Y}) is before the report to "
                        f"police ({reported_on:%d %B %Y})."
                    )
                }
            )
    oic = oic or (actor if actor.has_role("oic") else None)
    if oic is not None and oic.organisation_id != actor.organisation_id:
        raise ValidationError({"oic": "The officer in charge must belong to the same force."})

    with audited(actor, "case_create"):
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    force=actor.organisation,
                    urn=urn,
                    reported_on=reported_on,
                    summary=summary,
                    domestic_abuse=domestic_abuse,
                    risk_level=risk_level,
                    risk_tool=risk_tool,
                    children_in_household=children_in_household,
                    police_perpetrated=police_perpetrated,
                    first_qualifying_report_on=first_qualifying_report_on,
                    first_qualifying_report_kind=first_qualifying_report_kind,
                    oic=oic,
                    status=Case.Status.INVESTIGATION,
                )
        except IntegrityError as exc:  # a concurrent create of the same URN
            raise ValidationError(
                {"urn": f"{actor.organisation.name} already has a case with URN {urn}."}
            ) from exc
        people = [_person_for(s) for s in suspects]
        case.suspects.add(*people)
        for i, spec in enumerate(offences):
            _offence_create(
                case=case,
                spec=spec,
                # Never guess between suspects: with several, each offence names its own (or none yet).
                default_suspect=people[0] if len(people) == 1 else None,
                suspect_ids={p.pk for p in people},
                today=today,
                prefix=f"offences[{i}].",
            )
        ledger.clock_open(
            case=case,
            kind=Clock.Kind.INVESTIGATION,
            side=Clock.Side.POLICE,
            started_on=reported_on,
            label="Investigation to referral or police outcome",
            today=today,
        )
        ledger.stl_clocks_sync(case, today=today)
        language_check(case=case, source=case, actor=actor, summary=summary)
        if children_in_household:
            hooks.household_changed.fire(case=case, today=today)
        event_record(
            case=case,
            kind="case_created",
            actor=actor,
            summary=f"Case {urn} opened",
            data={"offences": len(offences)},
        )
    return case


def _person_for(spec: dict[str, Any]) -> Person:
    """The suspect's identity across cases: found by PNC ID when given, else created."""
    pnc_id = (spec.get("pnc_id") or "").strip() or None
    if pnc_id:
        person, _ = Person.objects.get_or_create(
            pnc_id=pnc_id,
            defaults={k: spec.get(k) for k in ("given_name", "family_name", "date_of_birth")},
        )
        return person
    if not spec.get("given_name") or not spec.get("family_name"):
        raise ValidationError({"suspects": "Give each suspect's given and family names."})
    return Person.objects.create(
        given_name=spec["given_name"],
        family_name=spec["family_name"],
        date_of_birth=spec.get("date_of_birth"),
    )


def _offence_create(
    *,
    case: Case,
    spec: dict[str, Any],
    default_suspect: Person | None,
    today: datetime.date,
    prefix: str = "",
    suspect_ids: Collection[int] | None = None,
) -> Offence:
    otype = spec.get("offence_type")
    if isinstance(otype, str):
        otype = kernel.offence_type(otype)
    if not isinstance(otype, OffenceType):
        raise ValidationError(
            {f"{prefix}offence_type": f"Unknown offence type {spec.get('offence_type')!r}."}
        )
    committed_on = spec.get("committed_on")
    if not isinstance(committed_on, datetime.date):
        raise ValidationError(
            {f"{prefix}committed_on": "Enter the offence date (the last act of a course of conduct)."}
        )
    committed_from = spec.get("committed_from")
    _offence_validate(
        offence_type=otype,
        committed_on=committed_on,
        committed_from=committed_from,
        reported_on=case.reported_on,
        today=today,
        prefix=prefix,
    )
    knowledge = spec.get("prosecutor_knowledge_on")
    if knowledge and knowledge < committed_on:
        raise ValidationError(
            {f"{prefix}prosecutor_knowledge_on": "The knowledge date is before the offence."}
        )
    suspect = spec.get("suspect") or default_suspect
    complainant = spec.get("complainant")
    offence_people_check(
        case=case,
        committed_on=committed_on,
        complainant=complainant,
        suspect=suspect,
        prefix=prefix,
        suspect_ids=suspect_ids,
    )
    return Offence.objects.create(
        case=case,
        offence_type=otype,
        suspect=suspect,
        complainant=complainant,
        committed_on=committed_on,
        committed_from=committed_from,
        prosecutor_knowledge_on=knowledge,
        particulars=spec.get("particulars", ""),
    )


def offence_people_check(
    *,
    case: Case,
    committed_on: datetime.date,
    complainant: Any,
    suspect: Person | None,
    prefix: str = "",
    suspect_ids: Collection[int] | None = None,
) -> None:
    """An offence's complainant must be a victim of the same case and its suspect a suspect of the case (among
    ``suspect_ids`` when the caller knows them, else read); neither may be born after the offence (a date that
    cannot be right)."""
    if complainant is not None:
        if complainant.case_id != case.pk:
            raise ValidationError({f"{prefix}complainant": "Choose a victim of this case."})
        born = complainant.date_of_birth
        if born is not None and born > committed_on:
            raise ValidationError(
                {
                    f"{prefix}complainant": f"The complainant's date of birth ({born:%d %B %Y}) is after the "
                    f"offence ({committed_on:%d %B %Y})."
                }
            )
    if suspect is not None:
        known = suspect.pk in suspect_ids if suspect_ids is not None else None
        if suspect.pk is None or not (
            known if known is not None else case.suspects.filter(pk=suspect.pk).exists()
        ):
            raise ValidationError({f"{prefix}suspect": "Choose a suspect of this case."})
        born = suspect.date_of_birth
        if born is not None and born > committed_on:
            raise ValidationError(
                {
                    f"{prefix}suspect": f"The suspect's date of birth ({born:%d %B %Y}) is after the offence "
                    f"({committed_on:%d %B %Y})."
                }
            )


def _only(rows: Iterable[Any]) -> Any:
    """The one row, or None when there are none or several (never guess between people)."""
    rows = list(rows[:2]) if hasattr(rows, "__getitem__") else list(rows)
    return rows[0] if len(rows) == 1 else None


@transaction.atomic
def offence_people_set(
    *,
    actor: User,
    offence: Offence,
    complainant: Any,
    suspect: Person | None,
    today: datetime.date | None = None,
) -> Offence:
    """Name the offence's complainant (a victim of the case) and suspect. Who they are decides its statutory time
    limit (a DA common assault gets the s.39A date only from its own complainant's report, with both 16 or over
    and personally connected), so the case's limits are recomputed at once."""
    case = offence.case
    require(actor, "cases.add_offence", case)
    case = lock_case(case)
    sync_rules()
    today = today or ledger.london_today()
    offence = Offence.objects.select_for_update().get(pk=offence.pk, case=case)
    offence_people_check(
        case=case, committed_on=offence.committed_on, complainant=complainant, suspect=suspect
    )
    with audited(actor, "offence_people_set"):
        offence.complainant, offence.suspect = complainant, suspect
        offence.save(update_fields=["complainant", "suspect"])
        ledger.stl_clocks_sync(case, today=today)
        names = [f"complainant {victim_label(complainant)}" if complainant else ""]
        names.append(f"suspect {suspect}" if suspect else "")
        event_record(
            case=case,
            kind="offence_people",
            actor=actor,
            summary=f"{offence.offence_type.title}: "
            + (", ".join(n for n in names if n) or "people cleared"),
            data={"offence": offence.pk},
        )
    return offence


@transaction.atomic
def offence_add(
    *,
    actor: User,
    case: Case,
    offence_type: OffenceType | str,
    committed_on: datetime.date,
    committed_from: datetime.date | None = None,
    particulars: str = "",
    prosecutor_knowledge_on: datetime.date | None = None,
    complainant: Any = None,
    suspect: Person | None = None,
    today: datetime.date | None = None,
) -> Offence:
    """Add an offence to an open case, naming its complainant and suspect (the only ones of the case when there
    is exactly one and none is named); opens its statutory time limit clock where one applies."""
    require(actor, "cases.add_offence", case)
    case = lock_case(case)
    if case.is_closed:
        raise TransitionError(f"Cannot add an offence: the case is {case.get_status_display().lower()}.")
    sync_rules()
    today = today or ledger.london_today()
    with audited(actor, "offence_add"):
        offence = _offence_create(
            case=case,
            spec={
                "offence_type": offence_type,
                "committed_on": committed_on,
                "committed_from": committed_from,
                "particulars": particulars,
                "prosecutor_knowledge_on": prosecutor_knowledge_on,
                "suspect": suspect,
                "complainant": complainant if complainant is not None else _only(case.victims.all()),
            },
            default_suspect=_only(case.suspects.all()),
            today=today,
        )
        ledger.stl_clocks_sync(case, today=today)
        event_record(
            case=case,
            kind="offence_added",
            actor=actor,
            summary=f"Offence added: {offence.offence_type.title}",
        )
    return offence


@transaction.atomic
def case_record_qualifying_report(
    *, actor: User, case: Case, on: datetime.date, kind: str, today: datetime.date | None = None
) -> Case:
    """Record the first witness statement or video-recorded interview: under CJA 1988 s.39A it sets the
    time limit for domestic abuse common assault, so the STL clocks are recomputed."""
    require(actor, "cases.change_case", case)
    case = lock_case(case)
    sync_rules()
    today = today or ledger.london_today()
    if kind not in (Case.QualifyingReportKind.WITNESS_STATEMENT, Case.QualifyingReportKind.VRI):
        raise ValidationError({"kind": "Choose a witness statement or a video-recorded interview."})
    not_future(on, "on", today)
    if on < case.reported_on:
        raise ValidationError(
            {"on": f"{on:%d %B %Y} is before the report to police ({case.reported_on:%d %B %Y})."}
        )
    if case.first_qualifying_report_on and case.first_qualifying_report_on <= on:
        raise ValidationError(
            {
                "on": f"The first qualifying report was already given on "
                f"{case.first_qualifying_report_on:%d %B %Y}; only an earlier one can replace it."
            }
        )
    with audited(actor, "case_record_qualifying_report"):
        case.first_qualifying_report_on, case.first_qualifying_report_kind = on, kind
        case.save(update_fields=["first_qualifying_report_on", "first_qualifying_report_kind", "updated_at"])
        ledger.stl_clocks_sync(case, today=today)
        event_record(
            case=case,
            kind="qualifying_report",
            actor=actor,
            summary=f"First qualifying report recorded: {Case.QualifyingReportKind(kind).label}",
        )
    return case


#: What a force system (or the officer in charge) may correct on an open case with ``case_update``, and at
#: which stages. Everything else changes through its own step (offences, the first qualifying report, the
#: police outcome, restriction) or not at all (the URN, the force, police_perpetrated: restriction is a
#: supervisor's decision).
_OPEN = (
    Case.Status.REPORTED,
    Case.Status.INVESTIGATION,
    Case.Status.REFERRED,
    Case.Status.ACTION_PLAN,
    Case.Status.DECIDED,
    Case.Status.CHARGED,
    Case.Status.AT_COURT,
)
_BEFORE_CHARGE = (
    Case.Status.REPORTED,
    Case.Status.INVESTIGATION,
    Case.Status.REFERRED,
    Case.Status.ACTION_PLAN,
    Case.Status.DECIDED,
)
CASE_UPDATE_STAGES: dict[str, tuple[str, ...]] = {
    "summary": _OPEN,
    "risk_level": _OPEN,
    "risk_tool": _OPEN,
    "children_in_household": _OPEN,
    # The time limits run until charge: the flag decides the s.39A extension and the common-assault clocks.
    "domestic_abuse": _BEFORE_CHARGE,
    # The investigation clock runs from it: only while police still investigate (before a referral).
    "reported_on": (Case.Status.REPORTED, Case.Status.INVESTIGATION),
}
_FIELD_NAMES = {
    "summary": "summary",
    "risk_level": "risk level",
    "risk_tool": "risk assessment tool",
    "children_in_household": "children in the household",
    "domestic_abuse": "domestic abuse flag",
    "reported_on": "date reported to police",
}
# Clocks that do not start from something recorded after the report (so they do not stop it moving later).
_NOT_AFTER_REPORT = (Clock.Kind.INVESTIGATION, *Clock.STL_KINDS)


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _reported_on_check(case: Case, reported_on: Any, today: datetime.date) -> None:
    if not isinstance(reported_on, datetime.date) or isinstance(reported_on, datetime.datetime):
        raise ValidationError({"reported_on": "Enter a date."})
    not_future(reported_on, "reported_on", today)
    if case.first_qualifying_report_on and case.first_qualifying_report_on < reported_on:
        raise ValidationError(
            {
                "reported_on": f"The first qualifying report ({case.first_qualifying_report_on:%d %B %Y}) is "
                f"before {reported_on:%d %B %Y}."
            }
        )
    latest = case.offences.order_by("-committed_on").values_list("committed_on", flat=True).first()
    if latest is not None:
        try:
            clocks.reported_after_offence_check(latest, reported_on)
        except ValueError as exc:
            raise ValidationError(
                {"reported_on": f"An offence was committed after this date: {exc}."}
            ) from exc
    started = (
        case.clocks.exclude(kind__in=_NOT_AFTER_REPORT)
        .filter(started_on__lt=reported_on)
        .order_by("started_on")
        .first()
    )
    if started is not None:
        raise ValidationError(
            {
                "reported_on": f"'{started.label or started.get_kind_display()}' started on "
                f"{started.started_on:%d %B %Y}, before {reported_on:%d %B %Y}: what was recorded after the "
                "report cannot come before it."
            }
        )


@transaction.atomic
def case_update(
    *,
    actor: User,
    case: Case,
    changes: dict[str, Any],
    reason: str = "",
    today: datetime.date | None = None,
) -> Case:
    """Correct details of an open case: its summary, risk level and tool, the children in the household, the
    domestic abuse flag (before charge) and the date reported to police (while under investigation); see
    ``CASE_UPDATE_STAGES``. ``changes`` holds only the fields to change (a value equal to the stored one is
    ignored). The deadlines whose inputs changed are recomputed: the date reported moves the investigation
    clock (the old one is superseded), the domestic abuse flag the statutory time limits (s.39A and the
    common-assault clocks), children in the household the Operation Encompass clock. One timeline event lists
    what changed; the summary gets the language check. All or nothing."""
    require(actor, "cases.change_case", case)
    case = lock_case(case)
    unknown = sorted(set(changes) - set(CASE_UPDATE_STAGES))
    if unknown:
        raise ValidationError({name: "This cannot be corrected here." for name in unknown})
    changes = {name: value for name, value in changes.items() if getattr(case, name) != value}
    if not changes:
        return case
    sync_rules()
    today = today or ledger.london_today()
    for name in changes:
        check_status(case, CASE_UPDATE_STAGES[name], f"change the {_FIELD_NAMES[name]}")
    errors: dict[str, str] = {}
    if "risk_level" in changes and changes["risk_level"] not in Case.RiskLevel.values:
        errors["risk_level"] = f"Choose one of {', '.join(Case.RiskLevel.values)}."
    if "risk_tool" in changes and changes["risk_tool"] not in Case.RiskTool.values:
        errors["risk_tool"] = "Choose DASH, DARA or not assessed."
    for flag in ("children_in_household", "domestic_abuse"):
        if flag in changes and not isinstance(changes[flag], bool):
            errors[flag] = "Give true or false."
    if "summary" in changes and not isinstance(changes["summary"], str):
        errors["summary"] = "Give the summary as text."
    if errors:
        raise ValidationError(errors)
    if "reported_on" in changes:
        _reported_on_check(case, changes["reported_on"], today)
    before = {name: getattr(case, name) for name in changes}
    with audited(actor, "case_update"):
        for name, value in changes.items():
            setattr(case, name, value)
        case.save(update_fields=[*changes, "updated_at"])
        if "reported_on" in changes:
            for clock in case.clocks.open().filter(kind=Clock.Kind.INVESTIGATION):
                ledger.clock_stop(clock, on=today, outcome=Clock.State.SUPERSEDED)
                ledger.clock_open(
                    case=case,
                    kind=Clock.Kind.INVESTIGATION,
                    side=Clock.Side.POLICE,
                    started_on=case.reported_on,
                    label=clock.label or "Investigation to referral or police outcome",
                    today=today,
                )
        if "domestic_abuse" in changes:
            ledger.stl_clocks_sync(case, today=today)
        if "children_in_household" in changes:
            if case.children_in_household:
                hooks.household_changed.fire(case=case, today=today)
            else:
                ledger.clocks_stop(
                    case.clocks.open().filter(kind=Clock.Kind.OPERATION_ENCOMPASS, victim__isnull=True),
                    on=today,
                    outcome=Clock.State.CANCELLED,
                )
        if "summary" in changes:
            language_check(case=case, source=case, actor=actor, summary=case.summary)
        listed = ", ".join(_FIELD_NAMES[name] for name in changes)
        event_record(
            case=case,
            kind="case_updated",
            actor=actor,
            reason=reason,
            summary=f"Case details corrected: {listed}",
            data={
                "changed": {
                    # The summary's text is in the audit history; the timeline says only that it changed.
                    name: {"from": _shown(before[name]), "to": _shown(value)} if name != "summary" else {}
                    for name, value in changes.items()
                }
            },
        )
    return case


def stop_investigation_clock(case: Case, *, on: datetime.date) -> None:
    ledger.clocks_stop(case.clocks.open().filter(kind=Clock.Kind.INVESTIGATION), on=on)


# Safeguarding outlives the prosecution: these deadlines stay open when a case closes.
SAFEGUARDING_KINDS = (
    Clock.Kind.VICTIM_UPDATE,
    Clock.Kind.SUPPORT_REFERRAL,
    Clock.Kind.OPERATION_ENCOMPASS,
    Clock.Kind.ORDER_EXPIRY,
    Clock.Kind.DAPN_HEARING,
)


def cancel_open_clocks(case: Case, *, on: datetime.date, keep: Iterable[str] = SAFEGUARDING_KINDS) -> None:
    """A closed case has no casework deadlines left; telling the victim and keeping them safe go on."""
    ledger.clocks_stop(case.clocks.open().exclude(kind__in=tuple(keep)), on=on, outcome=Clock.State.CANCELLED)


def victim_update_clocks_open(
    case: Case, *, on: datetime.date, side: str, reason: str, today: datetime.date | None = None
) -> None:
    """Victims' Code Right 6: after a key event each victim must be told within 1 working day (enhanced rights)
    or 5. One clock per victim; a later event supersedes an update still pending."""
    for victim in case.victims.all():
        ledger.clocks_stop(
            case.clocks.open().filter(kind=Clock.Kind.VICTIM_UPDATE, victim=victim),
            on=on,
            outcome=Clock.State.SUPERSEDED,
        )
        ledger.clock_open(
            case=case,
            kind=Clock.Kind.VICTIM_UPDATE,
            side=side,
            started_on=on,
            today=today,
            label=f"Tell the victim: {reason}",
            victim=victim,
            params={"enhanced": victim.enhanced_rights, "event": reason},
        )


@transaction.atomic
def case_record_police_outcome(
    *,
    actor: User,
    case: Case,
    outcome: str,
    on: datetime.date,
    reason: str,
    today: datetime.date | None = None,
) -> Case:
    """Police close the case themselves: no further action or an out-of-court resolution. Allowed before a
    referral or while an action plan is with police (then CPS must be told, and the event says so)."""
    require(actor, "cases.record_police_outcome", case)
    case = lock_case(case)
    sync_rules()
    today = today or ledger.london_today()
    if outcome not in (Case.Status.NO_FURTHER_ACTION, Case.Status.OUT_OF_COURT):
        raise ValidationError({"outcome": "Choose no further action or an out-of-court resolution."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the police decision."})
    not_future(on, "on", today)
    if on < case.reported_on:
        raise ValidationError({"on": "The outcome date is before the report to police."})
    check_status(
        case,
        (Case.Status.REPORTED, Case.Status.INVESTIGATION, Case.Status.ACTION_PLAN),
        "record a police outcome",
    )
    after_action_plan = case.status == Case.Status.ACTION_PLAN
    with audited(actor, "case_record_police_outcome"):
        stop_investigation_clock(case, on=on)
        case.status = outcome
        case.save(update_fields=["status", "updated_at"])
        if after_action_plan:
            case.action_plans.filter(status="open").update(status="closed", closed_on=on)
        cancel_open_clocks(case, on=on)
        victim_update_clocks_open(
            case,
            on=on,
            side=Clock.Side.POLICE,
            reason=f"police {Case.Status(outcome).label.lower()}",
            today=today,
        )
        event_record(
            case=case,
            kind="police_outcome",
            actor=actor,
            reason=reason,
            summary=f"Police outcome: {Case.Status(outcome).label}"
            + (" after a CPS action plan; CPS informed" if after_action_plan else ""),
            data={
                "outcome": outcome,
                "after_action_plan": after_action_plan,
                "cps_informed": after_action_plan,
            },
        )
        language_check(case=case, source=case, actor=actor, reason=reason)
        if after_action_plan:
            # Police closing a case after a CPS action plan must tell CPS (Director's Guidance): the record and
            # the email to the prosecutor are governance's.
            hooks.police_nfa_after_plan.fire(actor=actor, case=case, on=on, reason=reason)
    return case


@transaction.atomic
def case_restrict(*, actor: User, case: Case, users: Sequence[User], reason: str) -> Case:
    """Restrict a police-perpetrated case to named users (the actor is always included)."""
    require(actor, "cases.restrict_case", case)
    case = lock_case(case)
    if not case.police_perpetrated:
        raise TransitionError("Only a case whose suspect works for the police can be restricted.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for restricting the case."})
    with audited(actor, "case_restrict"):
        case.restricted = True
        case.save(update_fields=["restricted", "updated_at"])
        case.restricted_to.set({actor, *users})
        event_record(
            case=case,
            kind="restricted",
            actor=actor,
            reason=reason,
            summary=f"Access restricted to {len(set(users) | {actor})} named people",
        )
    return case


@transaction.atomic
def case_progress(
    *,
    actor: User,
    case: Case,
    to: str,
    on: datetime.date,
    reason: str = "",
    today: datetime.date | None = None,
) -> Case:
    """Move a charged case to court, and a case at court to its conclusion."""
    require(actor, "cases.progress_case", case)
    case = lock_case(case)
    allowed = {
        Case.Status.AT_COURT: (Case.Status.CHARGED,),
        Case.Status.CONCLUDED: (Case.Status.CHARGED, Case.Status.AT_COURT),
    }
    if to not in allowed:
        raise ValidationError({"to": "A case can only be moved to court or concluded here."})
    check_status(case, allowed[to], f"mark the case {Case.Status(to).label.lower()}")
    not_future(on, "on", today or ledger.london_today())
    charged_on = case.charges.order_by("-charged_on").values_list("charged_on", flat=True).first()
    if charged_on and on < charged_on:
        raise ValidationError({"on": f"{on:%d %B %Y} is before the charge ({charged_on:%d %B %Y})."})
    with audited(actor, "case_progress"):
        case.status = to
        case.save(update_fields=["status", "updated_at"])
        if to == Case.Status.CONCLUDED:
            cancel_open_clocks(case, on=on)
        event_record(case=case, kind=f"case_{to}", actor=actor, reason=reason, summary=Case.Status(to).label)
    return case


@transaction.atomic
def bank_holiday_override_set(
    *, actor: User | None, day: datetime.date, action: str, reason: str
) -> BankHolidayOverride:
    """Add or remove a bank holiday (a newly proclaimed one needs no release), then recompute every open
    deadline that counts working days."""
    if action not in BankHolidayOverride.Action.values:
        raise ValidationError({"action": "Choose add or remove."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why (e.g. the proclamation)."})
    with audited(actor, "bank_holiday_override_set"):
        override, _ = BankHolidayOverride.objects.update_or_create(
            day=day, defaults={"action": action, "reason": reason}
        )
        recompute_working_day_clocks()
    return override


@transaction.atomic
def bank_holiday_override_remove(*, actor: User | None, day: datetime.date) -> None:
    with audited(actor, "bank_holiday_override_remove"):
        BankHolidayOverride.objects.filter(day=day).delete()
        recompute_working_day_clocks()


WORKING_DAY_KINDS = (
    Clock.Kind.CHARGING_DECISION,
    Clock.Kind.VICTIM_UPDATE,
    Clock.Kind.DAPN_HEARING,
    Clock.Kind.SUPPORT_REFERRAL,
    Clock.Kind.OPERATION_ENCOMPASS,
)


def recompute_working_day_clocks() -> int:
    """Recompute the open clocks whose due dates count working days or bank holidays."""
    ledger.sync_rules()
    qs = (
        Clock.objects.open()
        .filter(kind__in=WORKING_DAY_KINDS)
        .select_related("case", "referral", "order")
        .order_by("pk")
    )
    return ledger.clocks_recompute(qs.iterator(chunk_size=2000))


def organisation_for_code(code: str) -> Organisation:
    try:
        return Organisation.objects.get(code=code)
    except Organisation.DoesNotExist as exc:
        raise ValidationError({"force": f"No force or CPS Area has the code {code!r}."}) from exc
