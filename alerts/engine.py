"""Deadline alerts: detection writes rows to the outbox (``cases.Alert``); delivery claims them and sends email.

Two steps, so that "was the prosecutor told, and when, and what?" is answered from the database and nothing is
lost when the mail server is down:

1. **Detection** (``alerts_detect``) writes one ``Alert`` row per person per thing to say, with one
   ``INSERT ... SELECT`` per kind of alert below: who is told, their preferences and the access gate are all
   decided inside that statement, so detection is the same handful of statements whatever the number of cases
   and people. The unique key (recipient, case, clock, threshold, day), a ``NOT EXISTS`` on it and
   ``ON CONFLICT DO NOTHING`` make a rerun, a doubled task or two workers at once create nothing new.
   **Digests** (``digests_build``) read the due items of every organisation in one streamed query, build each
   person's digest as the stream passes (memory holds one organisation's summary and one officer's items, not
   the organisation's cases) and write the day's digests with one COPY.
2. **Delivery** (``alerts_deliver``) claims a row with a conditional UPDATE (pending/failed and due, or stuck in
   ``sending`` longer than ``JJP_ALERTS["claim_timeout_seconds"]`` -> ``sending``) and sends it only when that
   UPDATE changed the row, so two workers never send the same alert. The subject and bodies of an immediate
   alert or an escalation are rendered then, from the clock as it is at sending time, and stored on the row with
   the outcome, so the row says what was sent (a digest is rendered when it is built: it is that morning's
   list). Each message has a stable ``Message-ID`` (``<alert-{id}.{day}@{site host}>``): a resend after a lost
   acknowledgement is recognisable as the same message. A failure records ``last_error`` and retries with
   exponential backoff; after ``JJP_ALERTS["max_attempts"]`` the row is ``dead`` (the admin lists failed and
   dead rows and can retry them).

What is sent (thresholds, the ``Alert.threshold`` column):

- ``stl_8_weeks`` (immediate): the case is with CPS (a submission awaits a decision) and an open statutory time
  limit is within eight weeks (``rules.stl_flag_days``): on receipt, or when the limit enters its eight weeks
  while CPS has the file. Once per submission: ``day`` = the day CPS received it.
- ``stl_14_days`` (immediate): an open STL clock (open = the offence is not charged) due within
  ``rules.stl_urgent_days`` of today. Once per clock and due date: ``day`` = the due date.
- ``time_barred`` (immediate): an STL clock crossed into time-barred (a ``ClockEvent``). ``day`` = crossing day.
- ``overdue`` (immediate): a charging-decision or charge clock crossed into overdue. ``day`` = crossing day.
- ``escalation``: a clock (other than a time limit) overdue by ``JJP_ALERTS["escalate_after_working_days"]``
  working days goes to the line manager of the person who should have acted. Once per clock and due date:
  ``day`` = the due date. The five-minute run reads only the clocks that became escalable within the lookback
  (due in the ``detect_lookback_days`` before the escalation cutoff), so it stays cheap however many deadlines
  are long overdue; the hourly full run (``full=True``) reads every overdue clock, and so catches the rest: a
  clock opened already long overdue, a case given a new OIC or a person a new line manager.
- ``digest``: one email per person on working days from ``JJP_ALERTS["digest_hour"]`` (07:00) Europe/London:
  open clocks that are overdue, due today or due soon (``warn_on`` reached: this includes the STL watch list,
  action-plan actions, Victims' Code updates and orders expiring). Nothing is written when there is nothing to
  say. ``case`` and ``clock`` are empty, ``day`` = the London day.

Who is told: the named people who act, and their line managers (``_recipients_sql``).

- Police side (police-side clocks; the statutory time limits are police-side): the case's OIC. Only when no OIC
  can be told (none, inactive, no email address, or not allowed to see the case): every police supervisor of the
  force who may see the case.
- CPS side (CPS-side clocks, and the statutory time limits while a submission is with CPS): the prosecutor
  allocated to the submission at triage (``ChargingReferral.prosecutor``; the submission is the clock's own, else
  the one with CPS, else the latest). Before allocation (an untriaged submission), or when the allocated
  prosecutor cannot be told: for a time limit, every prosecutor of the Area who may see the case; for an overdue
  charging decision, every legal manager of the Area (they run triage and allocation; ``FALLBACK_ROLES``). That
  fan-out is bounded by the untriaged submissions.
- Escalations: police side, the OIC's line manager (``User.supervisor``); CPS side, the allocated prosecutor's
  line manager. Only when no one named can be told: every police supervisor of the force, or every legal manager
  of the Area, who may see the case.
- Police supervisors, triage officers, prosecutors and legal managers are not sent every immediate alert of their
  organisation: they get the alerts of what they are named on, the escalations of their team, and the digest.
- The digest: an OIC gets every due item of the cases they are OIC of. Organisation-wide roles (police
  supervisors and triage officers: the police-side items of the force; prosecutors and legal managers: the
  CPS-side items and the time limits of the cases referred to the Area) get the number of items in each section,
  the 50 most urgent items and a link to their dashboard (someone who is also an OIC gets their own items too).
- The calendar feed (``clocks_for``, ``clock_scope_q``) lists every deadline a person acts on.

Nobody is told about a case they may not see. Detection applies ``selectors.gate_sql``, the SQL twin of
``cases.selectors.case_visibility_q`` (the one access gate; tests/cases/test_alerts_gate.py compares the two for
every persona and every kind of case, restricted ones included), to every recipient inside the INSERT; the
digests apply it to each OIC, and admit an organisation-wide reader to a restricted case only when they are named
on it; delivery checks ``Case.objects.visible_to`` again before sending.

What a person may switch off (``alert_allowed``, applied in SQL by ``preference_sql``, which is generated from
it): immediate alerts about statutory time limits (``stl_8_weeks``, ``stl_14_days``, ``time_barred``) and
escalations cannot be switched off by anyone; "immediate alerts off" stops only the ``overdue`` ones (they are in
the digest too). The digest can be switched off by everyone except an OIC (it is their list of named cases'
deadlines; the organisation-wide roles are covered by STL alerts and escalations). A named person who switched
an alert off is not replaced by the fallback: they chose.

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
import csv
import datetime
import heapq
import itertools
import logging
import smtplib
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cases import clocks, ledger
from cases.models import Alert, Case, Clock, ClockEvent, NotificationPreference, User
from cases.selectors import OPERATIONAL_ROLES, gate_sql

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
#: The roles whose digest summarises the whole organisation, by organisation kind.
ORG_WIDE_ROLES = {"force": POLICE_WIDE_ROLES, "cps_area": CPS_ROLES}
#: Items listed in an organisation-wide digest (the most urgent first); the rest are counted.
DIGEST_TOP = 50

#: Who is told when no one named can be, by threshold and side. A time limit before allocation goes to every
#: prosecutor of the Area (it cannot wait, and untriaged files near their limit are few); an overdue charging
#: decision before allocation to the Area's legal managers, who run triage and allocation (sent to every
#: prosecutor, the 12,740 untriaged overdue files of the 10^6 data set made 1.17 million alerts in one run).
FALLBACK_ROLES = {
    STL_8_WEEKS: {"police": "police_supervisor", "cps": "prosecutor"},
    STL_14_DAYS: {"police": "police_supervisor", "cps": "prosecutor"},
    TIME_BARRED: {"police": "police_supervisor", "cps": "prosecutor"},
    OVERDUE: {"police": "police_supervisor", "cps": "legal_manager"},
    ESCALATION: {"police": "police_supervisor", "cps": "legal_manager"},
}

#: The alerts detection writes (subject and bodies rendered when delivery claims them).
DETECTED = (STL_8_WEEKS, STL_14_DAYS, TIME_BARRED, OVERDUE, ESCALATION)

STL_KINDS = clocks.STL_CLOCK_KINDS
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


def preference_sql(threshold: str, *, user: str = "u", pref: str = "p") -> str:
    """``alert_allowed`` as a SQL condition over a user row (alias ``user``) LEFT JOINed to its
    ``NotificationPreference`` (alias ``pref``; no row = both on). Generated from the rule's truth table, so the
    two cannot disagree. Uses the parameter ``%(digest_required_roles)s`` (``sql_params()``)."""
    allowed = []
    for digest_on, immediate_on, required in itertools.product((True, False), repeat=3):
        roles = sorted(DIGEST_REQUIRED_ROLES) if required else []
        if alert_allowed(
            roles=roles, threshold=threshold, digest_enabled=digest_on, immediate_enabled=immediate_on
        ):
            allowed.append(
                f"({str(digest_on).lower()}, {str(immediate_on).lower()}, {str(required).lower()})"
            )
    if len(allowed) == 8:
        return "TRUE"
    if not allowed:
        return "FALSE"
    return (
        f"(coalesce({pref}.digest_enabled, true), coalesce({pref}.immediate_enabled, true), "
        f"{user}.roles::text[] && %(digest_required_roles)s::text[]) IN ({', '.join(allowed)})"
    )


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


def urgency(due_on: datetime.date, urn: str, clock_id: int) -> tuple[datetime.date, str, int]:
    """The order of digest items: earliest due first, then by URN."""
    return (due_on, urn, clock_id)


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
# The deadlines a person acts on (the calendar feed), behind the access gate.
# --------------------------------------------------------------------------------------------------------------


def clock_scope_q(user: User, *, prefix: str = "") -> Q:
    """The clocks ``user`` acts on, as a Q over Clock (``prefix`` for related models, e.g. ``"clock__"``): an OIC
    the police-side clocks of their cases; police supervisors and triage officers the police side of the force;
    prosecutors and legal managers the CPS side and the time limits of the cases referred to the Area.
    Visibility is NOT decided here: callers always add ``Case.objects.visible_to(user)``."""
    p = prefix
    nothing = Q(**{f"{p}pk__in": []})
    if not user.is_active or user.organisation_id is None:
        return nothing
    roles = set(user.roles or ())
    org = user.organisation
    police, cps, stl = Q(**{f"{p}side": "police"}), Q(**{f"{p}side": "cps"}), Q(**{f"{p}kind__in": STL_KINDS})
    q = nothing
    if "oic" in roles:
        q |= Q(**{f"{p}case__oic_id": user.pk}) & (police | stl)
    if org.kind == "force" and roles & set(POLICE_WIDE_ROLES):
        q |= Q(**{f"{p}case__force_id": org.pk}) & police
    if org.kind == "cps_area" and roles & set(CPS_ROLES):
        q |= Q(**{f"{p}case__cps_area_id": org.pk}) & (cps | stl)
    return q


def clocks_for(user: User) -> QuerySet[Clock]:
    """The open clocks of open cases that ``user`` acts on and may see (the calendar feed)."""
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


# --------------------------------------------------------------------------------------------------------------
# SQL building blocks. The access gate in SQL is ``selectors.gate_sql``, beside the rule it mirrors.
#
# The SQL of this module is assembled from constants and model table names only (hence the ``noqa: S608``);
# every value is a parameter.
# --------------------------------------------------------------------------------------------------------------

assert all(r in OPERATIONAL_ROLES for roles in ORG_WIDE_ROLES.values() for r in roles), (
    "an organisation-wide digest assumes its readers see their organisation's cases"
)


def _tables() -> dict[str, str]:
    from charging.models import ChargingReferral

    return {
        "alert": Alert._meta.db_table,
        "case": Case._meta.db_table,
        "clock": Clock._meta.db_table,
        "clockevent": ClockEvent._meta.db_table,
        "user": User._meta.db_table,
        "org": User.organisation.field.related_model._meta.db_table,
        "pref": NotificationPreference._meta.db_table,
        "referral": ChargingReferral._meta.db_table,
        "restricted": Case.restricted_to.through._meta.db_table,
    }


def sql_params(**extra: Any) -> dict[str, Any]:
    """The parameters every statement of this module may use."""
    return {
        "operational_roles": list(OPERATIONAL_ROLES),
        "digest_required_roles": sorted(DIGEST_REQUIRED_ROLES),
        "stl_kinds": tuple(STL_KINDS),
        "closed": tuple(Case.CLOSED_STATUSES),
        **extra,
    }


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
    """The subject, text and HTML of an immediate alert or escalation (``row``: the clock's ``kind``,
    ``due_on``, ``due_at``, ``case_id`` and ``case__urn``), as of ``today``."""
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
    due: str  # "Mon 2 Mar 2026": formatted here, not by the template (thousands of digests a morning)
    when: str
    what_to_do: str
    link: str


def dashboard_link(reader: Any) -> str:
    """The dashboard a digest reader lands on (``reader``: a ``DigestReader`` or a ``User``)."""
    from types import SimpleNamespace

    from workspace import dashboards

    person = SimpleNamespace(
        is_active=True,
        organisation=SimpleNamespace(kind=reader.org_kind),
        roles=list(reader.roles),
    )
    board = dashboards.home_dashboard(person)
    path = reverse("dashboard", args=[board.slug]) if board is not None else reverse("home")
    return settings.SITE_URL.rstrip("/") + path


def _sections(rows: Iterable[Any], today: datetime.date) -> list[tuple[str, list[DigestItem]]]:
    sections: dict[str, list[DigestItem]] = {key: [] for key, _ in DIGEST_SECTIONS}
    marker = 987_654_321_987
    link = case_link(marker).replace(str(marker), "{}")  # one reverse() per digest, not per item
    for row in rows:
        due_on = row.due_on
        item = DigestItem(
            urn=row.urn,
            deadline=deadline_name(row.kind),
            due_on=due_on,
            due=f"{due_on:%a} {due_on.day} {due_on:%b %Y}",
            when=when_text(row.kind, due_on, today),
            what_to_do=WHAT_TO_DO.get(row.kind, ""),
            link=link.format(row.case_id),
        )
        sections[digest_section(row.kind, due_on, today)].append(item)
    return [(title, sections[key]) for key, title in DIGEST_SECTIONS if sections[key]]


def _digest_content(
    rows: Sequence[Any],
    today: datetime.date,
    *,
    totals: Counter[str] | None = None,
    org_name: str = "",
    dashboard_link: str = "",
    own: Sequence[Any] = (),
) -> tuple[str, str, str]:
    """A digest: an OIC's items (``rows``, all of them); or, with ``totals`` (the count per section), an
    organisation-wide summary whose ``rows`` are its most urgent items, with the reader's ``own`` items as
    OIC."""
    day = f"{today:%A} {today.day} {today:%B}"
    if totals is None:
        n = len(rows)
        subject = f"Your deadlines for {day}: {n} item{'s' if n != 1 else ''}"
    else:
        n = sum(totals.values())
        subject = f"Deadlines across {org_name} for {day}: {n} item{'s' if n != 1 else ''}"
    text, html = _render(
        "digest",
        {
            "subject": subject,
            "today": today,
            "count": n,
            "sections": _sections(rows, today),
            "summary": totals is not None,
            "org_name": org_name,
            "totals": [(title, totals[key]) for key, title in DIGEST_SECTIONS if totals[key]]
            if totals
            else [],
            "listed": len(rows),
            "own_sections": _sections(own, today),
            "own_count": len(own),
            "dashboard_link": dashboard_link,
        },
    )
    return subject[:200], text, html


# --------------------------------------------------------------------------------------------------------------
# Detection: one INSERT ... SELECT per kind of alert
# --------------------------------------------------------------------------------------------------------------

_ALERT_ONCE = "cases_alert_once"
assert any(c.name == _ALERT_ONCE for c in Alert._meta.constraints), "the outbox's unique key was renamed"

_ALERT_COLUMNS = (
    "recipient_id, case_id, clock_id, kind, threshold, day, status, attempts, last_error, next_attempt_at, "
    "subject, body_text, body_html, created_at"
)

# The submission a clock's CPS-side alerts are about: for a time limit, the one with CPS now (none: CPS is not
# told); for a CPS-side clock, its own submission, else the latest.
_SUBMISSION_SQL = """CASE
    WHEN k.kind IN %(stl_kinds)s THEN (
        SELECT r.id FROM {referral} r WHERE r.case_id = k.case_id AND r.status = %(awaiting)s LIMIT 1)
    WHEN k.side = 'cps' THEN coalesce(k.referral_id, (
        SELECT r.id FROM {referral} r WHERE r.case_id = k.case_id ORDER BY r.sequence DESC LIMIT 1))
