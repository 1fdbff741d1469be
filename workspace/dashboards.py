"""Reads for the dashboards and the case page: what is due, for whom, most urgent first.

Every selector starts from ``Case.objects.visible_to(user)`` (or ``Clock.objects.visible_to``), returns an
unsliced queryset with its related rows fetched in a fixed number of queries (``select_related`` and
``prefetch_related``, never a query per row), and is shared by the page (first ``LIMIT`` rows) and its CSV export
(every row). A dashboard is a list of named sections, so any list on it can be exported the same way.

Clock badges are computed from the clock's dates with ``ledger.ledger_state``, the rule the sweep uses, so a
badge is right for today even before the day's first sweep has run.

Lists sort by values stored on the row they list (``Case.next_due_on``, ``Case.stl_due_on``,
``Case.action_plans_count``, ``ChargingReferral.decision_due_on``: ``cases/derived.py``), never by an aggregate of
related rows, and clocks and submissions carry a copy of their case's organisation, so an Area- or force-wide
list is one read of an index led by the organisation, in the list's order, that stops at the page's last row
(the access gate still decides every row). The headline counts are read from such an index alone
(docs/performance.md, "National scale").
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce

from cases import clocks, ledger
from cases.models import Case, Clock, Offence, Role, User
from charging.models import (
    Action,
    ActionPlan,
    CaseConversation,
    ChargingReferral,
    DecisionOutcome,
    TriageReason,
)

# Rows of each dashboard section shown on the dashboard, most urgent first ("at a glance"); the section's own page
# lists them all, PAGE_SIZE at a time, and its CSV export has them all at once.
LIMIT = 10
PAGE_SIZE = 50
# "Orders and bail expiring": open expiry clocks due within this many days (or already passed).
EXPIRING_WITHIN_DAYS = 28
# Cases with CPS: the stages at which a case conversation is still useful.
WITH_CPS = (Case.Status.REFERRED, Case.Status.ACTION_PLAN, Case.Status.DECIDED)
ORDER_KINDS = (Clock.Kind.ORDER_EXPIRY, Clock.Kind.BAIL_EXPIRY, Clock.Kind.DAPN_HEARING)

SHORT_KIND = {
    Clock.Kind.INVESTIGATION: "Investigation",
    Clock.Kind.CHARGING_DECISION: "Charging decision",
    Clock.Kind.CHARGE: "Charge",
    Clock.Kind.STL: "STL",
    Clock.Kind.STL_COMMON_ASSAULT: "STL (common assault)",
    Clock.Kind.VICTIM_UPDATE: "Victim update",
    Clock.Kind.ACTION: "Action",
    Clock.Kind.ORDER_EXPIRY: "Order expiry",
    Clock.Kind.DAPN_HEARING: "Order hearing after a notice",
    Clock.Kind.BAIL_EXPIRY: "Bail expiry",
    Clock.Kind.SUPPORT_REFERRAL: "Support referral",
    Clock.Kind.OPERATION_ENCOMPASS: "Operation Encompass",
}


# --------------------------------------------------------------------------------------------------------------
# Badges
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """How a clock reads today: the words on its tag and the tag's colour (a ``govuk-tag--*`` modifier)."""

    text: str
    colour: str = ""
    urgent: bool = False

    @property
    def css(self) -> str:
        if self.colour == "black":
            return "govuk-tag jjp-tag--black"
        return f"govuk-tag govuk-tag--{self.colour}" if self.colour else "govuk-tag"

    def __str__(self) -> str:
        return self.text


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def clock_badge(clock: Clock, today: datetime.date) -> Badge:
    """The badge of one clock for ``today``: days left, due soon, due today, overdue, STL within eight weeks,
    time-barred; or, once stopped, how it ended."""
    name = SHORT_KIND.get(clock.kind, clock.get_kind_display())
    if clock.stopped_on is not None:
        colour = {"met": "green", "missed": "red"}.get(clock.state, "grey")
        return Badge(f"{name}: {clock.get_state_display().lower()}", colour)
    state = ledger.ledger_state(kind=clock.kind, due_on=clock.due_on, warn_on=clock.warn_on, today=today)
    left = (clock.due_on - today).days
    if state == Clock.State.TIME_BARRED:
        return Badge(f"{name}: time-barred", "black", urgent=True)
    if state == Clock.State.OVERDUE:
        return Badge(f"{name}: overdue by {_days(-left)}", "red", urgent=True)
    if clock.kind in Clock.STL_KINDS and state == Clock.State.DUE_SOON:
        return Badge(f"{name}: {_days(left)} left, within 8 weeks", "red", urgent=True)
    if left == 0:
        return Badge(f"{name}: due today", "orange", urgent=True)
    if state == Clock.State.DUE_SOON:
        return Badge(f"{name}: due soon, {_days(left)} left", "yellow")
    return Badge(f"{name}: {_days(left)} left", "blue")


