"""The scheduler with a lock: exactly one Celery beat runs, however many are started.

``LockedDatabaseScheduler`` is django-celery-beat's DatabaseScheduler that first takes a session-level PostgreSQL
advisory lock on a connection of its own and holds it for its whole life. A second beat (a doubled deployment, a
restart overlapping the old process) waits in standby until the first one's connection closes, then takes over.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg2
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

log = logging.getLogger(__name__)
BEAT_LOCK_KEY = 7_120_002


def _connect() -> Any:
    db = settings.DATABASES["default"]
    return psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )


def try_beat_lock(conn: Any) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_KEY])
        return bool(cur.fetchone()[0])


_lock_conn: Any = None  # one per process: celery may build the scheduler more than once


def hold_beat_lock(standby_seconds: float = 5.0) -> None:
    """Block until this process holds the scheduler lock (it keeps it until the process exits)."""
    global _lock_conn
    if _lock_conn is not None and not _lock_conn.closed:
        return
    conn = _connect()
    conn.autocommit = True
    while not try_beat_lock(conn):
        log.warning("another beat holds the scheduler lock; standing by")
        time.sleep(standby_seconds)
    log.warning("scheduler lock taken; this beat schedules")
    _lock_conn = conn


class LockedDatabaseScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        hold_beat_lock()
        super().__init__(*args, **kwargs)
