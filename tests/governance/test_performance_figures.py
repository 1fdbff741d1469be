"""The stored joint performance figures: a refresh stores them, the dashboard, the CSV and the JSON read them, and
what they read is what the direct computation from the fact tables gives (on a generated data set, for several
periods, and whichever month a refresh starts from); when a refresh recomputes every month; what a fresh install
shows; the task, the beat entry and the command."""

from __future__ import annotations

import datetime
import io
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import Organisation
from charging import services as charging
from governance import metrics, services, tasks
from governance.metrics import performance_report, performance_report_direct
from governance.models import PerformanceFigure, PerformanceRefresh
from tests.conftest import TODAY
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

D = datetime.date
UTC = datetime.UTC
JAN, FEB, MAR = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)
PERIOD = {"start": "2026-01", "end": "2026-02"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _no_preparing_marker():
    cache.delete(services._PREPARING_KEY)
    yield
    cache.delete(services._PREPARING_KEY)


def refresh(**kwargs) -> PerformanceRefresh:
    run = services.performance_figures_refresh(**kwargs)
    assert run.status == PerformanceRefresh.Status.DONE, run.error
    return run


def as_compared(report: metrics.Report) -> list[tuple]:
    return [(r.key, r.month, r.values, r.triage_failures) for r in report.rows]


def stored() -> set[tuple]:
    return set(
        PerformanceFigure.objects.values_list(
            "scope", "organisation_id", "month", "metric", "bucket", "value"
        )
    )


def store_from(month: datetime.date) -> None:
    """What a refresh of the months from ``month`` onwards stores (without its planning)."""
    run = PerformanceRefresh.objects.create(started_at=timezone.now(), from_month=month)
    with transaction.atomic():
        metrics.figures_store(start=month, now=run.started_at, refresh=run.pk)


def refer(actor, case, on):
    return charging.case_refer_to_cps(actor=actor, case=case, received_on=on, today=TODAY)


# --------------------------------------------------------------------------------------------------------------
# The stored figures are the direct computation
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def generated():
    Organisation.objects.filter(code="GMP").update(is_pilot=True)
    call_command(
        "generate_cases",
        count=200,
        seed=11,
        today=TODAY,
        no_pipeline=True,
        no_analyze=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


PERIODS = [
    (D(2023, 4, 1), MAR),  # three years to this month: every generated month
    (D(2025, 4, 1), MAR),  # the dashboard's default twelve months
    (D(2025, 6, 1), D(2025, 8, 1)),  # three closed months: cases counted before them are not counted again
    (D(2025, 11, 1), D(2025, 11, 1)),  # one month
]


def test_stored_figures_equal_the_direct_computation_on_a_generated_data_set(generated):
    refresh()
    assert PerformanceFigure.objects.filter(month__lt=D(2025, 1, 1)).exists()
    for start, end in PERIODS:
        report = performance_report(start=start, end=end)
        direct = performance_report_direct(start=start, end=end)
        assert report.rows, (start, end)
        assert as_compared(report) == as_compared(direct), (start, end)
    whole = performance_report(start=PERIODS[0][0], end=MAR)
    national = {r.month: r for r in whole.rows if r.key == "national"}
    assert national[None].values["referrals"] == sum(r.values["referrals"] for m, r in national.items() if m)
    assert national[None].values["referrals"] > 100
    assert {r.scope for r in whole.rows} == {"national", "pilot", "rest", "area", "force"}


def test_a_refresh_from_any_month_stores_what_a_full_refresh_stores(generated):
    """The months a refresh does not recompute keep their figures, and the distinct-case counts of the months it
    does find each case's last earlier month from the facts before them (not from the stored rows)."""
    refresh(full=True)
    full = stored()
    for start in (MAR, D(2025, 11, 1), D(2024, 6, 1)):
        store_from(start)
        assert stored() == full, start


def test_a_case_counted_in_two_months_counts_once_for_the_period(oic_a, prosecutor_a):
    """Harassment on 15 Sep 2025 (STL 15 Mar 2026): referred 20 Jan, 54 days before the limit; returned at
    triage; resubmitted 2 Feb, 41 days before it. Found within eight weeks on receipt in January and in
    February, once for the two months; also when February onwards is refreshed after January was stored."""
    case = CaseFactory(
        actor=oic_a, offence="PHA97-2", reported_on=D(2025, 12, 1), committed_on=D(2025, 9, 15)
    )
    r = refer(oic_a, case, D(2026, 1, 20))
    charging.referral_triage(
        actor=prosecutor_a,
        referral=r,
        accept=False,
        on=D(2026, 1, 22),
        reasons=["no_mg3"],
        respond_by=D(2026, 1, 29),
        today=TODAY,
    )
    refer(oic_a, case, D(2026, 2, 2))
    refresh()
    for _ in range(2):
        report = performance_report(start=JAN, end=FEB)
        national = {r.month: r.values["stl_found_on_receipt"] for r in report.rows if r.key == "national"}
        assert national == {JAN: 1, FEB: 1, None: 1}
        assert {
            r.month: r.values["stl_found_on_receipt"]
            for r in performance_report(start=FEB, end=FEB).rows
            if r.key == "national"
        } == {FEB: 1, None: 1}
        assert as_compared(report) == as_compared(performance_report_direct(start=JAN, end=FEB))
        store_from(FEB)  # then again from February only


# --------------------------------------------------------------------------------------------------------------
# When a refresh recomputes what
# --------------------------------------------------------------------------------------------------------------


def national(month, metric="referrals", **period):
    report = performance_report(start=period.get("start", JAN), end=period.get("end", MAR))
    return next((r.values[metric] for r in report.rows if r.key == "national" and r.month == month), None)


def test_this_month_every_run_closed_months_once_a_day(frozen, oic_a):
    january = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    refer(oic_a, january, D(2026, 1, 12))
    first = refresh()
    assert first.full and first.from_month is None  # nothing stored yet: every month
    assert national(JAN) == 1 and national(MAR) is None

    march = CaseFactory(actor=oic_a, reported_on=D(2026, 3, 1))
    refer(oic_a, march, D(2026, 3, 2))
    late = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 6))
    refer(oic_a, late, D(2026, 1, 20))  # entered today, dated in a closed month
    frozen.shift(datetime.timedelta(minutes=15))
    second = refresh()
    assert not second.full and second.from_month == MAR
    assert national(MAR) == 1  # this month: recomputed
    assert national(JAN) == 1  # a closed month: not yet

    frozen.move_to(datetime.datetime(2026, 3, 3, 0, 7, tzinfo=UTC))  # the first run of the next London day
    third = refresh()
    assert third.full
    assert national(JAN) == 2
    assert refresh().full is False  # and the next run of that day is back to this month


