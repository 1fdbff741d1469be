"""Deadline alert emails, end to end against a real SMTP server on loopback (aiosmtpd): who is told (the named
people who act, the organisation only when no one is named, behind the access gate, restricted cases included),
once and only once (reruns, two workers racing, a worker killed between claim and send), nothing lost while the
server is down, the 07:00 London digest on working days only (GMT and BST, weekends, bank holidays), escalation
to line managers, preferences, and email bodies without victim or offence details.

More in test_alerts_gate.py (the SQL gate against the Python one), test_alerts_scale.py (statements that do not
grow with the cases or people; organisation-wide digests) and test_alerts_allocation.py (allocation at triage,
line managers in the admin, the demo data, Message-ID, the delivery task's time limit)."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import io
import socket
import sys
import threading
import types
from email.message import EmailMessage

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.urls import include, path, reverse
from django.utils import timezone

from alerts import engine as alerts
from alerts import tasks as alert_tasks
from cases import ledger
from cases.models import Alert, Clock, NotificationPreference, Role
from cases.services import case_restrict
from charging.services import case_refer_to_cps, referral_triage
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory
from victims.services import victim_add

D = datetime.date
UTC = datetime.UTC
SITE = "https://jjp.example.test"
VICTIM_GIVEN, VICTIM_FAMILY = "Zebedee", "Quartermaine"
OFFENCE_TITLE = "Common assault"  # the CJA88-39 title starts so; it must never reach an email

# The alert pages are wired by the project URLs (``path("", include("alerts.urls"))``); until then the
# tests use a URLconf that includes both.
_urlconf = types.ModuleType("jjp_alert_test_urls")
_urlconf.urlpatterns = [path("", include("alerts.urls")), path("", include("jjp.urls"))]
sys.modules.setdefault("jjp_alert_test_urls", _urlconf)


@pytest.fixture(autouse=True)
def _alert_settings(settings):
    settings.ROOT_URLCONF = "jjp_alert_test_urls"
    settings.SITE_URL = SITE
    settings.JJP_ALERTS = {
        **settings.JJP_ALERTS,
        "digest_hour": 7,
        "escalate_after_working_days": 2,
        "max_attempts": 8,
        "claim_timeout_seconds": 300,
    }


# --------------------------------------------------------------------------------------------------------------
# A real SMTP server on loopback
# --------------------------------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler that keeps every message it accepts (optionally slowly, to widen races)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def to(self, user) -> list[EmailMessage]:
        return [m for m in self.messages if m["X-Envelope-To"] == user.email]

    def recipients(self) -> list[str]:
        return sorted(m["X-Envelope-To"] for m in self.messages)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=5,
    ):
        yield server
    server.stop()


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None, "both a text and an HTML part"
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    return text.get_content(), html.get_content()


# --------------------------------------------------------------------------------------------------------------
# People and cases
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def legal_manager_a(area_a):
    return UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="legal-manager-a")


@pytest.fixture
def other_oic_a(force_a):
    return UserFactory(organisation=force_a, roles=[Role.OIC], username="other-oic-a")


@pytest.fixture
def other_supervisor_a(force_a):
    return UserFactory(organisation=force_a, roles=[Role.POLICE_SUPERVISOR], username="other-supervisor-a")


@pytest.fixture
def supervisor_b(force_b):
    return UserFactory(organisation=force_b, roles=[Role.POLICE_SUPERVISOR], username="supervisor-b")


@pytest.fixture
def other_prosecutor_a(area_a):
    return UserFactory(organisation=area_a, roles=[Role.PROSECUTOR], username="other-prosecutor-a")


@pytest.fixture
def other_legal_manager_a(area_a):
    return UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="other-legal-manager-a")


@pytest.fixture
def everyone(
    oic_a, other_oic_a, supervisor_a, prosecutor_a, legal_manager_a, oic_b, supervisor_b, prosecutor_b
):
    return locals()


def stl_case(actor, *, committed_on=None, reported_on=None, today=TODAY, **kw):
    """A domestic abuse common assault reported on ``today``: the six-month limit from ``committed_on`` (default
    1 Oct 2025 -> 1 Apr 2026, within eight weeks of TODAY but not within 14 days). A victim is named, to prove no
    email carries the name."""
    committed_on = committed_on or D(2025, 10, 1)
    reported_on = reported_on or today
    case = CaseFactory(actor=actor, committed_on=committed_on, reported_on=reported_on, today=today, **kw)
    victim_add(actor=actor, case=case, given_name=VICTIM_GIVEN, family_name=VICTIM_FAMILY, today=today)
    return case


def on(day: datetime.date, hour: int = 10):
    """Travel to ``day`` at ``hour``:00 UTC (the alerts are rendered when delivered, as of that day)."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(hour), tzinfo=UTC), tick=False)


