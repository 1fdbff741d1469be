"""Writes for victims: one function per state change (more arrive with the Victims' Code issue)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from cases.models import Case, User
from cases.rules import require
from cases.services import _audited, event_record, lock_case

from .models import Victim


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
