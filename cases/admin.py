"""Admin pages for every model, scoped by the same access gate as everything else.

Case data is read-only here: state changes go through the services (forms and API), so the admin cannot
bypass the transition checks, the timeline or the clocks. Reference data (organisations, offence types, bank
holiday overrides, users) is edited here by administrators.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from . import services
from .admin_base import ReadOnlyAdmin
from .models import (
    BankHolidayOverride,
    Case,
    CaseEvent,
    Clock,
    ClockEvent,
    Offence,
    OffenceType,
    Organisation,
    Person,
    Role,
    SweepRun,
    User,
)
from .selectors import case_visibility_q


class CaseScopedAdmin(ReadOnlyAdmin):
    """Read-only admin for case data, filtered through ``Case.objects.visible_to`` (``case_path`` is the
    lookup from the model to its case, "" for Case itself)."""

    case_path = "case__"

    def get_queryset(self, request: Any) -> Any:
        q = case_visibility_q(request.user, prefix=self.case_path)
        qs = super().get_queryset(request)
        return qs.none() if q is None else qs.filter(q).distinct()


@admin.register(Case)
class CaseAdmin(CaseScopedAdmin):
    case_path = ""
    list_display = ("urn", "force", "cps_area", "status", "risk_level", "reported_on", "restricted")
    list_filter = ("status", "risk_level", "domestic_abuse", "police_perpetrated", "restricted")
    search_fields = ("urn",)
    list_select_related = ("force", "cps_area")


@admin.register(Offence)
class OffenceAdmin(CaseScopedAdmin):
    list_display = ("case", "offence_type", "committed_on")
    list_select_related = ("case", "offence_type")


@admin.register(CaseEvent)
class CaseEventAdmin(CaseScopedAdmin):
    list_display = ("case", "occurred_at", "kind", "summary", "actor")
    list_select_related = ("case", "actor")


@admin.register(Clock)
class ClockAdmin(CaseScopedAdmin):
    list_display = ("case", "kind", "side", "started_on", "due_on", "state", "stopped_on")
    list_filter = ("kind", "state", "side")
    list_select_related = ("case",)


@admin.register(ClockEvent)
class ClockEventAdmin(CaseScopedAdmin):
    list_display = ("case", "kind", "from_state", "to_state", "crossed_on", "created_at")
    list_filter = ("kind", "to_state")
    list_select_related = ("case",)


@admin.register(Person)
class PersonAdmin(CaseScopedAdmin):
    case_path = "cases__"
    list_display = ("family_name", "given_name", "pnc_id", "high_harm_repeat_offender")
    search_fields = ("family_name", "pnc_id")


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    """Each run of the clock sweep: when, what it changed, any error."""

    list_display = ("started_at", "finished_at", "today", "status", "examined", "events", "error")
    list_filter = ("status",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "area", "is_pilot")
    list_filter = ("kind", "is_pilot")
    search_fields = ("name", "code")


@admin.register(OffenceType)
class OffenceTypeAdmin(admin.ModelAdmin):
    list_display = ("title", "statute", "mode_of_trial", "stl_regime", "reducible_to_common_assault")
    list_filter = ("mode_of_trial", "stl_regime")


@admin.register(BankHolidayOverride)
class BankHolidayOverrideAdmin(admin.ModelAdmin):
    """Saving or deleting an override recomputes the open deadlines that count working days."""

    list_display = ("day", "action", "reason", "created_at")

    def save_model(self, request: Any, obj: BankHolidayOverride, form: Any, change: bool) -> None:
        services.bank_holiday_override_set(
            actor=request.user, day=obj.day, action=obj.action, reason=obj.reason
        )

    def delete_model(self, request: Any, obj: BankHolidayOverride) -> None:
        services.bank_holiday_override_remove(actor=request.user, day=obj.day)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            services.bank_holiday_override_remove(actor=request.user, day=obj.day)


#: Who can be a line manager, by organisation kind: escalations of an OIC's (or triage officer's, or victim
#: liaison officer's) deadlines go to a police supervisor, of a prosecutor's to a legal manager.
LINE_MANAGER_ROLES = {"force": Role.POLICE_SUPERVISOR, "cps_area": Role.LEGAL_MANAGER}


def line_managers(user: User) -> Any:
    """The people ``user`` can report to: active police supervisors (legal managers) of their own organisation;
    before they have one, every active supervisor and legal manager (the form checks the organisation)."""
    people = User.objects.filter(is_active=True).exclude(pk=user.pk)
    if user.organisation_id is None:
        people = people.filter(roles__overlap=list(LINE_MANAGER_ROLES.values()))
    else:
        role = LINE_MANAGER_ROLES.get(user.organisation.kind)
        people = people.filter(organisation_id=user.organisation_id, roles__contains=[role])
    return people.select_related("organisation").order_by("organisation__name", "last_name", "first_name")


class UserChangeForm(BaseUserAdmin.form):
    """The line manager must be a supervisor (legal manager) of the user's own organisation: escalations go to
    them, and only someone who sees the organisation's cases can act on them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "supervisor" in self.fields:
            self.fields["supervisor"].queryset = line_managers(self.instance)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        supervisor = data.get("supervisor")
        organisation = data.get("organisation", self.instance.organisation)
        if supervisor is not None and organisation is not None:
            role = LINE_MANAGER_ROLES.get(organisation.kind)
            if supervisor.organisation_id != organisation.pk or role not in supervisor.roles:
                self.add_error(
                    "supervisor",
                    f"Choose a {Role(role).label.lower()} of {organisation} (the escalations go to them).",
                )
        return data


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation and roles", {"fields": ("organisation", "roles", "supervisor")}),
    )
    list_display = ("username", "email", "organisation", "roles", "supervisor", "is_active", "is_staff")
    list_filter = ("organisation__kind", "is_active", "is_staff")
    list_select_related = ("organisation", "supervisor")

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(organisation=request.user.organisation)


from . import signin_admin  # noqa: E402, F401  (django-axes' sign-in records, read-only)
