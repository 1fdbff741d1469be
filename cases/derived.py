"""The derived columns: values computed from other rows and stored so that lists sort and page off an index.

- ``Case.changed_at``: when anything on the case last changed (the case row, its timeline, a clock's state);
- ``Case.next_due_on``: the earliest due date of the case's open clocks;
- ``Case.stl_due_on``: the earliest due date of the case's open statutory time limits;
- ``Case.action_plans_count``, ``Case.last_plan_on``: the action plans issued on the case, and the latest one's
  issue date;
- ``ChargingReferral.decision_due_on``: the due date of the submission's charging-decision clock;
- ``force``, ``cps_area``, ``restricted`` of ``Clock`` and ``ChargingReferral``: the row's copy of its case's
  access-gate fields, so organisation-wide deadline lists, queues and counts read an index led by the
  organisation and apply the access gate to the row itself.

They are written only here, by set-based SQL from the rows they derive from, so a value is right by construction
whenever it is refreshed: the ledger refreshes ``next_due_on`` (and ``decision_due_on``) whenever it opens, stops or
recomputes a clock; ``event_record`` (which every service calls) refreshes all of a case's, and brings its clocks'
and submissions' copy of the gate fields up to date in the same statement (a case is referred or restricted by a
service); a clock or submission takes the copy from its case when first saved; the sweep sets
``changed_at`` of the cases whose clocks it moved in the same statement. ``save()`` never writes them
(``DerivedFieldsMixin``). ``refresh_all`` recomputes every row: the migration that added them and
``generate_cases`` use it (and an operator can, after loading data by hand).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection

from . import clocks

# The derivations, shared by the per-case refresh and the whole-table backfill. ``{where}`` narrows the cases.
_CASE_SQL = """
{gate}
UPDATE cases_case c SET
    next_due_on = d.next_due_on,
    stl_due_on = d.stl_due_on,
    action_plans_count = d.action_plans_count,
    last_plan_on = d.last_plan_on,
    changed_at = {changed}
FROM (
    SELECT c2.id,
           (SELECT min(k.due_on) FROM cases_clock k WHERE k.case_id = c2.id AND k.stopped_on IS NULL) AS next_due_on,
           (SELECT min(k.due_on) FROM cases_clock k
            WHERE k.case_id = c2.id AND k.stopped_on IS NULL AND k.kind IN {STL})
           AS stl_due_on,
           (SELECT count(*) FROM charging_actionplan p WHERE p.case_id = c2.id) AS action_plans_count,
           (SELECT max(p.issued_on) FROM charging_actionplan p WHERE p.case_id = c2.id) AS last_plan_on,
           GREATEST(
               c2.updated_at,
               (SELECT max(e.occurred_at) FROM cases_caseevent e WHERE e.case_id = c2.id),
               (SELECT max(k.state_changed_at) FROM cases_clock k WHERE k.case_id = c2.id)
           ) AS changed_at
    FROM cases_case c2
    WHERE {where}
) d
WHERE c.id = d.id
""".replace("{STL}", clocks.sql_list(clocks.STL_CLOCK_KINDS))

_NEXT_DUE_SQL = """
UPDATE cases_case c
SET next_due_on = (SELECT min(k.due_on) FROM cases_clock k WHERE k.case_id = c.id AND k.stopped_on IS NULL),
    stl_due_on = (
        SELECT min(k.due_on) FROM cases_clock k
        WHERE k.case_id = c.id AND k.stopped_on IS NULL AND k.kind IN {STL}
    )
WHERE c.id = ANY(%(ids)s)
""".replace("{STL}", clocks.sql_list(clocks.STL_CLOCK_KINDS))

# The copy of the case's access-gate fields that clocks and submissions carry: rewrites only the rows whose copy
# differs. As data-modifying CTEs of the case refresh (one statement per service), or on their own for the backfill.
GATE_COPIES = ("cases_clock", "charging_chargingreferral")

_GATE_COPY_UPDATE = """
UPDATE {table} t
SET force_id = gc.force_id, cps_area_id = gc.cps_area_id, restricted = gc.restricted
FROM cases_case gc
WHERE t.case_id = gc.id AND {where}
  AND (t.force_id, t.cps_area_id, t.restricted) IS DISTINCT FROM (gc.force_id, gc.cps_area_id, gc.restricted)
"""
_GATE_COPY_CTES = "WITH " + ", ".join(
    f"gate_{n} AS ({_GATE_COPY_UPDATE.format(table=table, where='gc.id = %(id)s')})"
    for n, table in enumerate(GATE_COPIES)
)

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
    """Refresh every derived column of one case, bring its clocks' and submissions' copy of the gate fields up to
    date, and mark it changed at ``now`` (one statement)."""
    with connection.cursor() as cur:
        cur.execute(
            _CASE_SQL.format(
                gate=_GATE_COPY_CTES, changed="GREATEST(%(now)s, d.changed_at)", where="c2.id = %(id)s"
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
        for table in GATE_COPIES:
            cur.execute(_GATE_COPY_UPDATE.format(table=table, where=gate_where), params)
        cur.execute(_CASE_SQL.format(gate="", changed="d.changed_at", where=case_where), params)
        cur.execute(_DECISION_DUE_SQL.format(where=ref_where), params)
