"""The clock ledger: opening, stopping and recomputing ``Clock`` rows, and the set-based sweep.

Services in every app call these; nothing else writes clocks. Due dates come from the pure rules in
``cases/clocks.py``; this module only knows which rule each kind of clock uses and how to store it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import clocks, derived
from .models import BankHolidayOverride, Case, Clock, ClockEvent, Offence, OffenceType, SweepRun

_calendar_key: tuple[Any, ...] | None = None


def london_today() -> datetime.date:
    """Today in Europe/London (not the UTC date: 00:30 BST is already tomorrow)."""
    return clocks.london_today(timezone.now())


def sync_rules() -> None:
    """Make the pure module's active rules and calendar match settings and the holiday override table.

    One small query; the calendar is rebuilt only when the overrides changed, so every process (web, worker)
    picks up an administrator's change on its next piece of deadline work."""
    global _calendar_key
    clocks.configure(rules=clocks.ClockRules(**settings.JJP_RULES))
    overrides = tuple(BankHolidayOverride.objects.order_by("day").values_list("day", "action"))
    if overrides != _calendar_key:
        clocks.configure(
            calendar=clocks.HolidayCalendar(
                add=[d for d, a in overrides if a == BankHolidayOverride.Action.ADD],
                remove=[d for d, a in overrides if a == BankHolidayOverride.Action.REMOVE],
            )
        )
        _calendar_key = overrides


def ledger_state(*, kind: str, due_on: datetime.date, warn_on: datetime.date, today: datetime.date) -> str:
    """The state of an open clock on ``today``. The sweep's SQL computes exactly this (tested to agree)."""
    if today > due_on:
        return Clock.State.TIME_BARRED if kind in Clock.STL_KINDS else Clock.State.OVERDUE
    if today >= warn_on:
        return Clock.State.DUE_SOON
    return Clock.State.RUNNING


def _warn_days(kind: str) -> int:
    rules = clocks.active_rules()
    return rules.stl_flag_days if kind in Clock.STL_KINDS else rules.due_soon_days


def _personally_connected(offence: Offence) -> bool | None:
    """Whether the offence's complainant and suspect are recorded as personally connected (DA Act 2021 s.2);
    None when either is not named or no relationship is recorded. Uses a prefetched ``suspect_relationships``
    when the caller loaded it."""
    if offence.complainant_id is None or offence.suspect_id is None:
        return None
    for rel in offence.complainant.suspect_relationships.all():
        if rel.suspect_id == offence.suspect_id:
            return bool(rel.personally_connected)
    return None


def _born_by(born_on: datetime.date | None, on: datetime.date) -> datetime.date | None:
    """A date of birth as the rule may use it on ``on``: one after that day is not a usable fact (unknown)."""
    return born_on if born_on is not None and born_on <= on else None


