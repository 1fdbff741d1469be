"""Twenty force systems updating the same case through the API at once: each reads the case (ETag) and adds an
offence with ``If-Match``. Exactly one write wins per version, the others get 412 (never a 5xx, never a lost
update), and the timeline and the audit history hold one entry per successful write, by the client that made
it. Also the load figures: requests per second, latencies (p50, p95, max) and errors.

Real processes: the app under gunicorn (3 sync workers, as docker-compose runs it) on loopback, twenty threads
with their own HTTP sessions and tokens."""

from __future__ import annotations

import datetime
import os
import statistics
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from django.apps import apps
from django.db import connection, transaction

from api.clients import api_client_create
from cases.models import CaseEvent, Clock, Offence
from cases.services import offence_add
from tests.conftest import TODAY
from tests.factories import CaseFactory
from tests.faults.stack import Gunicorn, base_env, wait_until

pytestmark = pytest.mark.faults

CLIENTS = 20
ROUNDS = 6
URN = "FLT-RACE"
DAY = datetime.timedelta(days=1)


@dataclass
class Call:
    client: int
    method: str
    status: int  # 0: no answer (connection error or timeout)
    started: float
    ended: float
    if_match: str = ""
    body: dict | None = None
    read: tuple[float, float] = (0.0, 0.0)  # for a POST: when the GET that gave its If-Match ran

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_client(n: int, token: str, base: str, start: threading.Barrier, calls: list[Call]) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"{base}/api/v1/cases/{URN}/"
    clock = time.perf_counter
    start.wait()
    for round_ in range(ROUNDS):
        began = clock()
        try:
            got = session.get(url, timeout=30)
        except requests.RequestException:
            calls.append(Call(n, "GET", 0, began, clock()))
            continue
        read = (began, clock())
        calls.append(Call(n, "GET", got.status_code, *read))
        etag = got.headers.get("ETag", "")
        began = clock()
        try:
            posted = session.post(
                url + "offences/",
                json={
                    "offence_type": "CJA88-39",
                    "committed_on": "2026-02-01",
                    "particulars": f"client {n} round {round_}",
                },
                headers={"If-Match": etag},
                timeout=30,
            )
        except requests.RequestException:
            calls.append(Call(n, "POST", 0, began, clock(), etag, read=read))
            continue
        is_json = posted.headers.get("Content-Type", "").startswith("application/json")
        body = posted.json() if is_json else None
        calls.append(Call(n, "POST", posted.status_code, began, clock(), etag, body, read))