END"""


def _source_sql(threshold: str) -> str:
    """The open clocks of open cases an alert of ``threshold`` is about, one row per clock: ``clock_id``,
    ``kind``, ``side``, ``day`` (the alert's day), ``sub_id`` (the submission of its CPS side) and what the
    recipients and the gate need of the case (``case_id``, ``force_id``, ``cps_area_id``, ``oic_id``,
    ``restricted``). Each starts from an index: the open clocks' due dates (``cases_clock_open_due_idx``) or the
    recent crossings (``cases_clockevent_created_idx``)."""
    t = _tables()
    sub = _SUBMISSION_SQL.format(**t)
    columns = (
        "k.id AS clock_id, k.kind, k.side, c.id AS case_id, c.force_id, c.cps_area_id, c.oic_id, c.restricted"
    )
    live = "k.stopped_on IS NULL AND c.status NOT IN %(closed)s"
    clock_case = f"{t['clock']} k JOIN {t['case']} c ON c.id = k.case_id"
    if threshold == STL_8_WEEKS:
        # The day CPS received the submission keys the alert: each receipt is told once, whether the limit was
        # within eight weeks on receipt or enters them while CPS has the file; a resubmission is a new receipt.
        return f"""
            SELECT {columns}, r.received_on AS day, r.id AS sub_id
            FROM {clock_case}
            JOIN {t["referral"]} r ON r.case_id = k.case_id AND r.status = %(awaiting)s
            WHERE {live} AND k.kind IN %(stl_kinds)s AND k.due_on BETWEEN %(today)s AND %(flag_until)s"""  # noqa: S608
    if threshold == STL_14_DAYS:
        return f"""
            SELECT {columns}, k.due_on AS day, {sub} AS sub_id
            FROM {clock_case}
            WHERE {live} AND k.kind IN %(stl_kinds)s AND k.due_on BETWEEN %(today)s AND %(urgent_until)s"""  # noqa: S608
    if threshold in (TIME_BARRED, OVERDUE):
        overdue_only = "AND k.due_on < %(today)s" if threshold == OVERDUE else ""
        return f"""
            SELECT {columns}, e.day, {sub} AS sub_id
            FROM (
                SELECT e.clock_id, max(e.crossed_on) AS day FROM {t["clockevent"]} e
                WHERE e.created_at >= %(since)s AND e.to_state = %(to_state)s AND e.kind IN %(kinds)s
                GROUP BY e.clock_id
            ) e
            JOIN {t["clock"]} k ON k.id = e.clock_id JOIN {t["case"]} c ON c.id = k.case_id
            WHERE {live} AND k.kind IN %(kinds)s {overdue_only}"""  # noqa: S608
    if threshold == ESCALATION:
        # A passed time limit is its own, required alert: not escalated. ``escalate_from`` is the start of the
        # window of the five-minute run, or the earliest date for the full run.
        return f"""
            SELECT {columns}, k.due_on AS day, {sub} AS sub_id
            FROM {clock_case}
            WHERE {live} AND k.due_on >= %(escalate_from)s AND k.due_on < %(cutoff)s
              AND k.kind NOT IN %(stl_kinds)s"""  # noqa: S608
    raise ValueError(f"unknown threshold {threshold!r}")  # pragma: no cover - a programming error


def _recipients_sql(escalation: bool) -> str:
    """CTEs over ``src`` (``_source_sql``): ``items`` (which sides of each clock are told, and who is named on
    each), ``told`` (the named people who can be told: reachable and through the gate), ``orphans`` (the sides
    where no named person can be) and ``fallback`` (the organisation's people in the fallback role, for the
    orphans only). Parameters ``%(police_fallback)s`` and ``%(cps_fallback)s`` name the fallback roles
    (``FALLBACK_ROLES``). ``told`` and ``orphans`` are materialised so that the organisation's people are joined
    to the few orphans, never to every clock."""
    t = _tables()
    if escalation:  # the line managers of the people named
        named_joins = (
            f"LEFT JOIN {t['user']} o ON o.id = s.oic_id LEFT JOIN {t['user']} pr ON pr.id = r.prosecutor_id"
        )
        police_named, cps_named = "o.supervisor_id", "pr.supervisor_id"
    else:  # the OIC; the prosecutor allocated to the submission
        named_joins = ""
        police_named, cps_named = "s.oic_id", "r.prosecutor_id"
    case_columns = "clock_id, day, case_id, force_id, cps_area_id, restricted"
    reachable = "u.email <> '' AND {gate}"
    return f"""
items AS MATERIALIZED (
    SELECT s.clock_id, s.day, s.case_id, s.force_id, s.cps_area_id, s.restricted,
           s.side = 'police' AS police,
           (s.side = 'cps' OR (s.kind IN %(stl_kinds)s AND s.sub_id IS NOT NULL)) AS cps,
           {police_named} AS police_named, {cps_named} AS cps_named
    FROM src s
    LEFT JOIN {t["referral"]} r ON r.id = s.sub_id
    {named_joins}
),
named AS (
    SELECT {case_columns}, 'police' AS part, police_named AS user_id
    FROM items WHERE police AND police_named IS NOT NULL
    UNION ALL
    SELECT {case_columns}, 'cps' AS part, cps_named AS user_id
    FROM items WHERE cps AND cps_named IS NOT NULL
),
told AS MATERIALIZED (
    SELECT n.clock_id, n.case_id, n.day, n.part, n.user_id
    FROM named n JOIN {t["user"]} u ON u.id = n.user_id LEFT JOIN {t["org"]} uo ON uo.id = u.organisation_id
    WHERE {reachable.format(gate=gate_sql("u", "uo", "n", case_id="case_id"))}
),
orphans AS MATERIALIZED (
    SELECT {case_columns}, 'police' AS part, force_id AS org_id, %(police_fallback)s AS role
    FROM items x
    WHERE police AND NOT EXISTS (SELECT 1 FROM told tl WHERE tl.clock_id = x.clock_id AND tl.part = 'police')
    UNION ALL
    SELECT {case_columns}, 'cps' AS part, cps_area_id AS org_id, %(cps_fallback)s AS role
    FROM items x
    WHERE cps AND NOT EXISTS (SELECT 1 FROM told tl WHERE tl.clock_id = x.clock_id AND tl.part = 'cps')
),
fallback AS (
    SELECT x.clock_id, x.case_id, x.day, x.part, u.id AS user_id
    FROM orphans x
    JOIN {t["user"]} u ON u.organisation_id = x.org_id AND x.role = ANY(u.roles)
    LEFT JOIN {t["org"]} uo ON uo.id = u.organisation_id
    WHERE {reachable.format(gate=gate_sql("u", "uo", "x", case_id="case_id"))}
)"""  # noqa: S608


def detect_sql(threshold: str) -> str:
    """The one statement that writes the alerts of ``threshold``: the source's clocks, who is told (named people,
    else the fallback), behind the access gate and the person's preferences, each (person, clock, day) once."""
    t = _tables()
    return f"""
WITH src AS MATERIALIZED ({_source_sql(threshold)}),
{_recipients_sql(threshold == ESCALATION)}
INSERT INTO {t["alert"]} ({_ALERT_COLUMNS})
SELECT DISTINCT e.user_id, e.case_id, e.clock_id, %(kind)s, %(threshold)s, e.day, %(pending)s, 0, '',
       %(now)s, '', '', '', %(now)s
FROM (SELECT * FROM told UNION ALL SELECT * FROM fallback) e
JOIN {t["user"]} u ON u.id = e.user_id
LEFT JOIN {t["pref"]} p ON p.user_id = e.user_id
WHERE {preference_sql(threshold)}
  AND NOT EXISTS (
      SELECT 1 FROM {t["alert"]} a
      WHERE a.recipient_id = e.user_id AND a.case_id = e.case_id AND a.clock_id = e.clock_id
        AND a.threshold = %(threshold)s AND a.day = e.day
  )
ON CONFLICT ON CONSTRAINT {_ALERT_ONCE} DO NOTHING"""  # noqa: S608