def stl_decision(offence: Offence, case: Case, *, kind: str = Clock.Kind.STL) -> clocks.StlDecision | None:
    """The statutory time limit of an offence (or, for ``stl_common_assault``, of the common assault it could be
    reduced to), with the rule that gave it and why; None when no limit applies.

    A common assault in a domestic abuse case gets the s.39A date only from its own complainant's statement or
    VRI, both people 16 or over on the offence day and personally connected (``clocks.common_assault_stl``);
    every fact not yet recorded keeps the safe s.127 date."""
    otype = offence.offence_type
    common_assault = (
        kind == Clock.Kind.STL_COMMON_ASSAULT or otype.stl_regime == OffenceType.StlRegime.CJA_S39A
    )
    if common_assault:
        if not case.domestic_abuse:
            return clocks.StlDecision(
                clocks.add_months(offence.committed_on, clocks.active_rules().stl_months),
                clocks.StlBasis.S127,
                (clocks.StlReason.NOT_DOMESTIC_ABUSE,),
            )
        on = offence.committed_on
        complainant = offence.complainant if offence.complainant_id else None
        suspect = offence.suspect if offence.suspect_id else None
        report = complainant.first_qualifying_report_on if complainant else None
        # The services refuse a date of birth after the offence; a report made before this offence cannot be a
        # statement about it (s.39A(2)-(3)). Either way the safe answer is the s.127 date, never an error.
        decision = clocks.common_assault_stl_decision(
            offence_on=on,
            complainant_born_on=_born_by(complainant.date_of_birth if complainant else None, on),
            suspect_born_on=_born_by(suspect.date_of_birth if suspect else None, on),
            personally_connected=_personally_connected(offence),
            first_qualifying_report_on=report if report is not None and report >= on else None,
        )
        if complainant is None:
            decision = clocks.StlDecision(decision.due_on, decision.basis, (clocks.StlReason.NO_COMPLAINANT,))
        elif report is not None and report < on:
            reasons = tuple(
                clocks.StlReason.REPORT_BEFORE_OFFENCE if r == clocks.StlReason.NO_REPORT else r
                for r in decision.reasons
            )
            decision = clocks.StlDecision(decision.due_on, decision.basis, reasons)
        return decision
    if otype.stl_regime == OffenceType.StlRegime.CA_S127:
        # Without the knowledge date, the earliest it could be (the offence day) gives the safe, early limit.
        return clocks.StlDecision(
            clocks.comms_act_stl(
                offence.committed_on, offence.prosecutor_knowledge_on or offence.committed_on
            ),
            clocks.StlBasis.CA2003,
            (),
        )
    due = clocks.stl_expiry(offence.committed_on, summary_only=otype.summary_only)
    return None if due is None else clocks.StlDecision(due, clocks.StlBasis.S127, ())


def stl_due(offence: Offence, case: Case, *, kind: str = Clock.Kind.STL) -> datetime.date | None:
    """The statutory time limit of an offence (see :func:`stl_decision`). None when no limit applies."""
    decision = stl_decision(offence, case, kind=kind)
    return None if decision is None else decision.due_on


_REASON_TEXT = {
    clocks.StlReason.NO_COMPLAINANT: "the offence does not name its complainant yet",
    clocks.StlReason.NO_REPORT: "the complainant has made no witness statement or video-recorded interview yet",
    clocks.StlReason.REPORT_BEFORE_OFFENCE: "the complainant's statement or interview is from before this offence",
    clocks.StlReason.BEFORE_COMMENCEMENT: "the offence is from before s.39A applies",
    clocks.StlReason.COMPLAINANT_AGE_UNKNOWN: "the complainant's date of birth is not recorded",
    clocks.StlReason.COMPLAINANT_UNDER_AGE: "the complainant was under 16 on the offence day",
    clocks.StlReason.SUSPECT_AGE_UNKNOWN: "the suspect's date of birth is not recorded",
    clocks.StlReason.SUSPECT_UNDER_AGE: "the suspect was under 16 on the offence day",
    clocks.StlReason.CONNECTION_UNKNOWN: "no relationship between the complainant and the suspect is recorded",
    clocks.StlReason.NOT_CONNECTED: "the complainant and the suspect are not personally connected",
    clocks.StlReason.NOT_DOMESTIC_ABUSE: "the case is recorded as not domestic abuse",
}


def stl_basis_text(clock: Clock, offence: Offence, *, complainant: str | None = None) -> str:
    """Which rule gave a statutory time limit, and why, in words for the case page: "s.39A: witness statement of
    3 December 2026 by Victim 1"; "s.127: the complainant has made no witness statement ... yet". ``complainant``
    is how the page names the complainant (by default their name)."""
    basis = clock.params.get("basis")
    if basis == clocks.StlBasis.S39A:
        victim = offence.complainant
        kind = (
            str(Case.QualifyingReportKind(victim.first_qualifying_report_kind).label).split(" (")[0].lower()
        )
        who = complainant or f"{victim.given_name} {victim.family_name}"
        return f"s.39A: {kind} of {victim.first_qualifying_report_on:%-d %B %Y} by {who}"
    if basis == clocks.StlBasis.CA2003:
        if offence.prosecutor_knowledge_on:
            return f"CA 2003 s.127(5): from the prosecutor's knowledge on {offence.prosecutor_knowledge_on:%-d %B %Y}"
        return "CA 2003 s.127(5): the prosecutor's knowledge date is not recorded, so counted from the offence day"
    reasons = [
        _REASON_TEXT[clocks.StlReason(r)] for r in clock.params.get("reasons", []) if r in _REASON_TEXT
    ]
    return "s.127" + (": " + "; ".join(reasons) if reasons else ": six months from the offence")


