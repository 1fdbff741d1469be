"""The single access gate: Case.objects.visible_to(user), for each role, own force against another force, the
CPS Area after referral, panel members, and a restricted police-perpetrated case."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from cases.models import Case, Clock, Organisation, Role
from cases.services import case_restrict
from charging.services import case_refer_to_cps
from governance.models import PanelReview, ScrutinyPanel
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

FORCE_ROLES = [Role.OIC, Role.POLICE_SUPERVISOR, Role.TRIAGE_OFFICER, Role.VICTIM_LIAISON, Role.ADMINISTRATOR]
AREA_ROLES = [Role.PROSECUTOR, Role.LEGAL_MANAGER, Role.VICTIM_LIAISON, Role.ADMINISTRATOR]


def visible(user) -> set[str]:
    return set(Case.objects.visible_to(user).values_list("urn", flat=True))


@pytest.fixture
def referred_a(oic_a):
    case = CaseFactory(actor=oic_a, urn="REFERRED-A")
    case_refer_to_cps(actor=oic_a, case=case, received_on=TODAY - datetime.timedelta(days=2), today=TODAY)
    return case


@pytest.mark.parametrize("role", FORCE_ROLES)
def test_police_roles_see_their_force_cases_only(role, force_a, oic_a, oic_b, case_a):
    case_b = CaseFactory(actor=oic_b, urn="CASE-B")
    user = UserFactory(organisation=force_a, roles=[role])
    assert case_a.urn in visible(user)
    assert case_b.urn not in visible(user)


@pytest.mark.parametrize("role", AREA_ROLES)
def test_cps_roles_see_cases_only_once_referred_to_their_area(role, area_a, area_b, case_a, referred_a):
    user = UserFactory(organisation=area_a, roles=[role])
    other = UserFactory(organisation=area_b, roles=[role])
    assert visible(user) == {"REFERRED-A"}, "an unreferred case stays with police"
    assert visible(other) == set()


def test_referral_can_name_the_other_london_area(db):
    met = Organisation.objects.get(code="MPS")
    london_south = Organisation.objects.get(code="LS")
    oic = UserFactory(organisation=met, roles=[Role.OIC])
    case = CaseFactory(actor=oic)
    case_refer_to_cps(actor=oic, case=case, received_on=TODAY, today=TODAY, cps_area=london_south)
    prosecutor = UserFactory(organisation=london_south, roles=[Role.PROSECUTOR])
    assert Case.objects.visible_to(prosecutor).filter(pk=case.pk).exists()


def test_panel_members_see_only_the_cases_their_panel_reviews(area_a, oic_a, case_a):
    other_case = CaseFactory(actor=oic_a, urn="NOT-REVIEWED")
    member = UserFactory(organisation=area_a, roles=[Role.PANEL_MEMBER])
    panel = ScrutinyPanel.objects.create(name="Panel", organisation=area_a)
    assert visible(member) == set()
    panel.members.add(member)
    PanelReview.objects.create(panel=panel, case=case_a, meeting_on=TODAY, sampling="random")
    assert visible(member) == {case_a.urn}
    assert other_case.urn not in visible(member)


def test_restricted_case_is_seen_only_by_named_users(force_a, oic_a, supervisor_a):
    case = CaseFactory(actor=oic_a, urn="RESTRICTED", police_perpetrated=True)
    colleague = UserFactory(organisation=force_a, roles=[Role.OIC])
    assert case.urn in visible(colleague)
    case_restrict(actor=supervisor_a, case=case, users=[oic_a], reason="Suspect is a serving officer.")
    assert case.urn not in visible(colleague)
    assert case.urn in visible(oic_a)
    assert case.urn in visible(supervisor_a)


def test_restricted_case_stays_hidden_from_cps_unless_named(area_a, oic_a, supervisor_a):
    case = CaseFactory(actor=oic_a, urn="RESTRICTED-CPS", police_perpetrated=True)
    prosecutor = UserFactory(organisation=area_a, roles=[Role.PROSECUTOR])
    case_restrict(actor=supervisor_a, case=case, users=[oic_a], reason="Serving officer.")
    case_refer_to_cps(actor=oic_a, case=case, received_on=TODAY, today=TODAY)
    assert case.urn not in visible(prosecutor)
    case.restricted_to.add(prosecutor)
    assert case.urn in visible(prosecutor)


def test_nobody_else_sees_anything(force_a, case_a):
    inactive = UserFactory(organisation=force_a, roles=[Role.OIC], is_active=False)
    no_role = UserFactory(organisation=force_a, roles=[])
    assert visible(AnonymousUser()) == set()
    assert visible(inactive) == set()
    assert visible(no_role) == set()


def test_panel_role_alone_does_not_open_the_organisation(area_a, referred_a):
    member = UserFactory(organisation=area_a, roles=[Role.PANEL_MEMBER])
    assert visible(member) == set()


def test_superuser_operator_sees_all(case_a, oic_b):
    case_b = CaseFactory(actor=oic_b, urn="CASE-B2")
    root = UserFactory(is_superuser=True, is_staff=True)
    assert {case_a.urn, case_b.urn} <= visible(root)


def test_visible_to_returns_each_case_once_with_many_named_users(force_a, oic_a, supervisor_a):
    case = CaseFactory(actor=oic_a, urn="MANY", police_perpetrated=True)
    others = [UserFactory(organisation=force_a, roles=[Role.OIC]) for _ in range(3)]
    case_restrict(actor=supervisor_a, case=case, users=[oic_a, *others], reason="Serving officer.")
    assert Case.objects.visible_to(oic_a).filter(urn="MANY").count() == 1


def test_clocks_follow_the_case_gate(oic_a, oic_b, case_a):
    assert Clock.objects.visible_to(oic_a).filter(case=case_a).exists()
    assert not Clock.objects.visible_to(oic_b).filter(case=case_a).exists()