def detect_and_deliver(today=TODAY) -> dict[str, int]:
    with on(today):
        alerts.alerts_detect(today=today)
        return alerts.alerts_deliver()


def triage(referral, *, actor, prosecutor=None, on_day=TODAY):
    return referral_triage(
        actor=actor, referral=referral, accept=True, on=on_day, prosecutor=prosecutor, today=on_day
    )


def assert_minimal(msg: EmailMessage, *, urn: str, due: str) -> None:
    text, html = parts(msg)
    for body in (text, html, msg["Subject"]):
        assert VICTIM_GIVEN not in body and VICTIM_FAMILY not in body
        assert OFFENCE_TITLE.lower() not in body.lower()
    for body in (text, html):
        assert urn in body and due in body
        assert f"{SITE}/cases/" in body


# --------------------------------------------------------------------------------------------------------------
# Who is told
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_case_received_with_stl_within_eight_weeks_tells_the_oic_and_before_allocation_the_areas_prosecutors(
    smtp, everyone, other_prosecutor_a
):
    p = everyone
    case = stl_case(p["oic_a"])
    stl = case.clocks.get(kind=Clock.Kind.STL)
    assert stl.due_on == D(2026, 4, 1)
    assert alerts.alerts_detect(today=TODAY)["total"] == 0, "not with CPS yet: nothing immediate"

    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    counts = detect_and_deliver()

    # Not triaged yet: no prosecutor is allocated, so every prosecutor of the Area hears. The supervisor and the
    # legal manager get escalations and their digest, not every immediate alert.
    assert counts["sent"] == 3
    expected = sorted(p[k].email for k in ("oic_a", "prosecutor_a")) + [other_prosecutor_a.email]
    assert smtp.recipients() == sorted(expected)
    for msg in smtp.messages:
        assert case.urn in msg["Subject"]
        assert_minimal(msg, urn=case.urn, due="1 April 2026")
        text, _ = parts(msg)
        assert f"{SITE}/cases/{case.pk}/" in text
    rows = Alert.objects.filter(case=case)
    assert {a.threshold for a in rows} == {"stl_8_weeks"}
    assert all(a.status == "sent" and a.sent_at and a.attempts == 1 for a in rows)
    assert all(
        a.subject.startswith(f"Case {case.urn}: with CPS") and case.urn in a.body_text for a in rows
    ), "rendered when sent, and kept: the row says what was sent"


@pytest.mark.django_db
def test_an_allocated_submission_tells_its_prosecutor_only(smtp, everyone, other_prosecutor_a):
    p = everyone
    # STL Thu 12 Mar 2026: within 14 days of TODAY and of eight weeks.
    case = stl_case(p["oic_a"], committed_on=D(2025, 9, 12))
    referral = case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    triage(referral, actor=p["legal_manager_a"], prosecutor=other_prosecutor_a)
    detect_and_deliver()
    assert smtp.recipients() == sorted([p["oic_a"].email] * 2 + [other_prosecutor_a.email] * 2)
    assert set(Alert.objects.values_list("threshold", flat=True)) == {"stl_8_weeks", "stl_14_days"}
    # The prosecutor triaging takes it by default.
    other = stl_case(p["other_oic_a"], committed_on=D(2025, 9, 12))
    triage(
        case_refer_to_cps(actor=p["other_oic_a"], case=other, received_on=TODAY, today=TODAY),
        actor=p["prosecutor_a"],
    )
    detect_and_deliver()
    assert {a.recipient for a in Alert.objects.filter(case=other)} == {p["other_oic_a"], p["prosecutor_a"]}


