"""The joint performance figures: for each police force and CPS Area, by month, pilot sites against the rest,
and national totals, computed with SQL aggregates only (never a loop over cases), stored, and read back.

Each family of figures (referrals, early advice, triage, decisions, clocks, STL failures, action plans, police
NFA, orders, victim withdrawals) is one fact query over one fact table. ``figures_store`` turns each family into one
``INSERT ... SELECT ... GROUP BY GROUPING SETS ... ON CONFLICT DO UPDATE`` of counts into ``PerformanceFigure``
(force, Area, pilot / rest and national rows by month: plain counts, distributions for the medians, and counts
of distinct cases keyed by each case's last earlier month); ``performance_report`` adds them up for the months
asked for, from the stored rows only (a few small indexed queries, whatever the number of cases).
``performance_report_direct`` computes the same report straight from the fact tables (``GROUPING SETS`` with
the whole-period sets too): what every page view used to run, kept as the reference the stored path is tested
against.

Attribution: a case counts for its force, and for its CPS Area (the Area it was referred to; before any
referral, its force's Area). A case is at a pilot site when its force or that Area is a pilot
(``Organisation.is_pilot``). Each figure is counted in the month of its own event (see ``METRICS``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from cases import clocks, ledger
from cases.models import BankHolidayOverride, Organisation
from charging.models import TriageReason

from .models import PerformanceRefresh
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
    Metric(
        "referrals",
        "Referrals received",
        "count",
        "Full-file submissions for a charging decision CPS received in the month (early advice apart).",
        True,
    ),
    Metric(
        "first_referrals", "Cases referred", "count", "First full-file submissions received in the month."
    ),
    Metric(
        "early_advice_requests",
        "Early advice requested",
        "count",
        "Requests for early advice CPS received in the month (not charging referrals: they stop no "
        "investigation clock; before early advice had its own record, submissions for early advice).",
    ),
    Metric("early_advice_given", "Early advice given", "count", "Early advice given in the month."),
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
# SQL: the facts of each family
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

# A referral received while an STL clock of its case ran that fell due within the flag period of the receipt.
_STL_ON_RECEIPT = """EXISTS (
    SELECT 1 FROM cases_clock k
    WHERE k.case_id = {r}.case_id AND k.kind IN <STL>
      AND k.started_on <= {r}.received_on
      AND (k.stopped_on IS NULL OR k.stopped_on >= {r}.received_on)
      AND k.due_on >= {r}.received_on AND k.due_on <= {r}.received_on + %(stl_flag_days)s
)""".replace("<STL>", clocks.sql_list(clocks.STL_CLOCK_KINDS))

# Every fact query yields force_id, area_id, pilot and month (the first day of the month of the fact's own
# event), for the facts dated from %(start)s (inclusive) to %(end)s (exclusive).
# Full-file submissions only (early advice is counted apart, ``_EARLY_ADVICE_FACTS``); ``sequence`` is the
# submission's place among the case's full-file submissions (1: the case's first referral), leaving out the
# submissions for early advice recorded before early advice had its own record.
_REFERRAL_FACTS = f"""
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', r.received_on)::date AS month,
           r.case_id,
           r.sequence - (SELECT count(*) FROM charging_chargingreferral ea
                         WHERE ea.case_id = r.case_id AND ea.kind = 'early_advice' AND ea.sequence < r.sequence)
               AS sequence,
           (r.received_on - c.reported_on) AS days_to_referral,
           {_STL_ON_RECEIPT.format(r="r")} AS stl_on_receipt
    FROM charging_chargingreferral r
    JOIN cases_case c ON c.id = r.case_id
    JOIN cx ON cx.case_id = r.case_id
    WHERE r.kind = 'charging_decision' AND r.received_on >= %(start)s AND r.received_on < %(end)s
"""  # noqa: S608

# Early advice asked for and given (``EarlyAdvice``), and the submissions for early advice recorded before it
# had its own record (asked for when received, given when decided).
_EARLY_ADVICE_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', e.requested_on)::date AS month,
           'requested' AS what
    FROM charging_earlyadvice e JOIN cx ON cx.case_id = e.case_id
    WHERE e.requested_on >= %(start)s AND e.requested_on < %(end)s
    UNION ALL
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', e.given_on)::date, 'given'
    FROM charging_earlyadvice e JOIN cx ON cx.case_id = e.case_id
    WHERE e.given_on >= %(start)s AND e.given_on < %(end)s
    UNION ALL
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', r.received_on)::date, 'requested'
    FROM charging_chargingreferral r JOIN cx ON cx.case_id = r.case_id
    WHERE r.kind = 'early_advice' AND r.received_on >= %(start)s AND r.received_on < %(end)s
    UNION ALL
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', r.closed_on)::date, 'given'
    FROM charging_chargingreferral r JOIN cx ON cx.case_id = r.case_id
    WHERE r.kind = 'early_advice' AND r.status = 'decided' AND r.closed_on >= %(start)s AND r.closed_on < %(end)s
"""

