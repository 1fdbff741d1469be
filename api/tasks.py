"""Celery tasks for outbound webhooks, for Celery's autodiscovery (``api.tasks``): they are defined beside the
outbox they send, in ``api/webhooks.py``."""

from .webhooks import webhook_deliver, webhooks_pump

__all__ = ["webhook_deliver", "webhooks_pump"]
