"""Who may do which state change: ``rules`` predicates over the user's roles and the access gate.

Seeing a case is decided only by ``Case.objects.visible_to``; these predicates add what the user's role lets
them do to a case they can see. Services call ``require(user, perm, case)``; views and templates ask
``user.has_perm(perm, case)`` to show only the forms a user may submit.
"""

from __future__ import annotations

from typing import Any

import rules
from django.core.exceptions import PermissionDenied


@rules.predicate
def can_view_case(user: Any, case: Any) -> bool:
    if case is None:
        return False
    from .models import Case

    return Case.objects.visible_to(user).filter(pk=case.pk).exists()


def _has_role(*roles: str) -> rules.Predicate:
    name = "has_role:" + ",".join(roles)

    @rules.predicate(name)
    def check(user: Any) -> bool:
        return bool(getattr(user, "is_active", False) and hasattr(user, "roles") and user.has_role(*roles))

    return check


def _in_force() -> rules.Predicate:
    @rules.predicate("in_force")
    def check(user: Any) -> bool:
        org = getattr(user, "organisation", None)
        return org is not None and org.kind == "force"

    return check


def _in_cps() -> rules.Predicate:
    @rules.predicate("in_cps")
    def check(user: Any) -> bool:
        org = getattr(user, "organisation", None)
        return org is not None and org.kind == "cps_area"

    return check


in_force = _in_force()
in_cps = _in_cps()
is_police_caseworker = in_force & _has_role("oic", "police_supervisor", "triage_officer", "force_system")
is_police_supervisor = in_force & _has_role("police_supervisor")
is_prosecutor = in_cps & _has_role("prosecutor", "legal_manager")
is_victim_liaison = _has_role("victim_liaison", "oic", "police_supervisor")
is_administrator = _has_role("administrator")

PERMISSIONS = {
    # police
    "cases.create_case": is_police_caseworker,
    "cases.change_case": is_police_caseworker & can_view_case,
    "cases.add_offence": is_police_caseworker & can_view_case,
    "cases.record_police_outcome": is_police_caseworker & can_view_case,
    "cases.restrict_case": (is_police_supervisor | (in_force & is_administrator)) & can_view_case,
    "charging.refer_case": is_police_caseworker & can_view_case,
    "charging.record_charge": is_police_caseworker & can_view_case,
    "charging.update_action": (is_police_caseworker | is_prosecutor) & can_view_case,
    # CPS
    "charging.triage_referral": is_prosecutor & can_view_case,
    "charging.record_decision": is_prosecutor & can_view_case,
    "charging.issue_action_plan": is_prosecutor & can_view_case,
    # both
    "charging.record_conversation": (is_police_caseworker | is_prosecutor) & can_view_case,
    "cases.progress_case": (is_police_caseworker | is_prosecutor) & can_view_case,
    "victims.add_victim": (is_police_caseworker | is_victim_liaison) & can_view_case,
}

for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)


def require(user: Any, perm: str, case: Any = None) -> None:
    """Raise PermissionDenied unless ``user`` holds ``perm`` on ``case``."""
    if not rules.has_perm(perm, user, case):
        raise PermissionDenied(f"You are not allowed to do this ({perm.split('.', 1)[1].replace('_', ' ')}).")