def badges_set(clock_rows: Iterable[Clock], today: datetime.date) -> None:
    """Attach ``badge`` to each clock of an already-fetched page of rows (no queries)."""
    for clock in clock_rows:
        clock.badge = clock_badge(clock, today)  # type: ignore[attr-defined]


def open_clocks_prefetch(lookup: str = "clocks", to_attr: str = "open_clocks") -> Prefetch:
    return Prefetch(lookup, queryset=Clock.objects.open().order_by("due_on", "pk"), to_attr=to_attr)


def _stl_soon(today: datetime.date, stl_due: str = "stl_due") -> Coalesce:
    """The case has an open statutory time limit within the eight-week flag (or already passed): its earliest
    open STL (the ``stl_due`` annotation) is on or before the flag's limit."""
    limit = today + datetime.timedelta(days=clocks.active_rules().stl_flag_days)
    return Coalesce(
        ExpressionWrapper(Q(**{f"{stl_due}__lte": limit}), output_field=BooleanField()),
        Value(False),
        output_field=BooleanField(),
    )


def clock_counts(qs: QuerySet[Clock], today: datetime.date) -> dict[str, int]:
    """One query: how many open clocks are overdue, due soon, time-barred, and STL within eight weeks. Only
    clocks due by the furthest of those limits are read (a range of the organisation's index)."""
    limit = today + datetime.timedelta(days=clocks.active_rules().stl_flag_days)
    soon = today + datetime.timedelta(days=clocks.active_rules().due_soon_days)
    stl = Q(kind__in=Clock.STL_KINDS)
    return (
        qs.open()
        .filter(due_on__lte=max(limit, soon))
        .aggregate(
            overdue=Count("pk", filter=~stl & Q(due_on__lt=today)),
            due_soon=Count("pk", filter=~stl & Q(due_on__gte=today, due_on__lte=soon)),
            stl_soon=Count("pk", filter=stl & Q(due_on__gte=today, due_on__lte=limit)),
            time_barred=Count("pk", filter=stl & Q(due_on__lt=today)),
        )
    )


# --------------------------------------------------------------------------------------------------------------
# Sections: one selector each, shared by the page and the CSV export.
# --------------------------------------------------------------------------------------------------------------


def _suspects(case: Case) -> str:
    return ", ".join(str(p) for p in case.suspects.all())


def _badges_text(clock_rows: Iterable[Clock], today: datetime.date) -> str:
    return "; ".join(clock_badge(c, today).text for c in clock_rows)


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any, datetime.date], Any]


@dataclass(frozen=True)
class Section:
    """A list on a dashboard. ``rows`` is the selector; ``clocks_of`` names the clocks to badge on each row;
    ``columns`` are the CSV columns."""

    slug: str
    title: str
    rows: Callable[[User, datetime.date], QuerySet]
    columns: tuple[Column, ...]
    clocks_of: Callable[[Any], Iterable[Clock]] = lambda row: ()
    empty: str = "Nothing here."
    decorate: Callable[[Any], None] = lambda row: None

    @property
    def template(self) -> str:
        """The section's markup (``templates/dashboards/sections/<slug>.html``), shared by the dashboard and the
        section's own page."""
        return f"dashboards/sections/{self.slug}.html"


@dataclass
class SectionPage:
    """Rows of a section: on the dashboard, its first ``LIMIT`` (``truncated`` when there are more); on the
    section's own page (``all_view``), page ``number`` of ``PAGE_SIZE`` rows (``has_next`` when there are more)."""

    section: Section
    rows: list[Any]
    truncated: bool
    extra: dict[str, Any] = field(default_factory=dict)
    all_view: bool = False
    number: int = 1
    has_next: bool = False
    first_row: int = 1

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1


