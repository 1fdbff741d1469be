"""Outbound webhooks to force systems: CPS decisions, action plans, files returned at triage and overdue or
time-barred deadlines, sent as signed POSTs from an outbox.

1. A row first: ``enqueue_for_case_event`` (called on commit after a service writes its timeline event) and
   ``enqueue_clock_events`` (the periodic pump, for the sweep's threshold crossings) write one
   ``WebhookDelivery`` per event per subscribed endpoint. The unique (endpoint, event_key) makes a repeat
   enqueue create nothing.
2. Then sending: ``deliver`` claims the row with a conditional update (two workers never send one attempt
   twice), POSTs the JSON body signed with HMAC-SHA256 over ``f"{timestamp}.{body}"`` with the endpoint's
   secret, and records the outcome. A failure stores when the next attempt is due (``next_attempt_at``,
   exponential backoff) and the Celery task (``api/tasks.py``) retries then; after ``MAX_ATTEMPTS``
   the row is dead. ``delivery_replay`` sends an event again as a new row, so the log keeps every attempt.
3. The broker is not the record: ``next_attempt_at`` is. A row is written with it set to now; each attempt
   moves it (to the attempt's start while it runs, then to the backoff after a failure; cleared once delivered
   or dead). The pump (beat, every minute) re-queues every pending or failed row still below ``MAX_ATTEMPTS``
   whose next attempt is ``STUCK_AFTER`` overdue: its task or its retry was lost (the broker restarted empty,
   a worker was killed). It claims those rows first (locked, skipping rows another pump holds, and moved on),
   so two pumps never queue one row twice.

Headers: ``X-JJP-Event``, ``X-JJP-Delivery`` (the event key: receivers use it to ignore repeats),
``X-JJP-Timestamp`` (Unix seconds) and ``X-JJP-Signature: sha256=<hex>``. Receivers recompute the signature
with ``signature(secret, timestamp, body)`` over the raw body and reject stale timestamps (see docs/api.md).

Restricted (police-perpetrated) cases are never sent: a force-wide endpoint is not one of the named users.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import math
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from celery import shared_task
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import Case, CaseEvent, ClockEvent, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

# Timeline event kind -> webhook event name.
CASE_EVENTS = {
    "decision": "decision.recorded",
    "action_plan": "action_plan.issued",
    "triage_rejected": "referral.returned",
}
# Clock state reached -> webhook event name.
CLOCK_EVENTS = {"overdue": "clock.overdue", "time_barred": "clock.time_barred"}
EVENT_NAMES = sorted([*CASE_EVENTS.values(), *CLOCK_EVENTS.values()])

MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10
CLOCK_EVENT_WINDOW = datetime.timedelta(days=2)  # how far back the pump looks for threshold crossings
# A row whose next attempt is this overdue lost its task (or its retry): the pump queues it again. Longer than
# an attempt can take (TIMEOUT_SECONDS) and than a busy worker's usual queueing delay.
STUCK_AFTER = datetime.timedelta(minutes=2)
# A retry may run this much before its stored time (worker clocks, countdown rounding) and still be sent.
EARLY_SLACK = datetime.timedelta(seconds=5)
PUMP_LIMIT = 1000  # rows re-queued per pump run at most (the next run takes the rest)
Status = WebhookDelivery.Status


# -- signing -------------------------------------------------------------------------------------------------


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed with the endpoint's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_valid(
    secret: str,
    timestamp: str,
    body: bytes,
    received: str,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """What a receiver does: the signature matches (constant-time) and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_seconds and hmac.compare_digest(signature(secret, timestamp, body), received)


# -- enqueueing ----------------------------------------------------------------------------------------------


def _endpoints_for(case: Case, event_name: str, endpoints: Iterable[WebhookEndpoint] | None = None) -> list:
    if case.restricted:
        return []
    orgs = {case.force_id, case.cps_area_id} - {None}
    if endpoints is None:
        endpoints = WebhookEndpoint.objects.filter(active=True, organisation_id__in=orgs)
    return [e for e in endpoints if e.organisation_id in orgs and (not e.events or event_name in e.events)]


def _case_part(case: Case) -> dict[str, Any]:
    return {
        "urn": case.urn,
        "force": case.force.code,
        "status": case.status,
        "url": f"/api/v1/cases/{case.urn}/?force={case.force.code}",
    }


def _write(case: Case, event_name: str, key: str, payload: dict[str, Any], endpoints: list) -> list[int]:
    """One outbox row per endpoint (a row that already exists is left alone); the ids still to send."""
    if not endpoints:
        return []
    payload = json.loads(body_bytes(payload))  # dates as ISO strings: stored exactly as it will be sent
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=e, case=case, event=event_name, event_key=key, payload=payload, next_attempt_at=now
            )
            for e in endpoints
        ],
        ignore_conflicts=True,
    )
    return list(
        WebhookDelivery.objects.filter(
            endpoint__in=endpoints, event_key=key, status=Status.PENDING
        ).values_list("pk", flat=True)
    )