def detect_params(
    threshold: str, today: datetime.date, now: datetime.datetime, *, full: bool = True
) -> dict[str, Any]:
    """The parameters of ``detect_sql(threshold)`` for ``today`` (London) at ``now``; ``full=False`` limits the
    escalations to the clocks that became escalable within the lookback."""
    from charging.models import ChargingReferral

    rules = clocks.active_rules()
    lookback = int(settings.JJP_ALERTS.get("detect_lookback_days", 7))
    cutoff = nth_working_day_back(today, int(settings.JJP_ALERTS["escalate_after_working_days"]))
    return sql_params(
        threshold=threshold,
        kind=alert_kind(threshold),
        pending=Alert.Status.PENDING,
        awaiting=ChargingReferral.Status.AWAITING_DECISION,
        today=today,
        now=now,
        since=now - datetime.timedelta(days=lookback),
        flag_until=today + datetime.timedelta(days=rules.stl_flag_days),
        urgent_until=today + datetime.timedelta(days=rules.stl_urgent_days),
        cutoff=cutoff,
        escalate_from=datetime.date.min if full else cutoff - datetime.timedelta(days=lookback),
        to_state="time_barred" if threshold == TIME_BARRED else "overdue",
        kinds=STL_KINDS if threshold == TIME_BARRED else OVERDUE_ALERT_KINDS,
        police_fallback=FALLBACK_ROLES[threshold]["police"],
        cps_fallback=FALLBACK_ROLES[threshold]["cps"],
    )


