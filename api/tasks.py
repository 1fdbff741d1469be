"""Celery tasks for outbound webhooks: thin (ids in, one service call, own retries, JSON only). Registered
as ``api.tasks``, which Celery's autodiscovery finds."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from . import webhooks

__all__ = ["webhook_deliver", "webhooks_pump"]


@shared_task(bind=True, name="cases.tasks.webhook_deliver", acks_late=True, max_retries=webhooks.MAX_ATTEMPTS)
def webhook_deliver(self: Any, delivery_id: int) -> dict[str, object]:
    """One attempt to send one outbox row; a failure is retried when the row's next attempt is due (exponential
    backoff, stored on the row), until the row is dead. A retry lost with the broker is re-queued by the pump."""
    status = webhooks.deliver(delivery_id)
    if status == "failed":
        raise self.retry(countdown=webhooks.retry_countdown(delivery_id))
    return {"delivery": delivery_id, "status": status}


@shared_task(name="cases.tasks.webhooks_pump", acks_late=True, ignore_result=True)
def webhooks_pump() -> dict[str, int]:
    """Every minute: outbox rows for new overdue and time-barred deadlines, and a new task for every delivery
    whose task or retry was lost (idempotent)."""
    return webhooks.pump()
