"""Redis (the Celery broker) stopped under the running app: the web app and the API keep working, work that
would have been queued waits in the database outboxes (alerts, webhook deliveries), and when Redis returns a
real Celery worker sends each alert exactly once and each webhook exactly once.

Real processes: a private redis-server (stopping it loses what it held: no persistence, as in a crash), the app
under gunicorn, a Celery worker, a mail server (aiosmtpd) and a webhook receiver on loopback."""

from __future__ import annotations

import datetime
import time

import pytest
import requests
from django.db.models import F
from django.test import Client
from django.utils import timezone

from alerts import engine as alerts
from api.clients import api_client_create
from cases import ledger
from cases.models import Alert, Case, CaseEvent, Organisation, Role, WebhookDelivery, WebhookEndpoint
from charging.services import case_refer_to_cps
from tests.factories import CaseFactory, UserFactory
from tests.faults.stack import (
    Gunicorn,
    RedisServer,
    SmtpServer,
    WebhookReceiver,
    Worker,
    base_env,
    send_task,
    wait_until,
)

pytestmark = pytest.mark.faults

DAY = datetime.timedelta(days=1)
BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(scope="module")
def outage(django_db_setup, django_db_blocker, tmp_path_factory):
    """A private Redis and the app under gunicorn with its Celery broker pointed at that Redis."""
    logs = tmp_path_factory.mktemp("redis-outage")
    redis = RedisServer()
    redis.start()
    with django_db_blocker.unblock():
        web = Gunicorn(base_env(CELERY_BROKER_URL=redis.url()), workers=2, log_dir=logs)
    try:
        web.start()
        yield {"redis": redis, "web": web, "logs": logs}
    finally:
        web.stop()
        redis.stop()


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class Browser:
    """A signed-in person's browser against the gunicorn app (the session is made by Django's test client,
    so the test does not depend on the sign-in pages)."""

    def __init__(self, base: str, user) -> None:
        client = Client()
        client.force_login(user, backend=BACKEND)
        self.base = base
        self.session = requests.Session()
        self.session.cookies.set("sessionid", client.cookies["sessionid"].value)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=60, allow_redirects=False)

    def step(self, case: Case, slug: str, fields: dict[str, object]) -> tuple[requests.Response, float]:
        """Submit one step form of the case page, as the browser does (CSRF token from the page)."""
        page = self.get(f"/cases/{case.pk}/")
        assert page.status_code == 200, page.status_code
        data = {f"{slug}-{k}": v for k, v in fields.items()}
        data["csrfmiddlewaretoken"] = self.session.cookies["csrftoken"]
        started = time.monotonic()
        response = self.session.post(
            f"{self.base}/cases/{case.pk}/steps/{slug}/",
            data=data,
            headers={"Referer": f"{self.base}/cases/{case.pk}/"},
            timeout=60,
            allow_redirects=False,
        )
        return response, time.monotonic() - started


def people(force):
    oic = UserFactory(organisation=force, roles=[Role.OIC], username="fault-oic")
    prosecutor = UserFactory(organisation=force.area, roles=[Role.PROSECUTOR], username="fault-prosecutor")
    return oic, prosecutor


def referred_case(oic, urn: str, today: datetime.date) -> Case:
    case = CaseFactory(actor=oic, urn=urn, reported_on=today - 10 * DAY, today=today)
    case_refer_to_cps(actor=oic, case=case, received_on=today, today=today)
    return case


def return_file(browser: Browser, case: Case, today: datetime.date) -> tuple[requests.Response, float]:
    return browser.step(
        case,
        "triage",
        {"accept": "0", "on": today, "reasons": "no_mg3", "respond_by": today + 7 * DAY},
    )