def alerts_detect(
    *, today: datetime.date | None = None, now: datetime.datetime | None = None, full: bool = True
) -> dict[str, int]:
    """Write the immediate alerts and escalations that are due: one INSERT ... SELECT per threshold, whatever
    the number of cases and people (see the module docstring for who is told). Idempotent. ``full=False`` (the
    five-minute run) reads only the escalations that became due within the lookback; the hourly run is full."""
    ledger.sync_rules()
    now = now or timezone.now()
    today = today or ledger.london_today()
    counts: dict[str, int] = {}
    with connection.cursor() as cur:
        for threshold in DETECTED:
            cur.execute(detect_sql(threshold), detect_params(threshold, today, now, full=full))
            counts[threshold] = max(cur.rowcount, 0)
    counts["total"] = sum(counts.values())
    if counts["total"]:
        logger.info("Alert detection for %s wrote %s", today, counts)
    return counts


# --------------------------------------------------------------------------------------------------------------
# Digests: one streamed query over every organisation's due items, one COPY for the day's digests
# --------------------------------------------------------------------------------------------------------------

#: Rows fetched per round trip from the digest stream.
DIGEST_CHUNK = 2000
#: Rendered digests are kept in memory up to this many characters, then on disk, until the COPY.
_SPOOL_BYTES = 2**20  # characters: a StringIO holds up to 4 bytes each


