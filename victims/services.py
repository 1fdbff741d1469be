"""Writes for victims: one function per state change.

Each is keyword-only and atomic, checks the actor's permission (``cases.rules.require``; the victims permissions
are in ``victims/permissions.py``) and the allowed transition on the server, validates its input with a
``ValidationError`` naming the field, writes a timeline event and opens or stops clocks through ``cases.ledger``.
Free text the victims area saves (contact notes, duty notes, reasons, order conditions) is run through the
trauma-informed language check, which records what it finds and never blocks the save.

Clocks (due dates from ``cases.ledger.due_for``):

- support referral (Victims' Code Right 4, 2 working days from the report): opened by ``victim_add``, stopped by
  a contact with purpose ``support_referral``;
- victim update (Right 6): opened by the key events elsewhere, stopped by a contact with purpose ``update``;
- Operation Encompass (next school day): opened for a child victim, and for the household when the case has
  children in the household; stopped by ``encompass_notification_record``;
- DAPN hearing (DA Act 2021 s.29, 48 hours less disregarded days): opened by ``order_notice_serve``;
- order expiry and bail expiry: opened when an order with an end date is granted (or bail conditions imposed).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases import derived, ledger
from cases.kernel import TransitionError, audited, event_record, lock_case, not_future
from cases.models import Case, Clock, Offence, OffenceType, Person, User
from cases.rules import require
from cases.selectors import victim_label
from cases.services import case_create

from . import language, order_rules
from .models import (
    IN_FORCE_STATUSES,
    NOTICE_KINDS,
    POLICE_ONLY_KINDS,
    WAS_IN_FORCE_STATUSES,
    Breach,
    DapoRequirement,
    OperationEncompassNotification,
    PersonalDataAccess,
    ProsecutionPosition,
    ProtectiveOrder,
    SupportService,
    Victim,
    VictimCodeDuty,
    VictimContact,
    VictimSuspectRelationship,
)

Status = ProtectiveOrder.Status
Kind = ProtectiveOrder.Kind

# The offence a breach of each kind of order is (domain-rules.md section 6). The others are not offences in the
# offence table: a DVPO breach is a contempt (MCA 1980 s.63(3)); breaching a notice or pre-charge bail is a power
# of arrest, not an offence; a stalking protection order breach (SPA 2019 s.8) has no offence-table row yet. For
# those the caller names the offence the conduct amounts to.
BREACH_OFFENCES: dict[str, str] = {
    Kind.NON_MOLESTATION: "FLA96-42A",
    Kind.RESTRAINING: "SA20-363",
    Kind.DAPO: "DAA21-39",
}

# Which order step may follow which status (checked here, on the server).
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "not_pursue": (Status.CONSIDERED,),
    "apply": (Status.CONSIDERED,),
    "serve": (Status.CONSIDERED,),
    "grant": (Status.APPLIED,),
    "refuse": (Status.APPLIED,),
    "vary": IN_FORCE_STATUSES,
    "end": IN_FORCE_STATUSES,
}

EXPIRY_KINDS = (Clock.Kind.ORDER_EXPIRY, Clock.Kind.BAIL_EXPIRY)


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _required(value: str, field: str, message: str) -> str:
    if not (value or "").strip():
        raise ValidationError({field: message})
    return value.strip()


def _in_choices(value: str, choices: Any, field: str) -> None:
    if value not in choices.values:
        raise ValidationError(
            {field: f"{value!r} is not allowed; choose one of: {', '.join(choices.labels)}."}
        )


def _dated(day: datetime.date, field: str, case: Case, today: datetime.date) -> None:
    """A date of something that happened on the case: not in the future, not before the report."""
    if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
        raise ValidationError({field: "Enter a date."})
    not_future(day, field, today)
    if day < case.reported_on:
        raise ValidationError(
            {field: f"{day:%d %B %Y} is before the report to police ({case.reported_on:%d %B %Y})."}
        )


def _aware_past(moment: datetime.datetime, field: str, case: Case) -> datetime.date:
    if not isinstance(moment, datetime.datetime) or timezone.is_naive(moment):
        raise ValidationError({field: "Give the date and time with its time zone."})
    if moment > timezone.now():
        raise ValidationError({field: "That time is in the future."})
    day = timezone.localdate(moment)
    if day < case.reported_on:
        raise ValidationError({field: "That is before the report to police."})
    return day


def _service_check(service: SupportService | None, case: Case, field: str) -> None:
    """A service must come from the directory of the case's force or CPS Area, and be active."""
    if service is None:
        return
    allowed = {case.force_id, case.force.area_id, case.cps_area_id} - {None}
    if service.organisation_id not in allowed or not service.active:
        raise ValidationError(
            {field: "Choose an active service from the directory of the case's force or Area."}
        )


def _client_ip(meta: Mapping[str, Any]) -> str | None:
    raw = (meta.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None


def _access_log(
    *, actor: User, victim: Victim, what: str, request_meta: Mapping[str, Any] | None, reason: str = ""
) -> PersonalDataAccess:
    meta = request_meta or {}
    return PersonalDataAccess.objects.create(
        actor=actor,
        victim=victim,
        case_id=victim.case_id,
        what=what,
        ip=_client_ip(meta),
        forwarded_for=str(meta.get("HTTP_X_FORWARDED_FOR", ""))[:200],
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:300],
        reason=(reason or "").strip()[:300],
    )


def encompass_clock_ensure(case: Case, *, today: datetime.date | None = None) -> Clock | None:
    """Operation Encompass for a household: a case with children in the household needs the school told before
    the next school day. Opens the case's household clock once (none if a notification is already recorded; again
    if the last one was cancelled because the household was corrected to have no children).
    Called by ``victim_add``; ``cases.services.case_create`` should call it too (see docs/victims.md)."""
    if not case.children_in_household:
        return None
    household = case.clocks.filter(kind=Clock.Kind.OPERATION_ENCOMPASS, victim__isnull=True)
    if household.exclude(state=Clock.State.CANCELLED).exists():
        return None
    if case.encompass_notifications.exists():
        return None
    return ledger.clock_open(
        case=case,
        kind=Clock.Kind.OPERATION_ENCOMPASS,
        side=Clock.Side.POLICE,
        started_on=case.reported_on,
        today=today,
        label="Tell the children's school (Operation Encompass)",
    )


# --------------------------------------------------------------------------------------------------------------
# Victims
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def victim_add(
    *,
    actor: User,
    case: Case,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date | None = None,
    is_child: bool = False,
    child_saw_or_heard: bool = False,
    enhanced_rights: bool = True,
    vulnerable: bool = False,
    intimidated: bool = False,
    special_measures_declined: bool = False,
    safe_contact_methods: str = "",
    safe_contact_times: str = "",
    do_not_tell: str = "",
    interpreter_language: str = "",
    confidential_address: str = "",
    reported_on: datetime.date | None = None,
    request_meta: Mapping[str, Any] | None = None,
    today: datetime.date | None = None,
) -> Victim:
    """Add a victim to a case. Domestic abuse victims, children and vulnerable or intimidated victims have
    enhanced rights under the Victims' Code. Opens the support-referral clock (2 working days from the report,
    or from ``reported_on`` for a victim who came forward later) and, for a child, the Operation Encompass clock.
    Recording a confidential address needs the address permission and is logged."""
    require(actor, "victims.add_victim", case)
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    if not (given_name or "").strip() or not (family_name or "").strip():
        raise ValidationError({"given_name": "Give the victim's given and family names."})
    if date_of_birth and date_of_birth > case.reported_on:
        raise ValidationError({"date_of_birth": "The date of birth is after the report to police."})
    reported_on = reported_on or case.reported_on
    _dated(reported_on, "reported_on", case, today)
    if confidential_address.strip():
        require(actor, "victims.view_confidential_address", case)
    is_child = is_child or child_saw_or_heard or _under_18(date_of_birth, reported_on)
    with audited(actor, "victim_add"):
        victim = Victim.objects.create(
            case=case,
            given_name=given_name.strip(),
            family_name=family_name.strip(),
            date_of_birth=date_of_birth,
            is_child=is_child,
            child_saw_or_heard=child_saw_or_heard,
            enhanced_rights=bool(
                enhanced_rights or case.domestic_abuse or vulnerable or intimidated or is_child
            ),
            vulnerable=vulnerable,
            intimidated=intimidated,
            special_measures_declined=special_measures_declined,
            safe_contact_methods=safe_contact_methods.strip(),
            safe_contact_times=safe_contact_times.strip(),
            do_not_tell=do_not_tell.strip(),
            interpreter_language=interpreter_language.strip(),
            confidential_address=confidential_address.strip(),
        )
        _victim_clocks_open(case, victim, reported_on=reported_on, today=today)
        named = _first_victim_named_complainant(case, victim, today=today)
        if victim.confidential_address:
            _access_log(
                actor=actor,
                victim=victim,
                what=PersonalDataAccess.What.ADDRESS_RECORDED,
                request_meta=request_meta,
            )
        event_record(
            case=case,
            kind="victim_added",
            actor=actor,
            summary=("Child victim added" if is_child else "Victim added")
            + (f"; named as the complainant of {named} offence{'s' if named != 1 else ''}" if named else ""),
        )
    return victim