@pytest.mark.django_db(transaction=True)
def test_web_and_api_work_with_redis_stopped_and_alerts_go_out_once_when_it_returns(
    outage, smtp, receiver, capsys
):
    redis, web = outage["redis"], outage["web"]
    redis.start()
    today = ledger.london_today()
    force = Organisation.objects.get(code="GMP")
    oic, prosecutor = people(force)
    # A domestic abuse common assault whose six-month limit falls within eight weeks: once CPS has the file,
    # the OIC and the prosecutor must be told at once (stl_8_weeks).
    alert_case = CaseFactory(
        actor=oic,
        urn="FAULT-ALERT",
        committed_on=today - 150 * DAY,
        reported_on=today - 10 * DAY,
        today=today,
    )
    stl = alert_case.clocks.get(kind="stl")
    assert 14 < (stl.due_on - today).days <= 56
    returned_before, returned_during = (referred_case(oic, f"FAULT-RET{n}", today) for n in (1, 2))
    WebhookEndpoint.objects.create(organisation=force, url=receiver.url, secret="s" * 40, events=[])
    _, token = api_client_create(force_code="GMP", name="Faults Records", scope="write")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    police, cps = Browser(web.base, oic), Browser(web.base, prosecutor)

    # Redis up: a file returned at triage queues its webhook on the private broker.
    response, _ = return_file(cps, returned_before, today)
    assert response.status_code == 302
    assert redis.queue_length() == 1

    redis.stop()
    assert not redis.ping()

    # The web app: the case page, the OIC refers a case, the prosecutor returns a file (its webhook cannot be
    # queued: the request must still succeed, and the delivery row waits in the outbox).
    assert police.get(f"/cases/{alert_case.pk}/").status_code == 200
    assert police.get("/cases/").status_code == 200
    referred, refer_seconds = police.step(
        alert_case, "refer", {"received_on": today, "kind": "charging_decision"}
    )
    assert referred.status_code == 302, referred.text[:500]
    returned, return_seconds = return_file(cps, returned_during, today)
    assert returned.status_code == 302, returned.text[:500]
    alert_case.refresh_from_db()
    returned_during.refresh_from_db()
    assert alert_case.status == "referred"
    assert CaseEvent.objects.filter(case=returned_during, kind="triage_rejected").count() == 1

    # The API: a list, a detail and a state change.
    listed = api.get(f"{web.base}/api/v1/cases/", timeout=60)
    assert listed.status_code == 200
    assert "FAULT-ALERT" in {c["urn"] for c in listed.json()["results"]}
    started = time.monotonic()
    added = api.post(
        f"{web.base}/api/v1/cases/FAULT-ALERT/offences/",
        json={"offence_type": "CJA88-39", "committed_on": str(today - 20 * DAY)},
        timeout=60,
    )
    api_seconds = time.monotonic() - started
    assert added.status_code == 201, added.text[:500]
    assert alert_case.offences.count() == 2

    # The outboxes hold what could not be queued: both webhooks (one lost from the broker, one never queued)
    # and the alerts, which detection writes without the broker.
    deliveries = {d.event_key: d for d in WebhookDelivery.objects.all()}
    assert len(deliveries) == 2 and {d.status for d in deliveries.values()} == {"pending"}
    assert {d.case_id for d in deliveries.values()} == {returned_before.pk, returned_during.pk}
    assert alerts.alerts_detect(today=today)["stl_8_weeks"] == 2
    waiting = list(Alert.objects.filter(case=alert_case).order_by("pk"))
    assert {a.recipient_id for a in waiting} == {oic.pk, prosecutor.pk}
    assert {a.status for a in waiting} == {"pending"} and Alert.objects.count() == 2

    # Redis returns (empty: the task queued before the outage is gone). A worker starts and delivers.
    redis.start()
    assert redis.queue_length() == 0
    worker = Worker(
        "outage",
        base_env(CELERY_BROKER_URL=redis.url(), EMAIL_URL=smtp.url, JJP_ALERT_CLAIM_TIMEOUT_SECONDS="5"),
        outage["logs"],
    )
    back_at = time.monotonic()
    try:
        worker.start()
        send_task(redis.url(), "cases.alert_tasks.deliver_alerts")
        wait_until(
            lambda: Alert.objects.filter(status="sent").count() == 2, 30, "both alerts sent", interval=0.2
        )
        delivered_after = time.monotonic() - back_at
        assert smtp.inbox.alert_ids() == [a.pk for a in waiting]
        assert sorted(m["X-Envelope-To"] for m in smtp.inbox.messages) == sorted(
            [oic.email, prosecutor.email]
        )

        # A second delivery run (beat queues one a minute) sends nothing again.
        send_task(redis.url(), "cases.alert_tasks.deliver_alerts")
        wait_until(lambda: worker.succeeded("cases.alert_tasks.deliver_alerts") == 2, 30, "second delivery")
        assert smtp.inbox.alert_ids() == [a.pk for a in waiting]
        assert all(a.attempts == 1 for a in Alert.objects.all())

        # Webhooks: the pump re-queues a pending row whose task was lost once its attempt is two minutes overdue.
        # Age the rows instead of waiting, then run the pump on the worker: each event reaches the force system
        # once.
        WebhookDelivery.objects.update(
            created_at=F("created_at") - datetime.timedelta(minutes=3),
            next_attempt_at=F("next_attempt_at") - datetime.timedelta(minutes=3),
        )
        send_task(redis.url(), "cases.tasks.webhooks_pump")
        wait_until(
            lambda: WebhookDelivery.objects.filter(status="delivered").count() == 2, 30, "webhooks delivered"
        )
        assert receiver.keys() == sorted(deliveries)
        send_task(redis.url(), "cases.tasks.webhooks_pump")
        wait_until(lambda: worker.succeeded("cases.tasks.webhooks_pump") == 2, 30, "second pump")
        time.sleep(0.5)
        assert receiver.keys() == sorted(deliveries)
    finally:
        worker.stop()
    with capsys.disabled():
        print(
            f"\n[faults] redis down: refer {refer_seconds:.2f}s, triage return with 1 webhook "
            f"{return_seconds:.2f}s, API offence {api_seconds:.2f}s; alerts sent {delivered_after:.1f}s "
            "after redis returned (worker start included)"
        )


