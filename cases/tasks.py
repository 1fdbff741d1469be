"""Celery tasks for the case record: thin wrappers that call one service and own their retries."""

from celery import shared_task

from . import ledger


@shared_task(
    name="cases.tasks.sweep_clocks",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def sweep_clocks() -> dict[str, object]:
    """Move every open clock's state on for today (every 15 minutes; idempotent)."""
    run = ledger.sweep()
    return {"run": run.pk, "status": run.status, "changed": run.examined, "events": run.events}
