"""Reads for the API: the case representation's queryset (a fixed number of queries whatever the page size)
and the sort keys of the cursor pagination. Every read starts from ``Case.objects.visible_to``."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import DateField, DateTimeField, F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from cases.models import Case, CaseEvent, Clock, Offence
from charging.models import ActionPlan, Charge, ChargingReferral

NO_DUE_DATE = datetime.date(9999, 12, 31)  # sorts cases without an open deadline last


def changed_at_expr() -> Any:
    """When anything on the case last changed: the case row, its timeline (every service writes an event) or
    a clock's state (the sweep moves states without touching the case)."""
    last_event = (
        CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    )
    last_clock = (
        Clock.objects.filter(case=OuterRef("pk")).order_by("-state_changed_at").values("state_changed_at")[:1]
    )
    return Greatest(
        F("updated_at"),
        Coalesce(Subquery(last_event, output_field=DateTimeField()), F("updated_at")),
        Coalesce(Subquery(last_clock, output_field=DateTimeField()), F("updated_at")),
        output_field=DateTimeField(),
    )


def next_due_expr() -> Any:
    """The earliest due date of the case's open clocks (9999-12-31 when none is open)."""
    first_due = Clock.objects.open().filter(case=OuterRef("pk")).order_by("due_on").values("due_on")[:1]
    return Coalesce(
        Subquery(first_due, output_field=DateField()), Value(NO_DUE_DATE), output_field=DateField()
    )


def with_representation(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Everything the case representation shows, in one query per related table."""
    return (
        qs.select_related("force", "cps_area")
        .annotate(changed_at=changed_at_expr())
        .prefetch_related(
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
                "action_plans",
                queryset=ActionPlan.objects.order_by("issued_on", "pk").prefetch_related("actions"),
            ),
            Prefetch(
                "charges", queryset=Charge.objects.order_by("charged_on", "pk").prefetch_related("offences")
            ),
        )
    )


def case_for_representation(user: Any, pk: int) -> Case:
    return with_representation(Case.objects.visible_to(user)).get(pk=pk)
