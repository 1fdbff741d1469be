"""Writes for victims: one function per state change (more arrive with the Victims' Code issue)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import ledger
from cases.models import Case, Clock, User
from cases.rules import require
from cases.services import _audited, event_record, lock_case

from .models import Victim, VictimContact


@transaction.atomic
def victim_add(
    *,
    actor: User,
    case: Case,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date | None = None,
    is_child: bool = False,
    enhanced_rights: bool = True,
    safe_contact_methods: str = "",
    safe_contact_times: str = "",
    confidential_address: str = "",
) -> Victim:
    """Add a victim to a case. Domestic abuse victims have enhanced rights under the Victims' Code by default."""
    require(actor, "victims.add_victim", case)
    case = lock_case(case)
    if not given_name.strip() or not family_name.strip():
        raise ValidationError({"given_name": "Give the victim's given and family names."})
    if date_of_birth and date_of_birth > case.reported_on:
        raise ValidationError({"date_of_birth": "The date of birth is after the report to police."})
    with _audited(actor, "victim_add"):
        victim = Victim.objects.create(
            case=case,
            given_name=given_name.strip(),
            family_name=family_name.strip(),
            date_of_birth=date_of_birth,
            is_child=is_child,
            enhanced_rights=enhanced_rights or case.domestic_abuse,
            safe_contact_methods=safe_contact_methods,
            safe_contact_times=safe_contact_times,
            confidential_address=confidential_address,
        )
        event_record(
            case=case,
            kind="victim_added",
            actor=actor,
            summary="Child victim added" if is_child else "Victim added",
        )
    return victim


@transaction.atomic
def victim_contact_record(
    *,
    actor: User,
    victim: Victim,
    contacted_at: datetime.datetime,
    method: str,
    purpose: str,
    outcome: str = "",
) -> VictimContact:
    """Log a contact with a victim. An update (Victims' Code Right 6) meets the victim's pending update clock:
    met if on time, missed if late."""
    case = victim.case
    require(actor, "victims.add_victim", case)
    lock_case(case)
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
    with _audited(actor, "victim_contact_record"):
        contact = VictimContact.objects.create(
            victim=victim,
            contacted_at=contacted_at,
            method=method,
            purpose=purpose,
            outcome=outcome,
            made_by=actor,
        )
        if purpose == VictimContact.Purpose.UPDATE:
            ledger.clocks_stop(
                case.clocks.open().filter(kind=Clock.Kind.VICTIM_UPDATE, victim=victim, started_on__lte=day),
                on=day,
            )
        event_record(
            case=case,
            kind="victim_contact",
            actor=actor,
            summary=f"Victim contact: {contact.get_purpose_display()}",
        )
    return contact
