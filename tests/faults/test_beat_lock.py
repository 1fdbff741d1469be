"""Exactly one scheduler: a second Celery beat stands by while the first holds the lock, and takes over when
the first goes away. Real processes: two `celery beat` processes against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from jjp.beat import _connect, try_beat_lock

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.faults


@pytest.mark.django_db(transaction=True)
def test_the_lock_admits_one_holder():
    first, second = _connect(), _connect()
    first.autocommit = second.autocommit = True
    try:
        assert try_beat_lock(first)
        assert not try_beat_lock(second)
        first.close()
        # The server releases a closed session's locks as its backend exits: give it a moment.
        deadline = time.monotonic() + 5
        while not try_beat_lock(second) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert try_beat_lock(second)
    finally:
        second.close()


@pytest.mark.django_db(transaction=True)
def test_a_second_beat_stands_by_until_the_first_stops(tmp_path):
    s = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        CELERY_BROKER_URL="memory://",
        JJP_LOCAL_RUN="1",
    )
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "jjp",
        "beat",
        "-l",
        "info",
        "--scheduler",
        "jjp.beat:LockedDatabaseScheduler",
        "--max-interval",
        "1",
    ]

    def start(name: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.log"
        proc = subprocess.Popen(
            [*cmd, "--pidfile", str(tmp_path / f"{name}.pid"), "-s", str(tmp_path / name)],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        return proc, log

    def wait_for(log: Path, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in log.read_text():
                return True
            time.sleep(0.2)
        return False

    first, first_log = start("first")
    second = None
    try:
        assert wait_for(first_log, "scheduler lock taken", 30), first_log.read_text()
        second, second_log = start("second")
        assert wait_for(second_log, "standing by", 30), second_log.read_text()
        assert "scheduler lock taken" not in second_log.read_text()
        first.terminate()
        try:
            first.wait(timeout=30)
        except (
            subprocess.TimeoutExpired
        ):  # a slow shutdown under load: the lock goes with the process either way
            first.kill()
            first.wait(timeout=30)
        assert wait_for(second_log, "scheduler lock taken", 30), second_log.read_text()
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=30)