@pytest.mark.django_db(transaction=True)
def test_twenty_clients_updating_one_case_lose_no_update_and_the_history_is_complete(oic_a, tmp_path, capsys):
    case = CaseFactory(actor=oic_a, urn=URN, today=TODAY)
    clients = [api_client_create(force_code="GMP", name=f"Race {n}", scope="write") for n in range(CLIENTS)]
    user_of = {n: client.user_id for n, (client, _) in enumerate(clients)}
    offences_before = case.offences.count()
    events_before = CaseEvent.objects.filter(case=case, kind="offence_added").count()
    offence_history = apps.get_model("cases", "OffenceHistory")

    # DEBUG off, as in production (the API renders no static files, so no collectstatic manifest is needed).
    web = Gunicorn(base_env(DJANGO_DEBUG="0"), workers=3, log_dir=tmp_path).start()
    calls: list[Call] = []
    try:
        start = threading.Barrier(CLIENTS)
        threads = [
            threading.Thread(target=run_client, args=(n, token, web.base, start, calls))
            for n, (_, token) in enumerate(clients)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        wall = time.perf_counter() - began
        assert not any(t.is_alive() for t in threads)
        # For scale: the same read by one client alone, twenty times in a row (no queueing).
        alone = requests.Session()
        alone.headers["Authorization"] = f"Bearer {clients[0][1]}"
        solo = []
        for _ in range(20):
            began = time.perf_counter()
            assert alone.get(f"{web.base}/api/v1/cases/{URN}/", timeout=30).status_code == 200
            solo.append((time.perf_counter() - began) * 1000)
    finally:
        web.stop()

    posts = [c for c in calls if c.method == "POST"]
    wins = [c for c in posts if c.status == 201]
    losses = [c for c in posts if c.status == 412]
    won_versions = [c.if_match for c in wins]
    torn = [c for c in losses if c.if_match not in won_versions]
    errors = [c for c in calls if not (c.status == 200 and c.method == "GET") and c not in wins + losses]
    with capsys.disabled():
        lat = {m: [c.seconds * 1000 for c in calls if c.method == m] for m in ("GET", "POST")}
        every = lat["GET"] + lat["POST"]
        print(
            f"\n[faults] {CLIENTS} clients x {ROUNDS} rounds on one case, gunicorn 3 workers: {len(calls)} requests "
            f"in {wall:.2f}s = {len(calls) / wall:.1f} req/s; p50 {statistics.median(every):.0f} ms, "
            f"p95 {percentile(every, 95):.0f} ms, max {max(every):.0f} ms (GET p95 "
            f"{percentile(lat['GET'], 95):.0f} ms, POST p95 {percentile(lat['POST'], 95):.0f} ms); "
            f"{len(wins)} won, {len(losses)} got 412 ({len(torn)} after a torn read), {len(errors)} errors; "
            f"one client alone: GET median "
            f"{statistics.median(solo):.0f} ms; load average {os.getloadavg()[0]:.1f}"
        )

    assert len(calls) == 2 * CLIENTS * ROUNDS
    assert errors == [], [(c.method, c.status) for c in errors]
    assert wins and losses, "the clients really raced"

    # Exactly one winner per version. A loser read either a version another client then won, or (a torn read:
    # see the next test) a mix of two versions while a write committed: never a 412 without a write in flight.
    assert len(set(won_versions)) == len(wins)
    for c in torn:
        assert any(c.read[0] < w.ended and w.started < c.read[1] for w in wins), "412 with no write in flight"
    for c in losses:
        assert c.body["current"]["urn"] == URN and c.body["errors"], "412 names the case as it now is"

    # No update lost: every win is in the database, once, by the client that made it.
    assert case.offences.count() == offences_before + len(wins)
    won_ids = sorted(c.body["id"] for c in wins)
    assert len(set(won_ids)) == len(wins)
    new = {o.pk: o for o in Offence.objects.filter(pk__in=won_ids)}
    for c in wins:
        assert new[c.body["id"]].particulars.startswith(f"client {c.client} round ")

    # The history is complete: one timeline event, one audit row and one STL clock per successful write.
    events = CaseEvent.objects.filter(case=case, kind="offence_added")
    assert events.count() - events_before == len(wins)
    assert sorted(events.exclude(actor=oic_a).values_list("actor_id", flat=True)) == sorted(
        user_of[c.client] for c in wins
    )
    inserts = offence_history.objects.filter(pgh_obj_id__in=won_ids, pgh_label="insert").select_related(
        "pgh_context"
    )
    assert inserts.count() == len(wins)
    by_offence = {row.pgh_obj_id: row.pgh_context.metadata.get("user") for row in inserts}
    assert by_offence == {c.body["id"]: user_of[c.client] for c in wins}
    assert Clock.objects.filter(offence_id__in=won_ids, kind="stl").count() == len(wins)


@pytest.mark.django_db(transaction=True)
def test_a_read_during_a_write_returns_a_version_that_existed(oic_a, tmp_path):
    """Deterministic: the test holds a lock on the offences table, so the GET stops after reading the case row
    and before its offences; the test then adds an offence and commits, and the GET goes on. It reads in one
    REPEATABLE READ snapshot (api/views.py ``snapshot``), so it answers the version before the write,
    whole, and the ETag names that body."""
    case = CaseFactory(actor=oic_a, urn="FLT-TORN", today=TODAY)
    _, token = api_client_create(force_code="GMP", name="Torn reader", scope="read")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    web = Gunicorn(base_env(DJANGO_DEBUG="0"), workers=1, log_dir=tmp_path).start()
    url = f"{web.base}/api/v1/cases/FLT-TORN/"
    try:
        before = session.get(url, timeout=30).headers["ETag"]
        answer: dict[str, requests.Response] = {}
        reader = threading.Thread(target=lambda: answer.update(got=session.get(url, timeout=60)))
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE cases_offence IN ACCESS EXCLUSIVE MODE")
            reader.start()
            wait_until(waiting_on_offences, 30, "the GET to wait for the offences table")
            offence_add(
                actor=oic_a, case=case, offence_type="CJA88-39", committed_on=TODAY - DAY * 29, today=TODAY
            )
        reader.join(timeout=60)
        after = session.get(url, timeout=30).headers["ETag"]
    finally:
        web.stop()
    got = answer["got"]
    assert got.status_code == 200 and before != after
    assert got.headers["ETag"] in (before, after), "the GET showed a version that never existed"


def waiting_on_offences() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'cases_offence' AND NOT l.granted"
        )
        return bool(cursor.fetchone()[0])