_TRIAGE_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', r.triaged_on)::date AS month, r.triage,
           r.triage_reasons
    FROM charging_chargingreferral r
    JOIN cx ON cx.case_id = r.case_id
    WHERE r.triage IN ('accepted', 'rejected') AND r.triaged_on >= %(start)s AND r.triaged_on < %(end)s
"""

_DECISION_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', d.decided_on)::date AS month, d.outcome,
           EXISTS (
               SELECT 1 FROM charging_actionplan p
               WHERE p.case_id = d.case_id AND p.decision_id <> d.id AND p.issued_on <= d.decided_on
           ) AS after_plan
    FROM charging_chargingdecision d
    JOIN charging_chargingreferral r ON r.id = d.referral_id
    JOIN cx ON cx.case_id = d.case_id
    WHERE r.kind = 'charging_decision' AND d.decided_on >= %(start)s AND d.decided_on < %(end)s
"""

_CLOCK_FACTS = """
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
      -- Early advice recorded as a submission (before it had its own record) is counted apart: its charging
      -- clock, and an investigation clock it stopped before any full file was received, are left out.
      AND NOT (k.kind IN ('investigation', 'charging_decision') AND EXISTS (
          SELECT 1 FROM charging_chargingreferral ea
          WHERE ea.case_id = k.case_id AND ea.kind = 'early_advice'
            AND ((k.kind = 'charging_decision' AND ea.id = k.referral_id)
                 OR (k.kind = 'investigation' AND ea.received_on = k.stopped_on
                     AND NOT EXISTS (
                         SELECT 1 FROM charging_chargingreferral fr
                         WHERE fr.case_id = k.case_id AND fr.kind = 'charging_decision'
                           AND fr.received_on <= k.stopped_on)))))
"""

_STL_FAILURE_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', k.due_on)::date AS month, k.case_id
    FROM cases_clock k
    JOIN cx ON cx.case_id = k.case_id
    WHERE k.kind = 'stl' AND k.state IN ('missed', 'time_barred')
      AND k.due_on >= %(start)s AND k.due_on < %(end)s
"""

_ACTION_PLAN_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', p.issued_on)::date AS month,
           rt.rating, EXISTS (SELECT 1 FROM charging_actionplanescalation e WHERE e.plan_id = p.id) AS escalated
    FROM charging_actionplan p
    JOIN cx ON cx.case_id = p.case_id
    LEFT JOIN charging_actionplanrating rt ON rt.plan_id = p.id
    WHERE p.issued_on >= %(start)s AND p.issued_on < %(end)s
"""

# Police closed the case with NFA while a plan was with them: the police outcome closes the open plan on the
# day; a case CPS later decided NFA is counted there instead.
_POLICE_NFA_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', p.closed_on)::date AS month, p.case_id
    FROM charging_actionplan p
    JOIN cases_case c ON c.id = p.case_id
    JOIN cx ON cx.case_id = p.case_id
    WHERE p.status = 'closed' AND c.status = 'nfa'
      AND p.closed_on >= %(start)s AND p.closed_on < %(end)s
      AND NOT EXISTS (SELECT 1 FROM charging_chargingdecision d WHERE d.case_id = p.case_id AND d.outcome = 'nfa')
"""

_ORDER_FACTS = """
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
"""

_WITHDRAWALS_FACTS = """
    SELECT cx.force_id, cx.area_id, cx.pilot, date_trunc('month', w.on_day)::date AS month
    FROM ({source}) AS w(case_id, on_day)
    JOIN cx ON cx.case_id = w.case_id
    WHERE w.on_day >= %(start)s AND w.on_day < %(end)s
