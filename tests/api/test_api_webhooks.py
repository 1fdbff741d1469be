"""Outbound webhooks: the outbox row first, then a signed POST to the force's URL (verified here by a real HTTP
receiver on the loopback), retried with backoff until delivered or dead, logged, and replayable."""

from __future__ import annotations

import datetime
import http.server
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from api import webhooks
from api.tasks import webhook_deliver
from cases.models import CaseEvent, WebhookDelivery, WebhookEndpoint
from cases.services import case_restrict
from charging.services import case_refer_to_cps, decision_record
from jjp.celery import app as celery_app
from tests.conftest import TODAY
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-force"


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records what it is sent and answers with ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.headers: dict[str, str] = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body, "path": self.path})
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/jjp"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def endpoint(force_a, receiver):
    return WebhookEndpoint.objects.create(organisation=force_a, url=receiver.url, secret=SECRET)


@pytest.fixture
def dispatched(monkeypatch):
    """Record what would be queued for Celery instead of talking to a broker."""
    queued: list[int] = []
    monkeypatch.setattr(webhooks, "dispatch", lambda ids: queued.extend(ids))
    return queued


@pytest.fixture
def decided(oic_a, prosecutor_a, case_a):
    referral = case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)
    decision_record(
        actor=prosecutor_a,
        referral=referral,
        outcome="charge",
        test="full_code",
        decided_on=TODAY,
        reasons="The Full Code Test is met.",
        today=TODAY,
    )
    return CaseEvent.objects.get(case=case_a, kind="decision")


def test_a_decision_is_signed_and_delivered_to_the_force(endpoint, receiver, dispatched, decided, case_a):
    ids = webhooks.enqueue_for_case_event(decided)
    assert dispatched == ids and len(ids) == 1
    delivery = WebhookDelivery.objects.get(pk=ids[0])
    assert (delivery.status, delivery.event, delivery.case) == ("pending", "decision.recorded", case_a)

    assert webhooks.deliver(delivery.pk) == "delivered"
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/jjp"
    assert headers["X-JJP-Event"] == "decision.recorded"
    assert headers["X-JJP-Delivery"] == f"case_event:{decided.pk}"
    # What the force's receiver does: recompute the HMAC over "<timestamp>.<raw body>" with the shared secret.
    assert webhooks.signature_valid(SECRET, headers["X-JJP-Timestamp"], body, headers["X-JJP-Signature"])
    assert not webhooks.signature_valid(
        "another secret", headers["X-JJP-Timestamp"], body, headers["X-JJP-Signature"]
    )
    assert not webhooks.signature_valid(
        SECRET, headers["X-JJP-Timestamp"], body + b" ", headers["X-JJP-Signature"]
    )
    payload = json.loads(body)
    assert payload["event"] == "decision.recorded"
    assert payload["case"]["urn"] == case_a.urn and payload["case"]["force"] == "GMP"
    assert payload["data"]["outcome"] == "charge"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    assert webhooks.deliver(delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_a_stale_timestamp_is_refused_by_the_receiver_check():
    body = b'{"a":1}'
    sig = webhooks.signature(SECRET, "1000", body)
    assert webhooks.signature_valid(SECRET, "1000", body, sig, now=1100)
    assert not webhooks.signature_valid(SECRET, "1000", body, sig, now=1000 + 301)
    assert not webhooks.signature_valid(SECRET, "soon", body, sig)


def test_enqueueing_twice_creates_one_delivery(endpoint, dispatched, decided):
    webhooks.enqueue_for_case_event(decided)
    webhooks.enqueue_for_case_event(decided.pk)
    assert WebhookDelivery.objects.count() == 1


def test_only_subscribed_active_endpoints_of_the_cases_organisations_get_it(
    force_a, force_b, receiver, dispatched, decided, case_a
):
    WebhookEndpoint.objects.create(organisation=force_b, url=receiver.url, secret=SECRET)
    WebhookEndpoint.objects.create(organisation=force_a, url=receiver.url, secret=SECRET, active=False)
    WebhookEndpoint.objects.create(
        organisation=force_a, url=receiver.url, secret=SECRET, events=["clock.overdue"]
    )
    wanted = WebhookEndpoint.objects.create(
        organisation=force_a, url=receiver.url, secret=SECRET, events=["decision.recorded"]
    )
    area = WebhookEndpoint.objects.create(organisation=case_a.force.area, url=receiver.url, secret=SECRET)
    webhooks.enqueue_for_case_event(decided)
    assert set(WebhookDelivery.objects.values_list("endpoint", flat=True)) == {wanted.pk, area.pk}


def test_other_timeline_events_send_nothing(endpoint, dispatched, case_a):
    created = CaseEvent.objects.get(case=case_a, kind="case_created")
    assert webhooks.enqueue_for_case_event(created) == []
    assert not WebhookDelivery.objects.exists()


def test_a_restricted_case_is_never_sent(endpoint, dispatched, oic_a, supervisor_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, urn="SECRET-1", police_perpetrated=True)
    case_restrict(actor=supervisor_a, case=case, users=[oic_a], reason="Suspect is an officer.")
    referral = case_refer_to_cps(actor=oic_a, case=case, received_on=TODAY, today=TODAY)
    case.restricted_to.add(prosecutor_a)
    decision_record(
        actor=prosecutor_a, referral=referral, outcome="nfa", decided_on=TODAY, reasons="r", today=TODAY
    )
    assert webhooks.enqueue_for_case_event(CaseEvent.objects.get(case=case, kind="decision")) == []


def make_due(pk: int) -> None:
    """Skip the backoff: the row's next attempt is due now."""
    WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=timezone.now())


