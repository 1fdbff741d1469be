"""The Joint Justice case system: police and CPS working domestic abuse cases together."""

from .celery import app as celery_app

__all__ = ["celery_app"]
