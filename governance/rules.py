"""Who may do which governance step: ``rules`` predicates, loaded by rules' autodiscovery.

Seeing a case is still decided only by ``Case.objects.visible_to``; these predicates add what a role lets a
person do. Services call ``require(actor, perm, obj)`` (``cases.rules.require``), where ``obj`` is the panel,
meeting, review, case or person the step is about; pages ask ``user.has_perm(perm, obj)``.

- Scrutiny panels: members of a panel (role ``panel_member``) record its findings and share its learning;
  members and the administrators of the panel's organisation schedule meetings and draw the sample.
- Action plans: a police supervisor who can see the case rates a plan and raises an escalation; a CPS legal
  manager who can see the case answers it; either of them resolves it.
- The high-harm flag: a police supervisor or CPS legal manager who can see one of the person's cases may
  override it (with a justification).
- Performance figures: supervisors, legal managers, panel members, administrators, a force's records system
  (API client) and system operators; which rows each sees is ``governance.metrics.rows_allowed_for``.
"""

from __future__ import annotations

from typing import Any

import rules

from cases.rules import can_view_case, in_cps, is_police_supervisor, is_prosecutor

_PERFORMANCE_ROLES = ("police_supervisor", "legal_manager", "panel_member", "administrator", "force_system")


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_authenticated", False))


def _panel_of(obj: Any) -> Any:
    """The panel a panel, meeting or review belongs to."""
    from .models import PanelMeeting, PanelReview, ScrutinyPanel

    if isinstance(obj, ScrutinyPanel):
        return obj
    if isinstance(obj, PanelMeeting | PanelReview):
        return obj.panel
    return None


@rules.predicate
def is_member_of_panel(user: Any, obj: Any) -> bool:
    panel = _panel_of(obj)
    if panel is None or not _active(user) or "panel_member" not in getattr(user, "roles", []):
        return False
    return panel.members.filter(pk=user.pk).exists()


@rules.predicate
def is_administrator_of_panel_organisation(user: Any, obj: Any) -> bool:
    panel = _panel_of(obj)
    return (
        panel is not None
        and _active(user)
        and "administrator" in getattr(user, "roles", [])
        and getattr(user, "organisation_id", None) == panel.organisation_id
    )


@rules.predicate
def is_system_operator(user: Any) -> bool:
    return _active(user) and bool(getattr(user, "is_superuser", False))


@rules.predicate
def is_legal_manager(user: Any) -> bool:
    return _active(user) and "legal_manager" in getattr(user, "roles", [])


@rules.predicate
def has_performance_role(user: Any) -> bool:
    return (
        _active(user)
        and getattr(user, "organisation_id", None) is not None
        and any(r in getattr(user, "roles", []) for r in _PERFORMANCE_ROLES)
    )


@rules.predicate
def can_view_a_case_of_person(user: Any, person: Any) -> bool:
    if person is None or not _active(user):
        return False
    from cases.models import Case

    return Case.objects.visible_to(user).filter(suspects=person).exists()


is_cps_legal_manager = in_cps & is_legal_manager
is_police_supervisor_or_legal_manager = is_police_supervisor | is_cps_legal_manager

PERMISSIONS = {
    # scrutiny panels (object: panel, meeting or review)
    "governance.view_panel": is_member_of_panel | is_administrator_of_panel_organisation | is_system_operator,
    "governance.schedule_meeting": is_member_of_panel | is_administrator_of_panel_organisation,
    "governance.sample_cases": is_member_of_panel | is_administrator_of_panel_organisation,
    "governance.record_findings": is_member_of_panel,
    "governance.share_learning": is_member_of_panel,
    # action plans (object: case)
    "governance.rate_action_plan": is_police_supervisor & can_view_case,
    "governance.raise_escalation": is_police_supervisor & can_view_case,
    "governance.answer_escalation": is_cps_legal_manager & can_view_case,
    "governance.resolve_escalation": is_police_supervisor_or_legal_manager & can_view_case,
    # police closing a case after an action plan (object: case)
    "governance.acknowledge_cps_notification": is_prosecutor & can_view_case,
    # the high-harm repeat offender flag (object: person)
    "governance.override_hhro_flag": is_police_supervisor_or_legal_manager & can_view_a_case_of_person,
    # aggregate performance figures (no object)
    "governance.view_performance": has_performance_role | is_system_operator,
}

for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