def test_failures_are_retried_until_dead(endpoint, receiver, dispatched, decided):
    receiver.status = 500
    (pk,) = webhooks.enqueue_for_case_event(decided)
    assert webhooks.deliver(pk) == "failed"
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert (delivery.attempts, delivery.response_code) == (1, 500)
    assert "HTTP 500" in delivery.last_error
    for _ in range(webhooks.MAX_ATTEMPTS - 2):
        make_due(pk)
        assert webhooks.deliver(pk) == "failed"
    make_due(pk)
    assert webhooks.deliver(pk) == "dead"
    assert WebhookDelivery.objects.get(pk=pk).next_attempt_at is None
    assert webhooks.deliver(pk) == "skipped"
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_a_failure_stores_when_the_next_attempt_is_due_and_not_before(
    endpoint, receiver, dispatched, decided
):
    receiver.status = 503
    (pk,) = webhooks.enqueue_for_case_event(decided)
    created = WebhookDelivery.objects.get(pk=pk)
    assert created.next_attempt_at is not None and created.next_attempt_at <= timezone.now()
    before = timezone.now()
    assert webhooks.deliver(pk) == "failed"
    failed = WebhookDelivery.objects.get(pk=pk)
    assert 30 <= (failed.next_attempt_at - before).total_seconds() <= 40
    assert 29 <= webhooks.retry_countdown(pk) <= 40
    # A second task for the row (a late retry and the pump's both) before the backoff is over sends nothing.
    assert webhooks.deliver(pk) == "skipped"
    assert len(receiver.requests) == 1
    receiver.status = 200
    make_due(pk)
    assert webhooks.deliver(pk) == "delivered"
    delivered = WebhookDelivery.objects.get(pk=pk)
    assert (delivered.attempts, delivered.next_attempt_at) == (2, None)


@pytest.fixture
def eager_celery():
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, False
    yield
    conf.task_always_eager, conf.task_eager_propagates = saved


def test_the_celery_task_retries_with_backoff(
    endpoint, receiver, dispatched, decided, monkeypatch, eager_celery
):
    receiver.status = 503
    (pk,) = webhooks.enqueue_for_case_event(decided)
    waits: list[int] = []
    monkeypatch.setattr(webhooks, "backoff_seconds", lambda retries: waits.append(retries) or 0)
    webhook_deliver.delay(pk)
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert delivery.status == "dead" and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert waits == list(range(webhooks.MAX_ATTEMPTS - 1))
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_backoff_grows_and_is_capped():
    assert 30 <= webhooks.backoff_seconds(0) <= 33
    assert 240 <= webhooks.backoff_seconds(3) <= 264
    assert 3600 <= webhooks.backoff_seconds(20) <= 3960