def _first_victim_named_complainant(case: Case, victim: Victim, *, today: datetime.date) -> int:
    """The first victim of a case (not a child who saw or heard the abuse) is the complainant of every offence that
    names none yet: a one-victim case needs no extra step. With several victims each offence names its own."""
    if victim.child_saw_or_heard or case.victims.exclude(pk=victim.pk).exists():
        return 0
    named = case.offences.filter(complainant__isnull=True).update(complainant=victim)
    if named:
        ledger.stl_clocks_sync(case, today=today)
    return named


def _victim_stl_inputs_changed(case: Case, *, today: datetime.date) -> None:
    """A fact the statutory time limits rest on changed (a date of birth, a report, a relationship): recompute."""
    ledger.stl_clocks_sync(case, today=today)


def _born_check(victim: Victim, date_of_birth: datetime.date | None, today: datetime.date) -> None:
    if date_of_birth is None:
        return
    not_future(date_of_birth, "date_of_birth", today)
    earliest = datetime.date(1900, 1, 1)
    if date_of_birth < earliest:
        raise ValidationError({"date_of_birth": f"Enter a date of birth after {earliest:%d %B %Y}."})
    offence = victim.offences.filter(committed_on__lt=date_of_birth).order_by("committed_on").first()
    if offence is not None:
        raise ValidationError(
            {
                "date_of_birth": f"{date_of_birth:%d %B %Y} is after the offence against this victim on "
                f"{offence.committed_on:%d %B %Y}."
            }
        )


@transaction.atomic
def victim_date_of_birth_set(
    *, actor: User, victim: Victim, date_of_birth: datetime.date | None, today: datetime.date | None = None
) -> Victim:
    """Record (or correct) the victim's date of birth. Domestic abuse needs both people aged 16 or over (DA Act
    2021 s.1(2)(a)), so the statutory time limits of the offences against them are recomputed; an unknown date
    of birth keeps the safe s.127 date."""
    case = victim.case
    require(actor, "victims.add_victim", case)
    lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    victim = Victim.objects.select_for_update().get(pk=victim.pk)
    _born_check(victim, date_of_birth, today)
    with audited(actor, "victim_date_of_birth_set"):
        victim.date_of_birth = date_of_birth
        victim.save(update_fields=["date_of_birth"])
        _victim_stl_inputs_changed(case, today=today)
        event_record(
            case=case,
            kind="victim_date_of_birth",
            actor=actor,
            summary=f"Date of birth of {victim_label(victim)} "
            + ("recorded" if date_of_birth else "removed"),
        )
    return victim


@transaction.atomic
def victim_qualifying_report_record(
    *,
    actor: User,
    victim: Victim,
    on: datetime.date,
    kind: str,
    received_by: str = "",
    from_case: bool = False,
    today: datetime.date | None = None,
) -> Victim:
    """Record the victim's own first witness statement or video-recorded interview (CJA 1988 s.39A conditions A
    and B). Only the complainant's own report can extend the time limit of an offence against them, so the case's
    limits are recomputed. Only an earlier report can replace a recorded one. ``from_case`` assigns the case's
    unassigned report (recorded before reports were kept per victim) to this victim and clears it from the case."""
    case = victim.case
    require(actor, "cases.change_case", case)
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    victim = Victim.objects.select_for_update().get(pk=victim.pk)
    if kind not in (Victim.QualifyingReportKind.WITNESS_STATEMENT, Victim.QualifyingReportKind.VRI):
        raise ValidationError({"kind": "Choose a witness statement or a video-recorded interview."})
    if not isinstance(on, datetime.date) or isinstance(on, datetime.datetime):
        raise ValidationError({"on": "Enter the date of the statement or interview."})
    not_future(on, "on", today)
    if on < case.reported_on:
        raise ValidationError(
            {"on": f"{on:%d %B %Y} is before the report to police ({case.reported_on:%d %B %Y})."}
        )
    if victim.first_qualifying_report_on and victim.first_qualifying_report_on <= on:
        raise ValidationError(
            {
                "on": f"{victim_label(victim)}'s first qualifying report was already given on "
                f"{victim.first_qualifying_report_on:%d %B %Y}; only an earlier one can replace it."
            }
        )
    with audited(actor, "victim_qualifying_report_record"):
        victim.first_qualifying_report_on, victim.first_qualifying_report_kind = on, kind
        victim.first_qualifying_report_received_by = (received_by or "").strip()[:150]
        victim.save(
            update_fields=[
                "first_qualifying_report_on",
                "first_qualifying_report_kind",
                "first_qualifying_report_received_by",
            ]
        )
        if from_case:
            case.first_qualifying_report_on, case.first_qualifying_report_kind = None, ""
            case.save(
                update_fields=["first_qualifying_report_on", "first_qualifying_report_kind", "updated_at"]
            )
        _victim_stl_inputs_changed(case, today=today)
        event_record(
            case=case,
            kind="qualifying_report",
            actor=actor,
            summary=f"First qualifying report of {victim_label(victim)} recorded: "
            f"{Victim.QualifyingReportKind(kind).label} of {on:%d %B %Y}"
            + (" (assigned from the case)" if from_case else ""),
        )
    return victim


@transaction.atomic
def case_report_assign(*, actor: User, victim: Victim, today: datetime.date | None = None) -> Victim:
    """Assign the case's unassigned first qualifying report (recorded on the case before reports were kept per
    victim) to the victim who made it."""
    case = victim.case
    if case.first_qualifying_report_on is None:
        raise ValidationError({"victim": "This case has no unassigned first qualifying report."})
    return victim_qualifying_report_record(
        actor=actor,
        victim=victim,
        on=case.first_qualifying_report_on,
        kind=case.first_qualifying_report_kind,
        from_case=True,
        today=today,
    )


@transaction.atomic
def victim_relationship_set(
    *,
    actor: User,
    victim: Victim,
    suspect: Person,
    relationship: str,
    today: datetime.date | None = None,
) -> VictimSuspectRelationship:
    """Record how the victim and a suspect of the case are related (DA Act 2021 s.2), or that they are not
    personally connected. It decides whether their common assaults can have the s.39A limit, so the case's limits
    are recomputed."""
    case = victim.case
    require(actor, "victims.add_victim", case)
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    _in_choices(relationship, VictimSuspectRelationship.Relationship, "relationship")
    if not case.suspects.filter(pk=suspect.pk).exists():
        raise ValidationError({"suspect": "Choose a suspect of this case."})
    with audited(actor, "victim_relationship_set"):
        row, _ = VictimSuspectRelationship.objects.update_or_create(
            victim=victim, suspect=suspect, defaults={"relationship": relationship, "recorded_by": actor}
        )
        _victim_stl_inputs_changed(case, today=today)
        event_record(
            case=case,
            kind="victim_relationship",
            actor=actor,
            summary=f"{victim_label(victim)} and {suspect}: {row.get_relationship_display()}",
        )
    return row


