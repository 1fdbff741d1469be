"""The sign-in records of django-axes in the admin, read-only as the other logs are (``ReadOnlyAdmin``).

django-axes registers its own admin pages, on which a superuser can edit and delete the attempts, the sign-in log
and the failure log: the record of who tried to sign in, and when, could be rewritten there. ``AXES_ENABLE_ADMIN``
is off (``jjp/settings.py``) and the same pages are registered here without add, change or delete. A lockout is
still lifted by an administrator, with the action "Lift the lockout" (django-axes' own reset, which clears the
attempt counts of the chosen usernames; the sign-in and failure logs keep every attempt) or with
``manage.py axes_reset_username <name>``.
"""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset
from django.contrib import admin, messages

from .admin_base import ReadOnlyAdmin


@admin.register(AccessAttempt)
class SignInAttemptAdmin(ReadOnlyAdmin, axes_admin.AccessAttemptAdmin):
    """Failed sign-ins counted towards a lockout, per username."""

    actions = ["lift_lockout"]

    def get_actions(self, request: Any) -> dict[str, Any]:
        # Django offers an action only with some permission; this one needs the user admin's change permission.
        actions = super().get_actions(request)
        if not request.user.has_perm("cases.change_user"):
            actions.pop("lift_lockout", None)
        return actions

    @admin.action(description="Lift the lockout of the selected usernames")
    def lift_lockout(self, request: Any, queryset: Any) -> None:
        usernames = sorted({u for u in queryset.values_list("username", flat=True) if u})
        cleared = sum(reset(username=u) for u in usernames)
        self.message_user(
            request,
            f"Lockout lifted for {', '.join(usernames) or 'no username'} ({cleared} attempt records cleared).",
            messages.SUCCESS,
        )


@admin.register(AccessLog)
class SignInLogAdmin(ReadOnlyAdmin, axes_admin.AccessLogAdmin):
    """Successful sign-ins and sign-outs."""


@admin.register(AccessFailureLog)
class SignInFailureLogAdmin(ReadOnlyAdmin, axes_admin.AccessFailureLogAdmin):
    """Every failed sign-in, kept when a lockout is lifted."""