@pytest.mark.django_db
def test_restricted_case_mail_reaches_only_the_named_users(smtp, everyone, other_supervisor_a):
    p = everyone
    # STL 12 Mar 2026: within 14 days of TODAY and not charged.
    restricted = stl_case(p["oic_a"], committed_on=D(2025, 9, 12), police_perpetrated=True)
    case_restrict(
        actor=p["supervisor_a"], case=restricted, users=[p["oic_a"]], reason="Suspect is an officer."
    )
    case_refer_to_cps(actor=p["oic_a"], case=restricted, received_on=TODAY, today=TODAY)
    # An ordinary case of the same force, to show that its OIC and the Area's prosecutor do get mail.
    ordinary = stl_case(p["other_oic_a"], committed_on=D(2025, 9, 12))
    case_refer_to_cps(actor=p["other_oic_a"], case=ordinary, received_on=TODAY, today=TODAY)

    detect_and_deliver()

    def urns_for(user):
        return {m["Subject"].split()[1].rstrip(":,") for m in smtp.to(user)}

    assert restricted.urn in urns_for(p["oic_a"])
    # The prosecutors' fallback (no one allocated) reaches only prosecutors named on the case: none here.
    for outsider in (other_supervisor_a, p["prosecutor_a"], p["legal_manager_a"], p["other_oic_a"]):
        assert restricted.urn not in urns_for(outsider), outsider.username
        for msg in smtp.to(outsider):
            assert restricted.urn not in msg.as_string()
    assert ordinary.urn in urns_for(p["other_oic_a"]) and ordinary.urn in urns_for(p["prosecutor_a"])
    assert not smtp.to(other_supervisor_a) and not smtp.to(p["supervisor_a"]), "supervisors: escalations only"
    assert not Alert.objects.filter(case=restricted).exclude(recipient=p["oic_a"])
    thresholds = set(Alert.objects.filter(case=restricted).values_list("threshold", flat=True))
    assert thresholds == {"stl_8_weeks", "stl_14_days"}
    assert not smtp.to(p["oic_b"]) and not smtp.to(p["prosecutor_b"]) and not smtp.to(p["supervisor_b"])


@pytest.mark.django_db
def test_delivery_checks_the_gate_again_before_sending(smtp, everyone):
    p = everyone
    case = stl_case(p["oic_a"], police_perpetrated=True)
    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    alerts.alerts_detect(today=TODAY)
    assert Alert.objects.filter(case=case, recipient=p["prosecutor_a"]).exists()
    # Restricted after detection, before delivery: the prosecutor is not named.
    case_restrict(actor=p["supervisor_a"], case=case, users=[p["oic_a"]], reason="Suspect is an officer.")
    alerts.alerts_deliver()
    row = Alert.objects.get(case=case, recipient=p["prosecutor_a"])
    assert row.status == "dead" and "can no longer see" in row.last_error
    assert not smtp.to(p["prosecutor_a"])
    assert len(smtp.to(p["oic_a"])) == 1


@pytest.mark.django_db
def test_overdue_charging_decision_goes_to_cps_and_escalates_to_the_legal_manager(
    smtp, everyone, other_prosecutor_a
):
    p = everyone
    # Threats to kill: no time limit. Received Mon 2 Feb 2026 -> decision due Mon 16 Feb. Not triaged: the Area's
    # legal managers run triage, so they hear of the overdue decision (not every prosecutor of the Area), and the
    # escalation goes to them too.
    case = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2026, 1, 26), today=D(2026, 2, 2))
    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=D(2026, 2, 2), today=D(2026, 2, 2))
    # Allocated to a prosecutor who switched immediate alerts off: they chose, so nobody is told in their place.
    chosen = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2026, 1, 26), today=D(2026, 2, 2))
    referral = case_refer_to_cps(
        actor=p["oic_a"], case=chosen, received_on=D(2026, 2, 2), today=D(2026, 2, 2)
    )
    triage(referral, actor=p["prosecutor_a"], on_day=D(2026, 2, 2))
    NotificationPreference.objects.create(user=p["prosecutor_a"], immediate_enabled=False)
    ledger.sweep(today=D(2026, 2, 17))

    detect_and_deliver(today=D(2026, 2, 17))
    assert smtp.recipients() == [p["legal_manager_a"].email]
    assert f"Case {case.urn}: charging decision overdue" == smtp.messages[0]["Subject"]
    assert_minimal(smtp.messages[0], urn=case.urn, due="16 February 2026")
    assert not Alert.objects.filter(case=chosen), "immediate alerts off stops the overdue alert"

    assert not Alert.objects.filter(threshold="escalation"), "one working day overdue (17 Feb): not yet"
    detect_and_deliver(today=D(2026, 2, 18))  # two working days overdue (17, 18 Feb)
    escalations = [m for m in smtp.messages if m["Subject"].startswith("Escalation")]
    # The allocated prosecutor has no line manager: the Area's legal managers get that escalation too.
    assert len(escalations) == 2 and {m["X-Envelope-To"] for m in escalations} == {p["legal_manager_a"].email}
    assert {a.case_id for a in Alert.objects.filter(threshold="escalation")} == {case.pk, chosen.pk}
    escalation = next(m for m in escalations if case.urn in m["Subject"])
    assert "2 working days" in escalation["Subject"]
    sent = len(smtp.messages)
    detect_and_deliver(today=D(2026, 2, 19))
    assert len(smtp.messages) == sent, "escalated once per deadline"
    assert Alert.objects.filter(threshold="escalation").count() == 2
    assert not smtp.to(other_prosecutor_a) and not smtp.to(p["prosecutor_a"])