"""


def _withdrawals_facts() -> tuple[str, dict[str, Any]] | None:
    """The withdrawal facts, built on the victims app's own queryset (guarded: None while it does not exist).
    Its compiled SQL is embedded with its parameters renamed to named ones."""
    source = withdrawal_source()
    if source is None:
        return None
    qs = source.queryset.order_by().values_list(source.case_id_path, source.date_field)
    sql, params = qs.query.sql_with_params()
    names = iter(range(len(params)))
    sql = re.sub(r"(?<!%)%s", lambda _m: f"%(w{next(names)})s", sql)
    return _WITHDRAWALS_FACTS.format(source=sql), {f"w{i}": p for i, p in enumerate(params)}


# --------------------------------------------------------------------------------------------------------------
# SQL: the stored figures (one INSERT ... SELECT ... ON CONFLICT per family; see models.PerformanceFigure)
# --------------------------------------------------------------------------------------------------------------

# Distributions kept for a median: stored metric -> the figure it gives.
HISTOGRAMS = {
    "days_report_to_referral": "median_days_report_to_referral",
    "working_days_referral_to_decision": "median_working_days_referral_to_decision",
    "days_decision_to_charge": "median_days_decision_to_charge",
}
# Counts of distinct cases, stored per (month, the case's last earlier month).
DISTINCT_CASES = ("stl_found_on_receipt", "stl_failures", "nfa_after_action_plan_police")
TRIAGE_FAILURE = "triage_failure:"

_GROUPINGS = "GROUPING(force_id) AS g_force, GROUPING(area_id) AS g_area, GROUPING(pilot) AS g_pilot"
_SCOPE = """CASE WHEN g_force = 0 THEN 'force' WHEN g_area = 0 THEN 'area'
                 WHEN g_pilot = 0 THEN (CASE WHEN pilot THEN 'pilot' ELSE 'rest' END) ELSE 'national' END AS scope,
            CASE WHEN g_force = 0 THEN force_id WHEN g_area = 0 THEN area_id END AS organisation_id"""
_KEEP = "NOT (g_force = 1 AND g_area = 0 AND area_id IS NULL)"  # a force without an Area has no Area row
_MONTH_CODE = "coalesce((extract(year FROM {m}) * 100 + extract(month FROM {m}))::int, 0)"  # YYYYMM, 0: none


def _sets(*keys: str) -> str:
    k = ", ".join(("month", *keys))
    return f"GROUPING SETS ((force_id, {k}), (area_id, {k}), (pilot, {k}), ({k}))"


def _counts_part(counts: tuple[tuple[str, str], ...]) -> str:
    """Counts of the facts by scope and month, unpivoted into (metric, bucket 0, value) rows; zeros kept, as a
    scope and month with facts has every count of the family."""
    cols = ", ".join(f"{expr} AS c{i}" for i, (_name, expr) in enumerate(counts))
    values = ", ".join(f"('{name}', 0, g.c{i})" for i, (name, _expr) in enumerate(counts))
    return f"""
    SELECT {_SCOPE}, g.month, v.metric, v.bucket, v.value
    FROM (SELECT {_GROUPINGS}, force_id, area_id, pilot, month, {cols} FROM f GROUP BY {_sets()}) AS g
    CROSS JOIN LATERAL (VALUES {values}) AS v(metric, bucket, value)
    WHERE {_KEEP}"""  # noqa: S608


def _keyed_part(source: str, metric: str, bucket: str, where: str = "TRUE") -> str:
    """Counts of the facts by scope, month, metric name and bucket (a value, a reason, an earlier month)."""
    return f"""
    SELECT {_SCOPE}, g.month, g.metric, g.bucket, g.value
    FROM (
        SELECT {_GROUPINGS}, force_id, area_id, pilot, month, metric, bucket, count(*) AS value
        FROM (
            SELECT force_id, area_id, pilot, month, ({metric})::text AS metric, ({bucket})::int AS bucket
            FROM {source} WHERE {where}
        ) AS h
        GROUP BY {_sets("metric", "bucket")}
    ) AS g
    WHERE {_KEEP}"""  # noqa: S608


@dataclass(frozen=True)
class Distinct:
    """A count of distinct cases: which facts count (``where``) and, for a case's first month in the refreshed
    months, the SQL of its last earlier month with a counting fact (``prior``: correlated on ``d.case_id``,
    before ``%(start)s``)."""

    metric: str
    where: str
    prior: str


def _stored(
    facts: str,
    *,
    counts: tuple[tuple[str, str], ...] = (),
    histograms: tuple[tuple[str, str, str], ...] = (),
    distinct: tuple[Distinct, ...] = (),
    keyed: tuple[tuple[str, str, str, str], ...] = (),
) -> str:
    """One statement that upserts a family's figures for the months from %(start)s: its ``counts`` (name, SQL
    aggregate), ``histograms`` (name, value, condition), ``distinct`` case counts, and ``keyed`` counts (source
    rows, SQL of the metric name, of the bucket, condition)."""
    ctes = [_CX, f"f AS ({facts})"]
    parts = [_counts_part(counts)] if counts else []
    parts += [
        _keyed_part("f", f"'{name}'", value, f"{where} AND ({value}) IS NOT NULL")
        for name, value, where in histograms
    ]
    parts += [_keyed_part(source, name, bucket, where) for source, name, bucket, where in keyed]
    for d in distinct:
        ctes.append(
            f"d_{d.metric} AS (SELECT DISTINCT case_id, force_id, area_id, pilot, month FROM f WHERE {d.where})"  # noqa: S608
        )
        ctes.append(
            f"""p_{d.metric} AS (
            SELECT d.force_id, d.area_id, d.pilot, d.month,
                   coalesce(lag(d.month) OVER (PARTITION BY d.case_id ORDER BY d.month), ({d.prior})) AS prev
            FROM d_{d.metric} AS d)"""  # noqa: S608
        )
        parts.append(_keyed_part(f"p_{d.metric}", f"'{d.metric}'", _MONTH_CODE.format(m="prev")))
    union = "\n    UNION ALL".join(parts)
    # Only this module's constant SQL fragments are interpolated; values are always query parameters.
    return f"""
    WITH {", ".join(ctes)}
    INSERT INTO governance_performancefigure
        (scope, organisation_id, month, metric, bucket, value, computed_at, refresh_id)
    SELECT scope, organisation_id, month, metric, bucket, value, %(now)s, %(refresh)s FROM ({union}) AS s
    ON CONFLICT ON CONSTRAINT governance_performancefigure_once
    DO UPDATE SET value = EXCLUDED.value, computed_at = EXCLUDED.computed_at, refresh_id = EXCLUDED.refresh_id
    """  # noqa: S608


_STORED_FAMILIES: dict[str, str] = {
    "referrals": _stored(
        _REFERRAL_FACTS,
        counts=(("referrals", "count(*)"), ("first_referrals", "count(*) FILTER (WHERE sequence = 1)")),
        histograms=(("days_report_to_referral", "days_to_referral", "sequence = 1"),),
        distinct=(
            Distinct(
                "stl_found_on_receipt",
                "stl_on_receipt",
                f"""SELECT max(date_trunc('month', r2.received_on))::date FROM charging_chargingreferral r2
                    WHERE r2.case_id = d.case_id AND r2.kind = 'charging_decision' AND r2.received_on < %(start)s
                      AND {_STL_ON_RECEIPT.format(r="r2")}""",  # noqa: S608
            ),
        ),
    ),
    "triage": _stored(
        _TRIAGE_FACTS,
        counts=(
            ("referrals_triaged", "count(*)"),
            ("triage_rejections", "count(*) FILTER (WHERE triage = 'rejected')"),
        ),
        keyed=(
            (
                "(SELECT force_id, area_id, pilot, month, unnest(triage_reasons) AS reason FROM f"
                " WHERE triage = 'rejected') AS t",
                f"'{TRIAGE_FAILURE}' || reason",
                "0",
                "reason IS NOT NULL",
            ),
        ),
    ),
    "decisions": _stored(
        _DECISION_FACTS,
        counts=(
            ("final_decisions", "count(*) FILTER (WHERE outcome IN ('charge', 'nfa', 'out_of_court'))"),
            ("charge_decisions", "count(*) FILTER (WHERE outcome = 'charge')"),
            ("nfa_after_action_plan_cps", "count(*) FILTER (WHERE outcome = 'nfa' AND after_plan)"),
        ),
    ),
    "clocks": _stored(
        _CLOCK_FACTS,
        counts=(
            ("investigation_met", "count(*) FILTER (WHERE kind = 'investigation' AND met)"),
            ("investigation_missed", "count(*) FILTER (WHERE kind = 'investigation' AND missed)"),
            ("decision_met", "count(*) FILTER (WHERE kind = 'charging_decision' AND met)"),
            ("decision_missed", "count(*) FILTER (WHERE kind = 'charging_decision' AND missed)"),
            ("charge_met", "count(*) FILTER (WHERE kind = 'charge' AND met)"),
            ("charge_missed", "count(*) FILTER (WHERE kind = 'charge' AND missed)"),
            ("victim_updates_met", "count(*) FILTER (WHERE kind = 'victim_update' AND met)"),
            ("victim_updates_missed", "count(*) FILTER (WHERE kind = 'victim_update' AND missed)"),
        ),
        histograms=(
            (
                "working_days_referral_to_decision",
                "working_days",
                "kind = 'charging_decision' AND (met OR missed)",
            ),
            ("days_decision_to_charge", "days", "kind = 'charge' AND (met OR missed)"),
        ),
    ),
    "stl_failures": _stored(
        _STL_FAILURE_FACTS,
        distinct=(
            Distinct(
                "stl_failures",
                "TRUE",
                """SELECT max(date_trunc('month', k2.due_on))::date FROM cases_clock k2
                   WHERE k2.case_id = d.case_id AND k2.kind = 'stl' AND k2.state IN ('missed', 'time_barred')
                     AND k2.due_on < %(start)s""",
            ),
        ),
    ),
    "action_plans": _stored(
        _ACTION_PLAN_FACTS,
        counts=(
            ("action_plans", "count(*)"),
            ("action_plans_rated", "count(rating)"),
            ("action_plans_proportionate", "count(*) FILTER (WHERE rating = 'proportionate')"),
            ("action_plans_escalated", "count(*) FILTER (WHERE escalated)"),
        ),
    ),
    # The case-level conditions (NFA, no CPS NFA decision) hold for every plan of a counted case.
    "police_nfa": _stored(
        _POLICE_NFA_FACTS,
        distinct=(
            Distinct(
                "nfa_after_action_plan_police",
                "TRUE",
                """SELECT max(date_trunc('month', p2.closed_on))::date FROM charging_actionplan p2
                   WHERE p2.case_id = d.case_id AND p2.status = 'closed' AND p2.closed_on < %(start)s""",
            ),
        ),
    ),
    "early_advice": _stored(
        _EARLY_ADVICE_FACTS,
        counts=(
            ("early_advice_requests", "count(*) FILTER (WHERE what = 'requested')"),
            ("early_advice_given", "count(*) FILTER (WHERE what = 'given')"),
        ),
    ),
    "orders": _stored(
        _ORDER_FACTS,
        counts=(
            ("orders_considered", "count(*) FILTER (WHERE what = 'considered')"),
            ("orders_applied", "count(*) FILTER (WHERE what = 'applied')"),
            ("orders_granted", "count(*) FILTER (WHERE what = 'granted')"),
            ("orders_breached", "count(*) FILTER (WHERE what = 'breached')"),
        ),
    ),
}

_DELETE_STALE = """
    DELETE FROM governance_performancefigure WHERE month >= %(start)s AND refresh_id <> %(refresh)s
