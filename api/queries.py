"""Reads for the API: the case representation's queryset (a fixed number of queries whatever the page size).
Every read starts from ``Case.objects.visible_to``. The list's sort keys are stored columns of the case
(``changed_at``, ``next_due_on``: see ``cases/derived.py`` and ``pagination.py``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from cases.models import Case, Clock, Offence
from charging.models import ActionPlan, Charge, ChargingReferral, DecisionOutcome


def with_representation(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Everything the case representation shows, in one query per related table."""
    return qs.select_related("force", "cps_area").prefetch_related(
        Prefetch(
            "offences",
            queryset=Offence.objects.select_related("offence_type").order_by("committed_on", "pk"),
        ),
        "suspects",
        Prefetch("clocks", queryset=Clock.objects.order_by("due_on", "pk")),
        Prefetch(
            "referrals", queryset=ChargingReferral.objects.select_related("decision").order_by("sequence")
        ),
        Prefetch(
            "referrals__decision__offence_outcomes",
            queryset=DecisionOutcome.objects.select_related("suspect").order_by(
                "offence__committed_on", "offence"
            ),
        ),
        Prefetch(
            "action_plans",
            queryset=ActionPlan.objects.order_by("issued_on", "pk").prefetch_related("actions"),
        ),
        Prefetch(
            "charges",
            queryset=Charge.objects.select_related("suspect")
            .order_by("charged_on", "pk")
            .prefetch_related("offences"),
        ),
        "early_advice",
    )


def case_for_representation(user: Any, pk: int) -> Case:
    return with_representation(Case.objects.visible_to(user)).get(pk=pk)
