from django.contrib import admin

from cases.admin import CaseScopedAdmin

from .models import (
    Action,
    ActionPlan,
    CaseConversation,
    Charge,
    ChargingDecision,
    ChargingReferral,
    DecisionOutcome,
    EarlyAdvice,
)


@admin.register(ChargingReferral)
class ChargingReferralAdmin(CaseScopedAdmin):
    list_display = ("case", "sequence", "kind", "received_on", "triage", "status")
    list_filter = ("kind", "triage", "status")
    list_select_related = ("case",)


@admin.register(CaseConversation)
class CaseConversationAdmin(CaseScopedAdmin):
    list_display = ("case", "held_on", "mode")
    list_select_related = ("case",)


@admin.register(ChargingDecision)
class ChargingDecisionAdmin(CaseScopedAdmin):
    list_display = ("case", "decided_on", "outcome", "test")
    list_filter = ("outcome", "test")
    list_select_related = ("case",)


@admin.register(DecisionOutcome)
class DecisionOutcomeAdmin(CaseScopedAdmin):
    case_path = "decision__case__"
    list_display = ("decision", "offence", "suspect", "outcome", "code_test_failed")
    list_filter = ("outcome", "code_test_failed")


@admin.register(EarlyAdvice)
class EarlyAdviceAdmin(CaseScopedAdmin):
    list_display = ("case", "requested_on", "given_on")
    list_select_related = ("case",)


@admin.register(ActionPlan)
class ActionPlanAdmin(CaseScopedAdmin):
    list_display = ("case", "issued_on", "respond_by", "status")
    list_select_related = ("case",)


@admin.register(Action)
class ActionAdmin(CaseScopedAdmin):
    case_path = "plan__case__"
    list_display = ("description", "plan", "due_on", "status")
    list_filter = ("status",)


@admin.register(Charge)
class ChargeAdmin(CaseScopedAdmin):
    list_display = ("case", "suspect", "charged_on", "information_laid_on", "bail", "first_hearing_on")
    list_select_related = ("case",)