def _under_18(date_of_birth: datetime.date | None, on: datetime.date) -> bool:
    if date_of_birth is None:
        return False
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    return age < 18


def _victim_clocks_open(
    case: Case, victim: Victim, *, reported_on: datetime.date, today: datetime.date
) -> None:
    ledger.clock_open(
        case=case,
        kind=Clock.Kind.SUPPORT_REFERRAL,
        side=Clock.Side.POLICE,
        started_on=reported_on,
        today=today,
        label="Refer the victim to support services (Right 4)",
        victim=victim,
    )
    if victim.is_child:
        ledger.clock_open(
            case=case,
            kind=Clock.Kind.OPERATION_ENCOMPASS,
            side=Clock.Side.POLICE,
            started_on=reported_on,
            today=today,
            label="Tell the child's school (Operation Encompass)",
            victim=victim,
        )
    encompass_clock_ensure(case, today=today)


@transaction.atomic
def victim_circumstances_set(
    *,
    actor: User,
    victim: Victim,
    is_child: bool,
    child_saw_or_heard: bool,
    vulnerable: bool,
    intimidated: bool,
    special_measures_declined: bool,
    enhanced_rights: bool,
    today: datetime.date | None = None,
) -> Victim:
    """Record who the victim is for the Code: child (including one who saw or heard the abuse), vulnerable
    (s.16) or intimidated (s.17), enhanced rights, and whether they declined special measures. A change of
    enhanced rights recomputes a pending update clock; a newly recorded child gets an Operation Encompass clock."""
    case = victim.case
    require(actor, "victims.add_victim", case)
    lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    victim = Victim.objects.select_for_update().get(pk=victim.pk)
    is_child = is_child or child_saw_or_heard
    enhanced = bool(enhanced_rights or case.domestic_abuse or vulnerable or intimidated or is_child)
    became_child = is_child and not victim.is_child
    with audited(actor, "victim_circumstances_set"):
        victim.is_child, victim.child_saw_or_heard = is_child, child_saw_or_heard
        victim.vulnerable, victim.intimidated = vulnerable, intimidated
        victim.special_measures_declined, victim.enhanced_rights = special_measures_declined, enhanced
        victim.save(
            update_fields=[
                "is_child",
                "child_saw_or_heard",
                "vulnerable",
                "intimidated",
                "special_measures_declined",
                "enhanced_rights",
            ]
        )
        pending = list(case.clocks.open().filter(kind=Clock.Kind.VICTIM_UPDATE, victim=victim))
        for clock in pending:
            if clock.params.get("enhanced") != enhanced:
                clock.params = {**clock.params, "enhanced": enhanced}
                clock.save(update_fields=["params"])
        ledger.clocks_recompute(pending, today=today)
        if (
            became_child
            and not case.clocks.filter(kind=Clock.Kind.OPERATION_ENCOMPASS, victim=victim).exists()
        ):
            ledger.clock_open(
                case=case,
                kind=Clock.Kind.OPERATION_ENCOMPASS,
                side=Clock.Side.POLICE,
                started_on=today,
                today=today,
                label="Tell the child's school (Operation Encompass)",
                victim=victim,
            )
        event_record(
            case=case, kind="victim_circumstances", actor=actor, summary="Victim's circumstances updated"
        )
    return victim


@transaction.atomic
def victim_safe_contact_set(
    *,
    actor: User,
    victim: Victim,
    safe_contact_methods: str,
    safe_contact_times: str,
    do_not_tell: str,
    interpreter_language: str,
) -> Victim:
    """Record how and when it is safe to contact the victim, who must not be told, and any interpreter need."""
    case = victim.case
    require(actor, "victims.add_victim", case)
    lock_case(case)
    with audited(actor, "victim_safe_contact_set"):
        Victim.objects.filter(pk=victim.pk).update(
            safe_contact_methods=safe_contact_methods.strip()[:200],
            safe_contact_times=safe_contact_times.strip()[:200],
            do_not_tell=do_not_tell.strip()[:200],
            interpreter_language=interpreter_language.strip()[:60],
        )
        event_record(
            case=case, kind="victim_safe_contact", actor=actor, summary="Safe contact details updated"
        )
    victim.refresh_from_db(
        fields=["safe_contact_methods", "safe_contact_times", "do_not_tell", "interpreter_language"]
    )
    return victim


@transaction.atomic
def victim_address_set(
    *, actor: User, victim: Victim, address: str, request_meta: Mapping[str, Any] | None, reason: str = ""
) -> None:
    """Record or change the victim's confidential address (only the roles that may see it); logged."""
    case = victim.case
    require(actor, "victims.view_confidential_address", case)
    lock_case(case)
    with audited(actor, "victim_address_set"):
        Victim.objects.filter(pk=victim.pk).update(confidential_address=(address or "").strip())
        _access_log(
            actor=actor,
            victim=victim,
            what=PersonalDataAccess.What.ADDRESS_RECORDED,
            request_meta=request_meta,
            reason=reason,
        )
        event_record(
            case=case, kind="victim_address", actor=actor, summary="Victim's confidential address updated"
        )


@transaction.atomic
def victim_reveal_address(
    *, actor: User, victim: Victim, request_meta: Mapping[str, Any] | None, reason: str = ""
) -> str:
    """The victim's confidential address, for the roles that need it (docs/victims.md), each view logged with
    who, which victim, when, from where and why. Anyone else is refused and nothing is read."""
    require(actor, "victims.view_confidential_address", victim.case)
    address = Victim.objects.filter(pk=victim.pk).values_list("confidential_address", flat=True).get()
    _access_log(
        actor=actor,
        victim=victim,
        what=PersonalDataAccess.What.ADDRESS_VIEWED,
        request_meta=request_meta,
        reason=reason,
    )
    return address


def victim_address_refusal_record(
    *, actor: User, asked_for: int, victim: Victim | None, request_meta: Mapping[str, Any] | None
) -> PersonalDataAccess:
    """Log a refused attempt to see a victim's confidential address (DPA 2018 s.62; issue 21) in the address log,
    beside the ``jjp.security`` line the view writes. ``victim`` is given only when the user could see its case
    (refused by role); outside the access gate it is ``None`` whether or not the victim exists, and the row keeps
    only the id asked for. Writes one row and nothing else; the caller's answer to the user does not change."""
    meta = request_meta or {}
    return PersonalDataAccess.objects.create(
        actor=actor,
        victim=victim,
        case_id=victim.case_id if victim is not None else None,
        asked_for=asked_for,
        what=PersonalDataAccess.What.ADDRESS_REFUSED,
        ip=_client_ip(meta),
        forwarded_for=str(meta.get("HTTP_X_FORWARDED_FOR", ""))[:200],
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:300],
    )


