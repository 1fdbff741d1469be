"""Reads for victims and safeguarding, for the victims pages, the case page and the governance reports.

Every function takes what the caller already reached through the access gate (a case fetched with
``Case.objects.visible_to(user)``, or a queryset of such cases) or the user, so nothing here widens access. The
confidential address is never read here: ``VictimQuerySet.without_address`` says only whether one is on file.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import rules
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from cases import ledger
from cases.models import Case, Clock

from . import order_rules
from .models import (
    Breach,
    DapoRequirement,
    LanguageFinding,
    OperationEncompassNotification,
    ProsecutionPosition,
    ProtectiveOrder,
    SupportService,
    Victim,
    VictimCodeDuty,
    VictimContact,
)
from .querysets import early_withdrawal_days

NOT_SUPPORTING = (ProsecutionPosition.Position.DOES_NOT_SUPPORT, ProsecutionPosition.Position.WITHDREW)
# The services a referral "to an IDVA or specialist service" (the Victims' Code duty) goes to: a contact logged as
# a referral to support services with one of these in the local directory is that referral.
SPECIALIST_KINDS = (SupportService.Kind.IDVA, SupportService.Kind.ISVA, SupportService.Kind.SPECIALIST_DA)


# --------------------------------------------------------------------------------------------------------------
# Victims of a case
# --------------------------------------------------------------------------------------------------------------


def victims_for_case(case: Case) -> QuerySet[Victim]:
    """The case's victims without their confidential addresses (``address_on_file`` says whether there is one),
    with their positions, contacts and duties prefetched."""
    return (
        Victim.objects.filter(case=case)
        .without_address()
        .select_related("case")
        .prefetch_related(
            Prefetch("positions", queryset=ProsecutionPosition.objects.order_by("recorded_on", "pk")),
            Prefetch(
                "contacts",
                queryset=VictimContact.objects.select_related("made_by", "support_service").order_by(
                    "-contacted_at"
                ),
            ),
            Prefetch(
                "duties", queryset=VictimCodeDuty.objects.select_related("service").order_by("done_on", "pk")
            ),
        )
        .order_by("pk")
    )


def can_view_address(user: Any, case: Case) -> bool:
    """Whether the page should offer "Reveal the address" (the same rule the service enforces)."""
    return rules.has_perm("victims.view_confidential_address", user, case)


def latest_position(victim: Victim) -> ProsecutionPosition | None:
    """The victim's current position (uses the prefetched positions when present)."""
    positions = list(victim.positions.all())
    return max(positions, key=lambda p: (p.recorded_on, p.pk)) if positions else None


def early_withdrawal(victim: Victim, *, within_days: int | None = None) -> ProsecutionPosition | None:
    """The victim's first withdrawal within ``within_days`` (default: the setting, 5) of the report, if any."""
    limit = early_withdrawal_days() if within_days is None else within_days
    hits = [p for p in victim.positions.all() if p.is_withdrawal and p.days_after_report <= limit]
    return min(hits, key=lambda p: (p.recorded_on, p.pk)) if hits else None


@dataclass(frozen=True)
class Reminder:
    """A Victims' Code duty still to do for a victim (duties without their own clock)."""

    duty: str
    text: str


def specialist_referral_contact(victim: Victim) -> VictimContact | None:
    """The first contact that referred the victim to support services at an IDVA or specialist service: it
    fulfils the duty of a referral to an IDVA or specialist service as a recorded duty would (uses the prefetched
    contacts and their services when present)."""
    referrals = [
        c
        for c in victim.contacts.all()
        if c.purpose == VictimContact.Purpose.SUPPORT_REFERRAL
        and c.support_service_id is not None
        and c.support_service.kind in SPECIALIST_KINDS
    ]
    return min(referrals, key=lambda c: (c.contacted_at, c.pk)) if referrals else None


