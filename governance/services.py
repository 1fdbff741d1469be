"""Writes for joint governance: scrutiny panel meetings, their samples and findings; telling CPS when police close
a case after an action plan; the nightly high-harm repeat offender evaluation and its manual override.

One function per state change: keyword-only, atomic, the actor's permission checked with ``require`` (predicates
in ``governance/rules.py``), transitions checked here, a timeline event on the case where a case changes.
"""

from __future__ import annotations

import datetime
import html
import logging
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet, Value
from django.db.models.functions import MD5, Cast, Concat
from django.urls import reverse
from django.utils import timezone

from cases import clocks, ledger
from cases.kernel import TransitionError, audited, event_record, lock_case, not_future
from cases.models import Alert, Case, CaseEvent, Person, User
from cases.rules import require
from charging.models import ActionPlan

from . import hhro, metrics, selectors
from .models import (
    CpsNotification,
    HighHarmFlag,
    HighHarmOverride,
    HighHarmRun,
    PanelMeeting,
    PanelReview,
    PerformanceRefresh,
    SamplingRule,
    ScrutinyPanel,
)

logger = logging.getLogger(__name__)

MAX_SAMPLE = 200


# --------------------------------------------------------------------------------------------------------------
# Scrutiny panels
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def panel_meeting_schedule(
    *,
    actor: User,
    panel: ScrutinyPanel,
    held_on: datetime.date,
    random_count: int = 5,
    per_rule_limit: int = 10,
    seed: str = "",
    notes: str = "",
) -> PanelMeeting:
    """Schedule a panel meeting and say how many cases it will draw at random and, at most, per rule. The seed
    of the random draw is stored (given, or made from the panel and the date) so the draw can be repeated."""
    require(actor, "governance.schedule_meeting", panel)
    for name, value in (("random_count", random_count), ("per_rule_limit", per_rule_limit)):
        if not isinstance(value, int) or value < 0 or value > MAX_SAMPLE:
            raise ValidationError({name: f"Give a whole number from 0 to {MAX_SAMPLE}."})
    if random_count == 0 and per_rule_limit == 0:
        raise ValidationError({"random_count": "Draw at least one case, at random or by rule."})
    seed = (seed or "").strip() or f"panel-{panel.pk}-{held_on.isoformat()}"
    if len(seed) > 64:
        raise ValidationError({"seed": "The seed is at most 64 characters."})
    if PanelMeeting.objects.filter(panel=panel, held_on=held_on).exists():
        raise ValidationError({"held_on": f"{panel} already meets on {held_on:%d %B %Y}."})
    with audited(actor, "panel_meeting_schedule"):
        return PanelMeeting.objects.create(
            panel=panel,
            held_on=held_on,
            seed=seed,
            random_count=random_count,
            per_rule_limit=per_rule_limit,
            notes=notes,
            created_by=actor,
        )


def _hash_ordered(qs: QuerySet[Case], salt: str) -> QuerySet[Case]:
    """Order cases by md5(salt || id): a reproducible shuffle for a given seed, computed in the database."""
    key = MD5(Concat(Value(salt), Cast("pk", output_field=CharField()), output_field=CharField()))
    return qs.annotate(_draw_key=key).order_by("_draw_key", "pk")