# --------------------------------------------------------------------------------------------------------------
# Contacts and the Victims' Code duties
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def victim_contact_record(
    *,
    actor: User,
    victim: Victim,
    contacted_at: datetime.datetime,
    method: str,
    purpose: str,
    outcome: str = "",
    support_service: SupportService | None = None,
) -> VictimContact:
    """Log a contact with a victim. An update (Right 6) meets the victim's pending update clock, a referral to
    support services (Right 4) the support-referral clock: met if on time, missed if late."""
    case = victim.case
    require(actor, "victims.add_victim", case)
    case = lock_case(case)
    ledger.sync_rules()
    if method not in VictimContact.Method.values:
        raise ValidationError({"method": f"Choose one of: {', '.join(VictimContact.Method.labels)}."})
    if purpose not in VictimContact.Purpose.values:
        raise ValidationError({"purpose": f"Choose one of: {', '.join(VictimContact.Purpose.labels)}."})
    if timezone.is_naive(contacted_at):
        raise ValidationError({"contacted_at": "Give the time with its time zone."})
    if contacted_at > timezone.now():
        raise ValidationError({"contacted_at": "The contact is in the future."})
    day = timezone.localdate(contacted_at)
    if day < case.reported_on:
        raise ValidationError({"contacted_at": "The contact is before the report to police."})
    _service_check(support_service, case, "support_service")
    with audited(actor, "victim_contact_record"):
        contact = VictimContact.objects.create(
            victim=victim,
            contacted_at=contacted_at,
            method=method,
            purpose=purpose,
            outcome=outcome,
            made_by=actor,
            support_service=support_service,
        )
        stops = {
            VictimContact.Purpose.UPDATE: Clock.Kind.VICTIM_UPDATE,
            VictimContact.Purpose.SUPPORT_REFERRAL: Clock.Kind.SUPPORT_REFERRAL,
        }
        if purpose in stops:
            ledger.clocks_stop(
                case.clocks.open().filter(kind=stops[purpose], victim=victim, started_on__lte=day),
                on=day,
            )
        event_record(
            case=case,
            kind="victim_contact",
            actor=actor,
            summary=f"Victim contact: {contact.get_purpose_display()}",
        )
        language.findings_record(case=case, source=contact, fields={"outcome": outcome}, author=actor)
    return contact


@transaction.atomic
def victim_duty_record(
    *,
    actor: User,
    victim: Victim,
    duty: str,
    done_on: datetime.date,
    declined: bool = False,
    service: SupportService | None = None,
    contact: VictimContact | None = None,
    notes: str = "",
    today: datetime.date | None = None,
) -> VictimCodeDuty:
    """Record a Victims' Code duty done: the Victim Personal Statement offered, taken, declined or updated
    (Right 7); special measures discussed (declined or not); a referral to an IDVA or specialist service from
    the local directory; the information given when the victim does not support a prosecution."""
    case = victim.case
    require(actor, "victims.add_victim", case)
    case = lock_case(case)
    today = today or ledger.london_today()
    _in_choices(duty, VictimCodeDuty.Duty, "duty")
    _dated(done_on, "done_on", case, today)
    _service_check(service, case, "service")
    if duty == VictimCodeDuty.Duty.SPECIALIST_REFERRAL and service is None and not declined:
        raise ValidationError({"service": "Choose the IDVA or specialist service from the local directory."})
    if contact is not None and contact.victim_id != victim.pk:
        raise ValidationError({"contact": "That contact is with another victim."})
    with audited(actor, "victim_duty_record"):
        row = VictimCodeDuty.objects.create(
            victim=victim,
            duty=duty,
            done_on=done_on,
            declined=declined,
            service=service,
            contact=contact,
            notes=notes.strip(),
            recorded_by=actor,
        )
        if duty == VictimCodeDuty.Duty.SPECIAL_MEASURES and victim.special_measures_declined != declined:
            Victim.objects.filter(pk=victim.pk).update(special_measures_declined=declined)
        event_record(
            case=case,
            kind="victim_duty",
            actor=actor,
            summary=row.get_duty_display() + (" (declined)" if declined else ""),
        )
        language.findings_record(case=case, source=row, fields={"notes": row.notes}, author=actor)
    return row


@transaction.atomic
def victim_position_record(
    *,
    actor: User,
    victim: Victim,
    position: str,
    on: datetime.date,
    reasons: str = "",
    today: datetime.date | None = None,
) -> ProsecutionPosition:
    """Record the victim's position on a prosecution, with reasons when they do not support it. A move away from
    support is a withdrawal, counted by days after the report; it prompts an evidence-led prosecution plan on the
    timeline and in ``selectors.evidence_led_prompts``."""
    case = victim.case
    require(actor, "victims.record_position", case)
    case = lock_case(case)
    today = today or ledger.london_today()
    _in_choices(position, ProsecutionPosition.Position, "position")
    _dated(on, "on", case, today)
    if position != ProsecutionPosition.Position.SUPPORTS:
        _required(reasons, "reasons", "Give the victim's reasons, in their words where possible.")
    previous = victim.positions.order_by("-recorded_on", "-pk").first()
    if previous is not None and on < previous.recorded_on:
        raise ValidationError(
            {
                "on": f"A later position is already recorded ({previous.recorded_on:%d %B %Y}); "
                "record positions in order."
            }
        )
    supported_before = previous is not None and previous.position == ProsecutionPosition.Position.SUPPORTS
    is_withdrawal = position == ProsecutionPosition.Position.WITHDREW or (
        position == ProsecutionPosition.Position.DOES_NOT_SUPPORT and supported_before
    )
    with audited(actor, "victim_position_record"):
        row = ProsecutionPosition.objects.create(
            victim=victim,
            position=position,
            recorded_on=on,
            reasons=reasons.strip(),
            days_after_report=(on - case.reported_on).days,
            is_withdrawal=is_withdrawal,
            recorded_by=actor,
        )
        event_record(
            case=case,
            kind="victim_position",
            actor=actor,
            summary=f"Victim's position: {row.get_position_display()}",
            reason=row.reasons,
            data={
                "position": position,
                "days_after_report": row.days_after_report,
                "withdrawal": is_withdrawal,
            },
        )
        if position != ProsecutionPosition.Position.SUPPORTS:
            event_record(
                case=case,
                kind="evidence_led_prompt",
                actor=actor,
                summary="The victim does not support a prosecution: consider an evidence-led prosecution "
                "and give the victim information and support",
                data={"position": row.pk},
            )
        language.findings_record(case=case, source=row, fields={"reasons": row.reasons}, author=actor)
    return row


# --------------------------------------------------------------------------------------------------------------
# Operation Encompass
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def encompass_notification_record(
    *,
    actor: User,
    case: Case,
    school: str,
    notified_to: str,
    notified_at: datetime.datetime,
    method: str,
    child: Victim | None = None,
    notes: str = "",
) -> OperationEncompassNotification:
    """Record that the school's Designated Safeguarding Lead was told (Operation Encompass). Stops the child's
    clock and the household clock: met if told by the next school day."""
    require(actor, "victims.record_encompass", case)
    case = lock_case(case)
    ledger.sync_rules()
    school = _required(school, "school", "Name the school or early years setting.")
    notified_to = _required(
        notified_to, "notified_to", "Name who was told (the Designated Safeguarding Lead)."
    )
    _in_choices(method, OperationEncompassNotification.Method, "method")
    day = _aware_past(notified_at, "notified_at", case)
    if child is not None and (child.case_id != case.pk or not child.is_child):
        raise ValidationError({"child": "Choose a child victim of this case."})
    open_clocks = case.clocks.open().filter(kind=Clock.Kind.OPERATION_ENCOMPASS)
    household = open_clocks.filter(victim__isnull=True)
    if child is None and not household.exists() and open_clocks.exists():
        raise ValidationError({"child": "Name the child whose school was told."})
    with audited(actor, "encompass_notification_record"):
        row = OperationEncompassNotification.objects.create(
            case=case,
            child=child,
            school=school,
            notified_to=notified_to,
            notified_at=notified_at,
            method=method,
            notes=notes.strip(),
            recorded_by=actor,
        )
        stop = list(household) + (list(open_clocks.filter(victim=child)) if child is not None else [])
        ledger.clocks_stop(stop, on=day)
        event_record(
            case=case, kind="encompass_notified", actor=actor, summary=f"Operation Encompass: {school} told"
        )
        language.findings_record(case=case, source=row, fields={"notes": row.notes}, author=actor)
    return row


# --------------------------------------------------------------------------------------------------------------
# Protective orders
# --------------------------------------------------------------------------------------------------------------


def _lock_order(order: ProtectiveOrder) -> ProtectiveOrder:
    return ProtectiveOrder.objects.select_for_update().select_related("case").get(pk=order.pk)


