"""The joint performance figures: for each police force and CPS Area, by month, pilot sites against the rest,
and national totals, computed with SQL aggregates only (never a loop over cases).

Each family of figures is one statement over one fact table (referrals, triage, decisions, clocks, action
plans, orders and breaches, victim withdrawals), grouped with ``GROUPING SETS`` so one pass yields the force
rows, the Area rows, the pilot / rest rows and the national rows, each by month and for the whole period.

Attribution: a case counts for its force, and for its CPS Area (the Area it was referred to; before any
referral, its force's Area). A case is at a pilot site when its force or that Area is a pilot
(``Organisation.is_pilot``). Each figure is counted in the month of its own event (see ``METRICS``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from cases import clocks, ledger
from cases.models import Organisation
from charging.models import TriageReason

from .selectors import withdrawal_source

# --------------------------------------------------------------------------------------------------------------
# What each figure means
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # count, share (0..1), days, working_days, ratio
    definition: str
    chart: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("referrals", "Referrals received", "count", "Submissions CPS received in the month (all).", True),
    Metric("first_referrals", "Cases referred", "count", "First submissions received in the month."),
    Metric(
        "final_decisions",
        "Charging decisions",
        "count",
        "CPS decisions in the month to charge, take no further action or resolve out of court.",
    ),
    Metric("charge_decisions", "Decisions to charge", "count", "CPS decisions to charge in the month."),
    Metric("charge_rate", "Charge rate", "share", "Decisions to charge / charging decisions.", True),
    Metric(
        "median_days_report_to_referral",
        "Median days, report to referral",
        "days",
        "Calendar days from the report to police to the first referral, for cases first referred in the month.",
    ),
    Metric(
        "median_working_days_referral_to_decision",
        "Median working days, referral to decision",
        "working_days",
        "Working days of each charging-decision clock stopped by a decision (met or missed) in the month.",
    ),
    Metric(
        "median_days_decision_to_charge",
        "Median days, decision to charge",
        "days",
        "Calendar days of each charge clock stopped by a charge (met or missed) in the month.",
    ),
    Metric("investigation_met", "Investigations within 21 days", "count", "Investigation clocks met."),
    Metric("investigation_missed", "Investigations over 21 days", "count", "Investigation clocks missed."),
    Metric(
        "share_investigation_21_days",
        "Share within 21 days (investigation)",
        "share",
        "Investigation clocks stopped in the month: met / (met + missed).",
        True,
    ),
    Metric("decision_met", "Decisions within 10 working days", "count", "Charging-decision clocks met."),
    Metric("decision_missed", "Decisions over 10 working days", "count", "Charging-decision clocks missed."),
    Metric(
        "share_decision_10_working_days",
        "Share within 10 working days (decision)",
        "share",
        "Charging-decision clocks stopped by a decision in the month: met / (met + missed).",
        True,
    ),
    Metric("charge_met", "Charges within 7 days", "count", "Charge clocks met."),
    Metric("charge_missed", "Charges over 7 days", "count", "Charge clocks missed."),
    Metric(
        "share_charge_7_days",
        "Share within 7 days (charge)",
        "share",
        "Charge clocks stopped in the month: met / (met + missed).",
        True,
    ),
    Metric(
        "stl_found_on_receipt",
        "STL within eight weeks on receipt",
        "count",
        "Cases referred in the month whose statutory time limit was due within the flag period (56 days) "
        "on the day CPS received them.",
    ),
    Metric(
        "stl_failures",
        "STL failures",
        "count",
        "Cases with an offence's statutory time limit passed uncharged or charged late, by the month the "
        "limit fell.",
    ),
    Metric("action_plans", "Action plans issued", "count", "Action plans issued in the month."),
    Metric(
        "action_plans_per_referral",
        "Action plans per referral",
        "ratio",
        "Action plans issued / referrals received in the month.",
    ),
    Metric("action_plans_rated", "Action plans rated", "count", "Plans issued in the month that were rated."),
    Metric(
        "share_rated_proportionate",
        "Share of rated plans proportionate",
        "share",
        "Plans issued in the month rated proportionate / plans rated.",
        True,
    ),
    Metric(
        "action_plans_escalated", "Action plans escalated", "count", "Plans issued in the month escalated."
    ),
    Metric(
        "nfa_after_action_plan_police",
        "Police NFA after an action plan",
        "count",
        "Cases police closed with no further action while an action plan was with them, by month closed.",
    ),
    Metric(
        "nfa_after_action_plan_cps",
        "CPS NFA after an action plan",
        "count",
        "CPS decisions of no further action in the month on cases that had an action plan before.",
    ),
    Metric("nfa_after_action_plan", "NFA after an action plan", "count", "Police and CPS together."),
    Metric("orders_considered", "Protective orders considered", "count", "By the month considered."),
    Metric("orders_applied", "Protective orders applied for", "count", "By the month applied for."),
    Metric("orders_granted", "Protective orders granted", "count", "By the month granted."),
    Metric("orders_breached", "Protective order breaches", "count", "Breaches by the month they occurred."),
    Metric(
        "victim_withdrawals",
        "Victim withdrawals",
        "count",
        "Victims moving away from supporting a prosecution, by the month recorded (empty until the victims "
        "record of prosecution positions exists).",
    ),
    Metric("victim_updates_met", "Victim updates on time", "count", "Victims' Code update clocks met."),
    Metric(
        "victim_updates_missed",
        "Victim updates late",
        "count",
        "Victims' Code update clocks missed, or superseded by a later event after their due date.",
    ),
    Metric(
        "victims_code_compliance",
        "Victims' Code compliance (updates)",
        "share",
        "Victim update clocks stopped in the month: on time / (on time + late).",
        True,
    ),
    Metric("referrals_triaged", "Referrals triaged", "count", "Accepted or returned at triage in the month."),
    Metric(
        "triage_rejections",
        "Returned at triage (file quality)",
        "count",
        "Referrals returned at triage in the month; by reason below (a referral can have several).",
    ),
)

METRIC_KEYS = tuple(m.key for m in METRICS)
METRICS_BY_KEY = {m.key: m for m in METRICS}


# --------------------------------------------------------------------------------------------------------------
# SQL
# --------------------------------------------------------------------------------------------------------------

# Each case's force, Area (referred-to, else its force's) and whether it is at a pilot site.
_CX = """
cx AS (
    SELECT c.id AS case_id, c.force_id, coalesce(c.cps_area_id, fo.area_id) AS area_id,
           (fo.is_pilot OR coalesce(ao.is_pilot, FALSE)) AS pilot
    FROM cases_case c
    JOIN cases_organisation fo ON fo.id = c.force_id
    LEFT JOIN cases_organisation ao ON ao.id = coalesce(c.cps_area_id, fo.area_id)
)
"""


def _grouped(facts: str, aggregates: str, extra: str = "") -> str:
    """Aggregate a fact query (columns force_id, area_id, pilot, month, ...) over the grouping sets: each
    force, each Area, pilot / rest and national, by month and for the whole period; ``extra`` is one more key
    column kept in every set (e.g. the triage reason)."""
    x = f", {extra}" if extra else ""
    sets = ", ".join(
        f"({cols}{x})" if cols else f"({extra})"
        for cols in (
            "force_id, month",
            "area_id, month",
            "pilot, month",
            "month",
            "force_id",
            "area_id",
            "pilot",
            "",
        )
    )
    # Only this module's constant SQL fragments are interpolated; values are always query parameters.
    return f"""
    WITH {_CX}, f AS ({facts})
    SELECT GROUPING(force_id) AS g_force, GROUPING(area_id) AS g_area, GROUPING(pilot) AS g_pilot,
           GROUPING(month) AS g_month, force_id, area_id, pilot, month{x}, {aggregates}
    FROM f
    GROUP BY GROUPING SETS ({sets})
    """  # noqa: S608


_REFERRALS = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', r.received_on)::date AS month,
           r.case_id, r.sequence, (r.received_on - c.reported_on) AS days_to_referral,
           EXISTS (
               SELECT 1 FROM cases_clock k
               WHERE k.case_id = r.case_id AND k.kind IN ('stl', 'stl_common_assault')
                 AND k.started_on <= r.received_on
                 AND (k.stopped_on IS NULL OR k.stopped_on >= r.received_on)
                 AND k.due_on >= r.received_on AND k.due_on <= r.received_on + %(stl_flag_days)s
           ) AS stl_on_receipt
    FROM charging_chargingreferral r
    JOIN cases_case c ON c.id = r.case_id
    JOIN cx ON cx.case_id = r.case_id
    WHERE r.received_on >= %(start)s AND r.received_on < %(end)s
    """,
    """count(*) AS referrals,
       count(*) FILTER (WHERE sequence = 1) AS first_referrals,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_referral) FILTER (WHERE sequence = 1)
           AS median_days_report_to_referral,
       count(DISTINCT case_id) FILTER (WHERE stl_on_receipt) AS stl_found_on_receipt""",
)

