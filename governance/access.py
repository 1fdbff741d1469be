"""What governance adds to the one access gate (``cases.selectors``): a scrutiny panel member sees the cases their
panels review, and only those. Registered in ``GovernanceConfig.ready`` as an access grant (``cases.hooks``), so the
gate in ``cases`` never imports this app; the Q and the SQL are the same rule (tests/cases/test_alerts_gate.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from cases.hooks import AccessGrant

from .models import PanelReview, ScrutinyPanel


def _panel_q(user: Any, case_pk: str) -> Q | None:
    if "panel_member" not in user.roles:
        return None
    reviewed = PanelReview.objects.filter(panel__members=user).values("case_id")
    return Q(**{f"{case_pk}__in": reviewed})


def _panel_sql(user: str, case_id: str) -> str:
    members = ScrutinyPanel.members.through._meta
    panel_column = members.get_field("scrutinypanel").column
    return f"""'panel_member' = ANY({user}.roles)
                        AND EXISTS (
                            SELECT 1 FROM {PanelReview._meta.db_table} gate_pr
                            JOIN {members.db_table} gate_pm ON gate_pm.{panel_column} = gate_pr.panel_id
                            WHERE gate_pr.case_id = {case_id} AND gate_pm.user_id = {user}.id
                        )"""  # noqa: S608


PANEL_MEMBERS = AccessGrant(name="scrutiny_panel_members", q=_panel_q, sql=_panel_sql)