@dataclass(frozen=True, slots=True)
class DigestReader:
    """Someone who may get a digest today (active, with an email address, no digest yet, digest allowed)."""

    id: int
    org_id: int
    org_kind: str
    org_name: str
    roles: frozenset[str]
    is_superuser: bool

    @property
    def org_wide(self) -> bool:
        return bool(self.roles & set(ORG_WIDE_ROLES.get(self.org_kind, ())))

    def may_see_restricted(self, named: Sequence[int]) -> bool:
        """For a reader of this organisation's items (who sees its unrestricted cases): whether they may see a
        restricted one, whose named users are ``named`` (``case_visibility_q``: superusers and the named)."""
        return self.is_superuser or self.id in named


@dataclass(frozen=True, slots=True)
class _Row:
    org_id: int
    oic_id: int | None
    clock_id: int
    case_id: int
    urn: str
    kind: str
    due_on: datetime.date
    named: tuple[int, ...] | None  # the users named on a restricted case; None when not restricted
    oic_sees: bool

    @property
    def key(self) -> tuple[datetime.date, str, int]:
        return urgency(self.due_on, self.urn, self.clock_id)


def digest_readers_sql() -> str:
    t = _tables()
    return f"""
SELECT u.id, u.organisation_id, uo.kind, uo.name, u.roles, u.is_superuser
FROM {t["user"]} u JOIN {t["org"]} uo ON uo.id = u.organisation_id
LEFT JOIN {t["pref"]} p ON p.user_id = u.id
WHERE u.is_active AND u.email <> '' AND u.roles::text[] && %(alert_roles)s::text[]
  AND {preference_sql(DIGEST)}
  AND NOT EXISTS (
      SELECT 1 FROM {t["alert"]} a
      WHERE a.recipient_id = u.id AND a.case_id IS NULL AND a.clock_id IS NULL
        AND a.threshold = %(threshold)s AND a.day = %(today)s
  )
ORDER BY u.organisation_id, u.id"""  # noqa: S608