_TRIAGE = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', r.triaged_on)::date AS month, r.triage
    FROM charging_chargingreferral r
    JOIN cx ON cx.case_id = r.case_id
    WHERE r.triage IN ('accepted', 'rejected') AND r.triaged_on >= %(start)s AND r.triaged_on < %(end)s
    """,
    """count(*) AS referrals_triaged, count(*) FILTER (WHERE triage = 'rejected') AS triage_rejections""",
)

_TRIAGE_REASONS = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', r.triaged_on)::date AS month,
           unnest(r.triage_reasons) AS reason
    FROM charging_chargingreferral r
    JOIN cx ON cx.case_id = r.case_id
    WHERE r.triage = 'rejected' AND r.triaged_on >= %(start)s AND r.triaged_on < %(end)s
    """,
    "count(*) AS failures",
    extra="reason",
)

_DECISIONS = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', d.decided_on)::date AS month, d.outcome,
           EXISTS (
               SELECT 1 FROM charging_actionplan p
               WHERE p.case_id = d.case_id AND p.decision_id <> d.id AND p.issued_on <= d.decided_on
           ) AS after_plan
    FROM charging_chargingdecision d
    JOIN cx ON cx.case_id = d.case_id
    WHERE d.decided_on >= %(start)s AND d.decided_on < %(end)s
    """,
    """count(*) FILTER (WHERE outcome IN ('charge', 'nfa', 'out_of_court')) AS final_decisions,
       count(*) FILTER (WHERE outcome = 'charge') AS charge_decisions,
       count(*) FILTER (WHERE outcome = 'nfa' AND after_plan) AS nfa_after_action_plan_cps""",
)

_CLOCKS = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', k.stopped_on)::date AS month, k.kind,
           (k.state = 'met') AS met,
           (k.state = 'missed'
            OR (k.kind = 'victim_update' AND k.state = 'superseded' AND k.stopped_on > k.due_on)) AS missed,
           (k.stopped_on - k.started_on) AS days,
           CASE WHEN k.kind = 'charging_decision' THEN (
               SELECT count(*) FROM generate_series(1, k.stopped_on - k.started_on) AS g(n)
               WHERE extract(isodow FROM k.started_on + g.n) < 6
                 AND (k.started_on + g.n) <> ALL(%(holidays)s::date[])
           ) END AS working_days
    FROM cases_clock k
    JOIN cx ON cx.case_id = k.case_id
    WHERE k.kind IN ('investigation', 'charging_decision', 'charge', 'victim_update')
      AND k.stopped_on >= %(start)s AND k.stopped_on < %(end)s
    """,
    """count(*) FILTER (WHERE kind = 'investigation' AND met) AS investigation_met,
       count(*) FILTER (WHERE kind = 'investigation' AND missed) AS investigation_missed,
       count(*) FILTER (WHERE kind = 'charging_decision' AND met) AS decision_met,
       count(*) FILTER (WHERE kind = 'charging_decision' AND missed) AS decision_missed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY working_days)
           FILTER (WHERE kind = 'charging_decision' AND (met OR missed))
           AS median_working_days_referral_to_decision,
       count(*) FILTER (WHERE kind = 'charge' AND met) AS charge_met,
       count(*) FILTER (WHERE kind = 'charge' AND missed) AS charge_missed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE kind = 'charge' AND (met OR missed))
           AS median_days_decision_to_charge,
       count(*) FILTER (WHERE kind = 'victim_update' AND met) AS victim_updates_met,
       count(*) FILTER (WHERE kind = 'victim_update' AND missed) AS victim_updates_missed""",
)

