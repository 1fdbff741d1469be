"""Admin pages for victims. Case data is read-only and scoped by the access gate (``CaseScopedAdmin``); the
confidential address is never shown here. Two lists are edited here: the local directory of support services
(each administrator edits their own force's or Area's) and the trauma-informed language lexicon."""

from typing import Any

from django.contrib import admin

from cases.admin import CaseScopedAdmin

from .models import (
    Breach,
    LanguageFinding,
    LexiconEntry,
    OperationEncompassNotification,
    PersonalDataAccess,
    ProsecutionPosition,
    ProtectiveOrder,
    SupportService,
    Victim,
    VictimCodeDuty,
    VictimContact,
)


@admin.register(Victim)
class VictimAdmin(CaseScopedAdmin):
    list_display = ("pk", "case", "is_child", "enhanced_rights")
    exclude = ("confidential_address",)
    list_select_related = ("case",)

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).defer("confidential_address")


@admin.register(VictimContact)
class VictimContactAdmin(CaseScopedAdmin):
    case_path = "victim__case__"
    list_display = ("victim", "contacted_at", "method", "purpose")


@admin.register(VictimCodeDuty)
class VictimCodeDutyAdmin(CaseScopedAdmin):
    case_path = "victim__case__"
    list_display = ("victim", "duty", "done_on", "declined", "service")
    list_filter = ("duty",)


@admin.register(ProsecutionPosition)
class ProsecutionPositionAdmin(CaseScopedAdmin):
    case_path = "victim__case__"
    list_display = ("victim", "position", "recorded_on", "days_after_report", "is_withdrawal")
    list_filter = ("position", "is_withdrawal")


@admin.register(ProtectiveOrder)
class ProtectiveOrderAdmin(CaseScopedAdmin):
    list_display = ("case", "kind", "status", "granted_on", "expires_on")
    list_filter = ("kind", "status")
    list_select_related = ("case",)


@admin.register(Breach)
class BreachAdmin(CaseScopedAdmin):
    case_path = "order__case__"
    list_display = ("order", "occurred_on", "new_case")


@admin.register(OperationEncompassNotification)
class OperationEncompassNotificationAdmin(CaseScopedAdmin):
    list_display = ("case", "school", "notified_at", "method")


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(CaseScopedAdmin):
    """The append-only log of views of confidential addresses (read-only; the database refuses edits)."""

    list_display = ("at", "actor", "victim", "case", "what", "ip", "reason")
    list_filter = ("what",)
    list_select_related = ("actor", "case")
    date_hierarchy = "at"


@admin.register(LanguageFinding)
class LanguageFindingAdmin(CaseScopedAdmin):
    list_display = ("found_at", "case", "phrase", "source_model", "field", "author")
    list_filter = ("category", "source_model")


@admin.register(LexiconEntry)
class LexiconEntryAdmin(admin.ModelAdmin):
    """The phrases the language checker flags. Edited by administrators (staff with the model permissions)."""

    list_display = ("phrase", "suggestion", "category", "active")
    list_filter = ("category", "active")
    search_fields = ("phrase", "suggestion")


@admin.register(SupportService)
class SupportServiceAdmin(admin.ModelAdmin):
    """The local directory of victim services. An administrator sees and edits their own organisation's
    services; system operators (superusers) all of them."""

    list_display = ("name", "kind", "organisation", "phone", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request).select_related("organisation")
        if request.user.is_superuser:
            return qs
        return qs.filter(organisation_id=request.user.organisation_id)

    def formfield_for_foreignkey(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "organisation" and not request.user.is_superuser:
            field.queryset = field.queryset.filter(pk=request.user.organisation_id)
        return field