@pytest.mark.django_db
def test_overdue_police_deadline_escalates_to_the_force_supervisors_when_the_oic_has_no_line_manager(
    smtp, everyone, other_supervisor_a
):
    p = everyone
    # Reported Mon 2 Feb 2026 -> investigation due Mon 23 Feb; Tue 24 and Wed 25 Feb are two working days.
    case = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2026, 2, 2), today=D(2026, 2, 2))
    alerts.alerts_detect(today=D(2026, 2, 24))
    assert not Alert.objects.filter(threshold="escalation")
    detect_and_deliver(today=D(2026, 2, 25))
    assert smtp.recipients() == sorted([p["supervisor_a"].email, other_supervisor_a.email])
    assert_minimal(smtp.messages[0], urn=case.urn, due="23 February 2026")
    assert "2 working days" in smtp.messages[0]["Subject"]


@pytest.mark.django_db
def test_the_five_minute_run_escalates_what_became_escalable_and_the_hourly_run_everything(
    smtp, everyone, other_supervisor_a
):
    """The frequent run reads only the clocks that crossed the escalation cutoff within the lookback (7 days);
    the full run reads every overdue clock, so one that was already long overdue is escalated too."""
    p = everyone
    # Investigation due Mon 23 Feb: escalable from Wed 25 Feb (two working days overdue).
    recent = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2026, 2, 2), today=D(2026, 2, 2))
    # Investigation due Mon 5 Jan: escalable since 7 Jan, well before the window of 25 Feb.
    old = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2025, 12, 15), today=D(2025, 12, 15))
    alerts.alerts_detect(today=D(2026, 2, 25), full=False)
    escalated = {a.case_id for a in Alert.objects.filter(threshold="escalation")}
    assert escalated == {recent.pk}
    alerts.alerts_detect(today=D(2026, 2, 25), full=True)
    escalated = {a.case_id for a in Alert.objects.filter(threshold="escalation")}
    assert escalated == {recent.pk, old.pk}
    n = Alert.objects.filter(threshold="escalation").count()
    for full in (False, True):
        alerts.alerts_detect(today=D(2026, 2, 25), full=full)
    assert Alert.objects.filter(threshold="escalation").count() == n, "each escalated once"
    # The beat runs the full read hourly, the window every five minutes.
    beat = settings.CELERY_BEAT_SCHEDULE
    assert beat["detect-alerts-full"]["kwargs"] == {"full": True}
    assert beat["detect-alerts"]["task"] == beat["detect-alerts-full"]["task"]


@pytest.mark.django_db
def test_escalations_go_to_the_line_manager_of_the_person_named(
    smtp, everyone, other_supervisor_a, other_prosecutor_a, other_legal_manager_a
):
    p = everyone
    for member, manager in (("oic_a", other_supervisor_a), ("prosecutor_a", other_legal_manager_a)):
        p[member].supervisor = manager
        p[member].save(update_fields=["supervisor"])
    # Police side: the investigation clock (due Mon 23 Feb). CPS side: a charging decision received Mon 2 Feb
    # (due Mon 16 Feb), allocated to prosecutor_a at triage by the other prosecutor.
    police = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2026, 2, 2), today=D(2026, 2, 2))
    cps = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2026, 1, 26), today=D(2026, 2, 2))
    referral = case_refer_to_cps(actor=p["oic_a"], case=cps, received_on=D(2026, 2, 2), today=D(2026, 2, 2))
    triage(referral, actor=other_prosecutor_a, prosecutor=p["prosecutor_a"], on_day=D(2026, 2, 2))
    ledger.sweep(today=D(2026, 2, 25))
    with on(D(2026, 2, 25)):
        alerts.alerts_detect(today=D(2026, 2, 25))
    escalated = {(a.case_id, a.recipient) for a in Alert.objects.filter(threshold="escalation")}
    assert escalated == {(police.pk, other_supervisor_a), (cps.pk, other_legal_manager_a)}
    # The overdue charging decision went to the allocated prosecutor only.
    overdue = Alert.objects.filter(threshold="overdue")
    assert {(a.case_id, a.recipient) for a in overdue} == {(cps.pk, p["prosecutor_a"])}
    # A line manager who has left: nobody named can be told, so the organisation's supervisors are.
    other_supervisor_a.is_active = False
    other_supervisor_a.save(update_fields=["is_active"])
    late = CaseFactory(actor=p["oic_a"], offence="OAPA-16", reported_on=D(2026, 2, 3), today=D(2026, 2, 3))
    with on(D(2026, 2, 26)):
        alerts.alerts_detect(today=D(2026, 2, 26))
    assert {a.recipient for a in Alert.objects.filter(threshold="escalation", case=late)} == {
        p["supervisor_a"]
    }