"""

# The earliest year whose bank holidays the working-day count knows (a charging clock is younger).
_HOLIDAYS_FROM_YEAR = 2000


def _holidays(first_year: int, last_year: int) -> list[datetime.date]:
    """The bank holidays of the years a charging clock can span (the active calendar, overrides included)."""
    cal = clocks.active_calendar()
    return sorted(d for year in range(first_year, last_year + 1) for d in cal.bank_holidays(year))


def _params(start: datetime.date, end: datetime.date, holidays: list[datetime.date]) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "stl_flag_days": settings.JJP_RULES["stl_flag_days"],
        "holidays": holidays,
    }


# Bump when the SQL of a family changes: the next refresh then recomputes every month.
FIGURES_VERSION = 2  # 2: early advice counted apart from referrals
FIRST_DAY = datetime.date(1, 1, 1)
LAST_DAY = datetime.date(9999, 12, 31)


def figures_signature() -> str:
    """A fingerprint of what every stored month depends on besides the facts: the organisations (pilot sites, a
    force's Area), the bank holiday overrides, the STL flag period and the SQL version. Two small queries."""
    organisations = list(Organisation.objects.order_by("pk").values_list("pk", "is_pilot", "area_id"))
    overrides = [
        (d.isoformat(), a)
        for d, a in BankHolidayOverride.objects.order_by("day", "action").values_list("day", "action")
    ]
    material = [FIGURES_VERSION, settings.JJP_RULES["stl_flag_days"], organisations, overrides]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


@dataclass(frozen=True)
class StoreResult:
    figures: int
    statements: int
    withdrawals_available: bool


def figures_store(*, start: datetime.date | None, now: datetime.datetime, refresh: int) -> StoreResult:
    """Recompute the stored figures of every month from ``start``'s month onwards (every month when None):
    one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` per family, stamped ``computed_at = now`` and the
    ``refresh`` (a PerformanceRefresh id), then one ``DELETE`` of the figures of those months that this refresh
    did not write (no longer produced). The caller holds the refresh lock and a transaction
    (``services.performance_figures_refresh``)."""
    ledger.sync_rules()
    today = ledger.london_today()
    params = _params(
        month_floor(start) if start else FIRST_DAY,
        LAST_DAY,
        _holidays(_HOLIDAYS_FROM_YEAR, today.year + 1),
    )
    params["now"], params["refresh"] = now, refresh
    written = statements = 0
    with connection.cursor() as cursor:
        for sql in _STORED_FAMILIES.values():
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0)
            statements += 1
        withdrawals = _withdrawals_facts()
        if withdrawals is not None:
            facts, extra = withdrawals
            cursor.execute(_stored(facts, counts=(("victim_withdrawals", "count(*)"),)), {**params, **extra})
            written += max(cursor.rowcount, 0)
            statements += 1
        cursor.execute(_DELETE_STALE, params)
        statements += 1
    return StoreResult(written, statements, withdrawals is not None)


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
    # When the stored figures were computed: this month's (the latest refresh) and every month's (the latest
    # refresh of every month). None: nothing computed yet (the figures are being prepared).
    as_of: datetime.datetime | None = None
    all_months_as_of: datetime.datetime | None = None

    @property
    def ready(self) -> bool:
        return self.as_of is not None

    def series(self) -> dict[str, dict[datetime.date | None, Row]]:
        out: dict[str, dict[datetime.date | None, Row]] = {}
        for row in self.rows:
            out.setdefault(row.key, {})[row.month] = row
        return out

    def restricted_to(self, allowed: Any) -> Report:
        """The rows a viewer may see (``allowed(row) -> bool``)."""
        return replace(self, rows=[r for r in self.rows if allowed(r)])


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


