"""Admin pages for API clients and webhooks: the delivery log with a replay action, endpoints, and clients
(tokens are never shown; create, rotate and revoke them with the management commands). Registered by
``cases/admin.py`` importing this module."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from api import webhooks
from cases.models import ApiClient, WebhookDelivery, WebhookEndpoint

from .clients import api_client_revoke


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "scope",
        "token_prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("scope",)
    list_select_related = ("user",)
    readonly_fields = ("user", "token_prefix", "token_hash", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: Any) -> bool:
        return False  # manage.py create_api_client: the token must be shown once, on a terminal

    @admin.action(description="Revoke the selected clients' tokens")
    def revoke(self, request: Any, queryset: Any) -> None:
        for client in queryset:
            api_client_revoke(client=client)
        messages.success(request, f"Revoked {queryset.count()} client(s).")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "organisation", "events", "active", "created_at")
    list_filter = ("active",)
    list_select_related = ("organisation",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event sent to every endpoint, its attempts and last error."""

    list_display = (
        "created_at",
        "event",
        "endpoint",
        "case",
        "status",
        "attempts",
        "response_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event")
    list_select_related = ("endpoint", "case")
    search_fields = ("event_key", "case__urn")
    actions = ["replay"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send the selected events again")
    def replay(self, request: Any, queryset: Any) -> None:
        replays = [webhooks.delivery_replay(d) for d in queryset.select_related("endpoint", "case")]
        messages.success(request, f"Queued {len(replays)} replay(s).")