def _computed(clock: Clock) -> tuple[datetime.date, datetime.datetime | None, dict[str, Any]]:
    """The clock's due date (and hour), and its ``params`` with what its rule decided: for an STL, the basis and
    the reasons, so the case page, the API and the dashboards say which rule gave each limit without recomputing
    it. One evaluation of the rule."""
    if clock.kind not in Clock.STL_KINDS:
        due_on, due_at = due_for(clock)
        return due_on, due_at, clock.params
    decision = stl_decision(clock.offence, clock.case, kind=clock.kind)
    if decision is None:
        raise ValueError(f"{clock.offence} has no statutory time limit")
    params = {**clock.params, "basis": str(decision.basis), "reasons": [str(r) for r in decision.reasons]}
    return decision.due_on, None, params


def due_for(clock: Clock) -> tuple[datetime.date, datetime.datetime | None]:
    """Recompute a clock's due date from its subject and the rules: the one dispatch on kind."""
    kind = clock.kind
    if kind == Clock.Kind.INVESTIGATION:
        return clocks.investigation_due(clock.case.reported_on), None
    if kind == Clock.Kind.CHARGING_DECISION:
        return clocks.charging_decision_due(clock.referral.received_on), None
    if kind == Clock.Kind.CHARGE:
        return clocks.charge_due(clock.started_on), None
    if kind in Clock.STL_KINDS:
        due = stl_due(clock.offence, clock.case, kind=kind)
        if due is None:
            raise ValueError(f"{clock.offence} has no statutory time limit")
        return due, None
    if kind == Clock.Kind.VICTIM_UPDATE:
        return clocks.victim_update_due(
            clock.started_on, enhanced=bool(clock.params.get("enhanced", True))
        ), None
    if kind == Clock.Kind.SUPPORT_REFERRAL:
        return clocks.victim_support_referral_due(clock.started_on), None
    if kind == Clock.Kind.OPERATION_ENCOMPASS:
        # Before the start of the next school day: the next working day (UNCONFIRMED: school calendars).
        return clocks.add_working_days(clock.started_on, 1), None
    if kind == Clock.Kind.ACTION:
        return clock.action.due_on, None
    if kind in (Clock.Kind.ORDER_EXPIRY, Clock.Kind.BAIL_EXPIRY):
        return clock.order.expires_on, None
    if kind == Clock.Kind.DAPN_HEARING:
        due_at = clocks.dapn_hearing_due(clock.order.served_at)
        # A deadline of exactly 00:00 is the end of the previous day: that day is the due date.
        return timezone.localdate(due_at - datetime.timedelta(microseconds=1)), due_at
    raise ValueError(f"unknown clock kind {kind!r}")


def clock_open(
    *,
    case: Case,
    kind: str,
    side: str,
    started_on: datetime.date,
    label: str = "",
    today: datetime.date | None = None,
    params: dict[str, Any] | None = None,
    **subject: Any,
) -> Clock:
    """Open a clock, compute its due date and its state for today, and record a crossing at once when it is
    already due soon, overdue or time-barred (so a case arriving with its STL within eight weeks is flagged
    on receipt, not at the next sweep)."""
    today = today or london_today()
    clock = Clock(
        case=case, kind=kind, side=side, started_on=started_on, label=label, params=params or {}, **subject
    )
    clock.due_on, clock.due_at, clock.params = _computed(clock)
    clock.warn_on = min(
        clock.due_on, max(started_on, clock.due_on - datetime.timedelta(days=_warn_days(kind)))
    )
    clock.state = ledger_state(kind=kind, due_on=clock.due_on, warn_on=clock.warn_on, today=today)
    clock.save()
    _derived_refresh([clock])
    if clock.state != Clock.State.RUNNING:
        _crossing_record(clock, from_state=Clock.State.RUNNING, on=today)
    return clock


