"""Celery tasks for joint governance: thin wrappers that call one service and own their retries."""

from __future__ import annotations

import datetime

from celery import shared_task

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