@transaction.atomic
def panel_meeting_sample(*, actor: User, meeting: PanelMeeting) -> list[PanelReview]:
    """Draw the meeting's cases once: first by rule (up to ``per_rule_limit`` per rule: NFA after an action
    plan, STL failures, two or more action plans, out-of-court resolutions, victim withdrawals; only
    out-of-court resolutions for an out-of-court panel), then ``random_count`` more at random from the cases
    with an outcome. Cases the panel has reviewed before, and restricted cases, are never drawn. The same data
    and seed give the same draw."""
    require(actor, "governance.sample_cases", meeting)
    meeting = (
        PanelMeeting.objects.select_for_update().select_related("panel__organisation").get(pk=meeting.pk)
    )
    if meeting.sampled_at is not None:
        raise TransitionError(f"The cases for this meeting were drawn on {meeting.sampled_at:%d %B %Y}.")
    panel = meeting.panel
    base = selectors.not_yet_reviewed_by(selectors.panel_pool(panel), panel)
    matched: dict[int, list[str]] = {}
    by_rule: list[int] = []
    for rule in selectors.RULES_BY_PANEL_KIND[panel.kind]:
        rule_qs = selectors.RULES[rule](base)
        if rule_qs is None:  # victim withdrawals not recorded yet: see selectors.withdrawal_source
            continue
        ids = set(rule_qs.values_list("pk", flat=True))
        for case_id in ids:
            matched.setdefault(case_id, []).append(str(rule))
        fresh = _hash_ordered(rule_qs.exclude(pk__in=by_rule), f"{meeting.seed}:{rule}:")
        by_rule += list(fresh.values_list("pk", flat=True)[: meeting.per_rule_limit])
    at_random = list(
        _hash_ordered(
            selectors.not_yet_reviewed_by(selectors.random_pool(panel), panel).exclude(pk__in=by_rule),
            f"{meeting.seed}:random:",
        ).values_list("pk", flat=True)[: meeting.random_count]
    )
    with audited(actor, "panel_meeting_sample"):
        reviews = [
            PanelReview(
                panel=panel,
                meeting=meeting,
                case_id=case_id,
                meeting_on=meeting.held_on,
                sampling=PanelReview.Sampling.RULE,
                sampling_rule=matched[case_id][0],
                matched_rules=matched[case_id],
            )
            for case_id in by_rule
        ] + [
            PanelReview(
                panel=panel,
                meeting=meeting,
                case_id=case_id,
                meeting_on=meeting.held_on,
                sampling=PanelReview.Sampling.RANDOM,
                matched_rules=matched.get(case_id, []),
            )
            for case_id in at_random
        ]
        PanelReview.objects.bulk_create(reviews)
        meeting.sampled_at, meeting.sampled_by = timezone.now(), actor
        meeting.save(update_fields=["sampled_at", "sampled_by"])
        for review in reviews:
            how = (
                f"by rule: {SamplingRule(review.sampling_rule).label.lower()}"
                if review.sampling == PanelReview.Sampling.RULE
                else "at random"
            )
            event_record(
                case=Case(pk=review.case_id),
                kind="panel_sampled",
                actor=actor,
                summary=f"Selected for review by {panel.name} on {meeting.held_on:%d %B %Y} ({how})",
                data={"panel": panel.pk, "meeting": meeting.pk, "review": review.pk},
            )
    return list(meeting.reviews.select_related("case").order_by("sampling", "pk"))


def _lock_review(review: PanelReview) -> PanelReview:
    return PanelReview.objects.select_for_update().select_related("panel", "case").get(pk=review.pk)


@transaction.atomic
def panel_review_findings_record(
    *,
    actor: User,
    review: PanelReview,
    findings: Mapping[str, str],
    learning_points: str = "",
    today: datetime.date | None = None,
) -> PanelReview:
    """A panel member records the panel's structured findings on a reviewed case (investigation, decision
    making, timeliness, proportionality of action plans, Victims' Code compliance, language: each good,
    requires improvement or poor) and its learning points. Recording again replaces them until the learning
    has been shared."""
    require(actor, "governance.record_findings", review)
    review = _lock_review(review)
    today = today or ledger.london_today()
    unknown = sorted(set(findings) - set(PanelReview.FINDINGS))
    if unknown:
        raise ValidationError({"findings": f"Unknown finding(s): {', '.join(unknown)}."})
    for name, value in findings.items():
        if value not in PanelReview.Rating.values:
            raise ValidationError({name: "Choose good, requires improvement, poor or not assessed."})
    if not any(findings.values()) and not learning_points.strip():
        raise ValidationError({"findings": "Record at least one finding or a learning point."})
    if today < review.meeting_on:
        raise TransitionError(
            f"Findings are recorded at or after the meeting ({review.meeting_on:%d %B %Y})."
        )
    if review.learning_shared:
        raise TransitionError("The learning from this review has been shared; its findings are final.")
    with audited(actor, "panel_review_findings_record"):
        for name, value in findings.items():
            setattr(review, name, value)
        review.learning_points = learning_points.strip()
        review.findings_recorded_by, review.findings_recorded_on = actor, today
        review.save()
        rated = {name: getattr(review, name) for name in PanelReview.FINDINGS if getattr(review, name)}
        event_record(
            case=review.case,
            kind="panel_findings",
            actor=actor,
            summary=f"{review.panel.name} recorded its findings",
            data={"review": review.pk, "findings": rated},
        )
    return review


