from typing import Any

from django.contrib import admin

from cases.admin import CaseScopedAdmin

from .models import PanelReview, ScrutinyPanel


@admin.register(ScrutinyPanel)
class ScrutinyPanelAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "kind")
    filter_horizontal = ("members",)

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(organisation=request.user.organisation)


@admin.register(PanelReview)
class PanelReviewAdmin(CaseScopedAdmin):
    list_display = ("panel", "case", "meeting_on", "sampling")
    list_select_related = ("panel", "case")