# --------------------------------------------------------------------------------------------------------------
# Once and only once; nothing lost
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_detection_and_delivery_twice_send_nothing_twice(smtp, everyone):
    p = everyone
    case = stl_case(p["oic_a"])
    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    ledger.sweep(today=TODAY)
    first = detect_and_deliver()
    rows = Alert.objects.count()
    ledger.sweep(today=TODAY)
    second = detect_and_deliver()
    assert first["sent"] == 2 and second["sent"] == 0
    assert Alert.objects.count() == rows
    assert len(smtp.messages) == 2
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        call_command("send_alerts", "--detect")
    assert len(smtp.messages) == 2
    out = io.StringIO()
    call_command("detect_alerts", "--today", "2026-03-02", stdout=out)
    assert out.getvalue().startswith("Wrote 0 new alert(s)")
    with pytest.raises(CommandError):
        call_command("detect_alerts", "--today", "2 March")


@pytest.mark.django_db
def test_server_down_leaves_alerts_waiting_and_they_go_when_it_returns(smtp, everyone):
    p = everyone
    case = stl_case(p["oic_a"])
    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    smtp.stop()
    alerts.alerts_detect(today=TODAY)
    counts = alerts.alerts_deliver()
    assert counts["sent"] == 0 and counts["failed"] == 1
    rows = list(Alert.objects.order_by("pk"))
    assert len(rows) == 2 and {r.status for r in rows} == {"failed", "pending"}
    failed = next(r for r in rows if r.status == "failed")
    assert "Connection refused" in failed.last_error or "Errno" in failed.last_error
    assert failed.next_attempt_at > timezone.now() and failed.sent_at is None

    smtp.start()
    alerts.alerts_deliver()
    assert len(smtp.messages) == 1, "the waiting one goes at once; the failed one after its backoff"
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        alerts.alerts_deliver()
    assert sorted(smtp.recipients()) == sorted(p[k].email for k in ("oic_a", "prosecutor_a"))
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}
    failed.refresh_from_db()
    assert failed.attempts == 2 and failed.last_error == ""


@pytest.mark.django_db
def test_after_max_attempts_an_alert_is_dead_and_an_administrator_can_retry_it(smtp, settings, oic_a):
    settings.JJP_ALERTS = {**settings.JJP_ALERTS, "max_attempts": 2}
    case = stl_case(oic_a, committed_on=D(2025, 9, 12))  # STL within 14 days: the OIC is told
    alerts.alerts_detect(today=TODAY)
    row = Alert.objects.get(recipient=oic_a, threshold="stl_14_days")
    smtp.stop()
    alerts.alerts_deliver()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        alerts.alerts_deliver()
    row.refresh_from_db()
    assert row.status == "dead" and row.attempts == 2 and row.last_error
    smtp.start()
    alerts.alerts_deliver()
    assert not smtp.messages, "dead stays dead"
    assert alerts.alerts_retry(alert_ids=[row.pk]) == 1
    alerts.alerts_deliver()
    row.refresh_from_db()
    assert row.status == "sent" and len(smtp.to(oic_a)) == 1
    assert case.urn in smtp.messages[0]["Subject"]