def _order_step(actor: User, order: ProtectiveOrder, step: str) -> tuple[Case, ProtectiveOrder]:
    require(actor, "victims.manage_order", order.case)
    _police_only(actor, order.kind)
    case = lock_case(order.case)
    order = _lock_order(order)
    allowed = ORDER_TRANSITIONS[step]
    if order.status not in allowed:
        names = ", ".join(str(Status(s).label).lower() for s in allowed)
        raise TransitionError(
            f"Cannot {step.replace('_', ' ')} this {order.get_kind_display().lower()}: it is "
            f"{order.get_status_display().lower()}; this is allowed only when it is {names}."
        )
    return case, order


def _police_only(actor: User, kind: str) -> None:
    if kind in POLICE_ONLY_KINDS and not (actor.organisation and actor.organisation.is_force):
        raise PermissionDenied(f"Only police record a {Kind(kind).label.lower()}.")


def _order_event(case: Case, order: ProtectiveOrder, actor: User | None, what: str, reason: str = "") -> None:
    event_record(
        case=case,
        kind=f"order_{what.replace(' ', '_')}",
        actor=actor,
        summary=f"{order.get_kind_display()}: {what}",
        reason=reason,
        data={"order": order.pk, "kind": order.kind},
    )


def _expiry_clock_open(case: Case, order: ProtectiveOrder, *, today: datetime.date) -> None:
    """Stop any open expiry clock of the order (superseded) and open one for its current end date."""
    ledger.clocks_stop(
        case.clocks.open().filter(kind__in=EXPIRY_KINDS, order=order),
        on=today,
        outcome=Clock.State.SUPERSEDED,
    )
    if order.expires_on is None:
        return
    bail = order.kind == Kind.PRE_CHARGE_BAIL
    ledger.clock_open(
        case=case,
        kind=Clock.Kind.BAIL_EXPIRY if bail else Clock.Kind.ORDER_EXPIRY,
        side=Clock.Side.POLICE,
        started_on=min(order.varied_on or order.granted_on or today, order.expires_on),
        today=today,
        label=f"{order.get_kind_display()} ends",
        order=order,
    )


def _dvpo_end_checked(
    order: ProtectiveOrder, made_on: datetime.date, expires_on: datetime.date | None
) -> None:
    """A DVPO is in force for no fewer than 14 and no more than 28 days beginning with the day it is made (CSA 2010
    s.28(10); ``cases.clocks.dvpo_end_bounds``): its end date is required and must lie between the two. Checked
    wherever a DVPO's end date is set (grant) or changed (variation), always from the day it was made."""
    if order.kind != Kind.DVPO:
        return
    message = order_rules.dvpo_end_message(made_on)
    if expires_on is None:
        raise ValidationError({"expires_on": f"Give the DVPO's last day. {message}"})
    if not order_rules.dvpo_end_allowed(made_on, expires_on):
        raise ValidationError({"expires_on": message})


def _notification_checked(order: ProtectiveOrder, exempt_reason: str, further: str) -> None:
    """The s.41 notification details belong to a DAPO only."""
    if order.kind == Kind.DAPO:
        return
    for field, value in (("notification_exempt_reason", exempt_reason), ("notification_further", further)):
        if value.strip():
            raise ValidationError(
                {field: "Notification requirements (DA Act 2021 s.41) belong to a DAPO, not to this order."}
            )


def _conditions_checked(order_kind: str, conditions: str, victim_views: str) -> None:
    if order_kind == Kind.PRE_CHARGE_BAIL:
        _required(conditions, "conditions", "Give the bail conditions.")
        _required(
            victim_views,
            "victim_views",
            "Record the victim's views on the conditions (sought before imposing or varying them).",
        )


@transaction.atomic
def order_consider(
    *,
    actor: User,
    case: Case,
    kind: str,
    on: datetime.date,
    victim: Victim | None = None,
    respondent: Person | None = None,
    notice: ProtectiveOrder | None = None,
    notes: str = "",
    today: datetime.date | None = None,
) -> ProtectiveOrder:
    """Record that a protective order (or notice, or bail conditions) was considered, from the outset in a
    high-risk case. A DVPO or DAPO may name the notice it follows."""
    require(actor, "victims.manage_order", case)
    case = lock_case(case)
    today = today or ledger.london_today()
    _in_choices(kind, Kind, "kind")
    _police_only(actor, kind)
    _dated(on, "on", case, today)
    if victim is not None and victim.case_id != case.pk:
        raise ValidationError({"victim": "Choose a victim of this case."})
    if respondent is not None and not case.suspects.filter(pk=respondent.pk).exists():
        raise ValidationError({"respondent": "Choose a suspect in this case."})
    if respondent is None and case.suspects.count() == 1:
        respondent = case.suspects.get()
    if notice is not None:
        expected = {Kind.DAPO: Kind.DAPN, Kind.DVPO: Kind.DVPN}.get(kind)
        if notice.case_id != case.pk or notice.kind != expected:
            raise ValidationError({"notice": "A DAPO follows a DAPN, and a DVPO a DVPN, of the same case."})
    with audited(actor, "order_consider"):
        order = ProtectiveOrder.objects.create(
            case=case,
            kind=kind,
            status=Status.CONSIDERED,
            considered_on=on,
            victim=victim,
            respondent=respondent,
            notice=notice,
            reason=notes.strip(),
            created_by=actor,
        )
        _order_event(case, order, actor, "considered", order.reason)
        language.findings_record(case=case, source=order, fields={"reason": order.reason}, author=actor)
    return order


@transaction.atomic
def order_not_pursue(
    *, actor: User, order: ProtectiveOrder, on: datetime.date, reason: str
) -> ProtectiveOrder:
    """Considered and decided against: the reason is required."""
    case, order = _order_step(actor, order, "not_pursue")
    _dated(on, "on", case, ledger.london_today())
    reason = _required(reason, "reason", "Say why the order is not being pursued.")
    if on < order.considered_on:
        raise ValidationError({"on": "That is before the order was considered."})
    with audited(actor, "order_not_pursue"):
        order.status, order.ended_on, order.reason = Status.NOT_PURSUED, on, reason
        order.save(update_fields=["status", "ended_on", "reason"])
        _order_event(case, order, actor, "not pursued", reason)
        language.findings_record(case=case, source=order, fields={"reason": reason}, author=actor)
    return order


@transaction.atomic
def order_apply(
    *, actor: User, order: ProtectiveOrder, on: datetime.date, today: datetime.date | None = None
) -> ProtectiveOrder:
    """The application is made to the court (not for a notice, which police give, or bail conditions)."""
    case, order = _order_step(actor, order, "apply")
    if order.kind in (*NOTICE_KINDS, Kind.PRE_CHARGE_BAIL):
        raise TransitionError(f"A {order.get_kind_display().lower()} is not applied for.")
    _dated(on, "on", case, today or ledger.london_today())
    if on < order.considered_on:
        raise ValidationError({"on": "The application is before the order was considered."})
    with audited(actor, "order_apply"):
        order.status, order.applied_on = Status.APPLIED, on
        order.save(update_fields=["status", "applied_on"])
        _order_event(case, order, actor, "applied for")
    return order


