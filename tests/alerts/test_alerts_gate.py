"""Nobody is told about a case they cannot see: the alerts' SQL twin of the access gate (``selectors.gate_sql``)
against the one gate (``Case.objects.visible_to``) for every persona and every kind of case, the preference rule
in SQL against ``alert_allowed``, and end to end: every alert detection writes, and every digest item, is
something its reader may see, restricted cases included."""

from __future__ import annotations

import datetime
import itertools
import re

import pytest
import time_machine
from django.db import connection

from alerts import engine as alerts
from cases import ledger, selectors
from cases.models import Alert, Case, Clock, NotificationPreference, Organisation, Role
from cases.services import case_restrict
from charging.models import ChargingReferral
from charging.services import case_refer_to_cps
from governance.models import PanelReview, ScrutinyPanel
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory

D = datetime.date
UTC = datetime.UTC
DIGEST_AT = datetime.datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # Monday, 07:30 GMT


def sql_pairs(users, cases) -> set[tuple[int, int]]:
    """(user, case) pairs the SQL gate lets through."""
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT u.id, c.id FROM cases_user u LEFT JOIN cases_organisation uo ON uo.id = u.organisation_id
            CROSS JOIN cases_case c
            WHERE u.id = ANY(%(users)s) AND c.id = ANY(%(cases)s) AND {selectors.gate_sql("u", "uo", "c")}""",  # noqa: S608
            alerts.sql_params(users=[u.pk for u in users], cases=[c.pk for c in cases]),
        )
        return set(cur.fetchall())


def python_pairs(users, cases) -> set[tuple[int, int]]:
    ids = [c.pk for c in cases]
    return {
        (u.pk, pk)
        for u in users
        for pk in Case.objects.visible_to(u).filter(pk__in=ids).values_list("pk", flat=True)
    }


@pytest.fixture
def world(force_a, force_b, area_a, area_b, oic_a, supervisor_a, prosecutor_a, oic_b, prosecutor_b):
    other_area = Organisation.objects.filter(kind="cps_area").exclude(pk__in=[area_a.pk, area_b.pk]).first()
    people = {
        "oic_a": oic_a,
        "supervisor_a": supervisor_a,
        "prosecutor_a": prosecutor_a,
        "oic_b": oic_b,
        "prosecutor_b": prosecutor_b,
        "triage_a": UserFactory(organisation=force_a, roles=[Role.TRIAGE_OFFICER], username="g-triage-a"),
        "liaison_a": UserFactory(organisation=force_a, roles=[Role.VICTIM_LIAISON], username="g-liaison-a"),
        "admin_a": UserFactory(organisation=force_a, roles=[Role.ADMINISTRATOR], username="g-admin-a"),
        "system_a": UserFactory(organisation=force_a, roles=[Role.FORCE_SYSTEM], username="g-system-a"),
        "no_role_a": UserFactory(organisation=force_a, roles=[], username="g-no-role-a"),
        "legal_manager_a": UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="g-lm-a"),
        "other_area": UserFactory(organisation=other_area, roles=[Role.PROSECUTOR], username="g-other-area"),
        "panel_a": UserFactory(organisation=area_a, roles=[Role.PANEL_MEMBER], username="g-panel-a"),
        "panel_idle": UserFactory(organisation=area_a, roles=[Role.PANEL_MEMBER], username="g-panel-idle"),
        "panel_oic_b": UserFactory(
            organisation=force_b, roles=[Role.OIC, Role.PANEL_MEMBER], username="g-poic-b"
        ),
        "inactive_a": UserFactory(
            organisation=force_a, roles=[Role.OIC], is_active=False, username="g-gone-a"
        ),
        "operator": UserFactory(is_superuser=True, is_staff=True, username="g-operator"),
        "operator_a": UserFactory(
            organisation=force_a, roles=[Role.POLICE_SUPERVISOR], is_superuser=True, username="g-operator-a"
        ),
    }
    cases = {
        "a_new": CaseFactory(actor=oic_a),
        "a_referred": CaseFactory(actor=oic_a),
        "a_to_other_area": CaseFactory(actor=oic_a),
        "a_restricted": CaseFactory(actor=oic_a, police_perpetrated=True),
        "a_restricted_cps": CaseFactory(actor=oic_a, police_perpetrated=True),
        "a_restricted_not_oic": CaseFactory(actor=oic_a, police_perpetrated=True),
        "a_reviewed": CaseFactory(actor=oic_a),
        "a_restricted_reviewed": CaseFactory(actor=oic_a, police_perpetrated=True),
        "b": CaseFactory(actor=oic_b),
        "b_reviewed": CaseFactory(actor=oic_b),
    }
    for key in ("a_referred", "a_restricted_cps", "a_reviewed", "a_restricted_reviewed"):
        case_refer_to_cps(actor=oic_a, case=cases[key], received_on=TODAY, today=TODAY)
    case_refer_to_cps(
        actor=oic_a, case=cases["a_to_other_area"], received_on=TODAY, today=TODAY, cps_area=other_area
    )
    case_restrict(actor=supervisor_a, case=cases["a_restricted"], users=[oic_a], reason="Officer suspect.")
    case_restrict(
        actor=supervisor_a,
        case=cases["a_restricted_cps"],
        users=[oic_a, prosecutor_a],
        reason="Officer suspect.",
    )
    case_restrict(actor=supervisor_a, case=cases["a_restricted_not_oic"], users=[], reason="Officer suspect.")
    case_restrict(
        actor=supervisor_a,
        case=cases["a_restricted_reviewed"],
        users=[people["panel_a"]],
        reason="Officer suspect.",
    )
    panel = ScrutinyPanel.objects.create(name="Gate test panel", organisation=area_a)
    panel.members.add(people["panel_a"], people["panel_oic_b"])
    for key in ("a_reviewed", "a_restricted_reviewed", "b_reviewed"):
        PanelReview.objects.create(panel=panel, case=cases[key], meeting_on=TODAY, sampling="random")
    return people, cases


@pytest.mark.django_db
def test_the_sql_gate_lets_through_exactly_what_the_access_gate_does(world):
    people, cases = world
    users, kinds = list(people.values()), list(cases.values())
    expected = python_pairs(users, kinds)
    assert sql_pairs(users, kinds) == expected
    # The world exercises every clause: some see, some do not, restricted cases both ways, panels, operators.
    pk = {name: u.pk for name, u in people.items()}
    case = {name: c.pk for name, c in cases.items()}
    assert (pk["oic_a"], case["a_restricted"]) in expected
    assert (pk["supervisor_a"], case["a_restricted_not_oic"]) in expected
    assert (pk["oic_a"], case["a_restricted_not_oic"]) not in expected
    assert (pk["prosecutor_a"], case["a_restricted_cps"]) in expected
    assert (pk["prosecutor_a"], case["a_restricted"]) not in expected
    assert (pk["panel_a"], case["a_restricted_reviewed"]) in expected
    assert (pk["panel_oic_b"], case["a_reviewed"]) in expected
    assert (pk["panel_oic_b"], case["a_restricted_reviewed"]) not in expected
    assert (pk["panel_idle"], case["a_referred"]) not in expected
    assert (pk["prosecutor_a"], case["a_to_other_area"]) not in expected
    assert (pk["other_area"], case["a_to_other_area"]) in expected
    assert (pk["operator"], case["a_restricted_not_oic"]) in expected
    assert not any(u == pk["no_role_a"] or u == pk["inactive_a"] for u, _ in expected)


@pytest.mark.django_db
def test_clocks_and_submissions_apply_the_gate_to_their_copy_of_the_case_exactly_as_the_case_does(world):
    """``Clock.objects.visible_to`` and ``ChargingReferral.objects.visible_to`` read the row's copy of its case's
    force, CPS Area and restricted flag: for every persona they let through the rows of exactly the cases
    ``Case.objects.visible_to`` does."""
    people, cases = world
    ids = [c.pk for c in cases.values()]
    assert set(Clock.objects.filter(case_id__in=ids).values_list("case_id", flat=True)) == set(ids)
    referred = set(ChargingReferral.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
    assert len(referred) == 5
    for name, user in people.items():
        via_case = set(Case.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
        via_copy = set(
            Clock.objects.visible_to(user).filter(case_id__in=ids).values_list("case_id", flat=True)
        )
        assert via_copy == via_case, name
        # Submissions carry the same copy (``ChargingReferral.objects.visible_to``).
        via_copy = set(
            ChargingReferral.objects.visible_to(user)
            .filter(case_id__in=ids)
            .values_list("case_id", flat=True)
        )
        assert via_copy == via_case & referred, name


@pytest.mark.django_db
def test_the_preference_rule_in_sql_is_alert_allowed():
    for threshold in (*alerts.DETECTED, alerts.DIGEST):
        sql = alerts.preference_sql(threshold)
        for digest_on, immediate_on, oic in itertools.product((True, False), repeat=3):
            roles = ["oic"] if oic else ["prosecutor"]
            expected = alerts.alert_allowed(
                roles=roles, threshold=threshold, digest_enabled=digest_on, immediate_enabled=immediate_on
            )
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT {sql} FROM (SELECT %(roles)s::varchar[] AS roles) u, "  # noqa: S608
                    "(SELECT %(d)s AS digest_enabled, %(i)s AS immediate_enabled) p",
                    {**alerts.sql_params(), "roles": roles, "d": digest_on, "i": immediate_on},
                )
                assert cur.fetchone()[0] is expected, (threshold, digest_on, immediate_on, roles)
    assert alerts.preference_sql(alerts.STL_14_DAYS) == "TRUE"


@pytest.mark.django_db
def test_no_preference_row_means_both_on(oic_a, prosecutor_a):
    NotificationPreference.objects.create(user=prosecutor_a, digest_enabled=True, immediate_enabled=False)
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT u.id FROM cases_user u LEFT JOIN cases_notificationpreference p ON p.user_id = u.id
            WHERE u.id = ANY(%(ids)s) AND {alerts.preference_sql(alerts.OVERDUE)}""",  # noqa: S608
            alerts.sql_params(ids=[oic_a.pk, prosecutor_a.pk]),
        )
        assert [r[0] for r in cur.fetchall()] == [oic_a.pk]


