"""Admin pages for the alert outbox, notification preferences and calendar feeds. Registered by importing this
module from ``cases/admin.py``.

Alerts are read-only (they are the record of what was said to whom); an administrator can see what is pending,
failed or dead and send failed ones again. Case alerts are filtered through the access gate like every other
case-data page; digests (no case) are shown to superusers and to their recipient only."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from cases.admin_base import ReadOnlyAdmin
from cases.models import Alert, CalendarFeed, NotificationPreference
from cases.selectors import case_visibility_q

from . import engine as alerts


class WaitingFilter(admin.SimpleListFilter):
    """The first thing an operator asks: what has not gone out yet?"""

    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("waiting", "Pending or failed"), ("dead", "Failed permanently"), ("sent", "Sent")]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if self.value() == "waiting":
            return queryset.filter(status__in=("pending", "failed", "sending"))
        if self.value() == "dead":
            return queryset.filter(status="dead")
        if self.value() == "sent":
            return queryset.filter(status="sent")
        return queryset


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "recipient",
        "kind",
        "threshold",
        "case",
        "day",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    )
    list_filter = (WaitingFilter, "status", "kind", "threshold")
    list_select_related = ("recipient", "case")
    search_fields = ("case__urn", "recipient__username", "recipient__email")
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [f.name for f in Alert._meta.fields]

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        q = case_visibility_q(request.user, prefix="case__")
        if q is None:
            return qs.none()
        return qs.filter((Q(case__isnull=False) & q) | Q(case__isnull=True, recipient=request.user))

    @admin.display(description="last error")
    def short_error(self, obj: Alert) -> str:
        return (obj.last_error[:80] + "...") if len(obj.last_error) > 80 else obj.last_error

    def has_retry_permission(self, request: Any) -> bool:
        return request.user.is_superuser or request.user.has_perm("cases.change_alert")

    @admin.action(description="Send again (failed or dead alerts)", permissions=["retry"])
    def retry(self, request: Any, queryset: Any) -> None:
        n = alerts.alerts_retry(alert_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{n} alert(s) queued to send again.", messages.SUCCESS)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "digest_enabled", "immediate_enabled")
    list_filter = ("digest_enabled", "immediate_enabled")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(user__organisation=request.user.organisation)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Feeds are made by their owner (the token is shown once); an administrator can see and revoke them."""

    list_display = ("user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    exclude = ("token_hash",)
    actions = ["revoke"]

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(user__organisation=request.user.organisation)

    def has_revoke_permission(self, request: Any) -> bool:
        return request.user.is_superuser or request.user.has_perm("cases.change_calendarfeed")

    @admin.action(description="Revoke the selected feeds", permissions=["revoke"])
    def revoke(self, request: Any, queryset: Any) -> None:
        n = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{n} feed(s) revoked.", messages.SUCCESS)