_STL_FAILURES = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', k.due_on)::date AS month, k.case_id
    FROM cases_clock k
    JOIN cx ON cx.case_id = k.case_id
    WHERE k.kind = 'stl' AND k.state IN ('missed', 'time_barred')
      AND k.due_on >= %(start)s AND k.due_on < %(end)s
    """,
    "count(DISTINCT case_id) AS stl_failures",
)

_ACTION_PLANS = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', p.issued_on)::date AS month,
           rt.rating, EXISTS (SELECT 1 FROM charging_actionplanescalation e WHERE e.plan_id = p.id) AS escalated
    FROM charging_actionplan p
    JOIN cx ON cx.case_id = p.case_id
    LEFT JOIN charging_actionplanrating rt ON rt.plan_id = p.id
    WHERE p.issued_on >= %(start)s AND p.issued_on < %(end)s
    """,
    """count(*) AS action_plans,
       count(rating) AS action_plans_rated,
       count(*) FILTER (WHERE rating = 'proportionate') AS action_plans_proportionate,
       count(*) FILTER (WHERE escalated) AS action_plans_escalated""",
)

# Police closed the case with NFA while a plan was with them: the police outcome closes the open plan on the
# day; a case CPS later decided NFA is counted there instead.
_POLICE_NFA = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', p.closed_on)::date AS month, p.case_id
    FROM charging_actionplan p
    JOIN cases_case c ON c.id = p.case_id
    JOIN cx ON cx.case_id = p.case_id
    WHERE p.status = 'closed' AND c.status = 'nfa'
      AND p.closed_on >= %(start)s AND p.closed_on < %(end)s
      AND NOT EXISTS (SELECT 1 FROM charging_chargingdecision d WHERE d.case_id = p.case_id AND d.outcome = 'nfa')
    """,
    "count(DISTINCT case_id) AS nfa_after_action_plan_police",
)

_ORDERS = _grouped(
    """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', o.considered_on)::date AS month,
           'considered' AS what
    FROM victims_protectiveorder o JOIN cx ON cx.case_id = o.case_id
    WHERE o.considered_on >= %(start)s AND o.considered_on < %(end)s
    UNION ALL
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', o.applied_on)::date, 'applied'
    FROM victims_protectiveorder o JOIN cx ON cx.case_id = o.case_id
    WHERE o.applied_on >= %(start)s AND o.applied_on < %(end)s
    UNION ALL
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', o.granted_on)::date, 'granted'
    FROM victims_protectiveorder o JOIN cx ON cx.case_id = o.case_id
    WHERE o.granted_on >= %(start)s AND o.granted_on < %(end)s
    UNION ALL
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', b.occurred_on)::date, 'breached'
    FROM victims_breach b
    JOIN victims_protectiveorder o ON o.id = b.order_id
    JOIN cx ON cx.case_id = o.case_id
    WHERE b.occurred_on >= %(start)s AND b.occurred_on < %(end)s
    """,
    """count(*) FILTER (WHERE what = 'considered') AS orders_considered,
       count(*) FILTER (WHERE what = 'applied') AS orders_applied,
       count(*) FILTER (WHERE what = 'granted') AS orders_granted,
       count(*) FILTER (WHERE what = 'breached') AS orders_breached""",
)

_WITHDRAWALS_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', w.on_day)::date AS month
    FROM ({source}) AS w(case_id, on_day)
    JOIN cx ON cx.case_id = w.case_id
    WHERE w.on_day >= %(start)s AND w.on_day < %(end)s
"""


