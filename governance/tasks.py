"""Celery tasks for joint governance: thin wrappers that call one service and own their retries."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.core.cache import cache
from django.db import connection, transaction

from cases.models import Case

from . import services


@shared_task(
    name="governance.tasks.evaluate_high_harm_flags",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=3,
)
def evaluate_high_harm_flags(today: str | None = None) -> dict[str, object]:
    """Evaluate the shared high-harm repeat offender definition for every person (nightly; idempotent)."""
    run = services.high_harm_flags_evaluate(today=datetime.date.fromisoformat(today) if today else None)
    return {
        "run": run.pk,
        "status": run.status,
        "evaluated": run.evaluated,
        "flagged": run.flagged,
        "people_changed": run.people_changed,
        "cases_changed": run.cases_changed,
    }


@shared_task(
    name="governance.tasks.notify_cps_of_police_outcomes",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def notify_cps_of_police_outcomes() -> dict[str, object]:
    """Tell CPS of any police closure after an action plan not told yet (a safety net; idempotent)."""
    return {"notified": services.cps_notifications_catch_up()}


@shared_task(
    name="governance.tasks.refresh_performance_figures",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=600,
    max_retries=2,
)
def refresh_performance_figures(full: bool | None = None) -> dict[str, object]:
    """Recompute the stored joint performance figures: this month every run (every 15 minutes), every month
    once a day or when asked (``full``); idempotent, a concurrent run skips."""
    run = services.performance_figures_refresh(full=full)
    return {
        "run": run.pk,
        "status": run.status,
        "full": run.full,
        "figures": run.figures,
        "seconds": run.seconds,
    }


def performance_figures_prepare() -> bool:
    """For the dashboard, its CSV and the JSON when no figures have been computed yet (a fresh install): with
    at most ``services.FIRST_VIEW_MAX_CASES`` cases, compute them now (concurrent first views wait for the one
    computing, then read); above that, queue the refresh task once and return False, so the page can say the
    figures are being prepared rather than time out. True when figures are stored."""
    if services.metrics.figures_computed():
        return True
    if (
        Case.objects.values("pk")[: services.FIRST_VIEW_MAX_CASES + 1].count()
        <= services.FIRST_VIEW_MAX_CASES
    ):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [services._PERFORMANCE_LOCK_KEY]
            )  # wait for another view
            if not services.metrics.figures_computed():
                services.performance_figures_refresh(full=True)
        return services.metrics.figures_computed()
    if cache.add(services._PREPARING_KEY, True, timeout=15 * 60):
        try:
            refresh_performance_figures.delay(full=True)
        except Exception:
            services.logger.exception("could not queue the first refresh of the performance figures")
            cache.delete(services._PREPARING_KEY)
    return False