def outstanding_duties(victim: Victim) -> list[Reminder]:
    """The Code duties not yet recorded for a victim: the VPS offered (Right 7), special measures discussed (when
    eligible), a referral to an IDVA or specialist service (recorded as a duty, or a contact logged as a referral
    to support services at such a service), and the information owed when the victim does not support a
    prosecution (since their latest such position). The support referral and updates are clocks."""
    done = {d.duty: d for d in victim.duties.all()}
    latest = {}
    for d in victim.duties.all():
        latest[d.duty] = max(latest.get(d.duty, d.done_on), d.done_on)
    D = VictimCodeDuty.Duty
    out: list[Reminder] = []
    if not ({D.VPS_OFFERED, D.VPS_TAKEN, D.VPS_DECLINED} & done.keys()):
        out.append(Reminder(D.VPS_OFFERED, "Offer a Victim Personal Statement (Right 7)."))
    if victim.special_measures_eligible and D.SPECIAL_MEASURES not in done:
        out.append(
            Reminder(D.SPECIAL_MEASURES, "Discuss special measures (eligible: YJCEA 1999 s.16 / s.17).")
        )
    if D.SPECIALIST_REFERRAL not in done and not specialist_referral_contact(victim):
        out.append(Reminder(D.SPECIALIST_REFERRAL, "Offer a referral to an IDVA or specialist service."))
    position = latest_position(victim)
    if position is not None and position.position in NOT_SUPPORTING:
        given = latest.get(D.NON_SUPPORT_INFORMATION)
        if given is None or given < position.recorded_on:
            out.append(
                Reminder(
                    D.NON_SUPPORT_INFORMATION,
                    "Give the information owed when a victim does not support a prosecution "
                    "(what happens next, evidence-led prosecution, support available).",
                )
            )
    return out


# --------------------------------------------------------------------------------------------------------------
# Evidence-led prosecution prompt and withdrawals
# --------------------------------------------------------------------------------------------------------------


def _current_non_support() -> QuerySet[ProsecutionPosition]:
    """Positions that are a victim's latest and do not support a prosecution."""
    later = ProsecutionPosition.objects.filter(victim=OuterRef("victim")).filter(
        Q(recorded_on__gt=OuterRef("recorded_on"))
        | Q(recorded_on=OuterRef("recorded_on"), pk__gt=OuterRef("pk"))
    )
    return ProsecutionPosition.objects.filter(position__in=NOT_SUPPORTING).exclude(Exists(later))


