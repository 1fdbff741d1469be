from django.contrib import admin

from cases.admin import CaseScopedAdmin

from .models import Breach, ProtectiveOrder, Victim, VictimContact


@admin.register(Victim)
class VictimAdmin(CaseScopedAdmin):
    list_display = ("pk", "case", "is_child", "enhanced_rights")
    exclude = ("confidential_address",)
    list_select_related = ("case",)


@admin.register(VictimContact)
class VictimContactAdmin(CaseScopedAdmin):
    case_path = "victim__case__"
    list_display = ("victim", "contacted_at", "method", "purpose")


@admin.register(ProtectiveOrder)
class ProtectiveOrderAdmin(CaseScopedAdmin):
    list_display = ("case", "kind", "status", "granted_on", "expires_on")
    list_filter = ("kind", "status")
    list_select_related = ("case",)


@admin.register(Breach)
class BreachAdmin(CaseScopedAdmin):
    case_path = "order__case__"
    list_display = ("order", "occurred_on", "new_case")