def section_page(
    section: Section, user: User, today: datetime.date, *, number: int | None = None
) -> SectionPage:
    """The rows of a section, badged, in a fixed number of queries whatever the row count: the dashboard's first
    ``LIMIT`` or, with ``number``, that page of ``PAGE_SIZE`` rows of the section's own page. Each is one read of
    the section's index in its order, stopping one row after the page (to know whether there are more)."""
    size = LIMIT if number is None else PAGE_SIZE
    offset = 0 if number is None else (number - 1) * PAGE_SIZE
    rows = list(section.rows(user, today)[offset : offset + size + 1])
    more = len(rows) > size
    rows = rows[:size]
    for row in rows:
        badges_set(section.clocks_of(row), today)
        section.decorate(row)
    if number is None:
        return SectionPage(section, rows, truncated=more)
    return SectionPage(
        section, rows, truncated=False, all_view=True, number=number, has_next=more, first_row=offset + 1
    )


def _my_cases(user: User) -> QuerySet[Case]:
    return Case.objects.visible_to(user).open().filter(oic=user)


def _with_next_due(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Most urgent first: the stored earliest open deadline (``Case.next_due_on``; none open: last)."""
    return qs.annotate(next_due=F("next_due_on")).order_by(F("next_due_on").asc(nulls_last=True), "urn")


def oic_cases(user: User, today: datetime.date) -> QuerySet[Case]:
    """My open cases (I am the officer in charge), most urgent first: the earliest open deadline."""
    return _with_next_due(_my_cases(user)).prefetch_related(open_clocks_prefetch(), "suspects")


def oic_actions_due(user: User, today: datetime.date) -> QuerySet[Action]:
    """Open actions from CPS action plans still with police on my cases, earliest required-by first."""
    return (
        Action.objects.filter(
            plan__case__in=_my_cases(user),
            plan__status=ActionPlan.Status.OPEN,
            status__in=Action.OPEN_STATUSES,
        )
        .select_related("plan__case")
        .prefetch_related(open_clocks_prefetch())
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )


def oic_victim_updates(user: User, today: datetime.date) -> QuerySet[Clock]:
    """Victims' Code updates still to give on my cases (Right 6)."""
    return (
        Clock.objects.open()
        .filter(kind=Clock.Kind.VICTIM_UPDATE, case__in=_my_cases(user))
        .select_related("case")
        .order_by("due_on", "pk")
    )


def oic_orders_expiring(user: User, today: datetime.date) -> QuerySet[Clock]:
    """Protective orders, DAPO hearings and pre-charge bail on my cases that end within four weeks."""
    return (
        Clock.objects.open()
        .filter(
            kind__in=ORDER_KINDS,
            case__in=_my_cases(user),
            due_on__lte=today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS),
        )
        .select_related("case", "order")
        .order_by("due_on", "pk")
    )


def _case_open() -> Q:
    return ~Q(case__status__in=Case.CLOSED_STATUSES)


def _charging_clocks() -> Prefetch:
    return Prefetch(
        "clocks",
        queryset=Clock.objects.open().filter(kind=Clock.Kind.CHARGING_DECISION),
        to_attr="charging_clocks",
    )


def _awaiting(user: User, today: datetime.date) -> QuerySet[ChargingReferral]:
    return (
        # The gate on the submission's copy of its case's organisation and restricted flag, which leads the
        # organisation's indexes.
        ChargingReferral.objects.visible_to(user)
        .filter(status=ChargingReferral.Status.AWAITING_DECISION)
        .select_related("case", "submitted_by")
        # The charging clock's due date is stored on the submission (``decision_due_on``) and the earliest STL on
        # the case (``stl_due_on``), both kept by the ledger, so the lists ordered by them need not join clocks.
        .annotate(charging_due=F("decision_due_on"), stl_due=F("case__stl_due_on"))
        .annotate(stl_soon=_stl_soon(today))
        .prefetch_related(_charging_clocks(), "case__suspects")
    )


def referrals_awaiting(user: User, today: datetime.date) -> QuerySet[ChargingReferral]:
    """Submissions with CPS awaiting a decision, ordered by their charging clock (custody first on a tie)."""
    return _awaiting(user, today).order_by(
        F("decision_due_on").asc(nulls_last=True), "-custody", "received_on", "pk"
    )


def stl_watch(user: User, today: datetime.date) -> QuerySet[Clock]:
    """Open statutory time limits within eight weeks, or passed, on open cases: the STL watch list."""
    limit = today + datetime.timedelta(days=clocks.active_rules().stl_flag_days)
    return (
        Clock.objects.visible_to(user)
        .open()
        .filter(_case_open(), kind__in=Clock.STL_KINDS, due_on__lte=limit)
        .select_related("case", "offence__offence_type")
        .order_by("due_on", "pk")
    )


