"""Deadline alerts: detection writes rows to the outbox (``cases.Alert``); delivery claims them and sends email.

Two steps, so that "was the prosecutor told, and when, and what?" is answered from the database and nothing is
lost when the mail server is down:

1. **Detection** (``alerts_detect``, ``digests_build``) writes one ``Alert`` row per person per thing to say. The
   unique key (recipient, case, clock, threshold, day) and ``ON CONFLICT DO NOTHING`` make a rerun, a doubled
   task or two workers at once create nothing new. The subject and both bodies are rendered and stored then.
2. **Delivery** (``alerts_deliver``) claims a row with a conditional UPDATE (pending/failed and due, or stuck in
   ``sending`` longer than ``JJP_ALERTS["claim_timeout_seconds"]`` -> ``sending``) and sends it only when that
   UPDATE changed the row, so two workers never send the same alert. A failure records ``last_error`` and
   retries with exponential backoff; after ``JJP_ALERTS["max_attempts"]`` the row is ``dead`` (the admin lists
   failed and dead rows and can retry them).

What is sent (thresholds, the ``Alert.threshold`` column):

- ``stl_8_weeks`` (immediate): the case is with CPS (a submission awaits a decision) and an open statutory time
  limit is within eight weeks (``rules.stl_flag_days``): on receipt, or when the limit enters its eight weeks
  while CPS has the file. Once per submission: ``day`` = the day CPS received it.
- ``stl_14_days`` (immediate): an open STL clock (open = the offence is not charged) due within
  ``rules.stl_urgent_days`` of today. Once per clock and due date: ``day`` = the due date.
- ``time_barred`` (immediate): an STL clock crossed into time-barred (a ``ClockEvent``). ``day`` = crossing day.
- ``overdue`` (immediate): a charging-decision or charge clock crossed into overdue. ``day`` = crossing day.
- ``escalation``: a clock overdue by ``JJP_ALERTS["escalate_after_working_days"]`` working days goes to the
  police supervisors (police-side clocks) or the CPS legal managers (CPS-side clocks) too. Once per clock and
  due date: ``day`` = the due date.
- ``digest``: one email per person on working days from ``JJP_ALERTS["digest_hour"]`` (07:00) Europe/London:
  their open clocks that are overdue, due today or due soon (``warn_on`` reached: this includes the STL watch
  list, action-plan actions, Victims' Code updates and orders expiring). Nothing is written when there is
  nothing to say. ``case`` and ``clock`` are empty, ``day`` = the London day.

Who is told (``clock_scope_q``): the people who act on the clock.

- an OIC: the police-side clocks (and statutory time limits) of the cases where they are ``case.oic``;
- police supervisors and triage officers: the police-side clocks of their force's cases;
- prosecutors and CPS legal managers: the CPS-side clocks and the statutory time limits of the cases referred to
  their Area. There is no prosecutor assignment on a case yet, so every prosecutor and legal manager of the
  Area is told; once an assignment exists, ``clock_scope_q`` is the one place to narrow it.

Every recipient's rows are computed through ``Case.objects.visible_to(recipient)`` (the one access gate), so a
restricted case never reaches someone not named on it; delivery checks the gate again before sending.

What a person may switch off (``alert_allowed``): immediate alerts about statutory time limits (``stl_8_weeks``,
``stl_14_days``, ``time_barred``) and escalations cannot be switched off by anyone; "immediate alerts off"
stops only the ``overdue`` ones (they are in the digest too). The digest can be switched off by everyone except
an OIC (it is their list of named cases' deadlines; supervisors, triage officers, prosecutors and legal
managers get Area- or force-wide lists and are covered by STL alerts and escalations).

Why detection re-reads a window instead of an id watermark: ``ClockEvent`` ids are allocated before the
transaction that writes them commits, so a service's crossing can become visible after a later sweep's; an
"id > last processed" watermark would skip it for good. Detection instead reads the crossings created in the
last ``JJP_ALERTS.get("detect_lookback_days", 7)`` days (indexed on ``created_at``) and relies on the unique key
to write each alert once. A missed or doubled run loses and duplicates nothing.

Email content is the minimum: the URN, which deadline, its due date, what to do and a link to the case page.
Never victim names, addresses, offence titles or particulars (clock labels are not used: they can name the
offence).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import clocks, ledger
from .models import Alert, Case, Clock, ClockEvent, NotificationPreference, User

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------
# Pure rules: no database access below this line until the next banner.
# --------------------------------------------------------------------------------------------------------------

STL_8_WEEKS = "stl_8_weeks"
STL_14_DAYS = "stl_14_days"
TIME_BARRED = "time_barred"
OVERDUE = "overdue"
ESCALATION = "escalation"
DIGEST = "digest"

#: Immediate alerts nobody can switch off: missing a statutory time limit ends the prosecution for good.
REQUIRED_IMMEDIATE = frozenset({STL_8_WEEKS, STL_14_DAYS, TIME_BARRED})
#: Roles that cannot switch their digest off.
DIGEST_REQUIRED_ROLES = frozenset({"oic"})

POLICE_WIDE_ROLES = ("police_supervisor", "triage_officer")
CPS_ROLES = ("prosecutor", "legal_manager")
ALERT_ROLES = ("oic", *POLICE_WIDE_ROLES, *CPS_ROLES)

STL_KINDS = ("stl", "stl_common_assault")
OVERDUE_ALERT_KINDS = ("charging_decision", "charge")

#: Plain names for each kind of deadline, used in emails and feeds instead of the clock's label (which can name
#: the offence). Keep free of offence and victim details.
DEADLINE_NAMES = {
    "investigation": "Investigation (21 days)",
    "charging_decision": "Charging decision (10 working days)",
    "charge": "Charge (7 days after the decision)",
    "stl": "Statutory time limit",
    "stl_common_assault": "Statutory time limit (alternative charge)",
    "victim_update": "Victims' Code update",
    "action": "Action plan action",
    "order_expiry": "Protective order expiry",
    "dapn_hearing": "Protection order hearing (48 hours)",
    "bail_expiry": "Pre-charge bail expiry",
    "support_referral": "Victim support referral",
    "operation_encompass": "School notification (Operation Encompass)",
}

WHAT_TO_DO = {
    "investigation": "Refer the case to CPS or record the police outcome.",
    "charging_decision": "Make the charging decision, issue an action plan or return the file at triage.",
    "charge": "Charge the suspect, or record on the case why not.",
    "stl": "Make sure the information is laid (the suspect charged) before the time limit.",
    "stl_common_assault": "Decide on the alternative charge and lay the information before the time limit.",
    "victim_update": "Tell the victim about the decision and record the contact on the case.",
    "action": "Complete the action or update its status on the case.",
    "order_expiry": "Review the order with the victim's safety in mind before it expires.",
    "dapn_hearing": "Make sure the application is heard within the deadline.",
    "bail_expiry": "Review pre-charge bail before it expires.",
    "support_referral": "Refer the victim to support services and record it.",
    "operation_encompass": "Notify the school before the next school day starts.",
}

DIGEST_SECTIONS = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("stl", "Statutory time limits within eight weeks"),
    ("actions", "Action plan actions due"),
    ("victims", "Victims' Code updates due"),
    ("orders", "Protective orders and bail expiring"),
    ("soon", "Other deadlines due soon"),
)


def deadline_name(kind: str) -> str:
    return DEADLINE_NAMES.get(kind, "Deadline")


def digest_required(roles: Iterable[str]) -> bool:
    return any(r in DIGEST_REQUIRED_ROLES for r in roles)


def alert_allowed(
    *, roles: Iterable[str], threshold: str, digest_enabled: bool, immediate_enabled: bool
) -> bool:
    """Whether a person with these roles and choices is sent an alert of this threshold."""
    if threshold == DIGEST:
        return digest_enabled or digest_required(roles)
    if threshold == ESCALATION or threshold in REQUIRED_IMMEDIATE:
        return True
    return immediate_enabled


def alert_kind(threshold: str) -> str:
    if threshold == DIGEST:
        return "digest"
    if threshold == ESCALATION:
        return "escalation"
    return "immediate"


def backoff_seconds(attempts: int) -> int:
    """Wait before the next try after ``attempts`` failed: 1, 2, 4, ... minutes, at most an hour."""
    return int(min(60 * 2 ** max(attempts - 1, 0), 3600))


def digest_due(local_now: datetime.datetime, *, digest_hour: int, working_day: bool) -> bool:
    """The digest goes out on working days from ``digest_hour`` London time (``local_now`` is London time)."""
    return working_day and local_now.hour >= digest_hour


def digest_section(kind: str, due_on: datetime.date, today: datetime.date) -> str:
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "today"
    if kind in STL_KINDS:
        return "stl"
    if kind == "action":
        return "actions"
    if kind in ("victim_update", "support_referral"):
        return "victims"
    if kind in ("order_expiry", "bail_expiry", "dapn_hearing"):
        return "orders"
    return "soon"


def when_text(kind: str, due_on: datetime.date, today: datetime.date) -> str:
    days = (due_on - today).days
    if days < 0:
        if kind in STL_KINDS:
            return "time limit passed"
        return f"overdue by {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "due today"
    return f"due in {days} day{'s' if days != 1 else ''}"


def nth_working_day_back(
    today: datetime.date, n: int, *, calendar: clocks.HolidayCalendar | None = None
) -> datetime.date:
    """The ``n``-th most recent working day on or before ``today``: a clock due before it is overdue by at least
    ``n`` working days (``clocks.working_days_between(due_on, today) >= n``). ``n <= 0`` gives ``today``."""
    day = today
    seen = 0
    while n > 0:
        if clocks.is_working_day(day, calendar=calendar):
            seen += 1
            if seen == n:
                return day
        day -= datetime.timedelta(days=1)
    return today


# --------------------------------------------------------------------------------------------------------------
# Who acts on which clock, behind the access gate.
# --------------------------------------------------------------------------------------------------------------


def clock_scope_q(user: User, *, escalation: bool = False, prefix: str = "") -> Q:
    """The clocks ``user`` acts on, as a Q over Clock (``prefix`` for related models, e.g. ``"clock__"``).
    Visibility is NOT decided here: callers always add ``Case.objects.visible_to(user)``.

    With ``escalation``: the clocks whose overdue escalation the user receives (supervisors: police side of the
    force; legal managers: CPS side of the Area)."""
    p = prefix
    nothing = Q(**{f"{p}pk__in": []})
    if not user.is_active or user.organisation_id is None:
        return nothing
    roles = set(user.roles or ())
    org = user.organisation
    police, cps, stl = Q(**{f"{p}side": "police"}), Q(**{f"{p}side": "cps"}), Q(**{f"{p}kind__in": STL_KINDS})
    q = nothing
    if escalation:
        if org.kind == "force" and "police_supervisor" in roles:
            q |= Q(**{f"{p}case__force_id": org.pk}) & police
        if org.kind == "cps_area" and "legal_manager" in roles:
            q |= Q(**{f"{p}case__cps_area_id": org.pk}) & cps
        return q
    if "oic" in roles:
        q |= Q(**{f"{p}case__oic_id": user.pk}) & (police | stl)
    if org.kind == "force" and roles & set(POLICE_WIDE_ROLES):
        q |= Q(**{f"{p}case__force_id": org.pk}) & police
    if org.kind == "cps_area" and roles & set(CPS_ROLES):
        q |= Q(**{f"{p}case__cps_area_id": org.pk}) & (cps | stl)
    return q


def clocks_for(user: User) -> QuerySet[Clock]:
    """The open clocks of open cases that ``user`` acts on and may see (the digest and the calendar feed)."""
    return (
        Clock.objects.visible_to(user)
        .open()
        .exclude(case__status__in=Case.CLOSED_STATUSES)
        .filter(clock_scope_q(user))
    )


def preferences_of(user: User) -> tuple[bool, bool]:
    try:
        pref = user.notification_preference
    except NotificationPreference.DoesNotExist:
        return True, True
    return pref.digest_enabled, pref.immediate_enabled


def _allowed(user: User, threshold: str) -> bool:
    digest_on, immediate_on = preferences_of(user)
    return alert_allowed(
        roles=user.roles or (), threshold=threshold, digest_enabled=digest_on, immediate_enabled=immediate_on
    )


# --------------------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------------------


def case_link(case_id: int) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("case_detail", args=[case_id])


def preferences_link() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("alert_preferences")


def _render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    context = {**context, "preferences_link": preferences_link()}
    return (
        render_to_string(f"alerts/email/{template}.txt", context).strip() + "\n",
        render_to_string(f"alerts/email/{template}.html", context),
    )


def _immediate_content(
    threshold: str, row: dict[str, Any], today: datetime.date, *, overdue_working_days: int = 0
) -> tuple[str, str, str]:
    kind, urn, due_on = row["kind"], row["case__urn"], row["due_on"]
    name = deadline_name(kind)
    days = (due_on - today).days
    if threshold == STL_8_WEEKS:
        subject = f"Case {urn}: with CPS and the time limit is within 8 weeks"
        headline = "This case is with CPS and its statutory time limit is within eight weeks."
        todo = (
            "Prioritise the case: the charging decision and the charge must both come before the time limit. "
            "Check now that the file is complete."
        )
    elif threshold == STL_14_DAYS:
        subject = f"Case {urn}: time limit in {days} day{'s' if days != 1 else ''}, not charged"
        headline = f"The statutory time limit is in {days} day{'s' if days != 1 else ''} and the case is not charged."
        todo = WHAT_TO_DO.get(kind, WHAT_TO_DO["stl"]) + " If that cannot happen, record why on the case."
    elif threshold == TIME_BARRED:
        subject = f"Case {urn}: time limit passed"
        headline = "The statutory time limit has passed without the information being laid."
        todo = "Proceedings can no longer start for that limit. Record what happened and review the case."
    elif threshold == OVERDUE:
        subject = f"Case {urn}: {name.split(' (')[0].lower()} overdue"
        headline = f"The {name.split(' (')[0].lower()} deadline has passed."
        todo = WHAT_TO_DO.get(kind, "Open the case and act on the deadline.")
    elif threshold == ESCALATION:
        n = overdue_working_days
        subject = f"Escalation: case {urn}, {name.split(' (')[0].lower()} overdue {n} working days"
        headline = f"The {name.split(' (')[0].lower()} deadline has been overdue for {n} working days."
        todo = "Check with the person responsible and agree what happens next. " + WHAT_TO_DO.get(kind, "")
    else:  # pragma: no cover - a programming error
        raise ValueError(f"unknown threshold {threshold!r}")
    text, html = _render(
        "immediate",
        {
            "subject": subject,
            "headline": headline,
            "urn": urn,
            "deadline": name,
            "due_on": due_on,
            "due_at": row.get("due_at"),
            "when": when_text(kind, due_on, today),
            "what_to_do": todo.strip(),
            "link": case_link(row["case_id"]),
            "escalation": threshold == ESCALATION,
        },
    )
    return subject[:200], text, html


@dataclass(frozen=True)
class DigestItem:
    urn: str
    deadline: str
    due_on: datetime.date
    when: str
    what_to_do: str
    link: str


def _digest_content(rows: Sequence[dict[str, Any]], today: datetime.date) -> tuple[str, str, str]:
    sections: dict[str, list[DigestItem]] = {key: [] for key, _ in DIGEST_SECTIONS}
    for row in rows:
        item = DigestItem(
            urn=row["case__urn"],
            deadline=deadline_name(row["kind"]),
            due_on=row["due_on"],
            when=when_text(row["kind"], row["due_on"], today),
            what_to_do=WHAT_TO_DO.get(row["kind"], ""),
            link=case_link(row["case_id"]),
        )
        sections[digest_section(row["kind"], row["due_on"], today)].append(item)
    n = len(rows)
    subject = f"Your deadlines for {today:%A} {today.day} {today:%B}: {n} item{'s' if n != 1 else ''}"
    text, html = _render(
        "digest",
        {
            "subject": subject,
            "today": today,
            "count": n,
            "sections": [(title, sections[key]) for key, title in DIGEST_SECTIONS if sections[key]],
        },
    )
    return subject[:200], text, html


# --------------------------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------------------------

_ROW_FIELDS = ("pk", "case_id", "case__urn", "kind", "side", "due_on", "due_at", "alert_day")


@dataclass(frozen=True)
class _Source:
    """One kind of immediate alert: the open clocks it is about, annotated with ``alert_day``."""

    threshold: str
    clocks: QuerySet[Clock]


def _crossed(to_state: str, since: datetime.datetime) -> Subquery:
    """The latest day (within the window) the clock crossed into ``to_state``."""
    return Subquery(
        ClockEvent.objects.filter(clock=OuterRef("pk"), to_state=to_state, created_at__gte=since)
        .order_by("-crossed_on")
        .values("crossed_on")[:1]
    )


def _sources(today: datetime.date, now: datetime.datetime) -> list[_Source]:
    from charging.models import ChargingReferral

    rules = clocks.active_rules()
    lookback = int(settings.JJP_ALERTS.get("detect_lookback_days", 7))
    since = now - datetime.timedelta(days=lookback)
    open_cases = Case.objects.open().values("pk")
    live = Clock.objects.open().filter(case__in=open_cases)
    crossings = ClockEvent.objects.filter(created_at__gte=since)

    # The submission CPS has now (at most one awaits a decision, by constraint). Its receipt day keys the alert,
    # so each receipt is told once, whether the limit was already within eight weeks on receipt or enters them
    # while CPS has the file; a resubmission is a new receipt.
    with_cps = ChargingReferral.objects.filter(
        case=OuterRef("case_id"), status=ChargingReferral.Status.AWAITING_DECISION
    ).values("received_on")[:1]
    stl_with_cps = (
        live.filter(
            kind__in=STL_KINDS,
            due_on__gte=today,
            due_on__lte=today + datetime.timedelta(days=rules.stl_flag_days),
        )
        .annotate(alert_day=Subquery(with_cps))
        .filter(alert_day__isnull=False)
    )
    stl_urgent = live.filter(
        kind__in=STL_KINDS,
        due_on__gte=today,
        due_on__lte=today + datetime.timedelta(days=rules.stl_urgent_days),
    ).annotate(alert_day=F("due_on"))
    time_barred = (
        live.filter(kind__in=STL_KINDS)
        .filter(pk__in=crossings.filter(to_state="time_barred").values("clock_id"))
        .annotate(alert_day=_crossed("time_barred", since))
    )
    overdue = (
        live.filter(kind__in=OVERDUE_ALERT_KINDS, due_on__lt=today)
        .filter(pk__in=crossings.filter(to_state="overdue", kind__in=OVERDUE_ALERT_KINDS).values("clock_id"))
        .annotate(alert_day=_crossed("overdue", since))
    )
    return [
        _Source(STL_8_WEEKS, stl_with_cps),
        _Source(STL_14_DAYS, stl_urgent),
        _Source(TIME_BARRED, time_barred),
        _Source(OVERDUE, overdue),
    ]


def _escalation_source(today: datetime.date) -> _Source:
    n = int(settings.JJP_ALERTS["escalate_after_working_days"])
    cutoff = nth_working_day_back(today, n)
    open_cases = Case.objects.open().values("pk")
    qs = (
        Clock.objects.open()
        .filter(case__in=open_cases, due_on__lt=cutoff)
        .exclude(kind__in=STL_KINDS)  # a passed time limit is its own, required alert
        .annotate(alert_day=F("due_on"))
    )
    return _Source(ESCALATION, qs)


def _candidate_users(clocks_qs: QuerySet[Clock], *, escalation: bool) -> QuerySet[User]:
    """The people who could be told about any of these clocks: a prefilter by force, Area and OIC (one query);
    the exact rows per person come from ``clock_scope_q`` and the access gate."""
    forces, areas, oics = set(), set(), set()
    refs = clocks_qs.order_by().values_list("case__force_id", "case__cps_area_id", "case__oic_id").distinct()
    for force_id, area_id, oic_id in refs:
        forces.add(force_id)
        if area_id:
            areas.add(area_id)
        if oic_id:
            oics.add(oic_id)
    if escalation:
        q = Q(organisation_id__in=forces, roles__contains=["police_supervisor"]) | Q(
            organisation_id__in=areas, roles__contains=["legal_manager"]
        )
    else:
        q = (
            Q(pk__in=oics, roles__contains=["oic"])
            | Q(organisation_id__in=forces, roles__overlap=list(POLICE_WIDE_ROLES))
            | Q(organisation_id__in=areas, roles__overlap=list(CPS_ROLES))
        )
    return (
        User.objects.filter(q, is_active=True)
        .exclude(email="")
        .select_related("organisation", "notification_preference")
        .order_by("pk")
    )


def _write_for_source(source: _Source, today: datetime.date, now: datetime.datetime) -> int:
    escalation = source.threshold == ESCALATION
    created = 0
    for user in _candidate_users(source.clocks, escalation=escalation):
        if not _allowed(user, source.threshold):
            continue
        already = Alert.objects.filter(
            recipient=user, clock=OuterRef("pk"), threshold=source.threshold, day=OuterRef("alert_day")
        )
        rows = list(
            source.clocks.filter(clock_scope_q(user, escalation=escalation))
            .filter(case__in=Case.objects.visible_to(user).values("pk"))
            .exclude(Exists(already))
            .values(*_ROW_FIELDS)
        )
        alerts = []
        for row in rows:
            subject, text, html = _immediate_content(
                source.threshold,
                row,
                today,
                overdue_working_days=clocks.working_days_between(row["due_on"], today) if escalation else 0,
            )
            alerts.append(
                Alert(
                    recipient=user,
                    case_id=row["case_id"],
                    clock_id=row["pk"],
                    kind=alert_kind(source.threshold),
                    threshold=source.threshold,
                    day=row["alert_day"],
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    next_attempt_at=now,
                )
            )
        if alerts:
            # A concurrent detection may have written some of these since the query: the unique key keeps one.
            Alert.objects.bulk_create(alerts, ignore_conflicts=True)
            created += len(alerts)
    return created


def alerts_detect(
    *, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> dict[str, int]:
    """Write the immediate alerts and escalations that are due: set-based queries over the clocks and the
    recent crossings, one query per candidate recipient through the access gate. Idempotent."""
    ledger.sync_rules()
    now = now or timezone.now()
    today = today or ledger.london_today()
    counts: dict[str, int] = {}
    for source in [*_sources(today, now), _escalation_source(today)]:
        counts[source.threshold] = counts.get(source.threshold, 0) + _write_for_source(source, today, now)
    counts["total"] = sum(counts.values())
    if counts["total"]:
        logger.info("Alert detection for %s wrote %s", today, counts)
    return counts


def _digest_candidates(today: datetime.date) -> QuerySet[User]:
    """People who may have something to say today and have no digest yet (one query, correlated EXISTS)."""
    due = Clock.objects.open().filter(warn_on__lte=today, case__in=Case.objects.open().values("pk"))
    has_something = (
        (Q(roles__contains=["oic"]) & Exists(due.filter(case__oic_id=OuterRef("pk"))))
        | (
            Q(roles__overlap=list(POLICE_WIDE_ROLES), organisation__kind="force")
            & Exists(due.filter(case__force_id=OuterRef("organisation_id"), side="police"))
        )
        | (
            Q(roles__overlap=list(CPS_ROLES), organisation__kind="cps_area")
            & Exists(
                due.filter(case__cps_area_id=OuterRef("organisation_id")).filter(
                    Q(side="cps") | Q(kind__in=STL_KINDS)
                )
            )
        )
    )
    wants = (
        Q(roles__overlap=list(DIGEST_REQUIRED_ROLES))
        | Q(notification_preference__isnull=True)
        | Q(notification_preference__digest_enabled=True)
    )
    return (
        User.objects.filter(is_active=True, organisation__isnull=False)
        .exclude(email="")
        .filter(has_something & wants)
        .exclude(Exists(Alert.objects.filter(recipient=OuterRef("pk"), threshold=DIGEST, day=today)))
        .select_related("organisation", "notification_preference")
        .order_by("pk")
    )


def digests_build(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Write today's digest for each person with something to say, on working days from the digest hour
    (Europe/London). Before the hour, on weekends and on bank holidays it writes nothing. Idempotent."""
    ledger.sync_rules()
    now = now or timezone.now()
    local = now.astimezone(clocks.LONDON)
    today = local.date()
    if not digest_due(
        local, digest_hour=int(settings.JJP_ALERTS["digest_hour"]), working_day=clocks.is_working_day(today)
    ):
        return {"digests": 0}
    created = 0
    for user in _digest_candidates(today):
        if not _allowed(user, DIGEST):
            continue
        rows = list(
            clocks_for(user)
            .filter(warn_on__lte=today)
            .order_by("due_on", "case__urn", "pk")
            .values("pk", "case_id", "case__urn", "kind", "due_on")
        )
        if not rows:  # nothing to say (e.g. only restricted cases they are not named on)
            continue
        subject, text, html = _digest_content(rows, today)
        Alert.objects.bulk_create(
            [
                Alert(
                    recipient=user,
                    kind=Alert.Kind.DIGEST,
                    threshold=DIGEST,
                    day=today,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    next_attempt_at=now,
                )
            ],
            ignore_conflicts=True,
        )
        created += 1
    return {"digests": created}