def test_a_change_of_pilot_sites_recomputes_every_month(oic_a, oic_b):
    for actor in (oic_a, oic_b):
        refer(actor, CaseFactory(actor=actor, reported_on=D(2026, 1, 5)), D(2026, 1, 12))
    Organisation.objects.filter(code="GMP").update(is_pilot=True)
    refresh()
    assert national(JAN) == 2
    assert {r.key for r in performance_report(start=JAN, end=JAN).rows} >= {"pilot", "rest"}
    assert not refresh().full
    Organisation.objects.filter(code="GMP").update(is_pilot=False)
    assert refresh().full
    keys = {r.key for r in performance_report(start=JAN, end=JAN).rows}
    assert "pilot" not in keys and "rest" in keys  # the pilot rows are gone, not left behind
    assert not PerformanceFigure.objects.filter(scope="pilot").exists()


def test_a_full_refresh_keeps_ninety_days_of_refresh_records(oic_a):
    refer(oic_a, CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5)), D(2026, 1, 12))
    now = timezone.now()
    old, recent = (
        PerformanceRefresh.objects.create(
            started_at=now - datetime.timedelta(days=d), status="done", full=True
        )
        for d in (91, 89)
    )
    assert not refresh(full=False).full
    assert PerformanceRefresh.objects.filter(pk=old.pk).exists()
    refresh(full=True)
    assert not PerformanceRefresh.objects.filter(pk=old.pk).exists()
    assert PerformanceRefresh.objects.filter(pk=recent.pk).exists()


def test_a_concurrent_refresh_skips(oic_a):
    """Another refresh holds the lock (here: a second connection holds it)."""
    from django.db import connections

    refer(oic_a, CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5)), D(2026, 1, 12))
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [services._PERFORMANCE_LOCK_KEY])
        run = services.performance_figures_refresh()
        assert run.status == PerformanceRefresh.Status.SKIPPED
        assert not PerformanceFigure.objects.exists()
    finally:
        other.close()
    assert refresh().status == PerformanceRefresh.Status.DONE


def test_the_task_the_beat_entry_and_the_command(oic_a):
    from jjp.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["refresh-performance-figures"]
    assert entry["task"] == "governance.tasks.refresh_performance_figures"
    assert entry["task"] in app.tasks
    refer(oic_a, CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5)), D(2026, 1, 12))
    result = tasks.refresh_performance_figures()
    assert result["status"] == "done" and result["full"] is True and result["figures"] > 0
    assert tasks.refresh_performance_figures()["full"] is False
    out = io.StringIO()
    call_command("refresh_performance_figures", "--all", stdout=out)
    assert "every month: Done" in out.getvalue()
    out = io.StringIO()
    call_command("refresh_performance_figures", stdout=out)
    assert "March 2026 onwards: Done" in out.getvalue()
    assert PerformanceRefresh.objects.filter(status="done").count() == 4