def resubmissions(user: User, today: datetime.date) -> QuerySet[ChargingReferral]:
    """Action plan responses received: police resubmissions awaiting a decision, with the plan they answer."""
    answered = ActionPlan.objects.filter(status=ActionPlan.Status.RESUBMITTED).annotate(
        n_actions=Count("actions"),
        n_done=Count("actions", filter=Q(actions__status="completed")),
    )
    return (
        _awaiting(user, today)
        .filter(
            Exists(ActionPlan.objects.filter(case=OuterRef("case"), status=ActionPlan.Status.RESUBMITTED)),
            sequence__gt=1,
        )
        .prefetch_related(Prefetch("case__action_plans", queryset=answered, to_attr="answered_plans"))
        .order_by(F("decision_due_on").asc(nulls_last=True), "received_on", "pk")
    )


def conversation_flags(user: User, today: datetime.date) -> QuerySet[Case]:
    """Cases with CPS that need a case conversation and have had none: high risk, a high-harm repeat offender,
    or a statutory time limit within eight weeks."""
    limit = today + datetime.timedelta(days=clocks.active_rules().stl_flag_days)
    return (
        Case.objects.visible_to(user)
        .filter(status__in=WITH_CPS)
        .filter(
            Q(risk_level=Case.RiskLevel.HIGH) | Q(high_harm_repeat_offender=True) | Q(stl_due_on__lte=limit)
        )
        .filter(~Exists(CaseConversation.objects.filter(case=OuterRef("pk"))))
        .annotate(stl_due=F("stl_due_on"))
        .annotate(stl_soon=_stl_soon(today))
        .prefetch_related("suspects")
        .order_by(F("stl_due_on").asc(nulls_last=True), "urn")
    )


def conversation_reasons(case: Case) -> list[str]:
    reasons = []
    if getattr(case, "stl_soon", False):
        reasons.append("STL within 8 weeks")
    if case.risk_level == Case.RiskLevel.HIGH:
        reasons.append("High risk")
    if case.high_harm_repeat_offender:
        reasons.append("High-harm repeat offender")
    return reasons


def _team_side(user: User) -> Q:
    """A supervisor's team: police supervisors watch the police side; CPS legal managers the CPS side and
    every statutory time limit (a time-barred case is lost to both)."""
    org = user.organisation
    if org is not None and org.kind == org.Kind.CPS_AREA:
        return Q(side=Clock.Side.CPS) | Q(kind__in=Clock.STL_KINDS)
    return Q(side=Clock.Side.POLICE)


def team_overdue(user: User, today: datetime.date) -> QuerySet[Clock]:
    """The team's open clocks past their due date (overdue or time-barred), oldest first: the rows behind the
    headline "overdue" and "time-barred" counts (``dashboard_counts``: the same gate, side and dates), so the
    two numbers add up to the length of this list."""
    return (
        Clock.objects.visible_to(user)
        .open()
        .filter(_team_side(user), due_on__lt=today)
        .select_related("case__oic", "case__force")
        .order_by("due_on", "pk")
    )


def triage_queue(user: User, today: datetime.date) -> QuerySet[ChargingReferral]:
    """Submissions awaiting CPS triage: custody first, then the oldest."""
    return (
        _awaiting(user, today)
        .filter(triage=ChargingReferral.Triage.PENDING)
        .order_by("-custody", F("decision_due_on").asc(nulls_last=True), "received_on", "pk")
    )


def returned_at_triage(user: User, today: datetime.date) -> QuerySet[ChargingReferral]:
    """Files returned to police at triage and not yet resubmitted, by the date police must respond."""
    later = ChargingReferral.objects.filter(case=OuterRef("case"), sequence__gt=OuterRef("sequence"))
    return (
        ChargingReferral.objects.visible_to(user)
        .filter(_case_open(), status=ChargingReferral.Status.REJECTED)
        .filter(~Exists(later))
        .select_related("case__oic")
        .order_by(F("respond_by").asc(nulls_last=True), "pk")
    )


def triage_reason_labels(referral: ChargingReferral) -> list[str]:
    """The file-quality reasons a referral was returned for, in words."""
    return [str(TriageReason(r).label) for r in referral.triage_reasons if r in TriageReason.values]


