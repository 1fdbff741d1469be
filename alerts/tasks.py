"""Celery tasks for deadline alerts: thin, JSON in and out, each calls one service and owns its retries.
Loaded through ``cases/tasks.py`` (Celery's autodiscovery imports only ``tasks`` modules).

Schedules (settings.CELERY_BEAT_SCHEDULE): detection every 5 minutes, delivery every minute, digests every 15
minutes (the service itself decides whether it is a working day and past 07:00 London, so a beat schedule
misfiring around a clock change cannot send early or twice).

Delivery runs every minute, so one run stops claiming new alerts after ``DELIVER_BUDGET_SECONDS`` (the rest wait
for the next run) and is stopped by Celery after ``DELIVER_SOFT_LIMIT_SECONDS`` (a mail server that accepts the
connection and then hangs on every message): the alert it was sending stays claimed until the claim timeout and
is sent again by a later run, with the same Message-ID."""

from celery import shared_task

from . import engine as alerts

DELIVER_BUDGET_SECONDS = 50
DELIVER_SOFT_LIMIT_SECONDS = 120

_RETRY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


@shared_task(name="cases.alert_tasks.detect_alerts", **_RETRY)
def detect_alerts(full: bool = False) -> dict[str, int]:
    """Write the immediate alerts and escalations due now; queue delivery when there are new ones. The
    five-minute run reads the escalations that became due within the lookback; the hourly run (``full``) all."""
    counts = alerts.alerts_detect(full=full)
    if counts.get("total"):
        deliver_alerts.delay()
    return counts


@shared_task(
    name="cases.alert_tasks.deliver_alerts",
    soft_time_limit=DELIVER_SOFT_LIMIT_SECONDS,
    time_limit=DELIVER_SOFT_LIMIT_SECONDS + 30,
    **_RETRY,
)
def deliver_alerts() -> dict[str, int]:
    """Send what is pending (a mail server that is down leaves rows failed, retried with backoff)."""
    return alerts.alerts_deliver(stop_after=DELIVER_BUDGET_SECONDS)


@shared_task(name="cases.alert_tasks.send_daily_digests", **_RETRY)
def send_daily_digests() -> dict[str, int]:
    """Write today's digests once it is 07:00 London on a working day; queue delivery when there are new ones."""
    counts = alerts.digests_build()
    if counts.get("digests"):
        deliver_alerts.delay()
    return counts