def test_a_redirect_is_a_failure(endpoint, receiver, dispatched, decided):
    receiver.status, receiver.headers = 302, {"Location": "http://example.invalid/"}
    (pk,) = webhooks.enqueue_for_case_event(decided)
    assert webhooks.deliver(pk) == "failed"
    assert WebhookDelivery.objects.get(pk=pk).response_code == 302


def test_an_unreachable_endpoint_is_a_failure(force_a, dispatched, decided):
    with Receiver() as gone:
        url = gone.url
    WebhookEndpoint.objects.create(organisation=force_a, url=url, secret=SECRET)
    (pk,) = webhooks.enqueue_for_case_event(decided)
    assert webhooks.deliver(pk) == "failed"
    assert "Connection refused" in WebhookDelivery.objects.get(pk=pk).last_error


def test_overdue_clocks_are_sent_by_the_pump(endpoint, receiver, dispatched, case_a):
    # case_a was reported four weeks ago: its 21-day investigation clock was overdue when it was opened.
    result = webhooks.pump()
    delivery = WebhookDelivery.objects.get(event="clock.overdue")
    assert result == {"queued": 1} and dispatched == [delivery.pk]
    assert delivery.payload["clock"]["kind"] == "investigation"
    webhooks.pump()
    assert WebhookDelivery.objects.count() == 1
    assert webhooks.deliver(delivery.pk) == "delivered"
    assert json.loads(receiver.requests[0]["body"])["event"] == "clock.overdue"


def test_the_pump_requeues_a_pending_delivery_whose_task_was_lost(endpoint, dispatched, decided):
    (pk,) = webhooks.enqueue_for_case_event(decided)
    dispatched.clear()
    webhooks.pump()
    assert pk not in dispatched  # just written: its task is on its way
    WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=F("next_attempt_at") - webhooks.STUCK_AFTER)
    webhooks.pump()
    assert dispatched.count(pk) == 1
    webhooks.pump()  # claimed by the first pump: not queued again until that task is overdue in its turn
    assert dispatched.count(pk) == 1


def failed_once(
    endpoint, decided, *, ago: datetime.timedelta, attempts: int = 1, **fields
) -> WebhookDelivery:
    """A row after a failed attempt whose retry (in the broker) was lost."""
    (pk,) = webhooks.enqueue_for_case_event(decided)
    WebhookDelivery.objects.filter(pk=pk).update(
        status="failed",
        attempts=attempts,
        last_error="The endpoint answered HTTP 503.",
        next_attempt_at=timezone.now() - ago,
        **fields,
    )
    return WebhookDelivery.objects.get(pk=pk)


def test_the_pump_requeues_a_failed_delivery_whose_retry_was_lost(endpoint, receiver, dispatched, decided):
    delivery = failed_once(endpoint, decided, ago=webhooks.STUCK_AFTER + datetime.timedelta(seconds=1))
    dispatched.clear()
    webhooks.pump()
    assert dispatched.count(delivery.pk) == 1
    assert webhooks.deliver(delivery.pk) == "delivered"
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2
    assert len(receiver.requests) == 1


def test_the_pump_leaves_a_retry_that_is_not_overdue_to_the_broker(endpoint, dispatched, decided):
    delivery = failed_once(endpoint, decided, ago=webhooks.STUCK_AFTER - datetime.timedelta(seconds=10))
    dispatched.clear()
    webhooks.pump()
    assert delivery.pk not in dispatched