@transaction.atomic
def order_notice_serve(
    *,
    actor: User,
    order: ProtectiveOrder,
    served_at: datetime.datetime,
    conditions: str = "",
    today: datetime.date | None = None,
) -> ProtectiveOrder:
    """A DAPN or DVPN is given to the suspect. It is in force at once, and the court must hear the application
    for the order within 48 hours, disregarding Sundays, Christmas Day, Good Friday and bank holidays (DA Act
    2021 s.29(2)-(3); for a DVPN, CSA 2010 s.27(3), expected to mirror it: UNCONFIRMED). Opens the hearing
    clock, with its due time."""
    case, order = _order_step(actor, order, "serve")
    if order.kind not in NOTICE_KINDS:
        raise TransitionError("Only a notice (DAPN or DVPN) is served; an order is applied for.")
    _police_only(actor, order.kind)
    ledger.sync_rules()
    today = today or ledger.london_today()
    day = _aware_past(served_at, "served_at", case)
    if day < order.considered_on:
        raise ValidationError({"served_at": "The notice was served before it was considered."})
    with audited(actor, "order_notice_serve"):
        order.status, order.served_at, order.granted_on = Status.GRANTED, served_at, day
        order.conditions = conditions.strip()
        order.save(update_fields=["status", "served_at", "granted_on", "conditions"])
        # The label names the notice's own order (a DVPN leads to a DVPO hearing, never a DAPO one).
        follows = "DAPO" if order.kind == Kind.DAPN else "DVPO"
        ledger.clock_open(
            case=case,
            kind=Clock.Kind.DAPN_HEARING,
            side=Clock.Side.POLICE,
            started_on=day,
            today=today,
            label=f"{follows} hearing within 48 hours of the {order.kind.upper()}",
            order=order,
        )
        _order_event(case, order, actor, "served")
        language.findings_record(
            case=case, source=order, fields={"conditions": order.conditions}, author=actor
        )
    return order


@transaction.atomic
def order_notice_hearing_record(
    *, actor: User, order: ProtectiveOrder, heard_at: datetime.datetime
) -> ProtectiveOrder:
    """The court heard the application for the order that follows a notice. The hearing clock is met if the
    hearing began by its due time (an adjourned hearing still counts: the notice stays in force)."""
    require(actor, "victims.manage_order", order.case)
    case = lock_case(order.case)
    order = _lock_order(order)
    if order.kind not in NOTICE_KINDS or order.served_at is None:
        raise TransitionError("Only a notice that was served has a hearing deadline.")
    if order.heard_at is not None:
        raise TransitionError("The hearing is already recorded.")
    day = _aware_past(heard_at, "heard_at", case)
    if heard_at < order.served_at:
        raise ValidationError({"heard_at": "The hearing is before the notice was served."})
    with audited(actor, "order_notice_hearing_record"):
        order.heard_at = heard_at
        order.save(update_fields=["heard_at"])
        for clock in case.clocks.open().filter(kind=Clock.Kind.DAPN_HEARING, order=order):
            met = clock.due_at is None or heard_at <= clock.due_at
            ledger.clock_stop(clock, on=day, outcome=Clock.State.MET if met else Clock.State.MISSED)
        _order_event(case, order, actor, "hearing held")
    return order


@transaction.atomic
def order_grant(
    *,
    actor: User,
    order: ProtectiveOrder,
    on: datetime.date,
    expires_on: datetime.date | None = None,
    conditions: str = "",
    victim_views: str = "",
    notification_exempt_reason: str = "",
    notification_further: str = "",
    today: datetime.date | None = None,
) -> ProtectiveOrder:
    """The court grants the order, with its conditions and end date (an end date opens the expiry clock). An
    order that follows a notice ends the notice.

    A DVPO's end date must lie within CSA 2010 s.28(10) (14 to 28 days beginning with the day it is made). A DAPO's
    respondent must notify the police of their name(s) and home address within three days beginning with the day
    it is made (DA Act 2021 s.41(2)): the due day is stored on the order, unless ``notification_exempt_reason``
    says why s.41(8) applies; ``notification_further`` records further requirements the court imposed (s.41(7)).
    The DAPO's own prohibitions and requirements are recorded with ``dapo_requirement_add``."""
    case, order = _order_step(actor, order, "grant")
    ledger.sync_rules()
    today = today or ledger.london_today()
    _dated(on, "on", case, today)
    if order.applied_on and on < order.applied_on:
        raise ValidationError({"on": "The order is granted before it was applied for."})
    if expires_on is not None and expires_on < on:
        raise ValidationError({"expires_on": "The order ends before it was granted."})
    _dvpo_end_checked(order, on, expires_on)
    _notification_checked(order, notification_exempt_reason, notification_further)
    _conditions_checked(order.kind, conditions, victim_views)
    with audited(actor, "order_grant"):
        order.status, order.granted_on, order.expires_on = Status.GRANTED, on, expires_on
        order.conditions, order.victim_views = conditions.strip(), victim_views.strip()
        if order.kind == Kind.DAPO:
            exempt = notification_exempt_reason.strip()
            order.notification_applies = not exempt
            order.notification_exempt_reason = exempt
            order.notification_further = notification_further.strip()
            order.notification_due_on = None if exempt else order_rules.dapo_notification_due(on)
        order.save(
            update_fields=[
                "status",
                "granted_on",
                "expires_on",
                "conditions",
                "victim_views",
                "notification_applies",
                "notification_exempt_reason",
                "notification_further",
                "notification_due_on",
            ]
        )
        _expiry_clock_open(case, order, today=today)
        _notice_end(case, order, on=on, actor=actor)
        _order_event(case, order, actor, "granted")
        language.findings_record(
            case=case, source=order, fields={"conditions": order.conditions}, author=actor
        )
    return order


def _notice_end(case: Case, order: ProtectiveOrder, *, on: datetime.date, actor: User) -> None:
    """The application that followed a notice is decided: the notice ends, and its hearing clock (if the
    hearing was not recorded) stops on the decision day."""
    if order.notice_id is None:
        return
    notice = _lock_order(order.notice)
    ledger.clocks_stop(case.clocks.open().filter(kind=Clock.Kind.DAPN_HEARING, order=notice), on=on)
    if notice.status in IN_FORCE_STATUSES:
        notice.status, notice.ended_on = Status.EXPIRED, max(on, notice.granted_on or on)
        notice.save(update_fields=["status", "ended_on"])
        _order_event(
            case, notice, actor, "ended", f"The application for the {order.get_kind_display()} was decided."
        )


@transaction.atomic
def order_refuse(
    *, actor: User, order: ProtectiveOrder, on: datetime.date, reason: str, today: datetime.date | None = None
) -> ProtectiveOrder:
    """The court refuses the order; the reason is recorded."""
    case, order = _order_step(actor, order, "refuse")
    _dated(on, "on", case, today or ledger.london_today())
    reason = _required(reason, "reason", "Give the court's reason.")
    if order.applied_on and on < order.applied_on:
        raise ValidationError({"on": "The order is refused before it was applied for."})
    with audited(actor, "order_refuse"):
        order.status, order.refused_on, order.reason = Status.REFUSED, on, reason
        order.save(update_fields=["status", "refused_on", "reason"])
        _notice_end(case, order, on=on, actor=actor)
        _order_event(case, order, actor, "refused", reason)
        language.findings_record(case=case, source=order, fields={"reason": reason}, author=actor)
    return order


@transaction.atomic
def order_vary(
    *,
    actor: User,
    order: ProtectiveOrder,
    on: datetime.date,
    conditions: str,
    expires_on: datetime.date | None,
    reason: str,
    victim_views: str = "",
    today: datetime.date | None = None,
) -> ProtectiveOrder:
    """The order (or bail conditions) is varied: the new conditions and end date, with the reason. Varying bail
    conditions needs the victim's views. The expiry clock follows the new end date."""
    case, order = _order_step(actor, order, "vary")
    ledger.sync_rules()
    today = today or ledger.london_today()
    _dated(on, "on", case, today)
    reason = _required(reason, "reason", "Say why the order was varied.")
    if order.granted_on and on < order.granted_on:
        raise ValidationError({"on": "The variation is before the order was granted."})
    if expires_on is not None and order.granted_on and expires_on < order.granted_on:
        raise ValidationError({"expires_on": "The order ends before it was granted."})
    _dvpo_end_checked(order, order.granted_on or on, expires_on)
    _conditions_checked(order.kind, conditions, victim_views)
    changed_conditions = conditions.strip() != order.conditions
    with audited(actor, "order_vary"):
        order.status, order.varied_on, order.expires_on = Status.VARIED, on, expires_on
        order.conditions, order.reason = conditions.strip(), reason
        if victim_views.strip():
            order.victim_views = victim_views.strip()
        order.save(
            update_fields=["status", "varied_on", "expires_on", "conditions", "reason", "victim_views"]
        )
        _expiry_clock_open(case, order, today=today)
        _order_event(case, order, actor, "varied", reason)
        texts = {"reason": reason} | ({"conditions": order.conditions} if changed_conditions else {})
        language.findings_record(case=case, source=order, fields=texts, author=actor)
    return order