@transaction.atomic
def panel_review_learning_share(
    *,
    actor: User,
    review: PanelReview,
    shared_with: str,
    on: datetime.date,
    today: datetime.date | None = None,
) -> PanelReview:
    """Record that the learning from a review was shared (joint local principle 4: findings shared with the
    relevant DA forums)."""
    require(actor, "governance.share_learning", review)
    review = _lock_review(review)
    today = today or ledger.london_today()
    if review.learning_shared:
        raise TransitionError(f"The learning was already shared on {review.learning_shared_on:%d %B %Y}.")
    if not review.learning_points.strip():
        raise TransitionError("Record the learning points before sharing them.")
    if not shared_with.strip():
        raise ValidationError({"shared_with": "Say with whom the learning was shared."})
    not_future(on, "on", today)
    if on < review.meeting_on:
        raise ValidationError({"on": "The learning cannot be shared before the meeting."})
    with audited(actor, "panel_review_learning_share"):
        review.learning_shared, review.learning_shared_on = True, on
        review.learning_shared_with = shared_with.strip()[:200]
        review.save(update_fields=["learning_shared", "learning_shared_on", "learning_shared_with"])
    return review


# --------------------------------------------------------------------------------------------------------------
# Telling CPS when police close a case after an action plan
# --------------------------------------------------------------------------------------------------------------

ALERT_THRESHOLD = "police_outcome_after_action_plan"


def _notification_alert(notification: CpsNotification) -> Alert | None:
    """The email to the prosecutor who issued the plan, written to the alert outbox (sent by its delivery)."""
    recipient = notification.recipient
    if recipient is None or not recipient.is_active or not recipient.email:
        return None
    case = notification.case
    site = settings.SITE_URL.rstrip("/")
    link, acknowledge = (
        site + reverse("case_detail", args=[case.pk]),
        site + reverse("governance:notifications"),
    )
    subject = f"Case {case.urn}: police closed the case after your action plan"
    # The minimum, as for every alert email (alerts/engine.py): no reasons, names or particulars; the case page
    # has the rest.
    text = (
        f"{case.force.name} closed case {case.urn} on {notification.outcome_on:%d %B %Y} "
        f"({notification.get_outcome_display().lower()}) while your action plan of "
        f"{notification.plan.issued_on:%d %B %Y} was with them.\n\n"
        f"The police outcome and its reason are on the case page: {link}\n\n"
        f"Acknowledge it here: {acknowledge}\n"
    )
    body_html = "".join(f"<p>{html.escape(part)}</p>" for part in text.strip().split("\n\n"))
    alert, _ = Alert.objects.get_or_create(
        recipient=recipient,
        case=case,
        clock=None,
        threshold=ALERT_THRESHOLD,
        day=notification.outcome_on,
        defaults={
            "kind": Alert.Kind.IMMEDIATE,
            "subject": subject[:200],
            "body_text": text,
            "body_html": body_html,
            "next_attempt_at": timezone.now(),
        },
    )
    return alert


@transaction.atomic
def cps_notification_record(
    *,
    actor: User,
    case: Case,
    on: datetime.date | None = None,
    reason: str = "",
) -> CpsNotification:
    """Tell CPS that police closed the case (no further action or an out-of-court resolution) while a CPS
    action plan was with them: a ``CpsNotification`` row, an email to the prosecutor who issued the plan
    (alert outbox) and a timeline entry. Called by ``case_record_police_outcome`` when it closes a case after an
    action plan; idempotent (a second call returns the first record)."""
    require(actor, "cases.record_police_outcome", case)
    case = lock_case(case)
    existing = CpsNotification.objects.filter(case=case).first()
    if existing is not None:
        return existing
    if case.status not in (Case.Status.NO_FURTHER_ACTION, Case.Status.OUT_OF_COURT):
        raise TransitionError("CPS is told only when police have closed the case.")
    plan = (
        ActionPlan.objects.filter(case=case).select_related("decision").order_by("-issued_on", "-pk").first()
    )
    if plan is None:
        raise TransitionError("There was no CPS action plan on this case; CPS need not be told.")
    area_id = case.cps_area_id or case.force.area_id
    with audited(actor, "cps_notification_record"):
        notification = CpsNotification.objects.create(
            case=case,
            plan=plan,
            area_id=area_id,
            outcome=case.status,
            outcome_on=on or plan.closed_on or ledger.london_today(),
            reason=reason,
            notified_by=actor,
            notified_at=timezone.now(),
            recipient=plan.decision.decided_by,
        )
        _notification_alert(notification)
        event_record(
            case=case,
            kind="cps_informed",
            actor=actor,
            summary=f"CPS told of the police outcome ({notification.get_outcome_display().lower()}) "
            f"after the action plan of {plan.issued_on:%d %B %Y}",
            data={"notification": notification.pk},
        )
    return notification