def _month_code(month: datetime.date) -> int:
    return month.year * 100 + month.month


def _ratio(num: Any, den: Any) -> float | None:
    return None if not den else round(float(num or 0) / float(den), 4)


def _sort_key(row: Row) -> tuple[int, str, datetime.date]:
    return (
        SCOPES.index(row.scope),
        row.organisation.name if row.organisation else "",
        row.month or datetime.date.max,
    )


def _finish(
    cells: dict[tuple[str, int | None, datetime.date | None], Row],
    start: datetime.date,
    end: datetime.date,
    *,
    withdrawals_available: bool,
) -> Report:
    orgs = Organisation.objects.in_bulk({k[1] for k in cells if k[1] is not None})
    for (_scope, org_id, _month), row in cells.items():
        row.organisation = orgs.get(org_id) if org_id is not None else None
        _derive(row.values, withdrawals_available=withdrawals_available)
    rows = sorted(cells.values(), key=_sort_key)
    return Report(start, end, months_between(start, end), rows, withdrawals_available)


def _new_row(k: tuple[str, int | None, datetime.date | None]) -> Row:
    return Row(scope=k[0], organisation=None, month=k[2], values={m: None for m in METRIC_KEYS})


def _period(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    start, end = month_floor(start), month_floor(end)
    if end < start:
        raise ValueError("The period ends before it starts.")
    return start, end


# --------------------------------------------------------------------------------------------------------------
# Reading the stored figures (the dashboard, its CSV, the metrics JSON)
# --------------------------------------------------------------------------------------------------------------


# The stored counts of the months asked for. Only constant fragments are interpolated (the visibility
# condition); values are parameters. Indexed: the unique index leads with (organisation, scope, month).
_READ = """
SELECT scope, organisation_id, month, metric, bucket, value FROM governance_performancefigure
WHERE month >= %(start)s AND month <= %(end)s {visible}
"""
_VISIBLE = """AND (organisation_id IS NULL
         OR (scope = 'force' AND organisation_id = ANY(%(forces)s))
         OR (scope = 'area' AND organisation_id = ANY(%(areas)s)))"""
_HISTOGRAM, _DISTINCT = 1, 2
_KINDS = {**dict.fromkeys(HISTOGRAMS, _HISTOGRAM), **dict.fromkeys(DISTINCT_CASES, _DISTINCT)}


def performance_report(*, start: datetime.date, end: datetime.date, user: Any = None) -> Report:
    """Every figure for the months from ``start``'s month to ``end``'s month (inclusive), for every force and
    CPS Area with activity, pilot sites and the rest, and England and Wales; each by month and for the period;
    read from the stored figures (``PerformanceFigure``), never from the fact tables. With ``user``, only the
    rows that user may see (``rows_allowed_for``), filtered in the query too. Three small indexed queries
    (the latest refreshes, the stored counts of the period, their organisations), whatever the number of
    cases; one (the latest refreshes) when the same report was read since the last refresh (cached)."""
    start, end = _period(start, end)
    own = _own_rows(user) if user is not None else None
    runs = list(
        PerformanceRefresh.objects.filter(status=PerformanceRefresh.Status.DONE)
        .order_by("-started_at", "-pk")
        .values("pk", "started_at", "full", "withdrawals_available")[:1]
        .union(
            PerformanceRefresh.objects.filter(status=PerformanceRefresh.Status.DONE, full=True)
            .order_by("-started_at", "-pk")
            .values("pk", "started_at", "full", "withdrawals_available")[:1],
            all=True,
        )
    )
    if not runs:
        return Report(start, end, months_between(start, end), [], withdrawals_available=False)
    latest = max(runs, key=lambda r: (r["started_at"], r["pk"]))
    # The figures change only with a refresh: the report of a refresh, period and set of visible rows is cached.
    visible = "all" if own is None else ",".join(sorted(f"{s}{pk}" for s, pk in own))
    refreshes = ":".join(f"{r['pk']}@{r['started_at'].timestamp()}" for r in runs)
    key = f"governance:performance:{FIGURES_VERSION}:{refreshes}:{start}:{end}:{visible}"
    report = cache.get(key)
    if report is None:
        params: dict[str, Any] = {"start": start, "end": end}
        if own is not None:
            params["forces"] = [pk for s, pk in own if s == "force" and pk is not None]
            params["areas"] = [pk for s, pk in own if s == "area" and pk is not None]
        with connection.cursor() as cursor:
            cursor.execute(_READ.format(visible=_VISIBLE if own is not None else ""), params)
            figures = cursor.fetchall()
        report = _report_from_figures(
            figures, start, end, withdrawals_available=latest["withdrawals_available"]
        )
        report.as_of = latest["started_at"]
        report.all_months_as_of = min((r["started_at"] for r in runs if r["full"]), default=None)
        cache.set(key, report, timeout=_CACHE_SECONDS)
    if user is not None:
        report = report.restricted_to(_allowed(own))
    return report


_CACHE_SECONDS = 60 * 60


def _report_from_figures(
    figures: Iterable[tuple[str, int | None, datetime.date, str, int, int]],
    start: datetime.date,
    end: datetime.date,
    *,
    withdrawals_available: bool,
) -> Report:
    """Add the stored counts up into the month rows and the whole-period rows: plain counts are summed; a
    distinct-case count for the period leaves out the rows whose case counted in an earlier month of the period
    (its last earlier month, the bucket, is in the period); the medians come from the summed distributions."""
    first = _month_code(start)
    sums: dict[tuple[str, int | None, datetime.date | None, str], int] = {}
    histograms: dict[tuple[str, int | None, datetime.date | None, str], dict[int, int]] = {}
    for scope, org_id, month, metric, bucket, value in figures:
        kind = _KINDS.get(metric)
        monthly, period = (scope, org_id, month, metric), (scope, org_id, None, metric)
        if kind == _HISTOGRAM:
            for k in (monthly, period):
                h = histograms.get(k)
                if h is None:
                    h = histograms[k] = {}
                h[bucket] = h.get(bucket, 0) + value
            continue
        sums[monthly] = sums.get(monthly, 0) + value
        counted = kind != _DISTINCT or bucket < first
        sums[period] = sums.get(period, 0) + (value if counted else 0)
    cells: dict[tuple[str, int | None, datetime.date | None], Row] = {}
    for (scope, org_id, month, metric), value in sums.items():
        k = (scope, org_id, month)
        row = cells.get(k)
        if row is None:
            row = cells[k] = _new_row(k)
        if metric.startswith(TRIAGE_FAILURE):
            row.triage_failures[metric[len(TRIAGE_FAILURE) :]] = value
        else:
            row.values[metric] = value
    for (scope, org_id, month, metric), histogram in histograms.items():
        k = (scope, org_id, month)
        row = cells.get(k)
        if row is None:
            row = cells[k] = _new_row(k)
        row.values[HISTOGRAMS[metric]] = _median(histogram)
    return _finish(cells, start, end, withdrawals_available=withdrawals_available)


def _median(histogram: dict[int, int]) -> float | None:
    """The median of a distribution of whole numbers (value -> how many) as ``percentile_cont(0.5)`` takes it:
    the middle value, or halfway between the two middle values."""
    n = sum(histogram.values())
    if not n:
        return None
    lower, upper = (n - 1) // 2, n // 2  # the 0-based positions of the middle value(s)
    seen, low = 0, None
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > lower:
            low = value
        if seen > upper:
            return float(low + (value - low) * 0.5) if upper != lower else float(low)
    raise AssertionError("unreachable: the positions are within the counts")


def figures_computed() -> bool:
    """Whether any refresh has stored the figures (false on a fresh install until the first one)."""
    return PerformanceRefresh.objects.filter(status=PerformanceRefresh.Status.DONE).exists()


# --------------------------------------------------------------------------------------------------------------
# The direct computation from the fact tables (the reference the stored figures are checked against)
# --------------------------------------------------------------------------------------------------------------


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


_DIRECT_FAMILIES = (
    _grouped(
        _REFERRAL_FACTS,
        """count(*) AS referrals,
           count(*) FILTER (WHERE sequence = 1) AS first_referrals,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_referral) FILTER (WHERE sequence = 1)
               AS median_days_report_to_referral,
           count(DISTINCT case_id) FILTER (WHERE stl_on_receipt) AS stl_found_on_receipt""",
    ),
    _grouped(
        _TRIAGE_FACTS,
        "count(*) AS referrals_triaged, count(*) FILTER (WHERE triage = 'rejected') AS triage_rejections",
    ),
    _grouped(
        _DECISION_FACTS,
        """count(*) FILTER (WHERE outcome IN ('charge', 'nfa', 'out_of_court')) AS final_decisions,
           count(*) FILTER (WHERE outcome = 'charge') AS charge_decisions,
           count(*) FILTER (WHERE outcome = 'nfa' AND after_plan) AS nfa_after_action_plan_cps""",
    ),
    _grouped(
        _CLOCK_FACTS,
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
    ),
    _grouped(_STL_FAILURE_FACTS, "count(DISTINCT case_id) AS stl_failures"),
    _grouped(
        _ACTION_PLAN_FACTS,
        """count(*) AS action_plans,
           count(rating) AS action_plans_rated,
           count(*) FILTER (WHERE rating = 'proportionate') AS action_plans_proportionate,
           count(*) FILTER (WHERE escalated) AS action_plans_escalated""",
    ),
    _grouped(_POLICE_NFA_FACTS, "count(DISTINCT case_id) AS nfa_after_action_plan_police"),
    _grouped(
        _EARLY_ADVICE_FACTS,
        """count(*) FILTER (WHERE what = 'requested') AS early_advice_requests,
           count(*) FILTER (WHERE what = 'given') AS early_advice_given""",
    ),
    _grouped(
        _ORDER_FACTS,
        """count(*) FILTER (WHERE what = 'considered') AS orders_considered,
           count(*) FILTER (WHERE what = 'applied') AS orders_applied,
           count(*) FILTER (WHERE what = 'granted') AS orders_granted,
           count(*) FILTER (WHERE what = 'breached') AS orders_breached""",
    ),
)

_DIRECT_TRIAGE_REASONS = _grouped(
    f"SELECT force_id, area_id, pilot, month, unnest(triage_reasons) AS reason FROM ({_TRIAGE_FACTS}) AS t "  # noqa: S608
    "WHERE triage = 'rejected'",
    "count(*) AS failures",
    extra="reason",
)


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


def performance_report_direct(*, start: datetime.date, end: datetime.date) -> Report:
    """The same report computed from the fact tables (``GROUPING SETS`` over one fact query per family): what
    the dashboard did on every view before the figures were stored; minutes at national scale. The reference
    the stored figures are tested against; not used by any page."""
    ledger.sync_rules()
    start, end = _period(start, end)
    params = _params(start, add_months(end, 1), _holidays(min(_HOLIDAYS_FROM_YEAR, start.year - 1), end.year))
    cells: dict[tuple[str, int | None, datetime.date | None], Row] = {}

    def cell(k: tuple[str, int | None, datetime.date | None]) -> Row:
        if k not in cells:
            cells[k] = _new_row(k)
        return cells[k]

    for sql in _DIRECT_FAMILIES:
        for row in _fetch(sql, params):
            k = _key(row)
            if k is None:
                continue
            values = cell(k).values
            for name, value in row.items():
                if name in METRICS_BY_KEY or name == "action_plans_proportionate":
                    values[name] = float(value) if isinstance(value, float) else value
    for row in _fetch(_DIRECT_TRIAGE_REASONS, params):
        k = _key(row)
        if k is not None and row["reason"] is not None:
            cell(k).triage_failures[row["reason"]] = row["failures"]
    withdrawals = _withdrawals_facts()
    if withdrawals is not None:
        facts, extra = withdrawals
        for row in _fetch(_grouped(facts, "count(*) AS victim_withdrawals"), {**params, **extra}):
            k = _key(row)
            if k is not None:
                cell(k).values["victim_withdrawals"] = row["victim_withdrawals"]
    return _finish(cells, start, end, withdrawals_available=withdrawals is not None)


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


def _own_rows(user: Any) -> set[tuple[str, int | None]] | None:
    """The force and Area rows a user may see, as (scope, organisation id); None: every row."""
    if user.is_superuser:
        return None
    org = user.organisation
    if org is None:
        return set()
    if org.is_force:
        return {("force", org.pk), ("area", org.area_id)}
    return {("area", org.pk)} | {("force", pk) for pk in org.forces.values_list("pk", flat=True)}


def _allowed(own: set[tuple[str, int | None]] | None) -> Any:
    if own is None:
        return lambda row: True

    def allowed(row: Row) -> bool:
        return row.organisation is None or (row.scope, row.organisation.pk) in own

    return allowed


def rows_allowed_for(user: Any) -> Any:
    """A predicate over rows: national and pilot / rest rows for everyone allowed to see performance figures;
    force and Area rows for the user's own organisation and its joint partner (a force's Area; an Area's
    forces), as they meet in the same joint operational improvement meeting; everything for system operators."""
    return _allowed(_own_rows(user))


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