@pytest.mark.django_db(transaction=True)
def test_a_decision_with_the_broker_down_answers_promptly(outage, receiver, capsys):
    """Two force systems subscribed (the force's and the CPS Area's): a file returned at triage while Redis is
    down must still answer like any other request, not wait for the broker once per subscriber."""
    redis, web = outage["redis"], outage["web"]
    redis.start()
    today = ledger.london_today()
    force = Organisation.objects.get(code="GMP")
    oic, prosecutor = people(force)
    case = referred_case(oic, "FAULT-SLOW", today)
    for org in (force, force.area):
        WebhookEndpoint.objects.create(organisation=org, url=receiver.url, secret="s" * 40, events=[])
    cps = Browser(web.base, prosecutor)
    redis.stop()
    try:
        response, seconds = return_file(cps, case, today)
        assert response.status_code == 302, response.text[:300]
        assert WebhookDelivery.objects.filter(status="pending").count() == 2  # nothing lost, only slow
        with capsys.disabled():
            print(f"\n[faults] redis down, 2 subscribers: the triage return took {seconds:.2f}s")
        assert seconds < 2, f"a state change waited {seconds:.1f}s for the broker"
    finally:
        redis.start()


@pytest.mark.django_db(transaction=True)
def test_a_webhook_whose_retry_was_lost_with_redis_is_sent_again(outage, receiver):
    """A delivery that failed once waits for its retry in the broker (a Celery countdown); Redis restarts
    empty and the retry is gone. The pump finds the row by its overdue ``next_attempt_at`` and sends it."""
    redis = outage["redis"]
    redis.start()
    today = ledger.london_today()
    force = Organisation.objects.get(code="GMP")
    oic, _ = people(force)
    case = referred_case(oic, "FAULT-LOST", today)
    endpoint = WebhookEndpoint.objects.create(
        organisation=force, url=receiver.url, secret="s" * 40, events=[]
    )
    # What a first failed attempt leaves: the row failed after one attempt, its retry waiting in the broker
    # (due an hour ago: the broker lost it).
    lost = WebhookDelivery.objects.create(
        endpoint=endpoint,
        case=case,
        event="referral.returned",
        event_key="case_event:lost-retry",
        payload={"event": "referral.returned", "id": "case_event:lost-retry"},
        status="failed",
        attempts=1,
        last_error="The endpoint answered HTTP 503.",
        next_attempt_at=timezone.now() - datetime.timedelta(hours=1),
    )
    WebhookDelivery.objects.update(created_at=F("created_at") - datetime.timedelta(hours=1))
    redis.stop()
    redis.start()  # Redis comes back empty: the retry is gone
    worker = Worker("lost-retry", base_env(CELERY_BROKER_URL=redis.url()), outage["logs"]).start()
    try:
        send_task(redis.url(), "cases.tasks.webhooks_pump")
        wait_until(lambda: worker.succeeded("cases.tasks.webhooks_pump") == 1, 30, "the pump to run")
        wait_until(
            lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 5, "the delivery to be sent"
        )
        # A second pump finds nothing to send again.
        send_task(redis.url(), "cases.tasks.webhooks_pump")
        wait_until(lambda: worker.succeeded("cases.tasks.webhooks_pump") == 2, 30, "the second pump to run")
    finally:
        worker.stop()
    lost.refresh_from_db()
    assert (lost.status, lost.attempts, lost.next_attempt_at) == ("delivered", 2, None)
    assert receiver.keys() == ["case_event:lost-retry"]