@pytest.mark.django_db
def test_a_claim_never_finished_is_retried_after_the_timeout_and_not_before(smtp, everyone):
    p = everyone
    case = stl_case(p["oic_a"])
    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    alerts.alerts_detect(today=TODAY)
    now = timezone.now()
    killed = Alert.objects.get(recipient=p["prosecutor_a"])
    busy = Alert.objects.get(recipient=p["oic_a"])
    # A worker claimed ``killed`` ten minutes ago and died before sending; another claimed ``busy`` just now.
    Alert.objects.filter(pk=killed.pk).update(
        status="sending", claimed_at=now - datetime.timedelta(minutes=10)
    )
    Alert.objects.filter(pk=busy.pk).update(status="sending", claimed_at=now - datetime.timedelta(seconds=10))

    alerts.alerts_deliver()
    killed.refresh_from_db()
    busy.refresh_from_db()
    assert killed.status == "sent" and len(smtp.to(p["prosecutor_a"])) == 1
    assert busy.status == "sending" and not smtp.to(p["oic_a"]), "a live claim is left alone"
    with time_machine.travel(now + datetime.timedelta(seconds=301)):
        alerts.alerts_deliver()
    busy.refresh_from_db()
    assert busy.status == "sent" and len(smtp.to(p["oic_a"])) == 1
    assert len(smtp.messages) == 2


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_racing_send_each_alert_once(smtp, force_a, area_a):
    oic = UserFactory(organisation=force_a, roles=[Role.OIC], username="race-oic")
    UserFactory(organisation=force_a, roles=[Role.POLICE_SUPERVISOR], username="race-supervisor")
    UserFactory(organisation=area_a, roles=[Role.PROSECUTOR], username="race-prosecutor")
    UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="race-manager")
    for _ in range(5):
        case = stl_case(oic, committed_on=D(2025, 9, 12))
        case_refer_to_cps(actor=oic, case=case, received_on=TODAY, today=TODAY)
    alerts.alerts_detect(today=TODAY)
    total = Alert.objects.count()
    # Five cases, two people (the OIC; the prosecutor, none being allocated), two thresholds (8 weeks on
    # receipt, 14 days).
    assert total == 5 * 2 * 2
    smtp.inbox.delay = 0.02
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(alerts.alerts_deliver())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    ids = [m["X-JJP-Alert"] for m in smtp.messages]
    assert len(ids) == total and len(set(ids)) == total, "every alert sent exactly once"
    assert sum(r["sent"] for r in results) == total
    assert all(r["sent"] > 0 for r in results), "both workers took part"
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}


# --------------------------------------------------------------------------------------------------------------
# The daily digest
# --------------------------------------------------------------------------------------------------------------


def _digest_case(actor, on: datetime.date):
    """A case whose time limit is on the STL watch list on ``on`` (the six-month limit is ~7 weeks away)."""
    committed = on - datetime.timedelta(days=135)
    return stl_case(actor, committed_on=committed, today=on)


def _digest_rows():
    return Alert.objects.filter(threshold="digest")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "at"),
    [
        # Winter (GMT = UTC): Mon 12 Jan 2026.
        (
            datetime.datetime(2026, 1, 12, 6, 59, 59, tzinfo=UTC),
            datetime.datetime(2026, 1, 12, 7, 0, tzinfo=UTC),
        ),
        # Summer (BST = UTC+1): Mon 13 Jul 2026, 07:00 London is 06:00 UTC.
        (
            datetime.datetime(2026, 7, 13, 5, 59, 59, tzinfo=UTC),
            datetime.datetime(2026, 7, 13, 6, 0, tzinfo=UTC),
        ),
    ],
    ids=["winter-gmt", "summer-bst"],
)
def test_digest_goes_at_seven_london_time_not_before(smtp, oic_a, supervisor_a, prosecutor_a, before, at):
    case = _digest_case(oic_a, at.date())
    with time_machine.travel(before, tick=False):
        assert alerts.digests_build() == {"digests": 0}
    assert not _digest_rows()
    with time_machine.travel(at, tick=False):
        assert alerts.digests_build() == {"digests": 2}  # the OIC and the force's supervisor
        alerts.alerts_deliver()
    with time_machine.travel(at + datetime.timedelta(hours=3), tick=False):
        assert alerts.digests_build() == {"digests": 0}, "one a day"
    assert smtp.recipients() == sorted([oic_a.email, supervisor_a.email])
    assert not smtp.to(prosecutor_a), "not referred: nothing for CPS"
    msg = smtp.to(oic_a)[0]
    assert msg["Subject"].startswith("Your deadlines for")
    stl = case.clocks.get(kind=Clock.Kind.STL)
    assert_minimal(msg, urn=case.urn, due=f"{stl.due_on.day} {stl.due_on:%b %Y}")
    text, html = parts(msg)
    assert "STATUTORY TIME LIMITS WITHIN EIGHT WEEKS" in text and "within eight weeks" in html


@pytest.mark.django_db
def test_summer_half_past_six_utc_is_after_seven_in_london_but_not_in_winter(smtp, oic_a):
    _digest_case(oic_a, D(2026, 7, 13))
    _digest_case(oic_a, D(2026, 1, 12))
    with time_machine.travel(datetime.datetime(2026, 1, 12, 6, 30, tzinfo=UTC), tick=False):
        assert alerts.digests_build()["digests"] == 0
    with time_machine.travel(datetime.datetime(2026, 7, 13, 6, 30, tzinfo=UTC), tick=False):
        assert alerts.digests_build()["digests"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 1, 10, 9, 0, tzinfo=UTC),  # Saturday
        datetime.datetime(2026, 7, 12, 9, 0, tzinfo=UTC),  # Sunday (BST)
        datetime.datetime(2026, 12, 25, 9, 0, tzinfo=UTC),  # Christmas Day, a Friday
        datetime.datetime(2026, 12, 28, 9, 0, tzinfo=UTC),  # substitute for Boxing Day (Saturday)
    ],
    ids=["saturday", "sunday", "christmas", "boxing-day-substitute"],
)
def test_no_digest_on_weekends_and_bank_holidays(smtp, oic_a, moment):
    _digest_case(oic_a, D(2026, 12, 29) if moment.month == 12 else moment.date() - datetime.timedelta(days=2))
    with time_machine.travel(moment, tick=False):
        assert alerts.digests_build() == {"digests": 0}
    assert not _digest_rows() and not smtp.messages