def _crossing_record(clock: Clock, *, from_state: str, on: datetime.date) -> None:
    """Record a clock crossing into its current state on ``on``, once (one INSERT ... ON CONFLICT DO NOTHING on
    (clock, state, day), as the sweep does)."""
    ClockEvent.objects.bulk_create(
        [
            ClockEvent(
                clock=clock,
                case_id=clock.case_id,
                kind=clock.kind,
                from_state=from_state,
                to_state=clock.state,
                crossed_on=on,
            )
        ],
        ignore_conflicts=True,
    )


def _derived_refresh(changed: Iterable[Clock]) -> None:
    """Keep the derived columns that depend on clocks right (``cases/derived.py``): the case's next due date
    and, for a charging-decision clock, its submission's decision due date."""
    changed = list(changed)
    derived.next_due_refresh(c.case_id for c in changed)
    derived.decision_due_refresh(c.referral_id for c in changed if c.kind == Clock.Kind.CHARGING_DECISION)


def clock_stop(clock: Clock, *, on: datetime.date, outcome: str | None = None) -> Clock:
    """Stop a clock: met when stopped on or before its due date, else missed, unless an outcome is given
    (superseded, cancelled)."""
    if clock.stopped_on is not None:
        return clock
    clock.stopped_on = on
    clock.previous_state = clock.state
    clock.state = outcome or (Clock.State.MET if on <= clock.due_on else Clock.State.MISSED)
    clock.state_changed_at = timezone.now()
    clock.save(update_fields=["stopped_on", "state", "previous_state", "state_changed_at"])
    _derived_refresh([clock])
    return clock


def clocks_stop(qs: Iterable[Clock], *, on: datetime.date, outcome: str | None = None) -> int:
    n = 0
    for clock in qs:
        clock_stop(clock, on=on, outcome=outcome)
        n += 1
    return n


def clocks_recompute(qs: Iterable[Clock], *, today: datetime.date | None = None) -> int:
    """Recompute the due dates (and states) of open clocks after their inputs changed: an offence date, the
    first qualifying report, a bank holiday override. Returns how many changed."""
    today = today or london_today()
    changed = 0
    moved: list[Clock] = []
    for clock in qs:
        due_on, due_at, params = _computed(clock)
        warn_on = min(due_on, max(clock.started_on, due_on - datetime.timedelta(days=_warn_days(clock.kind))))
        state = ledger_state(kind=clock.kind, due_on=due_on, warn_on=warn_on, today=today)
        if (due_on, due_at, warn_on, state, params) != (
            clock.due_on,
            clock.due_at,
            clock.warn_on,
            clock.state,
            clock.params,
        ):
            old_state = clock.state
            clock.due_on, clock.due_at, clock.warn_on, clock.state = due_on, due_at, warn_on, state
            clock.params = params
            if state != old_state:
                clock.previous_state = old_state
            clock.state_changed_at = timezone.now()
            clock.save(
                update_fields=[
                    "due_on",
                    "due_at",
                    "warn_on",
                    "state",
                    "previous_state",
                    "state_changed_at",
                    "params",
                ]
            )
            if state != old_state and state != Clock.State.RUNNING:
                _crossing_record(clock, from_state=old_state, on=today)
            moved.append(clock)
            changed += 1
    _derived_refresh(moved)
    return changed


