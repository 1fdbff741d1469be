"""One FilterSet for cases, shared by the API and the list pages (django-filter)."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from . import clocks, ledger
from .models import Case, Clock, OffenceType


class CaseFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Case.Status.choices)
    risk_level = django_filters.MultipleChoiceFilter(choices=Case.RiskLevel.choices)
    children_in_household = django_filters.BooleanFilter()
    police_perpetrated = django_filters.BooleanFilter()
    high_harm_repeat_offender = django_filters.BooleanFilter()
    clock_state = django_filters.MultipleChoiceFilter(
        choices=Clock.State.choices, method="filter_clock_state", label="Has an open clock in state"
    )
    due_before = django_filters.DateFilter(
        method="filter_due_before", label="Has an open clock due on or before"
    )
    stl_within_eight_weeks = django_filters.BooleanFilter(
        method="filter_stl_within", label="STL within eight weeks"
    )
    time_barred = django_filters.BooleanFilter(method="filter_time_barred", label="Time-barred")
    mode_of_trial = django_filters.ChoiceFilter(
        choices=OffenceType.ModeOfTrial.choices,
        field_name="offences__offence_type__mode_of_trial",
        distinct=True,
    )
    updated_since = django_filters.IsoDateTimeFilter(
        method="filter_updated_since",
        label="Changed at or after (the case, its timeline or a deadline's state); ISO 8601 with offset",
    )
    force = django_filters.CharFilter(
        field_name="force__code", lookup_expr="iexact", max_length=10, label="Force code, e.g. GMP"
    )
    q = django_filters.CharFilter(method="filter_q", label="URN or suspect's family name")

    class Meta:
        model = Case
        fields: list[str] = []

    def _open_clocks(self) -> QuerySet[Clock]:
        return Clock.objects.filter(case=OuterRef("pk"), stopped_on__isnull=True)

    def filter_clock_state(self, qs: QuerySet[Case], name: str, value: list[str]) -> QuerySet[Case]:
        return qs.filter(Exists(self._open_clocks().filter(state__in=value))) if value else qs

    def filter_due_before(self, qs: QuerySet[Case], name: str, value: datetime.date) -> QuerySet[Case]:
        return qs.filter(Exists(self._open_clocks().filter(due_on__lte=value))) if value else qs

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_stl_within(self, qs: QuerySet[Case], name: str, value: bool | None) -> QuerySet[Case]:
        if value is None:
            return qs
        within = qs.stl_within(on=ledger.london_today(), days=clocks.active_rules().stl_flag_days)
        return within if value else qs.exclude(pk__in=within.values("pk"))

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_time_barred(self, qs: QuerySet[Case], name: str, value: bool | None) -> QuerySet[Case]:
        if value is None:
            return qs
        barred = Case.objects.time_barred().values("pk")
        return qs.filter(pk__in=barred) if value else qs.exclude(pk__in=barred)

    def filter_updated_since(self, qs: QuerySet[Case], name: str, value: datetime.datetime) -> QuerySet[Case]:
        """Cases with any change since ``value``: the case row, a timeline event (every service writes one) or a
        deadline's state: the stored ``Case.changed_at`` (cases/derived.py), read off an index."""
        if not value:
            return qs
        try:  # PostgreSQL refuses offsets beyond 15:59; UTC is the same moment
            value = value.astimezone(datetime.UTC)
        except OverflowError:  # before year 1 or after 9999 once in UTC
            if value.year > 1:
                return qs.none()
            value = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        return qs.filter(changed_at__gte=value)

    def filter_q(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(urn__icontains=value) | Q(suspects__family_name__icontains=value)).distinct()
