"""The named people alerts go to, and how they are named: the triage step allocates a submission to a prosecutor
of the Area (the case page offers them), the user admin sets a line manager (only a supervisor or legal manager of
the person's own organisation), the demo data has both. And delivery: subject and bodies rendered when the alert
is sent and kept, a Message-ID that stays the same on a resend, the delivery task's time limits."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from alerts import engine as alerts
from alerts import tasks as alert_tasks
from cases.models import Alert, Role, User
from charging.models import ChargingReferral
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory

D = datetime.date
UTC = datetime.UTC
SITE = "https://jjp.example.test"
NOON = datetime.datetime.combine(TODAY, datetime.time(12, 0), tzinfo=UTC)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def referred(oic_a):
    """A common assault with its time limit on Thu 12 Mar 2026, with CPS since TODAY (not triaged)."""
    case = CaseFactory(
        actor=oic_a, committed_on=D(2025, 9, 12), reported_on=D(2026, 2, 2), today=D(2026, 2, 2)
    )
    case_refer_to_cps(actor=oic_a, case=case, received_on=TODAY, today=TODAY)
    return case


# --------------------------------------------------------------------------------------------------------------
# Allocation at triage, on the case page
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_triage_step_offers_the_areas_prosecutors_and_allocates_one(
    client, referred, area_a, prosecutor_a, prosecutor_b
):
    manager = UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="lm-a")
    colleague = UserFactory(
        organisation=area_a, roles=[Role.PROSECUTOR], username="colleague-a", first_name="Ada"
    )
    UserFactory(organisation=area_a, roles=[Role.PROSECUTOR], username="gone-a", is_active=False)
    client.force_login(manager)
    page = client.get(reverse("case_detail", args=[referred.pk])).content.decode()
    select = re.search(r'<select name="triage-prosecutor".*?</select>', page, flags=re.S)
    assert select is not None
    offered = set(re.findall(r'<option value="(\d+)"', select.group(0)))
    assert offered == {str(prosecutor_a.pk), str(colleague.pk)}, "active prosecutors of the Area only"

    url = reverse("case_step", args=[referred.pk, "triage"])
    response = client.post(
        url, {"triage-accept": "1", "triage-on": "2026-03-02", "triage-prosecutor": prosecutor_b.pk}
    )
    assert response.status_code == 400, "a prosecutor of another Area is not a choice"
    with time_machine.travel(NOON, tick=False):
        response = client.post(
            url, {"triage-accept": "1", "triage-on": "2026-03-02", "triage-prosecutor": colleague.pk}
        )
    assert response.status_code == 302
    referral = ChargingReferral.objects.get(case=referred)
    assert (referral.triage, referral.prosecutor) == ("accepted", colleague)
    assert referred.events.filter(kind="triage_accepted", summary__contains="allocated to Ada").exists()


# --------------------------------------------------------------------------------------------------------------
# Line managers in the user admin
# --------------------------------------------------------------------------------------------------------------


def _change(admin_client, user, supervisor):
    """Post the user's admin change form with ``supervisor`` as their line manager."""
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "organisation": user.organisation_id,
        "roles": ",".join(user.roles),
        "supervisor": supervisor.pk,
        "date_joined_0": "2026-03-02",
        "date_joined_1": "09:00:00",
    }
    return admin_client.post(reverse("admin:cases_user_change", args=[user.pk]), data)


@pytest.mark.django_db
def test_an_administrator_sets_a_line_manager_of_the_persons_own_organisation(
    admin_client, oic_a, supervisor_a, oic_b, force_b
):
    supervisor_b = UserFactory(organisation=force_b, roles=[Role.POLICE_SUPERVISOR], username="sup-b")
    page = admin_client.get(reverse("admin:cases_user_change", args=[oic_a.pk])).content.decode()
    select = re.search(r'<select name="supervisor".*?</select>', page, flags=re.S)
    assert select is not None
    offered = set(re.findall(r'<option value="(\d+)"', select.group(0)))
    assert offered == {str(supervisor_a.pk)}, "only supervisors of the person's own force"

    response = _change(admin_client, oic_a, supervisor_b)
    assert response.status_code == 200  # the form again, with an error
    assert "supervisor" in response.context["adminform"].form.errors
    oic_a.refresh_from_db()
    assert oic_a.supervisor is None
    response = _change(admin_client, oic_a, supervisor_a)
    assert response.status_code == 302, response.content.decode()[:2000]
    oic_a.refresh_from_db()
    assert oic_a.supervisor == supervisor_a
    assert list(supervisor_a.team.all()) == [oic_a]
    changelist = admin_client.get(reverse("admin:cases_user_changelist")).content.decode()
    assert "supervisor" in changelist.lower()


