"""A Celery worker killed (SIGKILL) in the middle of an alert delivery, after it claimed an alert and while the
mail server has not answered: after the claim timeout the next delivery sends it.

- Killed before the message was handed over (the server hangs at MAIL FROM): each alert arrives exactly once.
- Killed after the server took the message but before its final ``250`` reached the worker: that alert
  arrives twice. This is the at-least-once edge of any SMTP sender (the client cannot tell "the server kept
  it" from "the server lost it" without the reply); both copies carry the same ``X-JJP-Alert`` id.

Real processes: a private redis-server as the broker, ``celery worker --pool solo`` (so the kill ends the task
itself), aiosmtpd on loopback holding the conversation at the chosen point."""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from cases.models import Alert, Role
from tests.conftest import TODAY
from tests.factories import UserFactory
from tests.faults.stack import RedisServer, SmtpServer, Worker, base_env, send_task, wait_until

pytestmark = pytest.mark.faults

CLAIM_TIMEOUT = 3  # seconds (JJP_ALERT_CLAIM_TIMEOUT_SECONDS in the workers; 300 by default)
ALERTS = 3


@pytest.fixture(scope="module")
def redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def outbox(force) -> list[Alert]:
    """Pending alerts for one officer (overdue alerts on three days), as detection writes them."""
    user = UserFactory(organisation=force, roles=[Role.OIC], username="fault-mail-oic")
    now = timezone.now()
    return [
        Alert.objects.create(
            recipient=user,
            kind=Alert.Kind.IMMEDIATE,
            threshold="overdue",
            day=TODAY - datetime.timedelta(days=n),
            subject=f"Case FAULT-{n}: a deadline is overdue",
            body_text="A deadline is overdue.\n",
            body_html="<p>A deadline is overdue.</p>",
            next_attempt_at=now,
        )
        for n in range(ALERTS)
    ]


def kill_mid_delivery(redis: RedisServer, smtp: SmtpServer, hold: str, logs) -> tuple[Alert, dict[str, str]]:
    """Start a worker, queue a delivery, wait until the mail server holds the conversation at ``hold``, then
    SIGKILL the worker. Returns the alert it had claimed and the workers' environment."""
    env = base_env(
        CELERY_BROKER_URL=redis.url(12),
        EMAIL_URL=smtp.url,
        JJP_ALERT_CLAIM_TIMEOUT_SECONDS=str(CLAIM_TIMEOUT),
    )
    smtp.inbox.hold = hold
    worker = Worker(f"deliver-{hold}-1", env, logs).start()
    try:
        send_task(redis.url(12), "cases.alert_tasks.deliver_alerts")
        wait_until(smtp.inbox.held.is_set, 30, f"the mail server to hold the conversation at {hold}")
        claimed = Alert.objects.get(status=Alert.Status.SENDING)
        assert claimed.attempts == 1 and claimed.claimed_at is not None
        assert Alert.objects.filter(status=Alert.Status.PENDING).count() == ALERTS - 1
        worker.kill()
    finally:
        worker.stop()
    smtp.inbox.release.set()
    return claimed, env


def deliver_until_all_sent(redis: RedisServer, env: dict[str, str], logs, name: str) -> float:
    """A fresh worker; queue a delivery every second (beat does it every minute) until every alert is sent."""
    worker = Worker(name, env, logs).start()
    started = time.monotonic()
    try:
        deadline = started + 40
        while Alert.objects.exclude(status=Alert.Status.SENT).exists():
            assert time.monotonic() < deadline, list(Alert.objects.values("pk", "status", "last_error"))
            send_task(redis.url(12), "cases.alert_tasks.deliver_alerts")
            time.sleep(1)
        return time.monotonic() - started
    finally:
        worker.stop()


@pytest.mark.django_db(transaction=True)
def test_worker_killed_before_the_message_is_handed_over_sends_it_once_after_the_claim_timeout(
    redis, smtp, force_a, tmp_path, capsys
):
    alerts = outbox(force_a)
    claimed, env = kill_mid_delivery(redis, smtp, "mail", tmp_path)
    assert smtp.inbox.alert_ids() == []
    seconds = deliver_until_all_sent(redis, env, tmp_path, "deliver-mail-2")

    assert smtp.inbox.alert_ids() == sorted(a.pk for a in alerts), "each alert exactly once"
    again = Alert.objects.get(pk=claimed.pk)
    assert again.attempts == 2, "claimed by the killed worker, then once more"
    assert (again.claimed_at - claimed.claimed_at).total_seconds() >= CLAIM_TIMEOUT, "not before the timeout"
    assert all(a.attempts == 1 for a in Alert.objects.exclude(pk=claimed.pk))
    with capsys.disabled():
        print(
            f"\n[faults] delivery kill before DATA: all {ALERTS} sent once, {seconds:.1f}s after the restart"
        )


@pytest.mark.django_db(transaction=True)
def test_worker_killed_after_the_server_took_the_message_sends_that_one_twice(
    redis, smtp, force_a, tmp_path, capsys
):
    alerts = outbox(force_a)
    claimed, env = kill_mid_delivery(redis, smtp, "after_store", tmp_path)
    assert smtp.inbox.alert_ids() == [claimed.pk], "the server kept it; the worker never heard 250"
    deliver_until_all_sent(redis, env, tmp_path, "deliver-after-store-2")

    received = smtp.inbox.alert_ids()
    assert received.count(claimed.pk) == 2, "at least once: the killed attempt and the retry"
    assert sorted(set(received)) == sorted(a.pk for a in alerts)
    assert len(received) == ALERTS + 1, "only the alert in flight at the kill is doubled"
    copies = [m for m in smtp.inbox.messages if int(m["X-JJP-Alert"]) == claimed.pk]
    # A stable Message-ID per alert: the mail client sees the resend as the same message.
    assert len({m["Message-ID"] for m in copies}) == 1 and copies[0]["Message-ID"].startswith("<alert-")
    with capsys.disabled():
        print(
            f"\n[faults] delivery kill after the server stored the message: alert {claimed.pk} arrived twice; "
            f"Message-IDs {[m['Message-ID'] for m in copies]}"
        )