@pytest.mark.django_db
def test_digest_resumes_on_the_next_working_day_after_the_christmas_holidays(smtp, oic_a):
    case = _digest_case(oic_a, D(2026, 12, 29))
    with time_machine.travel(datetime.datetime(2026, 12, 29, 7, 0, tzinfo=UTC), tick=False):
        assert alerts.digests_build() == {"digests": 1}
        alerts.alerts_deliver()
    assert len(smtp.to(oic_a)) == 1 and case.urn in smtp.messages[0]["Subject"] + parts(smtp.messages[0])[0]


@pytest.mark.django_db
def test_no_digest_when_there_is_nothing_to_say(smtp, oic_a, other_oic_a, supervisor_a):
    # A case whose deadlines are all weeks away: nobody has anything due.
    CaseFactory(actor=oic_a, offence="OAPA-16", reported_on=D(2026, 3, 2), today=D(2026, 3, 2))
    with time_machine.travel(datetime.datetime(2026, 3, 3, 8, 0, tzinfo=UTC), tick=False):
        assert alerts.digests_build() == {"digests": 0}
        alerts.alerts_deliver()
    assert not _digest_rows() and not smtp.messages
    # Something due for one OIC: only they (and their supervisor) hear, not the other OIC.
    _digest_case(oic_a, D(2026, 3, 3))
    with time_machine.travel(datetime.datetime(2026, 3, 3, 8, 15, tzinfo=UTC), tick=False):
        assert alerts.digests_build() == {"digests": 2}
        alerts.alerts_deliver()
    assert smtp.recipients() == sorted([oic_a.email, supervisor_a.email])
    assert not smtp.to(other_oic_a)


@pytest.mark.django_db
def test_digest_preferences_within_what_the_role_requires(smtp, oic_a, supervisor_a):
    with pytest.raises(ValidationError) as exc:
        alerts.notification_preference_set(actor=oic_a, digest_enabled=False, immediate_enabled=True)
    assert "digest_enabled" in exc.value.message_dict
    assert not NotificationPreference.objects.filter(user=oic_a).exists(), "nothing half-saved"
    alerts.notification_preference_set(actor=supervisor_a, digest_enabled=False, immediate_enabled=True)
    _digest_case(oic_a, D(2026, 3, 3))
    with time_machine.travel(datetime.datetime(2026, 3, 3, 8, 0, tzinfo=UTC), tick=False):
        assert alerts.digests_build() == {"digests": 1}
        alerts.alerts_deliver()
    assert smtp.recipients() == [oic_a.email]


@pytest.mark.django_db
def test_stl_alerts_cannot_be_switched_off_for_a_prosecutor(smtp, everyone):
    p = everyone
    alerts.notification_preference_set(actor=p["prosecutor_a"], digest_enabled=False, immediate_enabled=False)
    case = stl_case(p["oic_a"])
    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    detect_and_deliver()
    assert len(smtp.to(p["prosecutor_a"])) == 1
    assert (
        alerts.alert_allowed(
            roles=["prosecutor"], threshold="overdue", digest_enabled=True, immediate_enabled=False
        )
        is False
    )
    assert alerts.alert_allowed(
        roles=["prosecutor"], threshold="time_barred", digest_enabled=True, immediate_enabled=False
    )


@pytest.mark.django_db
def test_time_barred_tells_police_and_cps(smtp, everyone):
    p = everyone
    case = stl_case(p["oic_a"], committed_on=D(2025, 9, 12))  # STL Thu 12 Mar 2026
    case_refer_to_cps(actor=p["oic_a"], case=case, received_on=TODAY, today=TODAY)
    alerts.alerts_detect(today=TODAY)
    ledger.sweep(today=D(2026, 3, 13))
    Alert.objects.all().delete()  # only the time-barred alerts are under test here
    detect_and_deliver(today=D(2026, 3, 13))
    expected = sorted(p[k].email for k in ("oic_a", "prosecutor_a"))
    barred = Alert.objects.filter(threshold="time_barred", case=case)
    assert sorted(barred.values_list("recipient__email", flat=True)) == expected
    told = sorted(m["X-Envelope-To"] for m in smtp.messages if "time limit passed" in m["Subject"])
    assert told == expected
    assert_minimal(
        next(m for m in smtp.messages if "time limit passed" in m["Subject"]),
        urn=case.urn,
        due="12 March 2026",
    )