def stl_clocks_sync(case: Case, *, today: datetime.date | None = None) -> None:
    """Make the case's open STL clocks match its offences: one per summary-only offence, one common-assault
    clock per assault that could be reduced to common assault in a domestic abuse case."""
    wanted: set[tuple[str, int]] = set()
    offences = {
        o.pk: o
        for o in case.offences.select_related("offence_type", "suspect", "complainant").prefetch_related(
            "complainant__suspect_relationships"
        )
    }
    for offence in offences.values():
        otype = offence.offence_type
        if otype.stl_regime != OffenceType.StlRegime.NONE:
            wanted.add((Clock.Kind.STL, offence.pk))
        if otype.reducible_to_common_assault and case.domestic_abuse:
            wanted.add((Clock.Kind.STL_COMMON_ASSAULT, offence.pk))
    existing = {}
    for c in case.clocks.open().filter(kind__in=Clock.STL_KINDS):
        if c.offence_id in offences:
            c.offence = offences[c.offence_id]  # the offence loaded above, with its people
        existing[(c.kind, c.offence_id)] = c
    for key, clock in existing.items():
        if key not in wanted:
            clock_stop(clock, on=today or london_today(), outcome=Clock.State.CANCELLED)
    clocks_recompute([c for k, c in existing.items() if k in wanted], today=today)
    for kind, offence_id in sorted(wanted - existing.keys()):
        offence = offences[offence_id]
        label = (
            offence.offence_type.title
            if kind == Clock.Kind.STL
            else f"Common assault (from {offence.offence_type.title})"
        )
        clock_open(
            case=case,
            kind=kind,
            side=Clock.Side.POLICE,
            started_on=offence.committed_on,
            label=label,
            today=today,
            offence=offence,
        )


# --------------------------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------------------------

_SWEEP_LOCK_KEY = 7_120_001  # pg advisory lock: one sweep at a time

# One statement: compute every open clock's state for today from its dates, update only the rows whose state
# changes (the same work as a bare UPDATE), and record each crossing once. The state expression mirrors
# ledger_state() above; a property test checks they agree.
_SWEEP_SQL = """
WITH changed AS (
    UPDATE cases_clock c
    SET state = CASE WHEN %(today)s > c.due_on
                     THEN CASE WHEN c.kind IN {STL} THEN 'time_barred' ELSE 'overdue' END
                     WHEN %(today)s >= c.warn_on THEN 'due_soon'
                     ELSE 'running' END,
        previous_state = c.state,
        state_changed_at = %(now)s
    WHERE c.stopped_on IS NULL
      AND c.state <> CASE WHEN %(today)s > c.due_on
                          THEN CASE WHEN c.kind IN {STL} THEN 'time_barred' ELSE 'overdue' END
                          WHEN %(today)s >= c.warn_on THEN 'due_soon'
                          ELSE 'running' END
    RETURNING c.id, c.case_id, c.kind, c.previous_state AS old_state, c.state AS new_state
), touched AS (
    -- The cases whose clocks moved have changed (Case.changed_at: the API's updated_since). A data-modifying
    -- CTE runs whether or not the query reads it.
    UPDATE cases_case k SET changed_at = %(now)s
    WHERE k.id IN (SELECT case_id FROM changed) AND k.changed_at < %(now)s
), recorded AS (
    INSERT INTO cases_clockevent (clock_id, case_id, kind, from_state, to_state, crossed_on, created_at, sweep_run_id)
    SELECT id, case_id, kind, old_state, new_state, %(today)s, %(now)s, %(run)s
    FROM changed
    WHERE new_state <> 'running'
    ON CONFLICT ON CONSTRAINT cases_clockevent_once_per_day DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM recorded)
""".replace("{STL}", clocks.sql_list(clocks.STL_CLOCK_KINDS))


def sweep(*, today: datetime.date | None = None) -> SweepRun:
    """Move every open clock's state on for the London ``today``. Idempotent (a second run changes nothing)
    and safe when two run at once (an advisory lock makes the second skip). Records the run."""
    sync_rules()
    today = today or london_today()
    run = SweepRun.objects.create(started_at=timezone.now(), today=today)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SWEEP_LOCK_KEY])
            if not cursor.fetchone()[0]:
                run.status = SweepRun.Status.SKIPPED
            else:
                # Holding the lock, no other sweep is running: an earlier run still marked running was killed.
                SweepRun.objects.filter(status=SweepRun.Status.RUNNING, pk__lt=run.pk).update(
                    status=SweepRun.Status.FAILED,
                    finished_at=timezone.now(),
                    error="abandoned: the process stopped before finishing",
                )
                cursor.execute(_SWEEP_SQL, {"today": today, "now": timezone.now(), "run": run.pk})
                run.examined, run.events = cursor.fetchone()
                run.status = SweepRun.Status.DONE
    except Exception as exc:
        run.status = SweepRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save()
        raise
    run.finished_at = timezone.now()
    run.save()
    return run