def _with_reason_labels(referral: ChargingReferral) -> None:
    referral.reason_labels = triage_reason_labels(referral)  # type: ignore[attr-defined]


def escalation_model() -> Any | None:
    """The action plan escalation model (added by the governance work), or None while it does not exist."""
    for app_label in ("charging", "governance"):
        try:
            return apps.get_model(app_label, "ActionPlanEscalation")
        except LookupError:
            continue
    return None


def escalations(user: User, today: datetime.date) -> QuerySet[Any]:
    """Action plans escalated as disproportionate and not yet resolved, oldest first."""
    model = escalation_model()
    if model is None:
        return ActionPlan.objects.none()
    names = {f.name for f in model._meta.get_fields()}
    qs = model.objects.filter(plan__case__in=Case.objects.visible_to(user)).select_related("plan__case")
    if "status" in names:
        qs = qs.exclude(status="resolved")
    return qs.order_by("raised_on" if "raised_on" in names else "pk", "pk")


def repeat_action_plans(user: User, today: datetime.date) -> QuerySet[Case]:
    """Open cases with two or more action plans, most plans first, then the latest plan (the stored
    ``Case.action_plans_count`` and ``Case.last_plan_on``, indexed in that order where the count is 2 or more)."""
    return (
        Case.objects.visible_to(user)
        .open()
        .filter(action_plans_count__gte=2)
        .annotate(n_plans=F("action_plans_count"), last_plan=F("last_plan_on"))
        .select_related("oic")
        .prefetch_related(open_clocks_prefetch(), "suspects")
        .order_by("-action_plans_count", F("last_plan_on").desc(nulls_last=True), "urn")
    )


# --------------------------------------------------------------------------------------------------------------
# The dashboards
# --------------------------------------------------------------------------------------------------------------


def _date(d: datetime.date | None) -> str:
    return d.isoformat() if d else ""


def _clock_badge_text(c: Clock, today: datetime.date) -> str:
    return clock_badge(c, today).text


CASE_COLUMNS = (
    Column("URN", lambda c, t: c.urn),
    Column("Suspects", lambda c, t: _suspects(c)),
    Column("Status", lambda c, t: c.get_status_display()),
    Column("Risk", lambda c, t: c.get_risk_level_display()),
    Column("Next deadline", lambda c, t: _date(getattr(c, "next_due", None))),
    Column("Open deadlines", lambda c, t: _badges_text(c.open_clocks, t)),
)
CLOCK_COLUMNS = (
    Column("URN", lambda c, t: c.case.urn),
    Column("Deadline", lambda c, t: c.get_kind_display()),
    Column("About", lambda c, t: c.label),
    Column("Side", lambda c, t: c.get_side_display()),
    Column("Due", lambda c, t: _date(c.due_on)),
    Column("State", _clock_badge_text),
)
OVERDUE_COLUMNS = CLOCK_COLUMNS + (
    Column("Officer in charge", lambda c, t: c.case.oic.display_name if c.case.oic else ""),
)
REFERRAL_COLUMNS = (
    Column("URN", lambda r, t: r.case.urn),
    Column("Suspects", lambda r, t: _suspects(r.case)),
    Column("Submission", lambda r, t: r.sequence),
    Column("Kind", lambda r, t: r.get_kind_display()),
    Column("Custody", lambda r, t: "yes" if r.custody else "no"),
    Column("Received", lambda r, t: _date(r.received_on)),
    Column("Triage", lambda r, t: r.get_triage_display()),
    Column("Decision due", lambda r, t: _date(r.charging_due)),
    Column("Charging clock", lambda r, t: _badges_text(r.charging_clocks, t)),
    Column("Earliest STL", lambda r, t: _date(r.stl_due)),
)

OIC_SECTIONS = (
    Section(
        "cases",
        "My cases, most urgent first",
        oic_cases,
        CASE_COLUMNS,
        clocks_of=lambda c: c.open_clocks,
        empty="You are not the officer in charge of any open case.",
    ),
    Section(
        "actions",
        "Actions due from CPS action plans",
        oic_actions_due,
        (
            Column("URN", lambda a, t: a.plan.case.urn),
            Column("Action", lambda a, t: a.description),
            Column("Status", lambda a, t: a.get_status_display()),
            Column("Required by", lambda a, t: _date(a.due_on) or "not scheduled"),
            Column("Plan: respond by", lambda a, t: _date(a.plan.respond_by)),
            Column("Clock", lambda a, t: _badges_text(a.open_clocks, t)),
        ),
        clocks_of=lambda a: a.open_clocks,
        empty="No actions from CPS are waiting for you.",
    ),
    Section(
        "victim-updates",
        "Victims' Code updates due",
        oic_victim_updates,
        CLOCK_COLUMNS,
        clocks_of=lambda c: (c,),
        empty="No victim updates are due.",
    ),
    Section(
        "orders",
        f"Orders and bail ending in the next {EXPIRING_WITHIN_DAYS} days",
        oic_orders_expiring,
        CLOCK_COLUMNS,
        clocks_of=lambda c: (c,),
        empty=f"No protective order, hearing or bail ends in the next {EXPIRING_WITHIN_DAYS} days.",
    ),
)