def digest_items_sql() -> str:
    """Every due item (open clock of an open case, ``warn_on`` reached) of the forces and Areas asked for, in one
    statement, ordered so that each organisation, and each OIC within a force, comes in one run: the police
    side of the forces' cases (with the OIC and whether the OIC may see the case), then the CPS side and the
    time limits of the Areas' cases. Starts from the open clocks' warning days (``cases_clock_open_warn_idx``)."""
    t = _tables()
    restricted_to = f"SELECT rt.user_id FROM {t['restricted']} rt WHERE rt.case_id = c.id"  # noqa: S608
    named = f"CASE WHEN c.restricted THEN ARRAY({restricted_to}) END"
    due = "k.stopped_on IS NULL AND k.warn_on <= %(today)s AND c.status NOT IN %(closed)s"
    return f"""
SELECT c.force_id AS org_id, c.oic_id, k.id, k.case_id, c.urn, k.kind, k.due_on, {named} AS named,
       coalesce({gate_sql("o", "oo", "c")}, false) AS oic_sees
FROM {t["clock"]} k JOIN {t["case"]} c ON c.id = k.case_id
LEFT JOIN {t["user"]} o ON o.id = c.oic_id LEFT JOIN {t["org"]} oo ON oo.id = o.organisation_id
WHERE {due} AND k.side = 'police' AND c.force_id = ANY(%(forces)s::bigint[])
UNION ALL
SELECT c.cps_area_id, NULL, k.id, k.case_id, c.urn, k.kind, k.due_on, {named}, false
FROM {t["clock"]} k JOIN {t["case"]} c ON c.id = k.case_id
WHERE {due} AND (k.side = 'cps' OR k.kind IN %(stl_kinds)s) AND c.cps_area_id = ANY(%(areas)s::bigint[])
ORDER BY 1, 2 NULLS FIRST, 7, 5, 3"""  # noqa: S608


def _digest_readers(today: datetime.date) -> dict[int, dict[int, DigestReader]]:
    """Today's possible digest readers by organisation (one query)."""
    readers: dict[int, dict[int, DigestReader]] = {}
    shared: dict[Any, Any] = {}  # one copy of each organisation's name and kind, and of each set of roles
    with connection.chunked_cursor() as cur:
        cur.execute(
            digest_readers_sql(),
            sql_params(alert_roles=list(ALERT_ROLES), threshold=DIGEST, today=today),
        )
        for user_id, org_id, org_kind, org_name, roles, is_superuser in cur:
            roles = frozenset(roles or ())
            readers.setdefault(org_id, {})[user_id] = DigestReader(
                user_id,
                org_id,
                shared.setdefault(org_kind, org_kind),
                shared.setdefault(org_name, org_name),
                shared.setdefault(roles, roles),
                is_superuser,
            )
    return readers


def _digest_rows(today: datetime.date, forces: list[int], areas: list[int]) -> Iterator[_Row]:
    """The due items, streamed from a server-side cursor (``DIGEST_CHUNK`` rows at a time)."""
    with connection.chunked_cursor() as cur:
        cur.execute(digest_items_sql(), sql_params(today=today, forces=forces, areas=areas))
        while True:
            chunk = cur.fetchmany(DIGEST_CHUNK)
            if not chunk:
                return
            for org_id, oic_id, clock_id, case_id, urn, kind, due_on, named, oic_sees in chunk:
                yield _Row(
                    org_id,
                    oic_id,
                    clock_id,
                    case_id,
                    urn,
                    kind,
                    due_on,
                    tuple(named) if named is not None else None,
                    bool(oic_sees),
                )