# --------------------------------------------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------------------------------------------

_WAITING = (Alert.Status.PENDING, Alert.Status.FAILED)


def _due_q(now: datetime.datetime) -> Q:
    timeout = datetime.timedelta(seconds=int(settings.JJP_ALERTS["claim_timeout_seconds"]))
    ready = Q(status__in=_WAITING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    stale = Q(status=Alert.Status.SENDING, claimed_at__lt=now - timeout)
    return ready | stale


def _connection_error(exc: BaseException) -> bool:
    """The server is unreachable or went away (stop this batch), rather than refusing one message."""
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _undeliverable(alert: Alert) -> str:
    user = alert.recipient
    if not user.is_active:
        return "The recipient's account is inactive."
    if not user.email:
        return "The recipient has no email address."
    if alert.case_id and not Case.objects.visible_to(user).filter(pk=alert.case_id).exists():
        return "The recipient can no longer see this case."
    return ""


def _message(alert: Alert, connection: Any) -> EmailMultiAlternatives:
    msg = EmailMultiAlternatives(
        subject=alert.subject,
        body=alert.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[alert.recipient.email],
        connection=connection,
        headers={"X-JJP-Alert": str(alert.pk), "Auto-Submitted": "auto-generated"},
    )
    msg.attach_alternative(alert.body_html, "text/html")
    return msg


def _finish(alert_id: int, claimed_at: datetime.datetime, **fields: Any) -> int:
    """Record the outcome only if this worker still holds the claim."""
    return Alert.objects.filter(pk=alert_id, status=Alert.Status.SENDING, claimed_at=claimed_at).update(
        **fields
    )


def _fail(alert: Alert, claimed_at: datetime.datetime, error: str, *, now: datetime.datetime) -> str:
    max_attempts = int(settings.JJP_ALERTS["max_attempts"])
    if alert.attempts >= max_attempts:
        _finish(alert.pk, claimed_at, status=Alert.Status.DEAD, last_error=error[:2000], next_attempt_at=None)
        return Alert.Status.DEAD
    _finish(
        alert.pk,
        claimed_at,
        status=Alert.Status.FAILED,
        last_error=error[:2000],
        next_attempt_at=now + datetime.timedelta(seconds=backoff_seconds(alert.attempts)),
    )
    return Alert.Status.FAILED


def alerts_deliver(*, limit: int = 500, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send the alerts that are due: claim each with a conditional UPDATE (committed before sending, so call
    this outside a transaction), send, record the outcome. Rows stuck in ``sending`` past the claim timeout
    (a worker killed between claim and send) are claimed again. Returns counts."""
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0, "dead": 0, "skipped": 0}
    max_attempts = int(settings.JJP_ALERTS["max_attempts"])
    # A row that was claimed max_attempts times and never finished: give up on it rather than loop forever.
    timeout = datetime.timedelta(seconds=int(settings.JJP_ALERTS["claim_timeout_seconds"]))
    counts["dead"] += Alert.objects.filter(
        status=Alert.Status.SENDING, claimed_at__lt=now - timeout, attempts__gte=max_attempts
    ).update(
        status=Alert.Status.DEAD,
        last_error="Claimed for sending and never finished, too many times.",
        next_attempt_at=None,
    )
    ids = list(
        Alert.objects.filter(_due_q(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    connection = None
    try:
        for alert_id in ids:
            claimed_at = timezone.now()
            claimed = (
                Alert.objects.filter(pk=alert_id)
                .filter(_due_q(claimed_at))
                .update(status=Alert.Status.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1)
            )
            if claimed != 1:  # another worker has it
                counts["skipped"] += 1
                continue
            alert = Alert.objects.select_related("recipient").get(pk=alert_id)
            problem = _undeliverable(alert)
            if problem:
                _finish(
                    alert_id, claimed_at, status=Alert.Status.DEAD, last_error=problem, next_attempt_at=None
                )
                counts["dead"] += 1
                continue
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                _message(alert, connection).send()
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                logger.warning("Alert %s not sent (attempt %s): %s", alert_id, alert.attempts, error)
                counts[_fail(alert, claimed_at, error, now=timezone.now())] += 1
                if connection is not None:
                    with contextlib.suppress(Exception):  # a broken connection; the error is recorded
                        connection.close()
                    connection = None
                if _connection_error(exc):
                    break  # the server is down: leave the rest waiting for the next run
                continue
            _finish(
                alert_id,
                claimed_at,
                status=Alert.Status.SENT,
                sent_at=timezone.now(),
                last_error="",
                next_attempt_at=None,
            )
            counts["sent"] += 1
    finally:
        if connection is not None:
            connection.close()
    return counts


@transaction.atomic
def alerts_retry(*, alert_ids: Iterable[int], now: datetime.datetime | None = None) -> int:
    """An administrator's retry: failed or dead alerts go back to pending with a fresh set of attempts."""
    return Alert.objects.filter(
        pk__in=list(alert_ids), status__in=(Alert.Status.FAILED, Alert.Status.DEAD)
    ).update(status=Alert.Status.PENDING, attempts=0, next_attempt_at=now or timezone.now(), claimed_at=None)


# --------------------------------------------------------------------------------------------------------------
# Preferences
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def notification_preference_set(
    *, actor: User, digest_enabled: bool, immediate_enabled: bool
) -> NotificationPreference:
    """A person's own choices, within what their role requires (see ``alert_allowed``)."""
    if not actor.is_authenticated or not actor.is_active:
        raise ValidationError("Sign in to change your email settings.")
    if not digest_enabled and digest_required(actor.roles or ()):
        raise ValidationError(
            {
                "digest_enabled": "An officer in charge cannot switch off the daily digest: it is the list of "
                "their cases' deadlines."
            }
        )
    pref, _ = NotificationPreference.objects.update_or_create(
        user=actor, defaults={"digest_enabled": digest_enabled, "immediate_enabled": immediate_enabled}
    )
    return pref
