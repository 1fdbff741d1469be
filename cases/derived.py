"""The derived columns: values computed from other rows and stored so that lists sort and page off an index.

- ``Case.changed_at``: when anything on the case last changed (the case row, its timeline, a clock's state);
- ``Case.next_due_on``: the earliest due date of the case's open clocks;
- ``Case.stl_due_on``: the earliest due date of the case's open statutory time limits;
- ``Case.action_plans_count``: the action plans issued on the case;
- ``ChargingReferral.decision_due_on``: the due date of the submission's charging-decision clock;
- ``Clock.force``, ``Clock.cps_area``, ``Clock.restricted``: the clock's copy of its case's access-gate fields
  (and ``ChargingReferral.force``/``cps_area``, its case's organisations), so organisation-wide deadline lists
  and counts read an index led by the organisation.

They are written only here, by set-based SQL from the rows they derive from, so a value is right by construction
whenever it is refreshed: the ledger refreshes ``next_due_on`` (and ``decision_due_on``) whenever it opens, stops or
recomputes a clock; ``event_record`` (which every service calls) refreshes all of a case's, and brings its clocks'
copy of the gate fields up to date in the same statement (a case is referred or restricted by a service); a clock
or submission takes the copy from its case when first saved; the sweep sets
``changed_at`` of the cases whose clocks it moved in the same statement. ``save()`` never writes them
(``DerivedFieldsMixin``). ``refresh_all`` recomputes every row: the migration that added them and
``generate_cases`` use it (and an operator can, after loading data by hand).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection

# The derivations, shared by the per-case refresh and the whole-table backfill. ``{where}`` narrows the cases.
_CASE_SQL = """
{gate}
UPDATE cases_case c SET
    next_due_on = d.next_due_on,
    stl_due_on = d.stl_due_on,
    action_plans_count = d.action_plans_count,
    changed_at = {changed}
FROM (
    SELECT c2.id,
           (SELECT min(k.due_on) FROM cases_clock k WHERE k.case_id = c2.id AND k.stopped_on IS NULL) AS next_due_on,
           (SELECT min(k.due_on) FROM cases_clock k
            WHERE k.case_id = c2.id AND k.stopped_on IS NULL AND k.kind IN ('stl', 'stl_common_assault'))
           AS stl_due_on,
           (SELECT count(*) FROM charging_actionplan p WHERE p.case_id = c2.id) AS action_plans_count,
           GREATEST(
               c2.updated_at,
               (SELECT max(e.occurred_at) FROM cases_caseevent e WHERE e.case_id = c2.id),
               (SELECT max(k.state_changed_at) FROM cases_clock k WHERE k.case_id = c2.id)
           ) AS changed_at
    FROM cases_case c2
    WHERE {where}
) d
WHERE c.id = d.id
"""

_NEXT_DUE_SQL = """
UPDATE cases_case c
SET next_due_on = (SELECT min(k.due_on) FROM cases_clock k WHERE k.case_id = c.id AND k.stopped_on IS NULL),
    stl_due_on = (
        SELECT min(k.due_on) FROM cases_clock k
        WHERE k.case_id = c.id AND k.stopped_on IS NULL AND k.kind IN ('stl', 'stl_common_assault')
    )
WHERE c.id = ANY(%(ids)s)
"""

# The clocks' copy of their case's access-gate fields: rewrites only the clocks whose copy differs. As a
# data-modifying CTE of the case refresh (one statement per service), or on its own for the backfill.
_CLOCK_GATE_UPDATE = """
UPDATE cases_clock k
SET force_id = gc.force_id, cps_area_id = gc.cps_area_id, restricted = gc.restricted
FROM cases_case gc
WHERE k.case_id = gc.id AND {where}
  AND (k.force_id, k.cps_area_id, k.restricted) IS DISTINCT FROM (gc.force_id, gc.cps_area_id, gc.restricted)
"""
_CLOCK_GATE_CTE = "WITH clock_gate AS (" + _CLOCK_GATE_UPDATE.format(where="gc.id = %(id)s") + ")"

_REFERRAL_ORG_UPDATE = """
UPDATE charging_chargingreferral r
SET force_id = rc.force_id, cps_area_id = rc.cps_area_id
FROM cases_case rc
WHERE r.case_id = rc.id AND {where}
  AND (r.force_id, r.cps_area_id) IS DISTINCT FROM (rc.force_id, rc.cps_area_id)
"""

_DECISION_DUE_SQL = """
UPDATE charging_chargingreferral r
SET decision_due_on = (
    SELECT k.due_on FROM cases_clock k
    WHERE k.referral_id = r.id AND k.kind = 'charging_decision'
    ORDER BY k.stopped_on IS NOT NULL, k.id DESC LIMIT 1
)
WHERE {where}
"""


def case_refresh(case_id: int, *, now: datetime.datetime) -> None:
    """Refresh every derived column of one case, bring its clocks' copy of the gate fields up to date, and mark
    it changed at ``now`` (one statement)."""
    with connection.cursor() as cur:
        cur.execute(
            _CASE_SQL.format(
                gate=_CLOCK_GATE_CTE, changed="GREATEST(%(now)s, d.changed_at)", where="c2.id = %(id)s"
            ),
            {"id": case_id, "now": now},
        )


def next_due_refresh(case_ids: Iterable[int]) -> None:
    """Refresh ``next_due_on`` of these cases after their clocks changed (one statement)."""
    ids = sorted(set(case_ids))
    if ids:
        with connection.cursor() as cur:
            cur.execute(_NEXT_DUE_SQL, {"ids": ids})


def decision_due_refresh(referral_ids: Iterable[int]) -> None:
    """Refresh ``decision_due_on`` of these submissions after their charging clock opened or moved."""
    ids = sorted(set(referral_ids))
    if ids:
        with connection.cursor() as cur:
            cur.execute(_DECISION_DUE_SQL.format(where="r.id = ANY(%(ids)s)"), {"ids": ids})


def refresh_all(*, case_ids: tuple[int, int] | None = None) -> None:
    """Recompute the derived columns of every case and submission (or of the case id range ``case_ids``,
    inclusive). ``changed_at`` becomes the latest of the row's own change, its events and its clocks' changes."""
    params: dict[str, object] = {}
    case_where, ref_where, gate_where = "TRUE", "TRUE", "TRUE"
    if case_ids is not None:
        params["lo"], params["hi"] = case_ids
        case_where = "c2.id BETWEEN %(lo)s AND %(hi)s"
        ref_where = "r.case_id BETWEEN %(lo)s AND %(hi)s"
        gate_where = "gc.id BETWEEN %(lo)s AND %(hi)s"
    with connection.cursor() as cur:
        cur.execute(_CLOCK_GATE_UPDATE.format(where=gate_where), params)
        cur.execute(_REFERRAL_ORG_UPDATE.format(where=ref_where.replace("r.case_id", "rc.id")), params)
        cur.execute(_CASE_SQL.format(gate="", changed="d.changed_at", where=case_where), params)
        cur.execute(_DECISION_DUE_SQL.format(where=ref_where), params)
