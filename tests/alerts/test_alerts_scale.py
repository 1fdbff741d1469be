"""Detection and digests at scale, in miniature: the number of SQL statements does not grow with the cases or the
people (each kind of alert is one INSERT ... SELECT; the digests are one streamed query and one COPY), and an
organisation-wide digest is a summary (counts per section, the most urgent items, a link to the dashboard) while
an OIC's digest lists every item. The figures at 10^6 cases are bench/alerts.py's."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import engine as alerts
from cases import ledger
from cases.models import Alert, Role
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory

D = datetime.date
UTC = datetime.UTC
SITE = "https://jjp.example.test"
DIGEST_AT = datetime.datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # Monday, 07:30 GMT


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def add_world(n: int, force, area, tag: str) -> None:
    """``n`` OICs with a supervisor each, a prosecutor per two OICs, a legal manager, and per OIC: a case with
    CPS whose time limit is within 14 days (alerts on receipt and within 14 days, on the watch list), a case whose
    investigation is overdue (escalation, digest), and an overdue charging decision (overdue alert, escalation)."""
    UserFactory(organisation=area, roles=[Role.LEGAL_MANAGER], username=f"{tag}-lm")
    for i in range(n):
        supervisor = UserFactory(
            organisation=force, roles=[Role.POLICE_SUPERVISOR], username=f"{tag}-sup-{i}"
        )
        oic = UserFactory(
            organisation=force, roles=[Role.OIC], username=f"{tag}-oic-{i}", supervisor=supervisor
        )
        if i % 2 == 0:
            UserFactory(organisation=area, roles=[Role.PROSECUTOR], username=f"{tag}-pros-{i}")
        stl = CaseFactory(
            actor=oic, committed_on=D(2025, 9, 12), reported_on=D(2026, 2, 2), today=D(2026, 2, 2)
        )
        case_refer_to_cps(actor=oic, case=stl, received_on=TODAY, today=TODAY)
        CaseFactory(actor=oic, offence="OAPA-16", reported_on=D(2026, 2, 2), today=D(2026, 2, 2))
        late = CaseFactory(actor=oic, offence="OAPA-16", reported_on=D(2026, 2, 2), today=D(2026, 2, 2))
        case_refer_to_cps(actor=oic, case=late, received_on=D(2026, 2, 9), today=D(2026, 2, 9))


def measure() -> dict[str, int]:
    """Empty the outbox, sweep, then count the statements of detection and of the digests."""
    Alert.objects.all().delete()
    ledger.sweep(today=TODAY)
    figures = {}
    with time_machine.travel(DIGEST_AT, tick=False):
        with CaptureQueriesContext(connection) as ctx:
            counts = alerts.alerts_detect(today=TODAY)
        figures["detect_statements"] = len(ctx.captured_queries)
        figures["alerts"] = counts["total"]
        with CaptureQueriesContext(connection) as ctx:
            figures["digests"] = alerts.digests_build()["digests"]
        figures["digest_statements"] = len(ctx.captured_queries)
    return figures


@pytest.mark.django_db
def test_statements_do_not_grow_with_the_cases_or_the_people(force_a, area_a, force_b, area_b):
    add_world(2, force_a, area_a, "s")
    small = measure()
    add_world(4, force_a, area_a, "m")
    add_world(2, force_b, area_b, "b")
    large = measure()
    assert large["alerts"] > 2 * small["alerts"] and large["digests"] > 2 * small["digests"], (small, large)
    assert large["detect_statements"] == small["detect_statements"], (small, large)
    assert large["digest_statements"] == small["digest_statements"], (small, large)
    # sync_rules (1-2) + one INSERT per kind of alert; readers, the stream, and the temporary table's writes.
    assert small["detect_statements"] <= 2 + len(alerts.DETECTED)
    assert small["digest_statements"] <= 10
    thresholds = set(Alert.objects.values_list("threshold", flat=True))
    assert thresholds >= {"stl_8_weeks", "stl_14_days", "overdue", "escalation", "digest"}


def _listed(alert: Alert) -> list[str]:
    return re.findall(r"^- Case (\S+):", alert.body_text, flags=re.M)


@pytest.mark.django_db
def test_an_organisation_wide_digest_counts_every_item_and_lists_the_most_urgent(
    monkeypatch, force_a, oic_a, supervisor_a, prosecutor_a
):
    monkeypatch.setattr(alerts, "DIGEST_TOP", 3)
    both = UserFactory(organisation=force_a, roles=[Role.OIC, Role.POLICE_SUPERVISOR], username="oic-and-sup")
    # Investigations reported on five days (due 21 days later: the earliest are overdue, the rest due soon), and
    # one of the combined OIC-and-supervisor's.
    cases = [
        CaseFactory(actor=oic_a, offence="OAPA-16", reported_on=D(2026, 2, day), today=D(2026, 2, day))
        for day in (3, 5, 7, 9, 10)
    ]
    own = CaseFactory(actor=both, offence="OAPA-16", reported_on=D(2026, 2, 8), today=D(2026, 2, 8))
    ledger.sweep(today=TODAY)
    with time_machine.travel(DIGEST_AT, tick=False):
        assert alerts.digests_build()["digests"] == 3  # the OIC, the supervisor, the combined one

    oic_digest = Alert.objects.get(recipient=oic_a, threshold="digest")
    assert sorted(_listed(oic_digest)) == sorted(c.urn for c in cases), "an OIC's digest lists every item"
    assert oic_digest.subject.startswith("Your deadlines for Monday 2 March: 5 items")

    summary = Alert.objects.get(recipient=supervisor_a, threshold="digest")
    assert summary.subject == f"Deadlines across {force_a.name} for Monday 2 March: 6 items"
    by_due = sorted([*cases, own], key=lambda c: (c.reported_on, c.urn))
    assert _listed(summary) == [c.urn for c in by_due[:3]], "the three most urgent, most urgent first"
    assert "The 3 most urgent:" in summary.body_text
    assert re.search(r"^- Overdue: \d+$", summary.body_text, flags=re.M)
    counted = sum(int(n) for n in re.findall(r"^- [^:\n]+: (\d+)$", summary.body_text, flags=re.M))
    assert counted == 6
    assert f"{SITE}/dashboards/police-supervisor/" in summary.body_text
    assert f"{SITE}/dashboards/police-supervisor/" in summary.body_html

    combined = Alert.objects.get(recipient=both, threshold="digest")
    assert "YOUR OWN CASES (1 item)" in combined.body_text and own.urn in combined.body_text
    assert not Alert.objects.filter(recipient=prosecutor_a), "nothing referred: nothing for CPS"