def on_case_event(*, event: CaseEvent) -> None:
    """The ``case_event`` hook's handler: once the service's transaction commits, the force's webhooks hear of
    the timeline entry."""
    transaction.on_commit(lambda: enqueue_for_case_event(event))


def enqueue_for_case_event(event: CaseEvent | int) -> list[int]:
    """Outbox rows for a timeline event that force systems subscribe to (a CPS decision, an action plan, a file
    returned at triage), then queue their sending. Call it after the service's transaction commits:
    ``transaction.on_commit(lambda: webhooks.enqueue_for_case_event(event))``. Idempotent."""
    kind = getattr(event, "kind", None)
    if kind is not None and kind not in CASE_EVENTS:
        return []  # most events: nothing to send, and no query
    pk = event if isinstance(event, int) else event.pk
    event = CaseEvent.objects.select_related("case__force").filter(pk=pk).first()
    if event is None or event.kind not in CASE_EVENTS:
        return []
    name, case = CASE_EVENTS[event.kind], event.case
    key = f"case_event:{event.pk}"
    payload = {
        "event": name,
        "id": key,
        "occurred_at": event.occurred_at,
        "case": _case_part(case),
        "summary": event.summary,
        "reason": event.reason,
        "data": event.data,
    }
    ids = _write(case, name, key, payload, _endpoints_for(case, name))
    dispatch(ids)
    return ids


def enqueue_clock_events(*, now: datetime.datetime | None = None) -> list[int]:
    """Outbox rows for the deadlines that became overdue or time-barred in the last two days (recorded by the
    sweep or a service as ``ClockEvent`` rows). Run by the pump; a rerun creates nothing new."""
    now = now or timezone.now()
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    if not endpoints:
        return []
    orgs = {e.organisation_id for e in endpoints}
    crossings = ClockEvent.objects.filter(
        Q(case__force_id__in=orgs) | Q(case__cps_area_id__in=orgs),
        created_at__gte=now - CLOCK_EVENT_WINDOW,
        to_state__in=list(CLOCK_EVENTS),
        case__restricted=False,
    )
    ids: list[int] = []
    for crossing in crossings.select_related("clock", "case__force").order_by("pk"):
        name = CLOCK_EVENTS[crossing.to_state]
        clock, case = crossing.clock, crossing.case
        key = f"clock_event:{crossing.pk}"
        payload = {
            "event": name,
            "id": key,
            "occurred_at": crossing.created_at,
            "case": _case_part(case),
            "clock": {
                "id": clock.pk,
                "kind": clock.kind,
                "side": clock.side,
                "label": clock.label,
                "due_on": clock.due_on,
                "state": crossing.to_state,
            },
        }
        ids += _write(case, name, key, payload, _endpoints_for(case, name, endpoints))
    return ids


def dispatch(ids: Iterable[int]) -> None:
    """Queue the sending of these outbox rows (a broker outage is logged: the pump sends them later)."""
    for pk in ids:
        try:  # no publish retries: with the broker down, fail fast and leave it to the pump
            webhook_deliver.apply_async(args=[pk], retry=False)
        except Exception:  # the rows stay pending; the pump picks them up
            log.exception("Could not queue webhook delivery %s; the pump will send it and the rest", pk)
            return


def waiting_due(now: datetime.datetime) -> Q:
    """Pending or failed rows whose next attempt is ``STUCK_AFTER`` overdue: their task or retry was lost.
    (Rows written before ``next_attempt_at`` existed have none: their age stands in for it.)"""
    cutoff = now - STUCK_AFTER
    return Q(status__in=(Status.PENDING, Status.FAILED)) & (
        Q(next_attempt_at__lte=cutoff) | Q(next_attempt_at__isnull=True, created_at__lte=cutoff)
    )


def _claim_lost(now: datetime.datetime, *, limit: int = PUMP_LIMIT) -> list[int]:
    """Claim the rows whose task was lost, for this pump only: lock them (skipping rows another pump holds) and
    move their next attempt to now, so neither a concurrent pump nor the next run queues them again until this
    new task is ``STUCK_AFTER`` overdue in its turn. Rows that already used every attempt without an outcome
    (a worker killed during the last one) are dead instead."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(waiting_due(now), attempts__gte=MAX_ATTEMPTS).update(
            status=Status.DEAD,
            last_error="No outcome was recorded for the last attempt (the worker stopped); giving up.",
            next_attempt_at=None,
        )
        ids = list(
            WebhookDelivery.objects.filter(waiting_due(now), attempts__lt=MAX_ATTEMPTS)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now)
    return ids


def pump(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The periodic sweeper: outbox rows for new deadline crossings, and a new task for every pending or failed
    row whose task or retry was lost (its next attempt ``STUCK_AFTER`` overdue), below ``MAX_ATTEMPTS``.
    Idempotent; two pumps at once never queue one lost row twice."""
    now = now or timezone.now()
    new = enqueue_clock_events(now=now)
    queued = set(new)
    lost = [pk for pk in _claim_lost(now) if pk not in queued]
    dispatch([*new, *lost])
    return {"queued": len(new) + len(lost)}


