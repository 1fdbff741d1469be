from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Deadline alerts by email (immediate, escalated and the daily digest), their preferences and the private
    calendar feeds. Delivery layer: it reads the clock ledger and the access gate of the domain apps, writes the
    outbox (``cases.Alert``), and nothing in the domain imports it."""

    name = "alerts"
    verbose_name = "Alerts and calendar feeds"
