"""Admin pages for governance, scoped like everything else: case data through the access gate (read-only;
changes go through the services), panels by organisation, the high-harm runs for administrators."""

from typing import Any

from django.contrib import admin

from cases.admin import CaseScopedAdmin
from cases.admin_base import ReadOnlyAdmin
from cases.models import Case
from charging.models import ActionPlanEscalation, ActionPlanRating

from .models import (
    CpsNotification,
    HighHarmFlag,
    HighHarmRun,
    PanelMeeting,
    PanelReview,
    PerformanceRefresh,
    ScrutinyPanel,
)


@admin.register(ScrutinyPanel)
class ScrutinyPanelAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "kind")
    filter_horizontal = ("members",)

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(organisation=request.user.organisation)


@admin.register(PanelMeeting)
class PanelMeetingAdmin(admin.ModelAdmin):
    list_display = ("panel", "held_on", "random_count", "per_rule_limit", "sampled_at")
    list_select_related = ("panel",)
    readonly_fields = ("sampled_at", "sampled_by", "created_by")

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(panel__organisation=request.user.organisation)

    def has_add_permission(self, request: Any) -> bool:
        return False  # scheduled through the panel page (governance.services.panel_meeting_schedule)


@admin.register(PanelReview)
class PanelReviewAdmin(CaseScopedAdmin):
    list_display = ("panel", "case", "meeting_on", "sampling", "sampling_rule", "learning_shared")
    list_filter = ("sampling", "sampling_rule", "learning_shared")
    list_select_related = ("panel", "case")


@admin.register(CpsNotification)
class CpsNotificationAdmin(CaseScopedAdmin):
    list_display = ("case", "outcome", "outcome_on", "notified_at", "recipient", "acknowledged_at")
    list_select_related = ("case", "recipient")


@admin.register(ActionPlanRating)
class ActionPlanRatingAdmin(CaseScopedAdmin):
    case_path = "plan__case__"
    list_display = ("plan", "rating", "rated_by", "rated_on")
    list_filter = ("rating",)
    list_select_related = ("plan__case", "rated_by")


@admin.register(ActionPlanEscalation)
class ActionPlanEscalationAdmin(CaseScopedAdmin):
    case_path = "plan__case__"
    list_display = ("plan", "status", "raised_on", "answered_on", "response", "resolved_on")
    list_filter = ("status", "response")
    list_select_related = ("plan__case",)


@admin.register(HighHarmFlag)
class HighHarmFlagAdmin(ReadOnlyAdmin):
    """Read-only: the evaluation writes ``computed``; overrides go through the person's flag page."""

    list_display = ("person", "computed", "override", "evaluated_at", "overridden_by")
    list_filter = ("computed", "override")
    list_select_related = ("person", "overridden_by")

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(person__cases__in=Case.objects.visible_to(request.user)).distinct()


@admin.register(HighHarmRun)
class HighHarmRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "today",
        "status",
        "evaluated",
        "flagged",
        "people_changed",
        "cases_changed",
    )
    list_filter = ("status",)
    readonly_fields = [f.name for f in HighHarmRun._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(PerformanceRefresh)
class PerformanceRefreshAdmin(ReadOnlyAdmin):
    """When the stored performance figures were last computed (the dashboard says "figures as of")."""

    list_display = ("started_at", "status", "full", "from_month", "figures", "seconds", "finished_at")
    list_filter = ("status", "full")
    readonly_fields = [f.name for f in PerformanceRefresh._meta.fields]
