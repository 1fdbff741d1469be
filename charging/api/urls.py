"""``/api/v1/`` routes of the charging steps (included by ``jjp/api_urls.py``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/<str:urn>/early-advice/", views.EarlyAdviceView.as_view(), name="api-case-early-advice"),
    path(
        "cases/<str:urn>/early-advice/advice/",
        views.EarlyAdviceGiveView.as_view(),
        name="api-case-early-advice-give",
    ),
    path("cases/<str:urn>/referrals/", views.ReferView.as_view(), name="api-case-refer"),
    path("cases/<str:urn>/triage/", views.TriageView.as_view(), name="api-case-triage"),
    path("cases/<str:urn>/conversations/", views.ConversationView.as_view(), name="api-case-conversation"),
    path("cases/<str:urn>/decisions/", views.DecisionView.as_view(), name="api-case-decision"),
    path("cases/<str:urn>/action-plans/", views.ActionPlanView.as_view(), name="api-case-action-plan"),
    path(
        "cases/<str:urn>/action-plans/<api_id:plan_pk>/amendments/",
        views.ActionPlanAmendView.as_view(),
        name="api-case-action-plan-amend",
    ),
    path(
        "cases/<str:urn>/actions/<api_id:action_id>/",
        views.ActionUpdateView.as_view(),
        name="api-case-action-update",
    ),
    path("cases/<str:urn>/charges/", views.ChargeView.as_view(), name="api-case-charge"),
]