def _withdrawals_sql() -> tuple[str, dict[str, Any]] | None:
    """The withdrawals family, built on the victims app's own queryset (guarded: None while it does not
    exist). Its compiled SQL is embedded with its parameters renamed to named ones."""
    source = withdrawal_source()
    if source is None:
        return None
    qs = source.queryset.order_by().values_list(source.case_id_path, source.date_field)
    sql, params = qs.query.sql_with_params()
    names = iter(range(len(params)))
    sql = re.sub(r"(?<!%)%s", lambda _m: f"%(w{next(names)})s", sql)
    facts = _WITHDRAWALS_FACTS.format(source=sql)
    return _grouped(facts, "count(*) AS victim_withdrawals"), {f"w{i}": p for i, p in enumerate(params)}


# --------------------------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------------------------

SCOPES = ("national", "pilot", "rest", "area", "force")
SCOPE_LABELS = {
    "national": "England and Wales",
    "pilot": "Pilot sites",
    "rest": "Other sites",
}


@dataclass
class Row:
    scope: str  # national, pilot, rest, area, force
    organisation: Organisation | None
    month: datetime.date | None  # None: the whole period
    values: dict[str, Any] = field(default_factory=dict)
    triage_failures: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.organisation.name if self.organisation else SCOPE_LABELS[self.scope]

    @property
    def key(self) -> str:
        """A stable name for the row's series: ``force:GMP``, ``area:NW``, ``national``, ``pilot``, ``rest``."""
        return f"{self.scope}:{self.organisation.code}" if self.organisation else self.scope