# --------------------------------------------------------------------------------------------------------------
# The demo data
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_data_has_line_managers_and_allocated_submissions():
    with (
        override_settings(LOCAL_RUN=False, DEBUG=False),
        time_machine.travel(NOON, tick=False),
    ):
        call_command("seed_demo", stdout=StringIO())
    for force, area in (("gmp", "nw"), ("wyp", "yh")):
        supervisor = User.objects.get(username=f"{force}-supervisor")
        assert {u.username for u in supervisor.team.all()} == {
            f"{force}-oic",
            f"{force}-triage",
            f"{force}-vlo",
        }
        assert User.objects.get(username=f"{area}-prosecutor").supervisor.username == f"{area}-legalmanager"
        prosecutor = User.objects.get(username=f"{area}-prosecutor")
        referrals = ChargingReferral.objects.filter(case__force__code=force.upper())
        accepted = referrals.filter(triage="accepted")
        assert accepted.exists() and all(r.prosecutor == prosecutor for r in accepted)
        untriaged = referrals.filter(triage="pending", status="awaiting")
        assert untriaged.count() == 1 and untriaged.get().prosecutor is None, (
            "one left for the Area's fallback"
        )


# --------------------------------------------------------------------------------------------------------------
# Delivery: rendered when sent, a stable Message-ID, time limits
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_alerts_are_rendered_when_sent_and_keep_what_was_sent(referred, oic_a):
    with time_machine.travel(NOON, tick=False):
        alerts.alerts_detect(today=TODAY)
    row = Alert.objects.get(recipient=oic_a, threshold="stl_14_days")
    assert (row.subject, row.body_text, row.body_html) == ("", "", ""), "detection writes no text"
    # Sent two days later (the mail server was down): the text is as of the day it goes.
    with time_machine.travel(NOON + datetime.timedelta(days=2), tick=False):
        alerts.alerts_deliver()
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.subject == f"Case {referred.urn}: time limit in 8 days, not charged"
    assert "12 March 2026" in row.body_text and "in 8 days" in row.body_html
    sent = next(m for m in mail.outbox if m.extra_headers["X-JJP-Alert"] == str(row.pk))
    assert (sent.subject, sent.body) == (row.subject, row.body_text)


@pytest.mark.django_db
def test_a_resend_has_the_same_message_id(referred, oic_a):
    with time_machine.travel(NOON, tick=False):
        alerts.alerts_detect(today=TODAY)
        alerts.alerts_deliver()
    row = Alert.objects.get(recipient=oic_a, threshold="stl_14_days")
    # The acknowledgement was lost: the row is sent again (an administrator's retry here).
    with time_machine.travel(NOON + datetime.timedelta(minutes=5), tick=False):
        Alert.objects.filter(pk=row.pk).update(status="dead")
        alerts.alerts_retry(alert_ids=[row.pk])
        alerts.alerts_deliver()
    sent = [m for m in mail.outbox if m.extra_headers.get("X-JJP-Alert") == str(row.pk)]
    assert len(sent) == 2
    ids = {m.message()["Message-ID"] for m in sent}
    assert (
        ids == {f"<alert-{row.pk}.20260312@jjp.example.test>"} == {alerts.message_id(row)}
    )  # day: the due date
    others = {alerts.message_id(a) for a in Alert.objects.exclude(pk=row.pk)}
    assert alerts.message_id(row) not in others


@pytest.mark.django_db
def test_delivery_stops_claiming_at_its_budget_and_the_task_has_time_limits(referred, monkeypatch):
    with time_machine.travel(NOON, tick=False):
        alerts.alerts_detect(today=TODAY)
    waiting = Alert.objects.filter(status="pending").count()
    assert waiting >= 2
    assert alerts.alerts_deliver(stop_after=-1)["sent"] == 0, "out of time before the first claim"
    assert Alert.objects.filter(status="pending").count() == waiting
    task = alert_tasks.deliver_alerts
    assert task.soft_time_limit == alert_tasks.DELIVER_SOFT_LIMIT_SECONDS
    assert task.time_limit > task.soft_time_limit > alert_tasks.DELIVER_BUDGET_SECONDS

    def out_of_time(alert, smtp):  # noqa: ARG001
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(alerts, "_message", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        alerts.alerts_deliver()
    # Not recorded as a failure of the message: the claim lapses and a later run sends it.
    assert list(Alert.objects.filter(status="sending").values_list("attempts", "last_error")) == [(1, "")]
    assert not Alert.objects.filter(status__in=("failed", "dead"))