def test_a_failed_refresh_is_recorded_and_keeps_the_figures(monkeypatch, oic_a):
    refer(oic_a, CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5)), D(2026, 1, 12))
    refresh()
    before = stored()

    def broken(**kwargs):
        PerformanceFigure.objects.all().delete()
        raise RuntimeError("disk full")

    monkeypatch.setattr(metrics, "figures_store", broken)
    with pytest.raises(RuntimeError):
        services.performance_figures_refresh(full=True)
    run = PerformanceRefresh.objects.latest("pk")
    assert run.status == PerformanceRefresh.Status.FAILED and "disk full" in run.error
    assert stored() == before  # rolled back


# --------------------------------------------------------------------------------------------------------------
# The pages read only the stored figures
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def referred(oic_a, oic_b):
    refer(oic_a, CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5)), D(2026, 1, 12))
    refer(oic_b, CaseFactory(actor=oic_b, reported_on=D(2026, 1, 5)), D(2026, 2, 3))


def test_the_page_says_when_the_figures_were_computed_and_reads_only_them(
    client, supervisor_a, oic_a, referred, django_assert_max_num_queries
):
    refresh()
    refer(oic_a, CaseFactory(actor=oic_a, reported_on=D(2026, 2, 5)), D(2026, 2, 9))  # after the refresh
    client.force_login(supervisor_a)
    with django_assert_max_num_queries(12) as ctx:
        response = client.get(reverse("governance:performance"), PERIOD)
    assert response.status_code == 200
    assert not [q for q in ctx.captured_queries if "charging_chargingreferral" in q["sql"]]
    html = response.content.decode()
    assert "Figures as of 12:00 on 2 March 2026" in html
    referrals = next(v for m, v in response.context["table"] if m.key == "referrals")
    assert referrals == ["1", "–", "1"]  # the February referral is not in the figures until the next refresh
    refresh(full=True)
    response = client.get(reverse("governance:performance"), PERIOD)
    assert next(v for m, v in response.context["table"] if m.key == "referrals") == ["1", "1", "2"]


def test_json_and_csv_say_the_same_and_keep_the_rows_each_user_may_see(
    client, supervisor_a, prosecutor_b, referred
):
    refresh()
    client.force_login(supervisor_a)
    data = client.get("/api/v1/metrics/", PERIOD).json()
    assert data["figures_as_of"] == "2026-03-02T12:00:00+00:00"
    assert {r["organisation"]["code"] for r in data["rows"] if r["organisation"]} == {"GMP", "NW"}
    direct = performance_report_direct(start=JAN, end=FEB)
    nobody = SimpleNamespace(
        is_superuser=False, organisation=None
    )  # e.g. a system operator's service account
    for user in (supervisor_a, prosecutor_b, nobody):
        assert as_compared(performance_report(start=JAN, end=FEB, user=user)) == as_compared(
            direct.restricted_to(metrics.rows_allowed_for(user))
        )
    assert {r.key for r in performance_report(start=JAN, end=FEB, user=nobody).rows} == {"national", "rest"}


def test_a_fresh_install_computes_on_the_first_view(client, supervisor_a, referred):
    assert not PerformanceRefresh.objects.exists()
    client.force_login(supervisor_a)
    response = client.get(reverse("governance:performance"), PERIOD)
    assert response.status_code == 200
    assert "Figures as of" in response.content.decode()
    assert PerformanceRefresh.objects.get().full
    assert next(v for m, v in response.context["table"] if m.key == "referrals") == ["1", "–", "1"]
    client.get(reverse("governance:performance"), PERIOD)
    assert PerformanceRefresh.objects.count() == 1  # computed once


def test_a_fresh_install_with_many_cases_says_the_figures_are_being_prepared(
    client, monkeypatch, supervisor_a, referred
):
    monkeypatch.setattr(services, "FIRST_VIEW_MAX_CASES", 1)
    queued = []
    monkeypatch.setattr(tasks.refresh_performance_figures, "delay", lambda **kw: queued.append(kw))
    client.force_login(supervisor_a)
    response = client.get(reverse("governance:performance"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "being prepared" in html and "Figures as of" not in html
    csv = client.get(reverse("governance:performance_csv"), PERIOD)
    assert csv.status_code == 503 and csv["Retry-After"] == "60"
    api = client.get("/api/v1/metrics/", PERIOD)
    assert api.status_code == 503 and "being prepared" in api.json()["errors"][0]["message"]
    assert queued == [{"full": True}]  # queued once, not once per view
    assert not PerformanceRefresh.objects.exists()
    tasks.refresh_performance_figures(full=True)  # the worker
    response = client.get(reverse("governance:performance"), PERIOD)
    assert "Figures as of" in response.content.decode()