def cps_notifications_catch_up(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Make sure CPS was told of every police closure after an action plan, also one recorded without a call to
    ``cps_notification_record`` (before that call was wired in, or by another path): the cases whose timeline
    has a police outcome "after an action plan" and no notification yet. Idempotent (each case is locked and
    re-checked); returns how many notifications it made."""
    now = now or timezone.now()
    pending = (
        Case.objects.filter(status__in=(Case.Status.NO_FURTHER_ACTION, Case.Status.OUT_OF_COURT))
        .filter(
            Exists(
                CaseEvent.objects.filter(
                    case=OuterRef("pk"), kind="police_outcome", data__after_action_plan=True
                )
            ),
            Exists(ActionPlan.objects.filter(case=OuterRef("pk"))),
        )
        .exclude(Exists(CpsNotification.objects.filter(case=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    made = 0
    for case_id in list(pending[:limit]):
        made += _catch_up_one(case_id, now)
    return made


@transaction.atomic
def _catch_up_one(case_id: int, now: datetime.datetime) -> int:
    case = Case.objects.select_for_update().select_related("force").get(pk=case_id)
    if CpsNotification.objects.filter(case=case).exists():
        return 0
    event = (
        case.events.filter(kind="police_outcome", data__after_action_plan=True)
        .select_related("actor")
        .order_by("-occurred_at", "-pk")
        .first()
    )
    plan = case.action_plans.select_related("decision").order_by("-issued_on", "-pk").first()
    if event is None or plan is None:
        return 0
    with audited(None, "cps_notifications_catch_up"):
        notification = CpsNotification.objects.create(
            case=case,
            plan=plan,
            area_id=case.cps_area_id or case.force.area_id,
            outcome=case.status,
            outcome_on=plan.closed_on or timezone.localdate(event.occurred_at),
            reason=event.reason,
            notified_by=event.actor,
            notified_at=now,
            recipient=plan.decision.decided_by,
        )
        _notification_alert(notification)
        event_record(
            case=case,
            kind="cps_informed",
            actor=None,
            summary=f"CPS told of the police outcome ({notification.get_outcome_display().lower()}) "
            f"after the action plan of {plan.issued_on:%d %B %Y}",
            data={"notification": notification.pk},
        )
    return 1


@transaction.atomic
def cps_notification_acknowledge(*, actor: User, notification: CpsNotification) -> CpsNotification:
    """A prosecutor of the case's Area confirms CPS has seen the police outcome."""
    require(actor, "governance.acknowledge_cps_notification", notification.case)
    notification = CpsNotification.objects.select_for_update().select_related("case").get(pk=notification.pk)
    if notification.acknowledged_at is not None:
        raise TransitionError(f"Already acknowledged on {notification.acknowledged_at:%d %B %Y}.")
    with audited(actor, "cps_notification_acknowledge"):
        notification.acknowledged_by, notification.acknowledged_at = actor, timezone.now()
        notification.save(update_fields=["acknowledged_by", "acknowledged_at"])
        event_record(
            case=notification.case,
            kind="cps_acknowledged",
            actor=actor,
            summary="CPS acknowledged the police outcome after the action plan",
        )
    return notification


# --------------------------------------------------------------------------------------------------------------
# The high-harm repeat offender flag
# --------------------------------------------------------------------------------------------------------------

_HHRO_LOCK_KEY = 7_120_008  # pg advisory lock: one evaluation at a time

# The facts of every person in one pass: DA cases reported in the window, the different victims in them (by
# name and date of birth: victims are recorded per case), those assessed at a high-risk level, and breaches in
# the window of orders against the person (the order's respondent; when none is named, the suspects of the
# order's case). Everyone with a flag row is included, so a flag can drop.
_FACTS_SQL = """
WITH pc AS (
    SELECT cs.person_id, c.id AS case_id, c.risk_level
    FROM cases_case_suspects cs
    JOIN cases_case c ON c.id = cs.case_id
    WHERE c.domestic_abuse AND c.reported_on >= %(start)s AND c.reported_on <= %(today)s
), case_facts AS (
    SELECT person_id,
           count(DISTINCT case_id) AS da_cases,
           count(DISTINCT case_id) FILTER (WHERE risk_level = ANY(%(levels)s)) AS high_risk_cases
    FROM pc GROUP BY person_id
), victim_facts AS (
    SELECT pc.person_id,
           count(DISTINCT lower(btrim(v.given_name)) || '|' || lower(btrim(v.family_name)) || '|'
                          || coalesce(v.date_of_birth::text, '')) AS victims
    FROM pc JOIN victims_victim v ON v.case_id = pc.case_id
    GROUP BY pc.person_id
), breach_people AS (
    SELECT o.respondent_id AS person_id, b.id AS breach_id
    FROM victims_breach b JOIN victims_protectiveorder o ON o.id = b.order_id
    WHERE o.respondent_id IS NOT NULL AND b.occurred_on >= %(start)s AND b.occurred_on <= %(today)s
    UNION
    SELECT cs.person_id, b.id
    FROM victims_breach b
    JOIN victims_protectiveorder o ON o.id = b.order_id
    JOIN cases_case_suspects cs ON cs.case_id = o.case_id
    WHERE o.respondent_id IS NULL AND b.occurred_on >= %(start)s AND b.occurred_on <= %(today)s
), breach_facts AS (
    SELECT person_id, count(DISTINCT breach_id) AS breaches FROM breach_people GROUP BY person_id
), people AS (
    SELECT person_id FROM case_facts
    UNION SELECT person_id FROM breach_facts
    UNION SELECT person_id FROM governance_highharmflag
)
SELECT people.person_id,
       coalesce(cf.da_cases, 0), coalesce(vf.victims, 0), coalesce(cf.high_risk_cases, 0),
       coalesce(bf.breaches, 0)
FROM people
LEFT JOIN case_facts cf ON cf.person_id = people.person_id
LEFT JOIN victim_facts vf ON vf.person_id = people.person_id
LEFT JOIN breach_facts bf ON bf.person_id = people.person_id
ORDER BY people.person_id
"""

# Copy the effective flag (override, else computed) to people, then to their cases, set-based; a timeline entry
# on each open case whose flag changes.
_SYNC_PEOPLE_SQL = """
WITH eff AS (
    SELECT p.id,
           coalesce(CASE f.override WHEN 'on' THEN TRUE WHEN 'off' THEN FALSE ELSE f.computed END, FALSE) AS flag
    FROM cases_person p LEFT JOIN governance_highharmflag f ON f.person_id = p.id
    WHERE %(all)s OR p.id = ANY(%(ids)s)
)
UPDATE cases_person p SET high_harm_repeat_offender = eff.flag
FROM eff WHERE p.id = eff.id AND p.high_harm_repeat_offender <> eff.flag
"""

_SYNC_CASES_SQL = """
WITH target AS (
    SELECT c.id, c.status, coalesce(bool_or(p.high_harm_repeat_offender), FALSE) AS flag
    FROM cases_case c
    LEFT JOIN cases_case_suspects cs ON cs.case_id = c.id
    LEFT JOIN cases_person p ON p.id = cs.person_id
    WHERE %(all)s OR c.id IN (SELECT case_id FROM cases_case_suspects WHERE person_id = ANY(%(ids)s))
    GROUP BY c.id, c.status
), changed AS (
    UPDATE cases_case c SET high_harm_repeat_offender = t.flag
    FROM target t
    WHERE c.id = t.id AND c.high_harm_repeat_offender <> t.flag
    RETURNING c.id, t.flag, t.status
), recorded AS (
    INSERT INTO cases_caseevent (case_id, kind, occurred_at, actor_id, summary, reason, data)
    SELECT id,
           CASE WHEN flag THEN 'hhro_flag_on' ELSE 'hhro_flag_off' END,
           %(now)s, %(actor)s,
           CASE WHEN flag THEN 'A suspect is flagged as a high-harm repeat offender'
                ELSE 'No suspect is flagged as a high-harm repeat offender any more' END,
           %(reason)s, '{}'::jsonb
    FROM changed
    WHERE status NOT IN ('nfa', 'out_of_court', 'concluded')
    RETURNING 1
)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM recorded)
"""


def hhro_definition() -> hhro.HhroDefinition:
    """The deployment's definition (``settings.JJP_HHRO``; the plan's examples when unset)."""
    return hhro.definition_from_settings(getattr(settings, "JJP_HHRO", None))


def _sync_flags(
    cursor: Any, *, person_ids: list[int] | None, actor: User | None, reason: str
) -> tuple[int, int]:
    params = {
        "all": person_ids is None,
        "ids": person_ids or [],
        "now": timezone.now(),
        "actor": getattr(actor, "pk", None),
        "reason": reason,
    }
    cursor.execute(_SYNC_PEOPLE_SQL, params)
    people_changed = cursor.rowcount
    cursor.execute(_SYNC_CASES_SQL, params)
    cases_changed, _ = cursor.fetchone()
    return people_changed, cases_changed


def high_harm_flags_evaluate(*, today: datetime.date | None = None, chunk: int = 2000) -> HighHarmRun:
    """Evaluate the shared definition for every person at once (nightly): the facts in one SQL pass, the pure
    rule on each row of the result, the flags upserted in bulk, then the people's and cases' flags brought in
    line with set-based updates. Idempotent; a concurrent second run skips. Records the run."""
    definition = hhro_definition()
    today = today or ledger.london_today()
    start = hhro.window_start(today, definition.window_months)
    run = HighHarmRun.objects.create(started_at=timezone.now(), today=today, definition=definition.as_dict())
    try:
        with transaction.atomic(), connection.cursor() as cursor, audited(None, "high_harm_flags_evaluate"):
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_HHRO_LOCK_KEY])
            if not cursor.fetchone()[0]:
                run.status = HighHarmRun.Status.SKIPPED
            else:
                cursor.execute(
                    _FACTS_SQL, {"start": start, "today": today, "levels": list(definition.risk_levels)}
                )
                now = timezone.now()
                batch: list[HighHarmFlag] = []
                while rows := cursor.fetchmany(chunk):
                    for person_id, da_cases, victims, high_risk, breaches in rows:
                        facts = hhro.PersonFacts(da_cases, victims, high_risk, breaches)
                        result = hhro.evaluate(facts, definition)
                        run.evaluated += 1
                        run.flagged += int(result.flagged)
                        batch.append(
                            HighHarmFlag(
                                person_id=person_id,
                                computed=result.flagged,
                                reasons=result.reasons_as_dicts(),
                                facts={
                                    "da_cases": da_cases,
                                    "victims": victims,
                                    "high_risk_cases": high_risk,
                                    "order_breaches": breaches,
                                    "window_start": start.isoformat(),
                                    "today": today.isoformat(),
                                },
                                evaluated_at=now,
                            )
                        )
                _flags_upsert(batch, chunk)
                run.people_changed, run.cases_changed = _sync_flags(
                    cursor, person_ids=None, actor=None, reason="Nightly evaluation of the shared definition."
                )
                run.status = HighHarmRun.Status.DONE
    except Exception as exc:
        run.status = HighHarmRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save()
        raise
    run.finished_at = timezone.now()
    run.save()
    return run