def _dapo_in_force(order: ProtectiveOrder, what: str) -> None:
    if order.kind != Kind.DAPO:
        raise TransitionError(f"Only a DAPO has {what}; this is a {order.get_kind_display().lower()}.")
    if order.status not in IN_FORCE_STATUSES:
        raise TransitionError(
            f"The DAPO is {order.get_status_display().lower()}: {what} are recorded while it is in force."
        )


@transaction.atomic
def dapo_requirement_add(
    *,
    actor: User,
    order: ProtectiveOrder,
    kind: str,
    text: str,
    imposed_on: datetime.date,
    ends_on: datetime.date | None = None,
    supervisor: str = "",
    today: datetime.date | None = None,
) -> DapoRequirement:
    """One of the DAPO's own requirements (DA Act 2021 s.35: any prohibition, restriction or requirement the court
    considers necessary), imposed when it was granted or varied: a prohibition (e.g. not to contact the protected
    person, not to come within a distance of premises: s.35(4)), a requirement to do something, which must name
    who supervises compliance (s.36(2)), or electronic monitoring (s.37). ``ends_on`` is its last day when it ends
    before the order; it cannot outlast the order."""
    require(actor, "victims.manage_order", order.case)
    case = lock_case(order.case)
    order = _lock_order(order)
    today = today or ledger.london_today()
    _dapo_in_force(order, "requirements")
    _in_choices(kind, DapoRequirement.Kind, "kind")
    text = _required(text, "text", "Give the requirement as the order words it.")
    supervisor = supervisor.strip()
    if kind == DapoRequirement.Kind.REQUIREMENT and not supervisor:
        raise ValidationError(
            {"supervisor": "Name who supervises compliance with a requirement to do something (s.36(2))."}
        )
    _dated(imposed_on, "imposed_on", case, today)
    if order.granted_on and imposed_on < order.granted_on:
        raise ValidationError(
            {
                "imposed_on": f"The DAPO was granted on {order_rules.long_date(order.granted_on)}; a requirement "
                "is imposed with it or by a later variation."
            }
        )
    if ends_on is not None:
        if ends_on < imposed_on:
            raise ValidationError({"ends_on": "The requirement ends before it was imposed."})
        if order.expires_on is not None and ends_on > order.expires_on:
            raise ValidationError(
                {
                    "ends_on": f"A requirement cannot outlast the order, which ends on "
                    f"{order_rules.long_date(order.expires_on)}."
                }
            )
    with audited(actor, "dapo_requirement_add"):
        row = DapoRequirement.objects.create(
            order=order,
            kind=kind,
            text=text,
            supervisor=supervisor,
            imposed_on=imposed_on,
            ends_on=ends_on,
            recorded_by=actor,
        )
        event_record(
            case=case,
            kind="order_requirement_added",
            actor=actor,
            summary=f"DAPO requirement recorded: {row.get_kind_display().split(' (')[0].lower()}",
            data={"order": order.pk, "requirement": row.pk},
        )
        language.findings_record(case=case, source=row, fields={"text": row.text}, author=actor)
    return row


@transaction.atomic
def dapo_requirement_remove(
    *,
    actor: User,
    order: ProtectiveOrder,
    requirement: DapoRequirement,
    on: datetime.date,
    reason: str,
    today: datetime.date | None = None,
) -> DapoRequirement:
    """A variation of the DAPO removed one of its requirements on ``on`` (the row stays, dated)."""
    require(actor, "victims.manage_order", order.case)
    case = lock_case(order.case)
    order = _lock_order(order)
    _dapo_in_force(order, "requirements")
    requirement = DapoRequirement.objects.select_for_update().get(pk=requirement.pk)
    if requirement.order_id != order.pk:
        raise ValidationError({"requirement": "Choose a requirement of this order."})
    if requirement.removed_on is not None:
        raise TransitionError("That requirement was already removed.")
    _dated(on, "on", case, today or ledger.london_today())
    if on < requirement.imposed_on:
        raise ValidationError({"on": "That is before the requirement was imposed."})
    reason = _required(reason, "reason", "Say why the requirement was removed (the variation).")
    with audited(actor, "dapo_requirement_remove"):
        requirement.removed_on, requirement.reason = on, reason
        requirement.save(update_fields=["removed_on", "reason"])
        event_record(
            case=case,
            kind="order_requirement_removed",
            actor=actor,
            summary="DAPO requirement removed by a variation",
            reason=reason,
            data={"order": order.pk, "requirement": requirement.pk},
        )
        language.findings_record(case=case, source=requirement, fields={"reason": reason}, author=actor)
    return requirement


@transaction.atomic
def dapo_notification_record(
    *, actor: User, order: ProtectiveOrder, notified_on: datetime.date, today: datetime.date | None = None
) -> ProtectiveOrder:
    """The DAPO's respondent notified the police of their name(s) and home address (DA Act 2021 s.41(2)-(3)).
    Police only: the notification is made to the police. The page shows whether it was within the period."""
    require(actor, "victims.manage_order", order.case)
    if not (actor.organisation and actor.organisation.is_force):
        raise PermissionDenied("Only police record a notification under s.41.")
    case = lock_case(order.case)
    order = _lock_order(order)
    if order.kind != Kind.DAPO or not order.notification_applies or order.granted_on is None:
        raise TransitionError(
            "Only a DAPO granted with the s.41 notification requirements has this notification."
        )
    if order.notified_on is not None:
        raise TransitionError("The notification is already recorded.")
    _dated(notified_on, "notified_on", case, today or ledger.london_today())
    if notified_on < order.granted_on:
        raise ValidationError({"notified_on": "That is before the DAPO was made."})
    late = order.notification_due_on is not None and notified_on > order.notification_due_on
    with audited(actor, "dapo_notification_record"):
        order.notified_on = notified_on
        order.save(update_fields=["notified_on"])
        _order_event(
            case,
            order,
            actor,
            "notification received",
            f"Name and address notified on {order_rules.long_date(notified_on)}"
            + (f", after the last day ({order_rules.long_date(order.notification_due_on)})" if late else ""),
        )
    return order


@transaction.atomic
def order_end(
    *,
    actor: User,
    order: ProtectiveOrder,
    on: datetime.date,
    outcome: str,
    reason: str = "",
    today: datetime.date | None = None,
) -> ProtectiveOrder:
    """The order expired or was discharged. Its expiry clock stops (met on expiry, cancelled on discharge)."""
    case, order = _order_step(actor, order, "end")
    if outcome not in (Status.EXPIRED, Status.DISCHARGED):
        raise ValidationError({"outcome": "Choose expired or discharged."})
    _dated(on, "on", case, today or ledger.london_today())
    if order.granted_on and on < order.granted_on:
        raise ValidationError({"on": "The order ends before it was granted."})
    if outcome == Status.DISCHARGED:
        _required(reason, "reason", "Say why the order was discharged.")
    with audited(actor, "order_end"):
        _order_close(case, order, on=on, outcome=outcome, reason=reason.strip())
        _order_event(case, order, actor, Status(outcome).label.lower(), order.reason)
    return order


def _order_close(case: Case, order: ProtectiveOrder, *, on: datetime.date, outcome: str, reason: str) -> None:
    order.status, order.ended_on = outcome, on
    if reason:
        order.reason = reason
    order.save(update_fields=["status", "ended_on", "reason"])
    ledger.clocks_stop(
        case.clocks.open().filter(order=order),
        on=on,
        outcome=Clock.State.CANCELLED if outcome == Status.DISCHARGED else None,
    )


