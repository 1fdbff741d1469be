"""Who may do which victims step: ``rules`` predicates on top of the one access gate (``can_view_case``).

Registered when the app is ready (``victims/apps.py``). Services call ``cases.rules.require(user, perm, case)``;
views ask ``user.has_perm(perm, case)`` to show only the forms the user may submit.

The confidential address (decided for this product, see docs/victims.md): the officer in charge, police
supervisors and victim liaison officers *of the case's force*. Not CPS staff (prosecutors, legal managers, or a
CPS Area's witness care staff), not scrutiny panel members, not triage officers, not force API clients, and not
system operators (superusers), who must act through a force account like anyone else. Every view is logged.
"""

from __future__ import annotations

from typing import Any

import rules

from cases.rules import can_view_case, in_force, is_police_caseworker, is_prosecutor, is_victim_liaison

ADDRESS_ROLES = ("oic", "police_supervisor", "victim_liaison")


@rules.predicate
def in_case_force(user: Any, case: Any) -> bool:
    """The user belongs to the force that owns the case."""
    return case is not None and getattr(user, "organisation_id", None) == case.force_id


@rules.predicate
def holds_address_role(user: Any) -> bool:
    return bool(
        getattr(user, "is_active", False) and any(r in getattr(user, "roles", ()) for r in ADDRESS_ROLES)
    )


PERMISSIONS = {
    "victims.view_confidential_address": in_force & in_case_force & holds_address_role & can_view_case,
    "victims.record_position": (is_police_caseworker | is_victim_liaison | is_prosecutor) & can_view_case,
    "victims.manage_order": (is_police_caseworker | is_prosecutor) & can_view_case,
    "victims.record_breach": is_police_caseworker & can_view_case,
    "victims.record_encompass": in_force & (is_police_caseworker | is_victim_liaison) & can_view_case,
}


def register() -> None:
    for name, predicate in PERMISSIONS.items():
        if not rules.perm_exists(name):
            rules.add_perm(name, predicate)