def test_the_pump_requeues_a_row_from_before_next_attempt_at_by_its_age(endpoint, dispatched, decided):
    old = failed_once(endpoint, decided, ago=datetime.timedelta(0))
    WebhookDelivery.objects.filter(pk=old.pk).update(
        next_attempt_at=None, created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    dispatched.clear()
    webhooks.pump()
    assert dispatched.count(old.pk) == 1


def test_the_pump_gives_up_on_a_row_that_used_every_attempt(endpoint, dispatched, decided):
    # The last attempt's worker was killed: no outcome recorded, no attempt left.
    delivery = failed_once(endpoint, decided, ago=datetime.timedelta(hours=1), attempts=webhooks.MAX_ATTEMPTS)
    dispatched.clear()
    webhooks.pump()
    assert delivery.pk not in dispatched
    delivery.refresh_from_db()
    assert delivery.status == "dead" and delivery.next_attempt_at is None
    assert "giving up" in delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_two_pumps_at_once_queue_a_lost_row_once(endpoint, dispatched, decided):
    """The second pump skips rows the first holds locked (SKIP LOCKED), then finds them claimed."""
    from django.db import connections

    delivery = failed_once(endpoint, decided, ago=datetime.timedelta(hours=1))
    dispatched.clear()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # a concurrent pump holding the row (between its claim and commit)
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM cases_webhookdelivery WHERE id = %s FOR UPDATE", [delivery.pk])
            webhooks.pump()
            assert delivery.pk not in dispatched  # skipped, not waited for
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    webhooks.pump()  # the other pump gave it up: this one claims it
    assert dispatched.count(delivery.pk) == 1


def test_replay_sends_the_event_again_as_a_new_logged_delivery(endpoint, receiver, dispatched, decided):
    receiver.status = 500
    (pk,) = webhooks.enqueue_for_case_event(decided)
    WebhookDelivery.objects.filter(pk=pk).update(status="dead", attempts=webhooks.MAX_ATTEMPTS)
    receiver.status = 200
    out = io.StringIO()
    call_command("replay_webhooks", "--status", "dead", stdout=out)
    replay = WebhookDelivery.objects.exclude(pk=pk).get()
    assert replay.event_key == f"case_event:{decided.pk}#replay1"
    assert replay.payload == WebhookDelivery.objects.get(pk=pk).payload
    assert webhooks.deliver(replay.pk) == "delivered"
    assert WebhookDelivery.objects.get(pk=pk).status == "dead"  # the log keeps the failed one
    call_command("replay_webhooks", "--id", str(pk), stdout=io.StringIO())
    assert WebhookDelivery.objects.filter(event_key__endswith="#replay2").exists()


def test_create_webhook_endpoint_prints_the_secret_once(force_a):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_webhook_endpoint",
        "--force",
        "GMP",
        "--url",
        "https://records.example.org/jjp",
        "--event",
        "decision.recorded",
        stdout=out,
        stderr=err,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == out.getvalue().strip() and endpoint.events == ["decision.recorded"]
    assert endpoint.secret not in err.getvalue()


def test_the_admin_replay_action(endpoint, dispatched, decided, rf, admin_user):
    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage

    from api.admin import WebhookDeliveryAdmin

    (pk,) = webhooks.enqueue_for_case_event(decided)
    request = rf.post("/admin/cases/webhookdelivery/")
    request.user, request.session = admin_user, {}
    request._messages = FallbackStorage(request)
    WebhookDeliveryAdmin(WebhookDelivery, admin.site).replay(request, WebhookDelivery.objects.filter(pk=pk))
    assert WebhookDelivery.objects.filter(event_key__endswith="#replay1").count() == 1


def test_enqueue_queues_the_celery_task(endpoint, receiver, decided, eager_celery):
    (pk,) = webhooks.enqueue_for_case_event(decided)  # the real dispatch: Celery runs the task at once here
    assert WebhookDelivery.objects.get(pk=pk).status == "delivered"
    assert len(receiver.requests) == 1


def test_a_broker_outage_leaves_the_delivery_for_the_pump(endpoint, decided, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(webhook_deliver, "apply_async", down)
    (pk,) = webhooks.enqueue_for_case_event(decided)
    assert WebhookDelivery.objects.get(pk=pk).status == "pending"