def cases_needing_evidence_led_plan(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Open cases where a victim's latest position does not support a prosecution and no evidence-led plan has
    been recorded since: neither a charging decision saying whether an evidence-led prosecution is viable nor a
    case conversation with an early prosecution strategy, on or after that position."""
    # Read through the case's own relations (its decisions and conversations), never by importing charging:
    # victims and charging are independent of each other. Each filter() names one related row.
    decided = Case.objects.filter(
        pk=OuterRef("victim__case"),
        decisions__evidence_led_viable__isnull=False,
        decisions__decided_on__gte=OuterRef("recorded_on"),
    )
    discussed = Case.objects.filter(
        pk=OuterRef("victim__case"),
        conversations__held_on__gte=OuterRef("recorded_on"),
        conversations__early_prosecution_strategy__gt="",
    )
    needing = (
        _current_non_support()
        .filter(victim__case=OuterRef("pk"))
        .exclude(Exists(decided))
        .exclude(Exists(discussed))
    )
    return cases.open().filter(Exists(needing))


def evidence_led_plan_prompted(case: Case) -> bool:
    """The case page's flag: prompt an evidence-led prosecution plan (see ``cases_needing_evidence_led_plan``)."""
    return cases_needing_evidence_led_plan(Case.objects.filter(pk=case.pk)).exists()


def withdrawals(cases: QuerySet[Case], *, within_days: int | None = None) -> QuerySet[ProsecutionPosition]:
    """Withdrawals of support by victims in ``cases``; with ``within_days``, only those that many days or fewer
    after the report."""
    return ProsecutionPosition.objects.filter(victim__case__in=cases.values("pk")).withdrawals(
        within_days=within_days
    )


@dataclass(frozen=True)
class WithdrawalCounts:
    within_days: int
    victims_with_positions: int
    victims_withdrew: int
    victims_withdrew_early: int

    @property
    def early_share(self) -> float | None:
        """Early withdrawals as a share of victims whose position is recorded."""
        return (
            self.victims_withdrew_early / self.victims_with_positions if self.victims_with_positions else None
        )


def withdrawal_counts(
    cases: QuerySet[Case],
    *,
    reported_from: datetime.date | None = None,
    reported_to: datetime.date | None = None,
    within_days: int | None = None,
) -> WithdrawalCounts:
    """Governance figures: of victims in ``cases`` (optionally reported in a date range) with a recorded
    position, how many withdrew support, and how many within ``within_days`` (default: the setting, 5) of the
    report. Each victim counts once."""
    limit = early_withdrawal_days() if within_days is None else within_days
    scope = cases
    if reported_from is not None:
        scope = scope.filter(reported_on__gte=reported_from)
    if reported_to is not None:
        scope = scope.filter(reported_on__lte=reported_to)
    positions = ProsecutionPosition.objects.filter(victim__case__in=scope.values("pk"))
    figures = positions.aggregate(
        with_positions=Count("victim", distinct=True),
        withdrew=Count("victim", distinct=True, filter=Q(is_withdrawal=True)),
        early=Count("victim", distinct=True, filter=Q(is_withdrawal=True, days_after_report__lte=limit)),
    )
    return WithdrawalCounts(limit, figures["with_positions"], figures["withdrew"], figures["early"])


# --------------------------------------------------------------------------------------------------------------
# Protective orders and breaches
# --------------------------------------------------------------------------------------------------------------


def orders_for_case(case: Case) -> QuerySet[ProtectiveOrder]:
    """The case's orders, each with its clocks (``clock_list``), breaches and DAPO requirements
    (``requirement_list``, in force first)."""
    return (
        ProtectiveOrder.objects.filter(case=case)
        .select_related("victim", "respondent", "notice")
        .prefetch_related(
            Prefetch("clocks", queryset=Clock.objects.order_by("stopped_on", "due_on"), to_attr="clock_list"),
            Prefetch("breaches", queryset=Breach.objects.select_related("new_case").order_by("occurred_on")),
            Prefetch(
                "requirements",
                queryset=DapoRequirement.objects.order_by(
                    F("removed_on").asc(nulls_first=True), "imposed_on", "pk"
                ),
                to_attr="requirement_list",
            ),
        )
        .defer("victim__confidential_address")
        .order_by("considered_on", "pk")
    )


def high_risk_cases_without_order_considered(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Open high-risk cases with no protective order (or notice, or bail conditions) recorded as considered, and
    no case conversation that considered protective orders: the plan expects orders to be considered from the
    outset in high-risk cases. The conversations are read through the case's relation (``conversations``), so
    victims does not import charging."""
    considered_in_conversation = Case.objects.filter(
        pk=OuterRef("pk"), conversations__protective_orders_considered=True
    )
    return (
        cases.open()
        .filter(risk_level=Case.RiskLevel.HIGH)
        .exclude(Exists(ProtectiveOrder.objects.filter(case=OuterRef("pk"))))
        .exclude(Exists(considered_in_conversation))
    )


@dataclass(frozen=True)
class BreachLink:
    """A breach seen from one case: the breach, the order, and the other case when the user may see it."""

    breach: Breach
    order: ProtectiveOrder
    other_case: Case | None


def breaches_of_case(case: Case, user: Any) -> list[BreachLink]:
    """Breaches of this case's orders, each with the new case opened for it (None if the user cannot see it)."""
    visible = set(
        Case.objects.visible_to(user).values_list("pk", flat=True).filter(breach_of_orders__order__case=case)
    )
    rows = (
        Breach.objects.filter(order__case=case)
        .select_related("order", "new_case")
        .order_by("occurred_on", "pk")
    )
    return [BreachLink(b, b.order, b.new_case if b.new_case_id in visible else None) for b in rows]


def breach_origins(case: Case, user: Any) -> list[BreachLink]:
    """When this case was opened for a breach: the breach, the order breached, and the original case (None if the
    user cannot see it)."""
    rows = list(
        Breach.objects.filter(new_case=case).select_related("order__case").order_by("occurred_on", "pk")
    )
    visible = set(
        Case.objects.visible_to(user)
        .filter(pk__in=[b.order.case_id for b in rows])
        .values_list("pk", flat=True)
    )
    return [BreachLink(b, b.order, b.order.case if b.order.case_id in visible else None) for b in rows]


def breach_count(cases: QuerySet[Case], *, since: datetime.date | None = None) -> int:
    """Breaches of orders in ``cases`` (each pursued as a new case), for the governance reports."""
    qs = Breach.objects.filter(order__case__in=cases.values("pk"))
    return (qs.filter(reported_on__gte=since) if since else qs).count()


def support_services_for(case: Case) -> QuerySet[SupportService]:
    """The local directory for a case: the active services of its force and of its CPS Area."""
    orgs = {case.force_id, case.force.area_id, case.cps_area_id} - {None}
    return SupportService.objects.filter(organisation_id__in=orgs, active=True).order_by("kind", "name")


def encompass_for_case(case: Case) -> QuerySet[OperationEncompassNotification]:
    return (
        OperationEncompassNotification.objects.filter(case=case)
        .select_related("child")
        .defer("child__confidential_address")
    )


# --------------------------------------------------------------------------------------------------------------
# Trauma-informed language: governance counts
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageCounts:
    total: int
    by_phrase: list[tuple[str, int]] = field(default_factory=list)
    by_source: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)


def language_finding_counts(
    cases: QuerySet[Case], *, start: datetime.datetime | None = None, end: datetime.datetime | None = None
) -> LanguageCounts:
    """What the language checker found in the free text of ``cases`` between ``start`` and ``end``: the total,
    and counts by phrase, by where it was written (e.g. ``victims.victimcontact``) and by category."""
    qs = LanguageFinding.objects.filter(case__in=cases.values("pk")).between(start, end)
    rows = list(qs.values_list("phrase", "source_model", "category"))
    phrases = Counter(r[0].lower() for r in rows)
    sources = Counter(r[1] for r in rows)
    categories = Counter(r[2] for r in rows)
    return LanguageCounts(
        total=len(rows),
        by_phrase=phrases.most_common(),
        by_source=sources.most_common(),
        by_category=categories.most_common(),
    )


# --------------------------------------------------------------------------------------------------------------
# One summary for a case page
# --------------------------------------------------------------------------------------------------------------


@dataclass
class VictimSummary:
    victim: Victim
    position: ProsecutionPosition | None
    early_withdrawal: ProsecutionPosition | None
    outstanding: list[Reminder]
    # "Victim 1", "Victim 2": the number the case page names the victim by (the case's victims in the order they
    # were added), so a person can tell which victim on the case page is which on this page.
    number: int = 0


@dataclass
class CaseSafeguarding:
    """Everything the case page (and the victims page) shows about victims and safeguarding."""

    victims: list[VictimSummary]
    orders: list[ProtectiveOrder]
    breaches: list[BreachLink]
    breach_origins: list[BreachLink]
    encompass: list[OperationEncompassNotification]
    evidence_led_prompt: bool
    no_order_considered: bool
    can_view_address: bool
    withdrawal_window_days: int


def case_safeguarding(case: Case, user: Any) -> CaseSafeguarding:
    """The safeguarding summary of a case the user reached through ``Case.objects.visible_to``."""
    victims = list(victims_for_case(case))
    orders = list(orders_for_case(case))
    today = ledger.london_today()
    for order in orders:
        # DA Act 2021 s.41(2): where the DAPO respondent's notification of name and address stands today.
        order.notification_state = order_rules.notification_state(
            due_on=order.notification_due_on, notified_on=order.notified_on, today=today
        )
    return CaseSafeguarding(
        victims=[
            VictimSummary(v, latest_position(v), early_withdrawal(v), outstanding_duties(v), number=n)
            for n, v in enumerate(victims, start=1)
        ],
        orders=orders,
        breaches=breaches_of_case(case, user),
        breach_origins=breach_origins(case, user),
        encompass=list(encompass_for_case(case)),
        evidence_led_prompt=evidence_led_plan_prompted(case),
        no_order_considered=case.risk_level == Case.RiskLevel.HIGH
        and not case.is_closed
        and not orders
        and high_risk_cases_without_order_considered(Case.objects.filter(pk=case.pk)).exists(),
        can_view_address=can_view_address(user, case),
        withdrawal_window_days=early_withdrawal_days(),
    )