def _flags_upsert(flags: list[HighHarmFlag], chunk: int) -> None:
    for i in range(0, len(flags), chunk):
        HighHarmFlag.objects.bulk_create(
            flags[i : i + chunk],
            update_conflicts=True,
            unique_fields=["person"],
            update_fields=["computed", "reasons", "facts", "evaluated_at"],
        )


@transaction.atomic
def high_harm_flag_override(
    *, actor: User, person: Person, override: str, justification: str
) -> HighHarmFlag:
    """Set the flag on or off by hand, or remove the override (``""``) so the shared definition applies again.
    A justification is always required; the person's and their cases' flags follow at once."""
    require(actor, "governance.override_hhro_flag", person)
    if override not in HighHarmOverride.values:
        raise ValidationError({"override": "Choose flag on, flag off, or no override."})
    if not (justification or "").strip():
        raise ValidationError({"justification": "Give the justification for the override."})
    flag, _ = HighHarmFlag.objects.select_for_update().get_or_create(person=person)
    if flag.override == override:
        raise TransitionError(
            "The flag is already overridden that way." if override else "The flag has no override to remove."
        )
    with audited(actor, "high_harm_flag_override"):
        flag.override = override
        flag.override_justification = justification.strip()
        flag.overridden_by, flag.overridden_at = actor, timezone.now()
        flag.save()
        with connection.cursor() as cursor:
            _sync_flags(
                cursor,
                person_ids=[person.pk],
                actor=actor,
                reason=f"Override ({HighHarmOverride(override).label.lower()}): {justification.strip()}",
            )
    return flag


