"""Reads for joint governance: which cases a panel may draw, the sampling rules as named querysets, the review
queue of cases with two or more action plans, what a user may see of panels, and the high-harm flag's reasons
wherever the flag is shown.

Case reads for a user start from ``Case.objects.visible_to(user)``; the panel's sampling pool is the panel's
own force or Area (the panel then sees only what it draws, through the access gate).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from cases.models import Case, Clock, Person, User
from charging.models import ActionPlan

from .models import HighHarmFlag, PanelMeeting, PanelReview, SamplingRule, ScrutinyPanel, ScrutinyPanelKind

logger = logging.getLogger(__name__)

# Cases with an outcome: the pool a general panel draws at random from.
OUTCOME_STATUSES = ("decided", "charged", "nfa", "out_of_court", "at_court", "concluded")


# --------------------------------------------------------------------------------------------------------------
# Victim withdrawals: from the victims app's prosecution-position record, when it exists.
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WithdrawalSource:
    """Where victim withdrawals are recorded: a queryset of withdrawal rows, the lookup from a row to its case
    (``case`` or ``victim__case``) and the date field of the withdrawal."""

    queryset: QuerySet
    case_path: str
    date_field: str

    @property
    def case_id_path(self) -> str:
        return f"{self.case_path}_id"


def withdrawal_source() -> WithdrawalSource | None:
    """The victims app's record of victims withdrawing support (``victims.ProsecutionPosition``: one row per
    position a victim takes, ``is_withdrawal`` marking a move away from support, dated ``recorded_on``), or
    None while it does not exist.

    GUARD: that model is being added by the Victims' Code work. Until it exists and its table is migrated,
    the victim-withdrawal rule and metric report "not available" rather than a wrong zero.
    """
    try:
        model = apps.get_model("victims", "ProsecutionPosition")
    except LookupError:
        return None
    names = {f.name for f in model._meta.get_fields()}
    if not {"victim", "recorded_on"} <= names or not ({"is_withdrawal"} & names):
        logger.warning("victims.ProsecutionPosition has an unexpected shape; victim withdrawals not counted")
        return None
    if model._meta.db_table not in connection.introspection.table_names():
        return None
    manager = model._default_manager
    qs = manager.withdrawals() if hasattr(manager, "withdrawals") else manager.filter(is_withdrawal=True)
    return WithdrawalSource(qs, "victim__case", "recorded_on")


# --------------------------------------------------------------------------------------------------------------
# Sampling: the pool and the rules
# --------------------------------------------------------------------------------------------------------------


def panel_pool(panel: ScrutinyPanel) -> QuerySet[Case]:
    """The cases a panel may draw: its force's cases, or the cases referred to its Area. Restricted
    (police-perpetrated) cases are never drawn: the panel could not see them through the access gate."""
    org = panel.organisation
    qs = Case.objects.filter(force=org) if org.is_force else Case.objects.filter(cps_area=org)
    return qs.filter(restricted=False)


def cases_nfa_after_action_plan(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Closed with no further action (by police or CPS) after at least one CPS action plan."""
    return qs.filter(status=Case.Status.NO_FURTHER_ACTION).filter(
        Exists(ActionPlan.objects.filter(case=OuterRef("pk")))
    )


def cases_stl_failed(qs: QuerySet[Case]) -> QuerySet[Case]:
    """A statutory time limit of an offence missed (charged after it) or passed uncharged (time-barred). Only
    ``stl`` clocks count: a passed ``stl_common_assault`` clock means an assault can no longer be reduced to
    common assault, not that the case failed."""
    return qs.filter(
        Exists(
            Clock.objects.filter(
                case=OuterRef("pk"),
                kind=Clock.Kind.STL,
                state__in=(Clock.State.MISSED, Clock.State.TIME_BARRED),
            )
        )
    )