PROSECUTOR_SECTIONS = (
    Section(
        "stl-watch",
        "STL watch list: statutory time limits within 8 weeks",
        stl_watch,
        (
            Column("URN", lambda c, t: c.case.urn),
            Column("Offence", lambda c, t: c.label),
            Column("Case status", lambda c, t: c.case.get_status_display()),
            Column("STL", lambda c, t: _date(c.due_on)),
            Column("State", _clock_badge_text),
        ),
        clocks_of=lambda c: (c,),
        empty="No statutory time limit falls within eight weeks.",
    ),
    # Every deadline in the headline "overdue" and "time-barred" counts: the same rows (``team_overdue``), so a
    # count is never higher than what the prosecutor can find (a CPS victim update, say, is on no other list).
    Section(
        "overdue",
        "The Area's overdue and time-barred deadlines",
        team_overdue,
        OVERDUE_COLUMNS,
        clocks_of=lambda c: (c,),
        empty="Nothing is overdue.",
    ),
    Section(
        "awaiting",
        "Referrals awaiting a decision, by charging clock",
        referrals_awaiting,
        REFERRAL_COLUMNS,
        clocks_of=lambda r: r.charging_clocks,
        empty="No referral is awaiting a decision.",
    ),
    Section(
        "resubmissions",
        "Action plan responses received",
        resubmissions,
        REFERRAL_COLUMNS
        + (
            Column(
                "Actions completed",
                lambda r, t: "; ".join(f"{p.n_done} of {p.n_actions}" for p in r.case.answered_plans),
            ),
        ),
        clocks_of=lambda r: r.charging_clocks,
        empty="No action plan responses are waiting.",
    ),
    Section(
        "conversations",
        "Cases flagged for a case conversation",
        conversation_flags,
        (
            Column("URN", lambda c, t: c.urn),
            Column("Suspects", lambda c, t: _suspects(c)),
            Column("Status", lambda c, t: c.get_status_display()),
            Column("Why", lambda c, t: "; ".join(conversation_reasons(c))),
            Column("Earliest STL", lambda c, t: _date(c.stl_due)),
        ),
        empty="No case is waiting for a case conversation.",
    ),
)

SUPERVISOR_SECTIONS = (
    Section(
        "overdue",
        "The team's overdue deadlines",
        team_overdue,
        OVERDUE_COLUMNS,
        clocks_of=lambda c: (c,),
        empty="Nothing is overdue.",
    ),
    Section(
        "triage",
        "Triage queue: referrals awaiting CPS triage",
        triage_queue,
        REFERRAL_COLUMNS,
        clocks_of=lambda r: r.charging_clocks,
        empty="No referral is waiting for triage.",
    ),
    Section(
        "returned",
        "Files returned at triage, awaiting the police response",
        returned_at_triage,
        (
            Column("URN", lambda r, t: r.case.urn),
            Column("Submission", lambda r, t: r.sequence),
            Column("Returned", lambda r, t: _date(r.triaged_on)),
            Column("Reasons", lambda r, t: "; ".join(triage_reason_labels(r))),
            Column("Respond by", lambda r, t: _date(r.respond_by)),
            Column("Officer in charge", lambda r, t: r.case.oic.display_name if r.case.oic else ""),
        ),
        empty="No returned file is waiting for police.",
        decorate=_with_reason_labels,
    ),
    Section(
        "escalations",
        "Action plans escalated as disproportionate",
        escalations,
        (
            Column("URN", lambda e, t: e.plan.case.urn),
            Column("Plan issued", lambda e, t: _date(e.plan.issued_on)),
            Column("Raised", lambda e, t: _date(getattr(e, "raised_on", None))),
            Column("Status", lambda e, t: e.get_status_display() if hasattr(e, "get_status_display") else ""),
            Column("Grounds", lambda e, t: getattr(e, "grounds", "")),
        ),
        empty="No action plan is escalated.",
    ),
    Section(
        "repeat-plans",
        "Cases with two or more action plans",
        repeat_action_plans,
        CASE_COLUMNS[:4] + (Column("Action plans", lambda c, t: c.n_plans),) + CASE_COLUMNS[5:],
        clocks_of=lambda c: c.open_clocks,
        empty="No open case has had more than one action plan.",
    ),
)


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    roles: frozenset[str]
    org_kind: str
    sections: tuple[Section, ...]
    description: str = ""
    counts_of: str = "Open deadlines"  # what the headline numbers count (``dashboard_counts``)

    def allows(self, user: Any) -> bool:
        org = getattr(user, "organisation", None)
        return bool(
            getattr(user, "is_active", False)
            and org is not None
            and org.kind == self.org_kind
            and any(r in self.roles for r in getattr(user, "roles", ()))
        )

    def section(self, slug: str) -> Section | None:
        return next((s for s in self.sections if s.slug == slug), None)