# --------------------------------------------------------------------------------------------------------------
# Tasks, command, admin, preferences page
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_tasks_are_thin_and_queue_delivery_only_when_there_is_something_new(
    smtp, oic_a, supervisor_a, monkeypatch
):
    queued = []
    monkeypatch.setattr(alert_tasks.deliver_alerts, "delay", lambda: queued.append(1))
    stl_case(oic_a, committed_on=D(2025, 9, 12))
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        counts = alert_tasks.detect_alerts()
        assert counts["stl_14_days"] == 1 and queued == [1]  # the OIC (not with CPS: no prosecutor)
        assert alert_tasks.detect_alerts()["total"] == 0 and queued == [1]
        assert alert_tasks.deliver_alerts()["sent"] == 1
        assert (
            alert_tasks.send_daily_digests() == {"digests": 2} and len(queued) == 2
        )  # the OIC, the supervisor


@pytest.mark.django_db
def test_admin_lists_waiting_alerts_and_retries_them(admin_client, smtp, oic_a):
    stl_case(oic_a, committed_on=D(2025, 9, 12))
    alerts.alerts_detect(today=TODAY)
    row = Alert.objects.get(recipient=oic_a)
    Alert.objects.filter(pk=row.pk).update(status="dead", last_error="550 mailbox unavailable", attempts=8)
    page = admin_client.get(reverse("admin:cases_alert_changelist"), {"delivery": "dead"})
    assert page.status_code == 200 and "550 mailbox unavailable" in page.content.decode()
    response = admin_client.post(
        reverse("admin:cases_alert_changelist"), {"action": "retry", "_selected_action": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 0
    call_command("send_alerts")
    row.refresh_from_db()
    assert row.status == "sent" and len(smtp.to(oic_a)) == 1


@pytest.mark.django_db
def test_preferences_page_saves_choices_and_explains_what_cannot_be_switched_off(client, oic_a, prosecutor_a):
    client.force_login(prosecutor_a)
    url = reverse("alert_preferences")
    assert client.get(url).status_code == 200
    response = client.post(url, {"digest_enabled": "", "immediate_enabled": "on"})
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=prosecutor_a)
    assert (pref.digest_enabled, pref.immediate_enabled) == (False, True)

    client.force_login(oic_a)
    body = client.get(url).content.decode()
    assert "always get the daily digest" in body
    client.post(url, {"immediate_enabled": ""})  # the digest box is disabled: its value cannot be posted off
    pref = NotificationPreference.objects.get(user=oic_a)
    assert pref.digest_enabled is True and pref.immediate_enabled is False


def test_pure_rules():
    assert (
        alerts.backoff_seconds(1) == 60
        and alerts.backoff_seconds(3) == 240
        and alerts.backoff_seconds(20) == 3600
    )
    # Due Mon 2 Mar 2026; two working days later is Wed 4 Mar.
    assert alerts.nth_working_day_back(D(2026, 3, 4), 2) == D(2026, 3, 3)
    assert alerts.nth_working_day_back(D(2026, 3, 9), 1) == D(2026, 3, 9)
    assert alerts.nth_working_day_back(D(2026, 3, 8), 1) == D(2026, 3, 6), "Sunday -> Friday"
    assert alerts.nth_working_day_back(D(2026, 12, 29), 2) == D(2026, 12, 24), "over Christmas"
    assert alerts.digest_section("stl", D(2026, 3, 20), D(2026, 3, 2)) == "stl"
    assert alerts.digest_section("action", D(2026, 3, 2), D(2026, 3, 2)) == "today"
    assert alerts.digest_section("victim_update", D(2026, 3, 1), D(2026, 3, 2)) == "overdue"
    assert alerts.when_text("stl", D(2026, 3, 1), D(2026, 3, 2)) == "time limit passed"
    assert alerts.when_text("charge", D(2026, 3, 3), D(2026, 3, 2)) == "due in 1 day"
    for name in alerts.DEADLINE_NAMES.values():
        assert "assault" not in name.lower()
    assert set(alerts.DEADLINE_NAMES) == set(Clock.Kind.values) == set(alerts.WHAT_TO_DO)
