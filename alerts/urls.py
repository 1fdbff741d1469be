"""URLs for email settings and the private calendar feed. Included from the project URLs with
``path("", include("alerts.urls"))``."""

from django.urls import path

from . import views as alert_views

urlpatterns = [
    path("alerts/settings/", alert_views.preferences, name="alert_preferences"),
    path("alerts/calendar/new/", alert_views.calendar_feed_new, name="calendar_feed_new"),
    path("alerts/calendar/<int:pk>/revoke/", alert_views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("alerts/calendar/<slug:token>.ics", alert_views.calendar_feed, name="calendar_feed"),
]
