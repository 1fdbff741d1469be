"""``manage.py seed_demo``: cases at every stage, one user per role in two forces and their Areas, demo logins
only in the local run, and a second run that changes nothing.

seed_demo reads the real clock (``ledger.london_today()``, ``timezone.now()``), so each run travels to TODAY.
"""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings

from cases.models import Case, CaseEvent, Clock, ClockEvent, Organisation, Role, User
from charging.models import ChargingReferral
from demo.management.commands.seed_demo import DEMO_PASSWORD
from tests.conftest import TODAY
from victims.models import SupportService, Victim

pytestmark = pytest.mark.django_db

NOON = datetime.datetime.combine(TODAY, datetime.time(12, 0), tzinfo=datetime.UTC)  # GMT in March
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]

FORCE_ROLES = {Role.OIC, Role.POLICE_SUPERVISOR, Role.TRIAGE_OFFICER, Role.VICTIM_LIAISON, Role.ADMINISTRATOR}
AREA_ROLES = {Role.PROSECUTOR, Role.LEGAL_MANAGER, Role.PANEL_MEMBER}


def seed(*, local: bool) -> str:
    out = StringIO()
    with (
        override_settings(LOCAL_RUN=local, DEBUG=False, PASSWORD_HASHERS=FAST_HASHER),
        time_machine.travel(NOON, tick=False),
    ):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def demo_users():
    return User.objects.filter(email__endswith="@demo.jjp.invalid")


def counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "clocks": Clock.objects.count(),
        "open_clocks": Clock.objects.open().count(),
        "clock_events": ClockEvent.objects.count(),
        "referrals": ChargingReferral.objects.count(),
        "victims": Victim.objects.count(),
        "users": User.objects.count(),
        "support_services": SupportService.objects.count(),
    }


@pytest.fixture
def seeded() -> str:
    return seed(local=True)


def test_cases_at_every_stage_in_both_forces(seeded):
    statuses = set(Case.objects.filter(urn__startswith="DEMO").values_list("status", flat=True))
    assert statuses >= {"investigation", "referred", "action_plan", "decided", "charged", "at_court", "nfa"}
    for code in ("GMP", "WYP"):
        force = Organisation.objects.get(code=code)
        cases = Case.objects.filter(force=force)
        assert cases.exists() and all(c.urn.startswith(f"DEMO{code}") for c in cases)
        # Referred cases went to the force's own Area.
        assert set(cases.exclude(cps_area=None).values_list("cps_area", flat=True)) == {force.area_id}
        assert cases.filter(restricted=True, police_perpetrated=True).count() == 1
    # Made through the services: every case has its timeline and its investigation clock.
    for case in Case.objects.all():
        assert case.events.filter(kind="case_created").exists()
        assert case.clocks.filter(kind=Clock.Kind.INVESTIGATION).count() == 1
    assert "Created" in seeded


def test_one_user_per_role_in_each_force_and_area(seeded):
    for code in ("GMP", "WYP"):
        force = Organisation.objects.get(code=code)
        for org, roles in ((force, FORCE_ROLES), (force.area, AREA_ROLES)):
            users = demo_users().filter(organisation=org)
            held = sorted(r for u in users for r in u.roles)
            assert held == sorted(roles), org
    assert demo_users().count() == 2 * (len(FORCE_ROLES) + len(AREA_ROLES))
    assert {o.code for o in Organisation.objects.filter(users__in=demo_users())} == {"GMP", "WYP", "NW", "YH"}


def test_demo_users_can_log_in_in_the_local_run(seeded):
    users = list(demo_users())
    assert users
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        for user in users:
            assert user.check_password(DEMO_PASSWORD), user.username
        client = Client()
        assert client.login(username="gmp-oic", password=DEMO_PASSWORD)
        assert not client.login(username="gmp-oic", password="wrong-password")
    assert DEMO_PASSWORD in seeded


def test_second_run_changes_nothing(seeded):
    before = counts()
    states = dict(Clock.objects.values_list("pk", "state"))
    assert before["cases"] > 0 and before["events"] > before["cases"]
    again = seed(local=True)
    assert counts() == before
    assert dict(Clock.objects.values_list("pk", "state")) == states
    assert "already exist" in again


def test_outside_the_local_run_demo_users_get_unusable_passwords():
    output = seed(local=False)
    users = list(demo_users())
    assert len(users) == 2 * (len(FORCE_ROLES) + len(AREA_ROLES))
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        for user in users:
            assert not user.has_usable_password(), user.username
            assert not user.check_password(DEMO_PASSWORD)
        assert not Client().login(username="gmp-oic", password=DEMO_PASSWORD)
    assert DEMO_PASSWORD not in output


def test_run_outside_the_local_run_disables_earlier_demo_passwords(seeded):
    seed(local=False)
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        assert not Client().login(username="gmp-oic", password=DEMO_PASSWORD)
        assert not any(u.has_usable_password() for u in demo_users())


def test_the_demo_forces_and_areas_have_a_directory_of_support_services(seeded):
    """Issue 19: a referral to support services or to an IDVA can be chosen in the demo."""
    for code in ("GMP", "WYP"):
        force = Organisation.objects.get(code=code)
        kinds = set(
            SupportService.objects.filter(organisation=force, active=True).values_list("kind", flat=True)
        )
        assert {"idva", "refuge", "specialist_da", "victim_support"} <= kinds, code
        assert SupportService.objects.filter(organisation=force.area).exists(), force.area.code
