"""The confidential address: visible only to the OIC, police supervisors and victim liaison of the case's force;
every view logged (who, which victim, when, from where, why) in an append-only table; everyone else refused
(403 if they can see the case, 404 if they cannot)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InternalError, ProgrammingError, transaction
from django.urls import reverse

from cases.models import Role
from charging.services import case_refer_to_cps
from governance.models import PanelReview, ScrutinyPanel
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory
from victims.models import PersonalDataAccess, Victim
from victims.services import victim_add, victim_address_set, victim_reveal_address

pytestmark = pytest.mark.django_db
ADDRESS = "Flat 2, 10 Hidden Road, Bury BL9 0AA"
META = {"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "pytest-browser", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}


@pytest.fixture
def victim(oic_a):
    case = CaseFactory(actor=oic_a)
    return victim_add(
        actor=oic_a, case=case, given_name="Vic", family_name="Tim", confidential_address=ADDRESS, today=TODAY
    )


@pytest.fixture
def referred(victim, oic_a):
    case_refer_to_cps(actor=oic_a, case=victim.case, received_on=TODAY, today=TODAY)
    return victim


@pytest.fixture
def liaison_a(force_a):
    return UserFactory(organisation=force_a, roles=[Role.VICTIM_LIAISON], username="vlo-a")


@pytest.fixture
def panel_member(area_a, victim):
    member = UserFactory(organisation=area_a, roles=[Role.PANEL_MEMBER], username="panel-a")
    panel = ScrutinyPanel.objects.create(name="Panel", organisation=area_a)
    panel.members.add(member)
    PanelReview.objects.create(panel=panel, case=victim.case, meeting_on=TODAY, sampling="random")
    return member


@pytest.mark.parametrize("who", ["oic_a", "supervisor_a", "liaison_a"])
def test_the_roles_that_need_it_see_it_and_each_view_is_logged(request, victim, who):
    user = request.getfixturevalue(who)
    before = PersonalDataAccess.objects.filter(what="address_viewed").count()
    assert (
        victim_reveal_address(actor=user, victim=victim, request_meta=META, reason="Safety visit") == ADDRESS
    )
    assert victim_reveal_address(actor=user, victim=victim, request_meta=META) == ADDRESS
    views = PersonalDataAccess.objects.filter(what="address_viewed").order_by("pk")
    assert views.count() == before + 2, "every view is logged, not just the first"
    row = views.first()
    assert (row.actor, row.victim, row.case, row.ip, row.forwarded_for, row.user_agent, row.reason) == (
        user,
        victim,
        victim.case,
        "10.1.2.3",
        "203.0.113.9",
        "pytest-browser",
        "Safety visit",
    )
    assert row.at is not None


def test_recording_the_address_is_logged_too(victim, oic_a):
    recorded = PersonalDataAccess.objects.get(what="address_recorded")
    assert (recorded.actor, recorded.victim) == (oic_a, victim)
    victim_address_set(actor=oic_a, victim=victim, address="New address", request_meta=META, reason="Moved")
    assert PersonalDataAccess.objects.filter(what="address_recorded").count() == 2
    assert Victim.objects.get(pk=victim.pk).confidential_address == "New address"


@pytest.mark.parametrize("who", ["prosecutor", "panel", "other_force", "triage", "superuser"])
def test_everyone_else_is_refused_and_nothing_is_logged(request, referred, area_a, force_a, oic_b, who):
    users = {
        "prosecutor": lambda: request.getfixturevalue("prosecutor_a"),
        "panel": lambda: request.getfixturevalue("panel_member"),
        "other_force": lambda: oic_b,
        "triage": lambda: UserFactory(organisation=force_a, roles=[Role.TRIAGE_OFFICER]),
        "superuser": lambda: UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    user = users[who]()
    before = PersonalDataAccess.objects.count()
    with pytest.raises(PermissionDenied):
        victim_reveal_address(actor=user, victim=referred, request_meta=META)
    with pytest.raises(PermissionDenied):
        victim_address_set(actor=user, victim=referred, address="x", request_meta=META)
    assert PersonalDataAccess.objects.count() == before
    assert Victim.objects.get(pk=referred.pk).confidential_address == ADDRESS


def test_a_cps_victim_liaison_is_refused(referred, area_a):
    witness_care = UserFactory(organisation=area_a, roles=[Role.VICTIM_LIAISON])
    with pytest.raises(PermissionDenied):
        victim_reveal_address(actor=witness_care, victim=referred, request_meta=META)


def test_the_log_is_append_only(victim, oic_a):
    row = PersonalDataAccess.objects.first()
    for attempt in (
        lambda: PersonalDataAccess.objects.filter(pk=row.pk).update(reason="edited"),
        lambda: PersonalDataAccess.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises((InternalError, IntegrityError, ProgrammingError)), transaction.atomic():
            attempt()
    assert PersonalDataAccess.objects.get(pk=row.pk).reason == row.reason


def test_the_address_is_not_in_the_audit_history(victim):
    fields = {f.name for f in apps.get_model("victims", "VictimHistory")._meta.get_fields()}
    assert "confidential_address" not in fields
    assert "given_name" in fields


# -- the web page -----------------------------------------------------------------------------------------------


def test_page_reveals_on_post_and_logs(client, victim, oic_a):
    client.force_login(oic_a)
    url = reverse("victims:address", args=[victim.pk])
    page = client.get(url)
    assert page.status_code == 200 and ADDRESS not in page.content.decode()
    assert not PersonalDataAccess.objects.filter(what="address_viewed").exists(), (
        "looking at the form reveals nothing"
    )
    shown = client.post(url, {"reason": "Visit"}, REMOTE_ADDR="192.0.2.7")
    assert shown.status_code == 200 and "Hidden Road" in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    row = PersonalDataAccess.objects.get(what="address_viewed")
    assert (row.actor, row.ip, row.reason) == (oic_a, "192.0.2.7", "Visit")


@pytest.mark.parametrize(("who", "status"), [("prosecutor_a", 403), ("panel_member", 403), ("oic_b", 404)])
def test_page_refuses_other_roles(request, client, referred, who, status):
    client.force_login(request.getfixturevalue(who))
    url = reverse("victims:address", args=[referred.pk])
    assert client.get(url).status_code == status
    response = client.post(url, {"reason": "curious"})
    assert response.status_code == status and ADDRESS not in response.content.decode()
    assert not PersonalDataAccess.objects.filter(what="address_viewed").exists()


def test_safeguarding_page_never_shows_the_address(client, referred, oic_a, prosecutor_a):
    for user, link in ((oic_a, True), (prosecutor_a, False)):
        client.force_login(user)
        page = client.get(reverse("victims:case", args=[referred.case.pk]))
        body = page.content.decode()
        assert page.status_code == 200 and ADDRESS not in body and "Hidden Road" not in body
        assert (reverse("victims:address", args=[referred.pk]) in body) is link


def test_anonymous_users_are_sent_to_sign_in(client, victim):
    response = client.get(reverse("victims:address", args=[victim.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