# -- sending -------------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: the signed body goes only to the registered URL."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("The endpoint URL must be http or https.")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - checked above
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver(delivery_id: int) -> str:
    """Make one attempt to send one outbox row. Returns the row's status afterwards (``delivered``, ``failed``
    to be retried, ``dead``), or ``skipped`` when there is nothing to do or another worker claimed it."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status not in (Status.PENDING, Status.FAILED):
        return "skipped"
    started = timezone.now()
    # The claim: this attempt only, and not before it is due (a second task for the row, from the pump and a
    # late retry both, finds the attempt taken or the next one not due yet). While it runs, next_attempt_at is
    # its start: if no outcome is recorded (a killed worker) the pump sends it again STUCK_AFTER later.
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery.pk, attempts=delivery.attempts, status__in=(Status.PENDING, Status.FAILED)
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=started + EARLY_SLACK))
        .update(attempts=F("attempts") + 1, next_attempt_at=started)
    )
    if not claimed:
        return "skipped"
    attempt = delivery.attempts + 1
    endpoint = delivery.endpoint
    code: int | None = None
    if not endpoint.active:
        status, error = Status.DEAD, "The endpoint is switched off."
    else:
        body = body_bytes(delivery.payload)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "JJP-Webhooks/1",
            "X-JJP-Event": delivery.event,
            "X-JJP-Delivery": delivery.event_key,
            "X-JJP-Timestamp": timestamp,
            "X-JJP-Signature": signature(endpoint.secret, timestamp, body),
        }
        try:
            code = _post(endpoint.url, body, headers)
            error = "" if 200 <= code < 300 else f"The endpoint answered HTTP {code}."
        except (OSError, ValueError, urllib.error.URLError) as exc:  # refused, timed out, DNS, bad URL
            error = f"{type(exc).__name__}: {exc}"
        status = (
            Status.DELIVERED if not error else (Status.DEAD if attempt >= MAX_ATTEMPTS else Status.FAILED)
        )
    finished = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        response_code=code,
        last_error=error[:2000],
        delivered_at=finished if status == Status.DELIVERED else None,
        next_attempt_at=(
            finished + datetime.timedelta(seconds=backoff_seconds(attempt - 1))
            if status == Status.FAILED
            else None
        ),
    )
    return status


def retry_countdown(delivery_id: int) -> int:
    """Seconds until a failed row's next attempt is due (what ``deliver`` stored), for the task's retry."""
    due = WebhookDelivery.objects.filter(pk=delivery_id).values_list("next_attempt_at", flat=True).first()
    if due is None:
        return 0
    return max(0, math.ceil((due - timezone.now()).total_seconds()))


def backoff_seconds(retries: int) -> int:
    """Wait before the next attempt after ``retries + 1`` failed ones: 30 s, 1, 2, 4, 8, 16 min, ... capped at
    an hour, with 10% jitter."""
    base = min(30 * 2**retries, 3600)
    return base + random.randint(0, base // 10)  # noqa: S311 - jitter, not security


@transaction.atomic
def delivery_replay(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event again (after fixing the receiver): a new outbox row with the same payload and a new
    key, so the log keeps the earlier attempts. Sending is queued when the transaction commits."""
    n = WebhookDelivery.objects.filter(
        endpoint=delivery.endpoint, event_key__startswith=f"{delivery.event_key}#replay"
    ).count()
    replay = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        case=delivery.case,
        event=delivery.event,
        event_key=f"{delivery.event_key}#replay{n + 1}"[:120],
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: dispatch([replay.pk]))
    return replay


# --------------------------------------------------------------------------------------------------------------
# The Celery tasks (thin: ids in, one call, their own retries, JSON only). Defined here, beside what they call, so
# that the outbox and its tasks are one module with no import cycle; ``api.tasks`` exposes them to Celery's
# autodiscovery. Task names are unchanged since they lived in ``cases``.
# --------------------------------------------------------------------------------------------------------------


@shared_task(bind=True, name="cases.tasks.webhook_deliver", acks_late=True, max_retries=MAX_ATTEMPTS)
def webhook_deliver(self: Any, delivery_id: int) -> dict[str, object]:
    """One attempt to send one outbox row; a failure is retried when the row's next attempt is due (exponential
    backoff, stored on the row), until the row is dead. A retry lost with the broker is re-queued by the pump."""
    status = deliver(delivery_id)
    if status == "failed":
        raise self.retry(countdown=retry_countdown(delivery_id))
    return {"delivery": delivery_id, "status": status}


@shared_task(name="cases.tasks.webhooks_pump", acks_late=True, ignore_result=True)
def webhooks_pump() -> dict[str, int]:
    """Every minute: outbox rows for new overdue and time-barred deadlines, and a new task for every delivery
    whose task or retry was lost (idempotent)."""
    return pump()
