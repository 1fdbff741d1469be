"""The Celery application. Tasks live in each app's ``tasks.py``; schedules are declared in settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jjp.settings")

app = Celery("jjp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