@dataclass
class _OrgSummary:
    """What an organisation-wide digest says, built as the organisation's items stream past: the count per
    section and the most urgent items of the unrestricted cases, and the (few) items of restricted cases,
    which each reader sees only when named on the case."""

    today: datetime.date
    counts: Counter[str] = field(default_factory=Counter)
    top: list[_Row] = field(default_factory=list)
    restricted: list[_Row] = field(default_factory=list)

    def add(self, row: _Row) -> None:
        if row.named is not None:
            self.restricted.append(row)
            return
        self.counts[digest_section(row.kind, row.due_on, self.today)] += 1
        self.top.append(row)
        if len(self.top) >= 4 * DIGEST_TOP:
            self.top = heapq.nsmallest(DIGEST_TOP, self.top, key=lambda r: r.key)

    def for_reader(self, reader: DigestReader) -> tuple[Counter[str], list[_Row]]:
        extra = [r for r in self.restricted if reader.may_see_restricted(r.named or ())]
        counts = self.counts + Counter(digest_section(r.kind, r.due_on, self.today) for r in extra)
        return counts, heapq.nsmallest(DIGEST_TOP, [*self.top, *extra], key=lambda r: r.key)


def _org_digests(
    readers: dict[int, DigestReader], rows: Iterable[_Row], today: datetime.date
) -> Iterator[tuple[int, str, str, str]]:
    """The digests of one organisation's readers from its stream of due items: (recipient, subject, text, html).
    An OIC's digest is written when their run of items ends; the organisation-wide ones at the end."""
    wide = [r for r in readers.values() if r.org_wide]
    summary = _OrgSummary(today) if wide else None
    own: dict[int, list[_Row]] = {}
    for oic_id, group in itertools.groupby(rows, key=lambda r: r.oic_id):
        oic = readers.get(oic_id) if oic_id is not None else None
        if oic is not None and "oic" not in oic.roles:
            oic = None
        mine = []
        for row in group:
            if summary is not None:
                summary.add(row)
            if oic is not None and row.oic_sees:
                mine.append(row)
        if not mine:
            continue
        if oic.org_wide:  # a supervisor who is also an OIC: their own items go into their summary digest
            own[oic.id] = mine
        else:
            yield (oic.id, *_digest_content(mine, today))
    rendered: dict[tuple[Any, ...], tuple[str, str, str]] = {}  # readers who see the same get the same text
    for reader in wide:
        counts, top = summary.for_reader(reader) if summary is not None else (Counter(), [])
        mine = own.get(reader.id, [])
        if not top and not mine:
            continue
        link = dashboard_link(reader)
        key = (
            link,
            tuple(sorted(counts.items())),
            tuple(r.clock_id for r in top),
            tuple(r.clock_id for r in mine),
        )
        if key not in rendered:
            rendered[key] = _digest_content(
                top, today, totals=counts, org_name=reader.org_name, dashboard_link=link, own=mine
            )
        yield (reader.id, *rendered[key])


def _digests_write(spool: Any, today: datetime.date, now: datetime.datetime) -> int:
    """COPY the rendered digests (CSV: recipient, subject, text, html) into a temporary table and move them into
    the outbox with one INSERT; a digest someone else wrote meanwhile wins (ON CONFLICT DO NOTHING)."""
    t = _tables()
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMPORARY TABLE jjp_digest_out "
            "(recipient_id bigint, subject varchar(200), body_text text, body_html text) ON COMMIT DROP"
        )
        cur.copy_expert(
            "COPY jjp_digest_out (recipient_id, subject, body_text, body_html) FROM STDIN WITH (FORMAT csv)",
            spool,
        )
        cur.execute(
            f"""INSERT INTO {t["alert"]} ({_ALERT_COLUMNS})
            SELECT o.recipient_id, NULL, NULL, %(kind)s, %(threshold)s, %(today)s, %(pending)s, 0, '', %(now)s,
                   o.subject, o.body_text, o.body_html, %(now)s
            FROM jjp_digest_out o
            ON CONFLICT ON CONSTRAINT {_ALERT_ONCE} DO NOTHING""",  # noqa: S608
            {
                "kind": Alert.Kind.DIGEST,
                "threshold": DIGEST,
                "today": today,
                "pending": Alert.Status.PENDING,
                "now": now,
            },
        )
        created = max(cur.rowcount, 0)
        cur.execute("DROP TABLE jjp_digest_out")
    return created


def digests_build(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Write today's digest for each person with something to say, on working days from the digest hour
    (Europe/London). Before the hour, on weekends and on bank holidays it writes nothing. Idempotent.

    A fixed number of statements: the readers, one streamed query over every organisation's due items, and the
    COPY and INSERT of the digests. Memory holds the readers, one organisation's summary (counts and the most
    urgent items) and one OIC's items at a time; the rendered digests wait in a spooled temporary file."""
    ledger.sync_rules()
    now = now or timezone.now()
    local = now.astimezone(clocks.LONDON)
    today = local.date()
    if not digest_due(
        local, digest_hour=int(settings.JJP_ALERTS["digest_hour"]), working_day=clocks.is_working_day(today)
    ):
        return {"digests": 0}
    readers = _digest_readers(today)
    if not readers:
        return {"digests": 0}
    kinds = {org_id: next(iter(people.values())).org_kind for org_id, people in readers.items()}
    forces = sorted(o for o, kind in kinds.items() if kind == "force")
    areas = sorted(o for o, kind in kinds.items() if kind != "force")
    written = 0
    with (
        transaction.atomic(),
        tempfile.SpooledTemporaryFile(
            max_size=_SPOOL_BYTES, mode="w+", newline="", encoding="utf-8"
        ) as spool,
    ):
        out = csv.writer(spool)
        for org_id, rows in itertools.groupby(_digest_rows(today, forces, areas), key=lambda r: r.org_id):
            for recipient_id, subject, text, html in _org_digests(readers[org_id], rows, today):
                out.writerow((recipient_id, subject, text, html))
                written += 1
        if not written:
            return {"digests": 0}
        spool.seek(0)
        created = _digests_write(spool, today, now)
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