# --------------------------------------------------------------------------------------------------------------
# The stored joint performance figures
# --------------------------------------------------------------------------------------------------------------

_PERFORMANCE_LOCK_KEY = 7_120_009  # pg advisory lock: one refresh of the performance figures at a time
# On a fresh install the dashboard computes the figures on its first view when there are at most this many cases
# (about a second); above, it asks a worker to and says they are being prepared.
FIRST_VIEW_MAX_CASES = 20_000
_PREPARING_KEY = "governance:performance-figures-preparing"
_REFRESH_RECORDS_KEPT = datetime.timedelta(days=90)


def _full_refresh_due(signature: str) -> bool:
    """Every month is recomputed by the first refresh of each London day, and whenever what every month depends
    on (organisations, pilot sites, Areas, bank holidays, the SQL) changed since the last such refresh."""
    last = (
        PerformanceRefresh.objects.filter(status=PerformanceRefresh.Status.DONE, full=True)
        .order_by("-started_at", "-pk")
        .values_list("started_at", "signature")
        .first()
    )
    if last is None:
        return True
    started_at, last_signature = last
    return clocks.london_today(started_at) < ledger.london_today() or last_signature != signature


def performance_figures_refresh(*, full: bool | None = None) -> PerformanceRefresh:
    """Recompute the stored joint performance figures (``PerformanceFigure``) that the dashboard, its CSV and
    the metrics JSON read: this month onwards on every run (the beat task, every 15 minutes), every month when
    ``full`` or, when ``full`` is None, when a full refresh is due (``_full_refresh_due``: once a London day,
    so late entries in closed months, e.g. an STL limit missed by a late charge, are counted by the next
    morning). One set-based statement per family of figures, in one transaction: readers see the old figures
    or the new ones, never a mix. An advisory lock makes a concurrent run skip. Records the run
    (``PerformanceRefresh``: the dashboard's "figures as of" and the admin's list; a full refresh removes the
    records older than 90 days)."""
    started = timezone.now()
    signature = metrics.figures_signature()
    if full is None:
        full = _full_refresh_due(signature)
    from_month = None if full else metrics.month_floor(ledger.london_today())
    run = PerformanceRefresh.objects.create(
        started_at=started, full=full, from_month=from_month, signature=signature
    )
    clock = time.monotonic()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_PERFORMANCE_LOCK_KEY])
            if not cursor.fetchone()[0]:
                run.status = PerformanceRefresh.Status.SKIPPED
            else:
                result = metrics.figures_store(start=from_month, now=started, refresh=run.pk)
                if full:  # every figure now names this refresh: older records can go
                    PerformanceRefresh.objects.filter(started_at__lt=started - _REFRESH_RECORDS_KEPT).delete()
                run.figures = result.figures
                run.withdrawals_available = result.withdrawals_available
                run.status = PerformanceRefresh.Status.DONE
    except Exception as exc:
        run.status = PerformanceRefresh.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.seconds = round(time.monotonic() - clock, 3)
        run.save()
        raise
    run.finished_at = timezone.now()
    run.seconds = round(time.monotonic() - clock, 3)
    run.save()
    return run