POLICE_SUPERVISOR = Dashboard(
    "police-supervisor",
    "Supervisor dashboard",
    frozenset({Role.POLICE_SUPERVISOR, Role.TRIAGE_OFFICER}),
    "force",
    SUPERVISOR_SECTIONS,
    "Your force's overdue deadlines, files at CPS triage, escalations and repeated action plans.",
    "The force's open police-side deadlines",
)
LEGAL_MANAGER = Dashboard(
    "legal-manager",
    "Legal manager dashboard",
    frozenset({Role.LEGAL_MANAGER}),
    "cps_area",
    SUPERVISOR_SECTIONS,
    "Your Area's overdue deadlines, the triage queue, escalations and repeated action plans.",
    "The Area's open CPS-side deadlines and statutory time limits",
)
PROSECUTOR = Dashboard(
    "prosecutor",
    "Prosecutor dashboard",
    frozenset({Role.PROSECUTOR, Role.LEGAL_MANAGER}),
    "cps_area",
    PROSECUTOR_SECTIONS,
    "Statutory time limits, overdue deadlines, referrals awaiting a decision, action plan responses and case "
    "conversations.",
    "The Area's open CPS-side deadlines and statutory time limits",
)
OIC = Dashboard(
    "oic",
    "My cases",
    frozenset({Role.OIC}),
    "force",
    OIC_SECTIONS,
    "Your cases, most urgent first, and what is due on them.",
    "The open deadlines of your cases",
)

# In the order a person holding several roles is routed home.
DASHBOARDS: dict[str, Dashboard] = {d.slug: d for d in (POLICE_SUPERVISOR, LEGAL_MANAGER, PROSECUTOR, OIC)}


def dashboards_for(user: Any) -> list[Dashboard]:
    return [d for d in DASHBOARDS.values() if d.allows(user)]


def home_dashboard(user: Any) -> Dashboard | None:
    """The dashboard a user lands on: supervisors and legal managers theirs, then prosecutors, then OICs.
    Others (victim liaison, panel members, operators) land on the case list."""
    allowed = dashboards_for(user)
    return allowed[0] if allowed else None


def dashboard_counts(board: Dashboard, user: User, today: datetime.date) -> dict[str, int]:
    """The headline numbers above a dashboard (one query): an OIC's, the open deadlines of their cases; the
    others', the organisation's side of the work (``_team_side``: a force's police-side deadlines; an Area's
    CPS-side deadlines and every statutory time limit), read from the organisation's index alone."""
    if board is OIC:
        return clock_counts(Clock.objects.filter(case__in=_my_cases(user)), today)
    with transaction.atomic(), connection.cursor() as cur:
        # One process: an index-only read of one organisation's range, where parallel workers cost a page
        # served under concurrent load more CPU than they save (docs/performance.md, "National scale").
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        return clock_counts(Clock.objects.visible_to(user).filter(_team_side(user)), today)


# --------------------------------------------------------------------------------------------------------------
# The case page
# --------------------------------------------------------------------------------------------------------------


@dataclass
class VictimSummary:
    """What the case page shows of a victim: counts and dates, never names, contact details or address."""

    number: int
    is_child: bool
    enhanced_rights: bool
    contacts: int
    last_contact: datetime.datetime | None
    update_clocks: list[Clock]