@transaction.atomic
def orders_expire_due(*, today: datetime.date | None = None) -> int:
    """System sweep: an order in force whose end date has passed is expired (its expiry clock met on that day).
    Idempotent; returns how many it expired."""
    today = today or ledger.london_today()
    n = 0
    due = ProtectiveOrder.objects.select_for_update(skip_locked=True).filter(
        status__in=IN_FORCE_STATUSES, expires_on__lt=today
    )
    for order in due.select_related("case"):
        with audited(None, "orders_expire_due"):
            _order_close(order.case, order, on=order.expires_on, outcome=Status.EXPIRED, reason="")
            _order_event(order.case, order, None, "expired")
        n += 1
    return n


@transaction.atomic
def bail_conditions_impose(
    *,
    actor: User,
    case: Case,
    on: datetime.date,
    conditions: str,
    victim_views: str,
    expires_on: datetime.date | None = None,
    victim: Victim | None = None,
    respondent: Person | None = None,
    today: datetime.date | None = None,
) -> ProtectiveOrder:
    """Pre-charge bail with conditions (PACE Part 4 as amended by the PCSC Act 2022): the victim's views must be
    sought before conditions are imposed, so they are required here. ``expires_on`` is the end of the bail
    period (the bail-expiry clock)."""
    order = order_consider(
        actor=actor,
        case=case,
        kind=Kind.PRE_CHARGE_BAIL,
        on=on,
        victim=victim,
        respondent=respondent,
        today=today,
    )
    case = lock_case(case)
    ledger.sync_rules()
    today = today or ledger.london_today()
    _conditions_checked(Kind.PRE_CHARGE_BAIL, conditions, victim_views)
    if expires_on is not None and expires_on < on:
        raise ValidationError({"expires_on": "The bail ends before it began."})
    with audited(actor, "bail_conditions_impose"):
        order.status, order.granted_on, order.expires_on = Status.GRANTED, on, expires_on
        order.conditions, order.victim_views = conditions.strip(), victim_views.strip()
        order.save(update_fields=["status", "granted_on", "expires_on", "conditions", "victim_views"])
        _expiry_clock_open(case, order, today=today)
        _order_event(case, order, actor, "imposed")
        language.findings_record(
            case=case, source=order, fields={"conditions": order.conditions}, author=actor
        )
    return order


# --------------------------------------------------------------------------------------------------------------
# Breaches
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def breach_record(
    *,
    actor: User,
    order: ProtectiveOrder,
    occurred_on: datetime.date,
    reported_on: datetime.date,
    urn: str,
    notes: str = "",
    offence_type: OffenceType | str | None = None,
    today: datetime.date | None = None,
) -> Breach:
    """A breach of an order in force becomes a new case for the new offence (breach of a non-molestation order,
    a restraining order or a DAPO; for other orders, the offence the conduct amounts to), against the same
    person and with the protected victim, linked to the order so both cases show it and it is counted."""
    original = order.case
    require(actor, "victims.record_breach", original)
    original = lock_case(original)
    order = _lock_order(order)
    today = today or ledger.london_today()
    if order.status not in WAS_IN_FORCE_STATUSES or order.granted_on is None:
        raise TransitionError(
            f"The {order.get_kind_display().lower()} was never in force; nothing to breach."
        )
    not_future(occurred_on, "occurred_on", today)
    not_future(reported_on, "reported_on", today)
    if reported_on < occurred_on:
        raise ValidationError({"reported_on": "The breach is reported before it happened."})
    ended = min(d for d in (order.ended_on, order.expires_on, datetime.date.max) if d is not None)
    if not (order.granted_on <= occurred_on <= ended):
        raise ValidationError(
            {
                "occurred_on": f"The {order.get_kind_display().lower()} was not in force on {occurred_on:%d %B %Y}."
            }
        )
    code = offence_type or BREACH_OFFENCES.get(order.kind)
    if code is None:
        raise ValidationError(
            {
                "offence_type": f"A breach of a {order.get_kind_display().lower()} is not itself an offence in the "
                "offence table: give the offence the conduct amounts to."
            }
        )
    persons = [order.respondent] if order.respondent_id else list(original.suspects.all())
    victims = [order.victim] if order.victim_id else list(original.victims.all())
    with audited(actor, "breach_record"):
        new_case = case_create(
            actor=actor,
            urn=urn,
            reported_on=reported_on,
            offences=[
                {"offence_type": code, "committed_on": occurred_on, "particulars": f"Breach of {order}"}
            ],
            summary=f"Breach of the {order.get_kind_display().lower()} in case {original.urn}.",
            domestic_abuse=original.domestic_abuse,
            risk_level=original.risk_level,
            risk_tool=original.risk_tool,
            children_in_household=original.children_in_household,
            police_perpetrated=original.police_perpetrated,
            today=today,
        )
        # The same people, not copies (case_create only makes new people from names; see docs/victims.md).
        new_case.suspects.add(*persons)
        if original.restricted:
            # A restricted (police-perpetrated) case's breach stays restricted to the same named people.
            Case.objects.filter(pk=new_case.pk).update(restricted=True)
            new_case.restricted = True
            new_case.restricted_to.set({actor, *original.restricted_to.all()})
            # Its clocks' (and any submission's) copy of the gate fields follows at once (cases/derived.py).
            derived.case_refresh(new_case.pk, now=timezone.now())
        if len(persons) == 1:
            Offence.objects.filter(case=new_case, suspect__isnull=True).update(suspect=persons[0])
        for v in victims:
            _victim_copy(actor=actor, victim=v, to_case=new_case, reported_on=reported_on, today=today)
        breach = Breach.objects.create(
            order=order,
            occurred_on=occurred_on,
            reported_on=reported_on,
            new_case=new_case,
            notes=notes.strip(),
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        event_record(
            case=original,
            kind="breach_recorded",
            actor=actor,
            summary=f"Breach of the {order.get_kind_display().lower()} on {occurred_on:%d %b %Y}: "
            f"new case {new_case.urn}",
            data={"breach": breach.pk, "new_case": new_case.pk},
        )
        event_record(
            case=new_case,
            kind="breach_case",
            actor=actor,
            summary=f"Opened for a breach of the {order.get_kind_display().lower()} in case {original.urn}",
            data={"breach": breach.pk, "original_case": original.pk},
        )
        language.findings_record(case=original, source=breach, fields={"notes": breach.notes}, author=actor)
    return breach


def _victim_copy(
    *, actor: User, victim: Victim, to_case: Case, reported_on: datetime.date, today: datetime.date
) -> Victim:
    """The protected victim, in the breach case: same circumstances and safe contact, the address carried over
    (logged as recorded), and the Victims' Code clocks of a new report."""
    source = Victim.objects.get(pk=victim.pk)
    copy = Victim.objects.create(
        case=to_case,
        given_name=source.given_name,
        family_name=source.family_name,
        date_of_birth=source.date_of_birth,
        is_child=source.is_child,
        child_saw_or_heard=source.child_saw_or_heard,
        enhanced_rights=source.enhanced_rights or to_case.domestic_abuse,
        vulnerable=source.vulnerable,
        intimidated=source.intimidated,
        special_measures_declined=source.special_measures_declined,
        safe_contact_methods=source.safe_contact_methods,
        safe_contact_times=source.safe_contact_times,
        do_not_tell=source.do_not_tell,
        interpreter_language=source.interpreter_language,
        confidential_address=source.confidential_address,
    )
    _victim_clocks_open(to_case, copy, reported_on=reported_on, today=today)
    if copy.confidential_address:
        _access_log(
            actor=actor,
            victim=copy,
            what=PersonalDataAccess.What.ADDRESS_RECORDED,
            request_meta=None,
            reason=f"Carried over from case {victim.case.urn} with the breach",
        )
    event_record(
        case=to_case, kind="victim_added", actor=actor, summary="Victim added (from the original case)"
    )
    return copy
