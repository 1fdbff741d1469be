"""Governance pages, the performance CSV and the metrics JSON (mounted at /governance/)."""

from django.urls import path

from . import views
from .api.views import MetricsView

app_name = "governance"

urlpatterns = [
    path("", views.index, name="index"),
    path("panels/<int:panel_pk>/", views.panel_detail, name="panel"),
    path("meetings/<int:meeting_pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_pk>/sample/", views.meeting_sample, name="meeting_sample"),
    path("reviews/<int:review_pk>/", views.review_detail, name="review"),
    path("review-queue/", views.review_queue, name="review_queue"),
    path("action-plans/<int:plan_pk>/", views.action_plan_detail, name="action_plan"),
    path("people/<int:person_pk>/flag/", views.person_flag, name="person_flag"),
    path("notifications/", views.notifications, name="notifications"),
    path(
        "notifications/<int:notification_pk>/acknowledge/",
        views.notification_acknowledge,
        name="notification_acknowledge",
    ),
    path("performance/", views.performance, name="performance"),
    path("performance.csv", views.performance_csv, name="performance_csv"),
    # Excluded from the OpenAPI schema here: the API publishes the same view at /api/v1/metrics/.
    path("api/metrics/", MetricsView.as_view(schema=None), name="api_metrics"),
]