def cases_with_two_plus_action_plans(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Two or more CPS action plans (JJP national milestone: a review process for cases with 2+ action plans)."""
    many = ActionPlan.objects.values("case_id").annotate(n=Count("pk")).filter(n__gte=2).values("case_id")
    return qs.filter(pk__in=many)


def cases_out_of_court(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.filter(status=Case.Status.OUT_OF_COURT)


def cases_victim_withdrew(qs: QuerySet[Case]) -> QuerySet[Case] | None:
    """Cases where a victim withdrew support; None while the victims app does not record it (see the guard)."""
    source = withdrawal_source()
    if source is None:
        return None
    return qs.filter(pk__in=source.queryset.values(source.case_id_path))


RULES = {
    SamplingRule.NFA_AFTER_ACTION_PLAN: cases_nfa_after_action_plan,
    SamplingRule.STL_FAILURE: cases_stl_failed,
    SamplingRule.TWO_PLUS_ACTION_PLANS: cases_with_two_plus_action_plans,
    SamplingRule.OUT_OF_COURT: cases_out_of_court,
    SamplingRule.VICTIM_WITHDRAWAL: cases_victim_withdrew,
}

RULES_BY_PANEL_KIND = {
    ScrutinyPanelKind.GENERAL: tuple(RULES),
    ScrutinyPanelKind.OUT_OF_COURT: (SamplingRule.OUT_OF_COURT,),
}


def random_pool(panel: ScrutinyPanel) -> QuerySet[Case]:
    """What a panel draws at random from: cases with an outcome (general panels) or out-of-court resolutions
    (out-of-court resolution panels)."""
    pool = panel_pool(panel)
    if panel.kind == ScrutinyPanelKind.OUT_OF_COURT:
        return pool.filter(status=Case.Status.OUT_OF_COURT)
    return pool.filter(status__in=OUTCOME_STATUSES)


def not_yet_reviewed_by(qs: QuerySet[Case], panel: ScrutinyPanel) -> QuerySet[Case]:
    return qs.exclude(Exists(PanelReview.objects.filter(panel=panel, case=OuterRef("pk"))))


def action_plan_review_queue(user: User | Any) -> QuerySet[Case]:
    """Cases the user can see with two or more action plans that no panel has reviewed yet: the automatic
    review queue. Panels draw them by rule (``two_plus_action_plans``) at their next meeting."""
    visible = Case.objects.visible_to(user)
    return cases_with_two_plus_action_plans(visible).exclude(
        Exists(PanelReview.objects.filter(case=OuterRef("pk")))
    )


# --------------------------------------------------------------------------------------------------------------
# What a user sees of panels
# --------------------------------------------------------------------------------------------------------------


def panels_visible_to(user: User | Any) -> QuerySet[ScrutinyPanel]:
    """Panels the user sits on, and (for administrators) the panels of their organisation."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ScrutinyPanel.objects.none()
    if user.is_superuser:
        return ScrutinyPanel.objects.all()
    q = Q(members=user) if "panel_member" in user.roles else Q(pk__in=[])
    if "administrator" in user.roles and user.organisation_id:
        q |= Q(organisation_id=user.organisation_id)
    return ScrutinyPanel.objects.filter(q).distinct()


def meetings_visible_to(user: User | Any) -> QuerySet[PanelMeeting]:
    return PanelMeeting.objects.filter(panel__in=panels_visible_to(user))


def reviews_visible_to(user: User | Any) -> QuerySet[PanelReview]:
    """Reviews of the user's panels whose case the user can see through the access gate."""
    return PanelReview.objects.filter(
        panel__in=panels_visible_to(user), case__in=Case.objects.visible_to(user)
    )


# --------------------------------------------------------------------------------------------------------------
# The high-harm repeat offender flag, with its reasons, wherever it is shown
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagView:
    person: Person
    effective: bool
    computed: bool
    reasons: list[str]
    override: str
    override_justification: str
    overridden_by: str
    evaluated_at: Any

    @property
    def overridden(self) -> bool:
        return bool(self.override)


def _flag_view(person: Person, flag: HighHarmFlag | None) -> FlagView:
    if flag is None:
        return FlagView(person, bool(person.high_harm_repeat_offender), False, [], "", "", "", None)
    return FlagView(
        person=person,
        effective=flag.effective,
        computed=flag.computed,
        reasons=[r.get("text", "") for r in flag.reasons or []],
        override=flag.override,
        override_justification=flag.override_justification,
        overridden_by=flag.overridden_by.display_name if flag.overridden_by else "",
        evaluated_at=flag.evaluated_at,
    )


def hhro_flags_for_people(people: Iterable[Person]) -> dict[int, FlagView]:
    """The flag of each person, with the reasons, the override and who made it (two queries)."""
    people = list(people)
    flags = {
        f.person_id: f for f in HighHarmFlag.objects.filter(person__in=people).select_related("overridden_by")
    }
    return {p.pk: _flag_view(p, flags.get(p.pk)) for p in people}


def hhro_flags_for_case(case: Case) -> list[FlagView]:
    """The flags of a case's suspects that are on, with their reasons: for the case page, lists and the API.
    (The caller has already fetched the case through the access gate.)"""
    views = hhro_flags_for_people(case.suspects.all())
    return [v for v in views.values() if v.effective]