@dataclass
class Report:
    start: datetime.date  # first day of the first month
    end: datetime.date  # first day of the last month
    months: list[datetime.date]
    rows: list[Row]
    withdrawals_available: bool

    def series(self) -> dict[str, dict[datetime.date | None, Row]]:
        out: dict[str, dict[datetime.date | None, Row]] = {}
        for row in self.rows:
            out.setdefault(row.key, {})[row.month] = row
        return out

    def restricted_to(self, allowed: Any) -> Report:
        """The rows a viewer may see (``allowed(row) -> bool``)."""
        return Report(
            self.start,
            self.end,
            self.months,
            [r for r in self.rows if allowed(r)],
            self.withdrawals_available,
        )


def month_floor(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    out, m = [], month_floor(start)
    while m <= end:
        out.append(m)
        m = add_months(m, 1)
    return out


def _holidays(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The bank holidays a charging clock stopped in the period can span (from the year before)."""
    cal = clocks.active_calendar()
    return sorted(d for year in range(start.year - 1, end.year + 1) for d in cal.bank_holidays(year))


def _ratio(num: Any, den: Any) -> float | None:
    return None if not den else round(float(num or 0) / float(den), 4)


def _key(row: dict[str, Any]) -> tuple[str, int | None, datetime.date | None] | None:
    if row["g_force"] == 0:
        scope, org = "force", row["force_id"]
    elif row["g_area"] == 0:
        if row["area_id"] is None:
            return None
        scope, org = "area", row["area_id"]
    elif row["g_pilot"] == 0:
        scope, org = ("pilot" if row["pilot"] else "rest"), None
    else:
        scope, org = "national", None
    return scope, org, (row["month"] if row["g_month"] == 0 else None)


def _fetch(sql: str, params: dict[str, Any]) -> Iterable[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        for values in cursor.fetchall():
            yield dict(zip(names, values, strict=True))


def performance_report(*, start: datetime.date, end: datetime.date) -> Report:
    """Every figure for the months from ``start``'s month to ``end``'s month (inclusive), for every force and
    CPS Area with activity, pilot sites and the rest, and England and Wales; each by month and for the period.
    A fixed number of SQL statements, whatever the number of cases."""
    ledger.sync_rules()
    start, end = month_floor(start), month_floor(end)
    if end < start:
        raise ValueError("The period ends before it starts.")
    params: dict[str, Any] = {
        "start": start,
        "end": add_months(end, 1),
        "stl_flag_days": settings.JJP_RULES["stl_flag_days"],
        "holidays": _holidays(start, add_months(end, 1)),
    }
    cells: dict[tuple[str, int | None, datetime.date | None], Row] = {}

    def cell(k: tuple[str, int | None, datetime.date | None]) -> Row:
        if k not in cells:
            cells[k] = Row(scope=k[0], organisation=None, month=k[2])
            cells[k].values = {m: None for m in METRIC_KEYS}
        return cells[k]

    families = [_REFERRALS, _TRIAGE, _DECISIONS, _CLOCKS, _STL_FAILURES, _ACTION_PLANS, _POLICE_NFA, _ORDERS]
    for sql in families:
        for row in _fetch(sql, params):
            k = _key(row)
            if k is None:
                continue
            values = cell(k).values
            for name, value in row.items():
                if name in METRICS_BY_KEY or name == "action_plans_proportionate":
                    values[name] = float(value) if isinstance(value, float) else value
    for row in _fetch(_TRIAGE_REASONS, params):
        k = _key(row)
        if k is not None and row["reason"] is not None:
            cell(k).triage_failures[row["reason"]] = row["failures"]
    withdrawals = _withdrawals_sql()
    if withdrawals is not None:
        sql, extra = withdrawals
        for row in _fetch(sql, {**params, **extra}):
            k = _key(row)
            if k is not None:
                cell(k).values["victim_withdrawals"] = row["victim_withdrawals"]

    orgs = Organisation.objects.in_bulk({k[1] for k in cells if k[1] is not None})
    for (_scope, org_id, _month), row in cells.items():
        row.organisation = orgs.get(org_id) if org_id is not None else None
        _derive(row.values, withdrawals_available=withdrawals is not None)
    rows = sorted(
        cells.values(),
        key=lambda r: (
            SCOPES.index(r.scope),
            r.organisation.name if r.organisation else "",
            r.month or datetime.date.max,
        ),
    )
    return Report(start, end, months_between(start, end), rows, withdrawals is not None)


_COUNTS = tuple(m.key for m in METRICS if m.unit == "count" and m.key != "victim_withdrawals")


def _derive(v: dict[str, Any], *, withdrawals_available: bool) -> None:
    """Counts default to 0 where the family had no rows; shares and ratios from the counts."""
    for key in _COUNTS:
        if v.get(key) is None:
            v[key] = 0
    if withdrawals_available and v.get("victim_withdrawals") is None:
        v["victim_withdrawals"] = 0
    v["nfa_after_action_plan"] = v["nfa_after_action_plan_police"] + v["nfa_after_action_plan_cps"]
    v["charge_rate"] = _ratio(v["charge_decisions"], v["final_decisions"])
    v["share_investigation_21_days"] = _ratio(
        v["investigation_met"], v["investigation_met"] + v["investigation_missed"]
    )
    v["share_decision_10_working_days"] = _ratio(v["decision_met"], v["decision_met"] + v["decision_missed"])
    v["share_charge_7_days"] = _ratio(v["charge_met"], v["charge_met"] + v["charge_missed"])
    v["action_plans_per_referral"] = _ratio(v["action_plans"], v["referrals"])
    v["share_rated_proportionate"] = _ratio(v.pop("action_plans_proportionate", 0), v["action_plans_rated"])
    v["victims_code_compliance"] = _ratio(
        v["victim_updates_met"], v["victim_updates_met"] + v["victim_updates_missed"]
    )
    for key in (
        "median_days_report_to_referral",
        "median_working_days_referral_to_decision",
        "median_days_decision_to_charge",
    ):
        if v.get(key) is not None:
            v[key] = round(float(v[key]), 1)


# --------------------------------------------------------------------------------------------------------------
# Who sees which rows
# --------------------------------------------------------------------------------------------------------------


def rows_allowed_for(user: Any) -> Any:
    """A predicate over rows: national and pilot / rest rows for everyone allowed to see performance figures;
    force and Area rows for the user's own organisation and its joint partner (a force's Area; an Area's
    forces), as they meet in the same joint operational improvement meeting; everything for system operators."""
    if user.is_superuser:
        return lambda row: True
    org = user.organisation
    if org is None:
        return lambda row: row.organisation is None
    if org.is_force:
        own = {("force", org.pk), ("area", org.area_id)}
    else:
        own = {("area", org.pk)} | {("force", pk) for pk in org.forces.values_list("pk", flat=True)}

    def allowed(row: Row) -> bool:
        return row.organisation is None or (row.scope, row.organisation.pk) in own

    return allowed


def metric_value_display(metric: Metric, value: Any) -> str:
    if value is None:
        return "–"
    if metric.unit == "share":
        return f"{value * 100:.0f}%"
    if metric.unit == "ratio":
        return f"{value:.2f}"
    if metric.unit in ("days", "working_days"):
        return f"{value:g}"
    return str(value)


TRIAGE_REASON_LABELS = dict(TriageReason.choices)
