"""Celery tasks for victims: thin wrappers that call one service and own their retries (JSON results only)."""

from celery import shared_task

from . import services


@shared_task(
    name="victims.tasks.expire_orders",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def expire_orders() -> dict[str, int]:
    """Mark orders whose end date has passed as expired, stopping their expiry clocks (idempotent)."""
    return {"expired": services.orders_expire_due()}