def case_page(case: Case, today: datetime.date) -> dict[str, Any]:
    """Everything the case page and the printable summary show, in a fixed number of queries: each related
    list is one query, and clocks are fetched once and handed to the offences, referrals, actions and victims
    they are about."""
    from charging.selectors import time_with_each_side_of
    from victims.models import Victim

    all_clocks = list(
        case.clocks.select_related("offence__offence_type").order_by("stopped_on", "due_on", "pk")
    )
    badges_set(all_clocks, today)
    open_clocks = [c for c in all_clocks if c.stopped_on is None]

    def clocks_about(**subject: Any) -> list[Clock]:
        key, value = next(iter(subject.items()))
        return [c for c in all_clocks if getattr(c, key) == value]

    offences = list(case.offences.select_related("offence_type", "suspect", "complainant"))
    victim_rows = list(
        Victim.objects.filter(case=case)
        .only("pk", "case_id", "is_child", "enhanced_rights")
        .annotate(n_contacts=Count("contacts"), last_contact=Max("contacts__contacted_at"))
        .order_by("pk")
    )
    victim_numbers = {v.pk: n for n, v in enumerate(victim_rows, start=1)}
    for offence in offences:
        # The case page names victims by number (as in its victims section), never by name.
        offence.complainant_label = (  # type: ignore[attr-defined]
            f"Victim {victim_numbers[offence.complainant_id]}"
            if offence.complainant_id in victim_numbers
            else ""
        )
        offence.stl_clocks = [  # type: ignore[attr-defined]
            c for c in clocks_about(offence_id=offence.pk) if c.kind in Clock.STL_KINDS
        ]
        for c in offence.stl_clocks:  # type: ignore[attr-defined]
            c.basis_text = ledger.stl_basis_text(
                c,
                offence,
                complainant=offence.complainant_label or None,  # type: ignore[attr-defined]
            )
    referrals = list(
        case.referrals.select_related("decision__decided_by", "submitted_by")
        .prefetch_related(
            Prefetch(
                "decision__offence_outcomes",
                queryset=DecisionOutcome.objects.select_related("offence__offence_type", "suspect"),
            )
        )
        .order_by("sequence")
    )
    for referral in referrals:
        referral.charging_clocks = clocks_about(referral_id=referral.pk)  # type: ignore[attr-defined]
        _with_reason_labels(referral)
    plans = list(
        case.action_plans.select_related("decision__decided_by").prefetch_related(
            Prefetch("actions", queryset=Action.objects.select_related("owner").order_by("pk"))
        )
    )
    for plan in plans:
        for action in plan.actions.all():
            action.action_clocks = clocks_about(action_id=action.pk)  # type: ignore[attr-defined]
    victims = [
        VictimSummary(
            number=n,
            is_child=v.is_child,
            enhanced_rights=v.enhanced_rights,
            contacts=v.n_contacts,
            last_contact=v.last_contact,
            update_clocks=[c for c in clocks_about(victim_id=v.pk) if c.kind == Clock.Kind.VICTIM_UPDATE],
        )
        for n, v in enumerate(victim_rows, start=1)
    ]
    events = list(case.events.select_related("actor"))
    stl_open = [c for c in open_clocks if c.kind in Clock.STL_KINDS]
    limit = today + datetime.timedelta(days=clocks.active_rules().stl_flag_days)
    return {
        "clocks": all_clocks,
        "open_clocks": open_clocks,
        "stl_warning": [c for c in stl_open if c.due_on <= limit],
        "offences": offences,
        "events": events,
        "referrals": referrals,
        "plans": plans,
        "open_actions": [a for plan in plans for a in plan.actions.all() if a.status in Action.OPEN_STATUSES],
        "charges": list(
            case.charges.select_related("suspect")
            .prefetch_related(Prefetch("offences", queryset=Offence.objects.select_related("offence_type")))
            .order_by("charged_on", "pk")
        ),
        # Read only when the timeline (already read) says early advice was asked for.
        "early_advice": list(case.early_advice.select_related("requested_by", "given_by"))
        if any(e.kind == "early_advice_requested" for e in events)
        else [],
        "conversations": list(case.conversations.prefetch_related("participants").order_by("held_on", "pk")),
        "orders": list(case.orders.prefetch_related("breaches")),
        "victims": victims,
        "suspects": list(case.suspects.all()),
        "time_with": time_with_each_side_of(referrals, plans, today=today),
        "today": today,
    }