def message_id(alert: Alert) -> str:
    """The alert's Message-ID: the same on every attempt, so a resend after a lost acknowledgement (the server
    took the message, the worker never heard) is recognisable as the same message."""
    host = urlsplit(settings.SITE_URL).hostname or "jjp.invalid"
    return f"<alert-{alert.pk}.{alert.day:%Y%m%d}@{host}>"


def _content(alert: Alert, today: datetime.date) -> dict[str, str]:
    """The subject and bodies to send: detection's alerts are rendered now, from the clock as it is (``today``
    is the London day of sending); other rows (digests, other services' notices) are sent as stored."""
    if alert.threshold not in DETECTED or alert.clock_id is None:
        return {}
    clock = alert.clock
    row = {
        "kind": clock.kind,
        "case__urn": clock.case.urn,
        "due_on": clock.due_on,
        "due_at": clock.due_at,
        "case_id": clock.case_id,
    }
    late = clocks.working_days_between(clock.due_on, today) if alert.threshold == ESCALATION else 0
    subject, text, html = _immediate_content(alert.threshold, row, today, overdue_working_days=late)
    return {"subject": subject, "body_text": text, "body_html": html}


def _message(alert: Alert, smtp: Any) -> EmailMultiAlternatives:
    msg = EmailMultiAlternatives(
        subject=alert.subject,
        body=alert.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[alert.recipient.email],
        connection=smtp,
        headers={
            "Message-ID": message_id(alert),
            "X-JJP-Alert": str(alert.pk),
            "Auto-Submitted": "auto-generated",
        },
    )
    msg.attach_alternative(alert.body_html, "text/html")
    return msg


def _finish(alert_id: int, claimed_at: datetime.datetime, **fields: Any) -> int:
    """Record the outcome only if this worker still holds the claim."""
    return Alert.objects.filter(pk=alert_id, status=Alert.Status.SENDING, claimed_at=claimed_at).update(
        **fields
    )


def _fail(
    alert: Alert, claimed_at: datetime.datetime, error: str, *, now: datetime.datetime, **content: str
) -> str:
    max_attempts = int(settings.JJP_ALERTS["max_attempts"])
    if alert.attempts >= max_attempts:
        _finish(
            alert.pk,
            claimed_at,
            status=Alert.Status.DEAD,
            last_error=error[:2000],
            next_attempt_at=None,
            **content,
        )
        return Alert.Status.DEAD
    _finish(
        alert.pk,
        claimed_at,
        status=Alert.Status.FAILED,
        last_error=error[:2000],
        next_attempt_at=now + datetime.timedelta(seconds=backoff_seconds(alert.attempts)),
        **content,
    )
    return Alert.Status.FAILED


def alerts_deliver(
    *, limit: int = 500, now: datetime.datetime | None = None, stop_after: float | None = None
) -> dict[str, int]:
    """Send the alerts that are due: claim each with a conditional UPDATE (committed before sending, so call
    this outside a transaction), render it (detection's alerts), send, record the outcome with what was sent.
    Rows stuck in ``sending`` past the claim timeout (a worker killed between claim and send) are claimed
    again. With ``stop_after`` (seconds), no new row is claimed after that long: the rest wait for the next run.
    Returns counts."""
    now = now or timezone.now()
    deadline = time.monotonic() + stop_after if stop_after is not None else None
    ledger.sync_rules()  # working days in escalations' text
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
    mail = None
    try:
        for alert_id in ids:
            if deadline is not None and time.monotonic() > deadline:
                break
            claimed_at = timezone.now()
            claimed = (
                Alert.objects.filter(pk=alert_id)
                .filter(_due_q(claimed_at))
                .update(status=Alert.Status.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1)
            )
            if claimed != 1:  # another worker has it
                counts["skipped"] += 1
                continue
            alert = Alert.objects.select_related("recipient", "clock__case").get(pk=alert_id)
            problem = _undeliverable(alert)
            if problem:
                _finish(
                    alert_id, claimed_at, status=Alert.Status.DEAD, last_error=problem, next_attempt_at=None
                )
                counts["dead"] += 1
                continue
            content: dict[str, str] = {}
            try:
                content = _content(alert, clocks.london_today(claimed_at))
                for name, value in content.items():
                    setattr(alert, name, value)
                if mail is None:
                    mail = get_connection(fail_silently=False)
                    mail.open()
                _message(alert, mail).send()
            except SoftTimeLimitExceeded:
                raise  # the task's time is up: the claim lapses and the row is sent by a later run
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                logger.warning("Alert %s not sent (attempt %s): %s", alert_id, alert.attempts, error)
                counts[_fail(alert, claimed_at, error, now=timezone.now(), **content)] += 1
                if mail is not None:
                    with contextlib.suppress(Exception):  # a broken connection; the error is recorded
                        mail.close()
                    mail = None
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
                **content,
            )
            counts["sent"] += 1
    finally:
        if mail is not None:
            mail.close()
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