def _digest_urns(alert: Alert) -> set[str]:
    return set(re.findall(r"^- Case (\S+):", alert.body_text, flags=re.M))


@pytest.mark.django_db
def test_alerts_and_digests_reach_only_people_who_may_see_the_case(world, area_a):
    people, cases = world
    # Time limits within 14 days on every case of force A (common assault 12 Sep 2025 -> STL 12 Mar 2026), and
    # a police deadline two working days overdue on each (investigation due 23 Feb; the sweep on 2 Mar).
    stl_cases = {
        key: CaseFactory(
            actor=people["oic_a"],
            committed_on=D(2025, 9, 12),
            reported_on=D(2026, 2, 2),
            today=D(2026, 2, 2),
            police_perpetrated=key != "plain",
        )
        for key in ("plain", "restricted", "restricted_not_oic", "restricted_cps")
    }
    for case in stl_cases.values():
        case_refer_to_cps(actor=people["oic_a"], case=case, received_on=TODAY, today=TODAY)
    restrict = {
        "restricted": [people["oic_a"]],
        "restricted_not_oic": [],
        "restricted_cps": [people["prosecutor_a"]],
    }
    for key, named in restrict.items():
        case_restrict(
            actor=people["supervisor_a"], case=stl_cases[key], users=named, reason="Officer suspect."
        )
    ledger.sweep(today=TODAY)
    with time_machine.travel(DIGEST_AT, tick=False):
        counts = alerts.alerts_detect(today=TODAY)
        alerts.digests_build()
    assert counts["stl_14_days"] and counts["escalation"]

    rows = list(Alert.objects.exclude(case=None).select_related("recipient", "case"))
    assert rows
    for row in rows:
        assert Case.objects.visible_to(row.recipient).filter(pk=row.case_id).exists(), (
            row.recipient,
            row.case,
        )
    told = {(a.recipient.username, a.case_id, a.threshold) for a in rows}
    restricted_not_oic = stl_cases["restricted_not_oic"].pk
    # The OIC may not see it: the police side falls back to the supervisors named on it (the restrictor).
    assert ("oic-a", restricted_not_oic, "stl_14_days") not in told
    assert ("supervisor-a", restricted_not_oic, "stl_14_days") in told
    assert ("g-operator-a", restricted_not_oic, "stl_14_days") in told, (
        "a superuser supervisor sees everything"
    )
    # CPS side before allocation: the Area's prosecutors who may see it.
    assert ("prosecutor-a", stl_cases["restricted_cps"].pk, "stl_14_days") in told
    assert ("prosecutor-a", stl_cases["restricted"].pk, "stl_14_days") not in told
    assert ("prosecutor-a", stl_cases["plain"].pk, "stl_14_days") in told

    # Digests: each reader's items are exactly what the Python gate and scope give (clocks_for).
    digests = {a.recipient: a for a in Alert.objects.filter(threshold="digest").select_related("recipient")}
    assert {u.username for u in digests} >= {"oic-a", "supervisor-a", "prosecutor-a", "g-lm-a", "g-triage-a"}
    for reader, digest in digests.items():
        reference = alerts.clocks_for(reader).filter(warn_on__lte=TODAY)
        urns = set(reference.values_list("case__urn", flat=True))
        assert _digest_urns(digest) == urns, reader.username
        assert f": {reference.count()} item" in digest.subject, reader.username
    assert stl_cases["restricted_not_oic"].urn not in _digest_urns(digests[people["oic_a"]])
    assert stl_cases["restricted_not_oic"].urn in _digest_urns(digests[people["supervisor_a"]])
    assert stl_cases["restricted"].urn not in _digest_urns(digests[people["triage_a"]])
    assert stl_cases["restricted_cps"].urn in _digest_urns(digests[people["prosecutor_a"]])
    assert stl_cases["restricted_cps"].urn not in _digest_urns(digests[people["legal_manager_a"]])
