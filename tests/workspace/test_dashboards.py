"""Dashboards, the case page, search, CSV export and the printable summary: each role lands on its dashboard,
each list shows what it should (and nothing from outside the user's reach), badges read right for today, and
every page runs the same bounded number of queries with 3 cases as with 30."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import ledger
from cases.models import Case, Clock, Role
from charging import services as charging
from charging.models import ActionPlan
from tests.factories import CaseFactory, UserFactory
from victims.models import ProtectiveOrder, Victim
from victims.services import victim_add
from workspace import dashboards

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2026, 3, 2)  # a Monday
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def legal_manager_a(area_a):
    return UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="legal-manager-a")


def body(response) -> str:
    return response.content.decode()


# --------------------------------------------------------------------------------------------------------------
# Building cases at each stage, through the services (as real use makes them)
# --------------------------------------------------------------------------------------------------------------


def case_with_two_plans(oic, prosecutor, urn: str) -> Case:
    """High risk common assault with its STL on 1 Apr 2026 (inside eight weeks); two action plans, the second
    open with an overdue action. Watch list, conversation flag, actions due, overdue, repeat plans."""
    case = CaseFactory(
        actor=oic,
        urn=urn,
        offence="CJA88-39",
        reported_on=D(2026, 2, 1),
        committed_on=D(2025, 10, 1),
        risk_level=Case.RiskLevel.HIGH,
    )
    ref = charging.case_refer_to_cps(actor=oic, case=case, received_on=D(2026, 2, 9), today=TODAY)
    charging.action_plan_issue(
        actor=prosecutor,
        referral=ref,
        decided_on=D(2026, 2, 10),
        respond_by=D(2026, 2, 20),
        reasons="More needed.",
        actions=[{"description": f"First plan action {urn}", "due_on": D(2026, 2, 13)}],
        today=TODAY,
    )
    ref = charging.case_refer_to_cps(actor=oic, case=case, received_on=D(2026, 2, 16), today=TODAY)
    plan = charging.action_plan_issue(
        actor=prosecutor,
        referral=ref,
        decided_on=D(2026, 2, 17),
        respond_by=D(2026, 3, 10),
        reasons="Still more needed.",
        actions=[
            {"description": f"Obtain the 999 call {urn}", "due_on": D(2026, 2, 27)},
            {"description": f"Neighbour statement {urn}"},
        ],
        today=TODAY,
    )
    model = dashboards.escalation_model()
    if model is not None:
        supervisor = UserFactory(organisation=case.force, roles=[Role.POLICE_SUPERVISOR], username="esc-sup")
        model.objects.create(plan=plan, raised_by=supervisor, raised_on=D(2026, 2, 20), grounds="Too much.")
    return case


def case_resubmitted(oic, prosecutor, urn: str) -> Case:
    """ABH with a victim; an action plan answered and resubmitted: awaiting triage and a decision."""
    case = CaseFactory(
        actor=oic, urn=urn, offence="OAPA-47", reported_on=D(2026, 2, 2), committed_on=D(2026, 2, 1)
    )
    victim_add(actor=oic, case=case, given_name="Vicky", family_name="Secret")
    ref = charging.case_refer_to_cps(actor=oic, case=case, received_on=D(2026, 2, 9), today=TODAY)
    charging.action_plan_issue(
        actor=prosecutor,
        referral=ref,
        decided_on=D(2026, 2, 11),
        respond_by=D(2026, 2, 25),
        reasons="More needed.",
        actions=[{"description": f"Photographs {urn}"}],
        today=TODAY,
    )
    action = case.action_plans.get().actions.get()
    charging.action_update(actor=oic, action=action, status="completed", on=D(2026, 2, 20), today=TODAY)
    charging.case_refer_to_cps(actor=oic, case=case, received_on=D(2026, 2, 23), today=TODAY)
    return case


def case_returned(oic, prosecutor, urn: str) -> Case:
    """Returned at triage; a victim update and a protective order expiring this month."""
    case = CaseFactory(
        actor=oic, urn=urn, offence="CJA88-39", reported_on=D(2026, 2, 2), committed_on=D(2026, 2, 1)
    )
    victim = victim_add(actor=oic, case=case, given_name="Val", family_name="Hidden")
    ref = charging.case_refer_to_cps(actor=oic, case=case, received_on=D(2026, 2, 9), today=TODAY)
    charging.referral_triage(
        actor=prosecutor,
        referral=ref,
        accept=False,
        on=D(2026, 2, 10),
        reasons=["no_mg3"],
        respond_by=D(2026, 3, 6),
        today=TODAY,
    )
    ledger.clock_open(
        case=case,
        kind=Clock.Kind.VICTIM_UPDATE,
        side=Clock.Side.POLICE,
        started_on=D(2026, 2, 27),
        label="Tell the victim: file returned",
        victim=victim,
        params={"enhanced": True},
        today=TODAY,
    )
    order = ProtectiveOrder.objects.create(
        case=case,
        kind=ProtectiveOrder.Kind.DVPO,
        status=ProtectiveOrder.Status.GRANTED,
        considered_on=D(2026, 2, 2),
        granted_on=D(2026, 2, 3),
        expires_on=D(2026, 3, 20),
    )
    ledger.clock_open(
        case=case,
        kind=Clock.Kind.ORDER_EXPIRY,
        side=Clock.Side.POLICE,
        started_on=D(2026, 2, 3),
        label="DVPO expires",
        order=order,
        today=TODAY,
    )
    return case


BUILDERS = (case_with_two_plans, case_resubmitted, case_returned)


def build(oic, prosecutor, start: int, count: int) -> list[Case]:
    return [BUILDERS[i % 3](oic, prosecutor, f"Q{i:03d}") for i in range(start, start + count)]


# --------------------------------------------------------------------------------------------------------------
# Routing and access
# --------------------------------------------------------------------------------------------------------------


def test_home_sends_each_role_to_its_dashboard(
    client, oic_a, prosecutor_a, supervisor_a, legal_manager_a, area_a
):
    expected = {
        oic_a: reverse("dashboard", args=["oic"]),
        prosecutor_a: reverse("dashboard", args=["prosecutor"]),
        supervisor_a: reverse("dashboard", args=["police-supervisor"]),
        legal_manager_a: reverse("dashboard", args=["legal-manager"]),
        UserFactory(organisation=area_a, roles=[Role.PANEL_MEMBER], username="panel"): reverse("case_list"),
    }
    for user, url in expected.items():
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url == url, user.username
        assert client.get(response.url).status_code == 200


def test_dashboards_are_for_their_roles(client, oic_a, prosecutor_a):
    client.force_login(oic_a)
    assert client.get(reverse("dashboard", args=["prosecutor"])).status_code == 403
    assert client.get(reverse("dashboard", args=["legal-manager"])).status_code == 403
    assert client.get(reverse("dashboard", args=["nope"])).status_code == 404
    assert client.get(reverse("dashboard_export", args=["prosecutor", "awaiting"])).status_code == 403
    assert client.get(reverse("dashboard_export", args=["oic", "nope"])).status_code == 404
    client.logout()
    response = client.get(reverse("dashboard", args=["oic"]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_navigation_shows_the_users_dashboards(client, legal_manager_a):
    client.force_login(legal_manager_a)
    page = body(client.get(reverse("case_list")))
    assert "Legal manager dashboard" in page and "Prosecutor dashboard" in page
    assert "My cases" not in page and "Open a case" not in page


# --------------------------------------------------------------------------------------------------------------
# Badges
# --------------------------------------------------------------------------------------------------------------


def _clock(kind: str, due: D, warn_days: int = 3, stopped: D | None = None, state: str = "running") -> Clock:
    return Clock(
        kind=kind,
        due_on=due,
        warn_on=due - datetime.timedelta(days=warn_days),
        started_on=D(2026, 1, 1),
        stopped_on=stopped,
        state=state,
    )


@pytest.mark.parametrize(
    ("kind", "due", "warn", "text", "colour"),
    [
        ("charge", D(2026, 3, 9), 3, "Charge: 7 days left", "blue"),
        ("charge", D(2026, 3, 3), 3, "Charge: due soon, 1 day left", "yellow"),
        ("charge", TODAY, 3, "Charge: due today", "orange"),
        ("action", D(2026, 2, 27), 3, "Action: overdue by 3 days", "red"),
        ("stl", D(2026, 4, 1), 56, "STL: 30 days left, within 8 weeks", "red"),
        ("stl", D(2026, 6, 1), 56, "STL: 91 days left", "blue"),
        ("stl", D(2026, 3, 1), 56, "STL: time-barred", "black"),
        ("stl_common_assault", D(2026, 2, 1), 56, "STL (common assault): time-barred", "black"),
    ],
)
def test_badges_read_right_for_today(kind, due, warn, text, colour):
    badge = dashboards.clock_badge(_clock(kind, due, warn), TODAY)
    assert (badge.text, badge.colour) == (text, colour)


def test_badges_of_stopped_clocks_say_how_they_ended():
    met = dashboards.clock_badge(_clock("charge", D(2026, 3, 9), stopped=D(2026, 3, 2), state="met"), TODAY)
    missed = dashboards.clock_badge(
        _clock("action", D(2026, 2, 9), stopped=D(2026, 3, 2), state="missed"), TODAY
    )
    assert (met.text, met.colour, missed.text, missed.colour) == (
        "Charge: met",
        "green",
        "Action: missed",
        "red",
    )
    assert "jjp-tag--black" in dashboards.Badge("x", "black").css


# --------------------------------------------------------------------------------------------------------------
# What each dashboard shows
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def three(oic_a, prosecutor_a):
    return build(oic_a, prosecutor_a, 0, 3)


def test_oic_dashboard(client, oic_a, oic_b, three):
    plans, resubmitted, returned = three
    other = CaseFactory(
        actor=UserFactory(organisation=oic_a.organisation, roles=[Role.OIC], username="oic-2")
    )
    elsewhere = CaseFactory(actor=oic_b, urn="WYP-CASE")
    client.force_login(oic_a)
    response = client.get(reverse("dashboard", args=["oic"]))
    page = body(response)
    rows = response.context["sections"]["cases"].rows
    mine = [c.urn for c in rows]
    assert set(mine) == {c.urn for c in three} and other.urn not in page and elsewhere.urn not in page
    earliest = [min(k.due_on for k in c.open_clocks) for c in rows]
    assert earliest == sorted(earliest), "most urgent (earliest open deadline) first"
    actions = response.context["sections"]["actions"].rows
    assert [a.description for a in actions] == [
        f"Obtain the 999 call {plans.urn}",
        f"Neighbour statement {plans.urn}",
    ]
    assert "Action: overdue by 3 days" in page
    assert "STL: 30 days left, within 8 weeks" in page
    assert [c.case_id for c in response.context["sections"]["victim_updates"].rows] == [returned.pk]
    assert [c.case_id for c in response.context["sections"]["orders"].rows] == [returned.pk]
    assert "Order expiry: 18 days left" in page
    # The headline numbers (one aggregate query) agree with the clocks on the rows.
    shown = [k for c in rows for k in c.open_clocks]
    stl = [k for k in shown if k.kind in Clock.STL_KINDS]
    other = [k for k in shown if k.kind not in Clock.STL_KINDS]
    assert response.context["counts"] == {
        "overdue": sum(k.due_on < TODAY for k in other),
        "due_soon": sum(TODAY <= k.due_on <= TODAY + datetime.timedelta(days=3) for k in other),
        "stl_soon": sum(TODAY <= k.due_on <= TODAY + datetime.timedelta(days=56) for k in stl),
        "time_barred": sum(k.due_on < TODAY for k in stl),
    }
    assert response.context["counts"]["overdue"] >= 2 and response.context["counts"]["stl_soon"] == 1


def _counted(clocks_: list[Clock]) -> dict[str, int]:
    stl = [k for k in clocks_ if k.kind in Clock.STL_KINDS]
    other = [k for k in clocks_ if k.kind not in Clock.STL_KINDS]
    return {
        "overdue": sum(k.due_on < TODAY for k in other),
        "due_soon": sum(TODAY <= k.due_on <= TODAY + datetime.timedelta(days=3) for k in other),
        "stl_soon": sum(TODAY <= k.due_on <= TODAY + datetime.timedelta(days=56) for k in stl),
        "time_barred": sum(k.due_on < TODAY for k in stl),
    }


def test_headline_counts_are_the_organisations_side_of_the_work_behind_the_gate(
    client, prosecutor_a, supervisor_a, oic_a, oic_b, three
):
    """A force's police-side deadlines, an Area's CPS-side deadlines and every STL, of the cases the person may
    see: a restricted case they are not named on is not counted, nor another force's or Area's cases."""
    from cases.services import case_restrict

    hidden = CaseFactory(actor=oic_a, urn="HIDDEN", police_perpetrated=True)
    charging.case_refer_to_cps(
        actor=oic_a, case=hidden, received_on=TODAY - datetime.timedelta(days=20), today=TODAY
    )
    other_supervisor = UserFactory(organisation=oic_a.organisation, roles=[Role.POLICE_SUPERVISOR])
    case_restrict(actor=other_supervisor, case=hidden, users=[oic_a], reason="Serving officer.")
    # Police-side: investigations overdue (reported 30 days ago, not referred), hidden and elsewhere.
    month_ago = TODAY - datetime.timedelta(days=30)
    hidden_police = CaseFactory(actor=oic_a, urn="HIDDEN-2", police_perpetrated=True, reported_on=month_ago)
    case_restrict(actor=other_supervisor, case=hidden_police, users=[oic_a], reason="Serving officer.")
    CaseFactory(actor=oic_b, urn="WYP-CASE-2", reported_on=month_ago)
    elsewhere = CaseFactory(actor=oic_b, urn="WYP-CASE")
    charging.case_refer_to_cps(
        actor=oic_b, case=elsewhere, received_on=TODAY - datetime.timedelta(days=20), today=TODAY
    )
    for user, slug, side in (
        (prosecutor_a, "prosecutor", lambda k: k.side == Clock.Side.CPS or k.kind in Clock.STL_KINDS),
        (supervisor_a, "police-supervisor", lambda k: k.side == Clock.Side.POLICE),
    ):
        client.force_login(user)
        response = client.get(reverse("dashboard", args=[slug]))
        seen = Clock.objects.open().filter(case__in=Case.objects.visible_to(user))
        expected = _counted([k for k in seen if side(k)])
        assert response.context["counts"] == expected, slug
        assert sum(expected.values()) > 0
        every = _counted([k for k in Clock.objects.open() if side(k)])
        assert every != expected, "the hidden and the other organisation's deadlines would change the numbers"
        assert dashboards.DASHBOARDS[slug].counts_of in body(response).replace("&#x27;", "'")


def test_prosecutor_dashboard(client, prosecutor_a, prosecutor_b, oic_a, three):
    plans, resubmitted, returned = three
    client.force_login(prosecutor_a)
    response = client.get(reverse("dashboard", args=["prosecutor"]))
    sections = response.context["sections"]
    page = body(response)
    assert [c.case_id for c in sections["stl_watch"].rows] == [plans.pk]
    assert page.index("STL watch list") < page.index("Referrals awaiting a decision"), (
        "the watch list is on top"
    )
    assert "jjp-alert-panel" in page
    assert [r.case_id for r in sections["awaiting"].rows] == [resubmitted.pk]
    assert [r.case_id for r in sections["resubmissions"].rows] == [resubmitted.pk]
    assert "1 of 1 action completed" in page
    assert [c.pk for c in sections["conversations"].rows] == [plans.pk]
    assert dashboards.conversation_reasons(sections["conversations"].rows[0]) == [
        "STL within 8 weeks",
        "High risk",
    ]
    # A case conversation takes the case off that list.
    charging.conversation_record(actor=prosecutor_a, case=plans, held_on=TODAY, mode="digital", today=TODAY)
    assert not client.get(reverse("dashboard", args=["prosecutor"])).context["sections"]["conversations"].rows
    # Another Area's prosecutor sees none of it.
    client.force_login(prosecutor_b)
    other = client.get(reverse("dashboard", args=["prosecutor"])).context["sections"]
    assert not any(p.rows for p in other.values())


def test_supervisor_dashboards(client, supervisor_a, legal_manager_a, three):
    plans, resubmitted, returned = three
    client.force_login(supervisor_a)
    police = client.get(reverse("dashboard", args=["police-supervisor"])).context
    overdue = police["sections"]["overdue"].rows
    assert {c.case_id for c in overdue if c.kind == "action"} == {plans.pk}
    assert all(c.side == "police" and c.due_on < TODAY for c in overdue)
    assert [r.case_id for r in police["sections"]["triage"].rows] == [resubmitted.pk]
    assert [r.case_id for r in police["sections"]["returned"].rows] == [returned.pk]
    assert police["sections"]["returned"].rows[0].reason_labels == ["No MG3 (report to the crown prosecutor)"]
    rows = _csv(client.get(reverse("dashboard_export", args=["police-supervisor", "returned"])))
    assert rows[1][0] == returned.urn and rows[1][3] == "No MG3 (report to the crown prosecutor)"
    assert [c.pk for c in police["sections"]["repeat_plans"].rows] == [plans.pk]
    assert police["sections"]["repeat_plans"].rows[0].n_plans == 2
    if dashboards.escalation_model() is not None:
        assert [e.plan.case_id for e in police["sections"]["escalations"].rows] == [plans.pk]

    client.force_login(legal_manager_a)
    cps = client.get(reverse("dashboard", args=["legal-manager"])).context
    assert not cps["sections"]["overdue"].rows, "police actions are not the CPS team's overdue work"
    assert [r.case_id for r in cps["sections"]["triage"].rows] == [resubmitted.pk]


def test_awaiting_referrals_by_charging_clock_then_custody(client, oic_a, prosecutor_a):
    """Earliest charging decision due first; on the same due date, custody first."""
    later = CaseFactory(actor=oic_a, urn="LATER", reported_on=D(2026, 2, 2))
    bailed = CaseFactory(actor=oic_a, urn="BAILED", reported_on=D(2026, 2, 2))
    custody = CaseFactory(actor=oic_a, urn="CUSTODY", reported_on=D(2026, 2, 2))
    charging.case_refer_to_cps(actor=oic_a, case=later, received_on=D(2026, 2, 27), today=TODAY)
    charging.case_refer_to_cps(actor=oic_a, case=bailed, received_on=D(2026, 2, 23), today=TODAY)
    charging.case_refer_to_cps(
        actor=oic_a, case=custody, received_on=D(2026, 2, 23), custody=True, today=TODAY
    )
    rows = list(dashboards.referrals_awaiting(prosecutor_a, TODAY))
    assert [r.case.urn for r in rows] == ["CUSTODY", "BAILED", "LATER"]
    assert [r.charging_due for r in rows] == [D(2026, 3, 9), D(2026, 3, 9), D(2026, 3, 13)]
    assert [r.case.urn for r in dashboards.triage_queue(prosecutor_a, TODAY)] == [
        "CUSTODY",
        "BAILED",
        "LATER",
    ]


def test_lists_read_stored_columns_not_aggregates_of_related_rows(
    oic_a, prosecutor_a, supervisor_a, legal_manager_a, three
):
    """At national scale a list must be read off an index in its order and stop at the page: no list groups
    its rows to aggregate clocks or plans (the earliest deadline, the charging clock, the number of plans are
    stored on the case and the submission: cases/derived.py)."""
    boards = (
        (oic_a, dashboards.OIC),
        (prosecutor_a, dashboards.PROSECUTOR),
        (supervisor_a, dashboards.POLICE_SUPERVISOR),
        (legal_manager_a, dashboards.LEGAL_MANAGER),
    )
    for user, board in boards:
        for section in board.sections:
            sql = str(section.rows(user, TODAY).query).upper()
            assert "GROUP BY" not in sql, f"{board.slug}/{section.slug} aggregates related rows"
    rows = dashboards.repeat_action_plans(supervisor_a, TODAY)
    assert [(c.urn, c.n_plans) for c in rows] == [(three[0].urn, 2)]


def test_escalations_fall_back_when_the_model_is_missing(client, supervisor_a, monkeypatch):
    monkeypatch.setattr(dashboards, "escalation_model", lambda: None)
    client.force_login(supervisor_a)
    response = client.get(reverse("dashboard", args=["police-supervisor"]))
    assert "not recorded in this system yet" in body(response)
    assert not dashboards.escalations(supervisor_a, TODAY).exists()


# --------------------------------------------------------------------------------------------------------------
# The case page and the printable summary
# --------------------------------------------------------------------------------------------------------------


def test_case_page_shows_the_record(client, oic_a, prosecutor_a, three):
    plans, resubmitted, returned = three
    client.force_login(prosecutor_a)
    page = body(client.get(reverse("case_detail", args=[plans.pk])))
    assert "Statutory time limit warning" in page and "within 8 weeks" in page
    assert "moj-timeline" in page and "Action plan issued with 2 actions" in page
    assert "Action plan 2: issued 17 Feb 2026" in page and "Action: overdue by 3 days" in page
    assert "With CPS: <strong>2 working days</strong> over 2 submissions" in page
    assert "With police on action plans: <strong>19 days</strong>" in page, "6 on the first plan, 13 so far"
    assert (
        "<strong>Issue an action plan.</strong> Not at this stage: the case is action plan with police."
        in page
    )
    assert "Refer to CPS" not in page, "a prosecutor never refers"

    client.force_login(oic_a)
    Victim.objects.filter(case=returned).update(confidential_address="1 Refuge Road")
    page = body(client.get(reverse("case_detail", args=[returned.pk])))
    assert "Victim 1" in page and "Val" not in page and "Hidden" not in page, "no victim names on the page"
    summary = body(client.get(reverse("case_summary", args=[returned.pk])))
    assert "Refuge Road" not in page and "Refuge Road" not in summary, "never the confidential address"
    assert "DVPO" in page or "Domestic violence protection order" in page
    assert "Returned at triage" in page and "No MG3" in page
    assert 'id="step-refer"' in page, "the OIC can resubmit"
    assert "Record the charge." in page and "This step is possible when the case is decided: charge" in page


def test_step_errors_are_shown_the_govuk_way(client, oic_a, case_a):
    """A refused step comes back with an error summary linking to the field, the field marked in error and
    described by its message, and its form open."""
    client.force_login(oic_a)
    response = client.post(
        reverse("case_step", args=[case_a.pk, "refer"]),
        {"refer-received_on": "2026-12-01", "refer-kind": "charging_decision"},
    )
    page = body(response)
    assert response.status_code == 400 and "<title>Error: Case" in page
    assert 'class="govuk-error-summary"' in page and 'href="#id_refer-received_on"' in page
    assert "govuk-input--error" in page
    assert 'aria-describedby="id_refer-received_on_helptext id_refer-received_on_error"' in page
    assert 'id="id_refer-received_on_error"' in page and "is in the future" in page
    assert '<details class="govuk-details" id="step-refer" open>' in page
    assert 'value="2026-03-02"' in page, "other steps' dates start at today"


def test_refusals_say_why_beyond_the_stage(client, oic_a, prosecutor_a):
    """At the right stage but still not possible: the page says why, from what it has already read."""
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 2, 2))
    ref = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 9), today=TODAY)
    client.force_login(prosecutor_a)
    page = body(client.get(reverse("case_detail", args=[case.pk])))
    assert 'id="step-triage"' in page and "There are no actions on this case yet." in page
    charging.referral_triage(actor=prosecutor_a, referral=ref, accept=True, on=D(2026, 2, 10), today=TODAY)
    page = body(client.get(reverse("case_detail", args=[case.pk])))
    assert 'id="step-triage"' not in page and "Submission 1 has been triaged already (accepted)." in page
    assert 'id="step-decide"' in page


def test_printable_summary(client, oic_a, oic_b, three):
    plans = three[0]
    client.force_login(oic_a)
    page = body(client.get(reverse("case_summary", args=[plans.pk])))
    assert "summary for a case conversation" in page and 'media="print"' in page
    assert f"Obtain the 999 call {plans.urn} (required by 27 Feb 2026)" in page
    assert '<form method="post" action="/cases/' not in page, "no step forms on the printout"
    client.force_login(oic_b)
    assert client.get(reverse("case_summary", args=[plans.pk])).status_code == 404


def test_police_days_on_a_same_day_action_plan(oic_a, prosecutor_a):
    """A plan issued the day the submission arrived still counts the police days until the resubmission."""
    from charging.selectors import time_with_each_side

    case = CaseFactory(actor=oic_a, reported_on=D(2026, 2, 2))
    ref = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 9), today=TODAY)
    charging.action_plan_issue(
        actor=prosecutor_a,
        referral=ref,
        decided_on=D(2026, 2, 9),
        respond_by=D(2026, 2, 20),
        reasons="More.",
        actions=[{"description": "X"}],
        today=TODAY,
    )
    charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 13), today=TODAY)
    assert time_with_each_side(case, today=TODAY).police_days_on_action_plans == 4


# --------------------------------------------------------------------------------------------------------------
# Search, shared filters, htmx and CSV
# --------------------------------------------------------------------------------------------------------------


def test_case_list_uses_the_shared_filters(client, oic_a, three):
    plans, resubmitted, returned = three
    client.force_login(oic_a)
    urns = lambda **q: [c.urn for c in client.get(reverse("case_list"), q).context["cases"]]  # noqa: E731
    assert urns(status="action_plan") == [plans.urn]
    assert urns(stl_within_eight_weeks="true") == [plans.urn]
    assert sorted(urns(status=["referred", "investigation"])) == sorted([resubmitted.urn, returned.urn])
    assert urns(q=returned.urn) == [returned.urn]
    assert urns(q="suspect") and urns(q="nobody-called-this") == []


def test_htmx_gets_only_the_results(client, oic_a, three):
    client.force_login(oic_a)
    response = client.get(reverse("case_list"), {"q": three[0].urn}, headers={"HX-Request": "true"})
    page = body(response)
    assert page.lstrip().startswith('<div id="case-results">') and "<html" not in page
    assert three[0].urn in page and three[1].urn not in page


def test_htmx_history_restore_gets_the_whole_page(client, oic_a, three):
    client.force_login(oic_a)
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in body(client.get(reverse("case_list"), headers=headers))


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_case_list_csv_has_what_the_list_has(client, oic_a, oic_b, three):
    CaseFactory(actor=oic_b, urn="WYP-CASE")
    client.force_login(oic_a)
    rows = _csv(client.get(reverse("case_export")))
    assert rows[0][0] == "URN" and {r[0] for r in rows[1:]} == {c.urn for c in three}
    rows = _csv(client.get(reverse("case_export"), {"status": "action_plan"}))
    assert [r[0] for r in rows[1:]] == [three[0].urn]
    assert "STL: 30 days left, within 8 weeks" in rows[1][-1]


def test_a_long_list_shows_its_most_urgent_rows_and_pages_through_the_rest(
    client, oic_a, prosecutor_a, monkeypatch
):
    """The dashboard shows a section's first LIMIT rows and links to the section's own page, which lists every row
    PAGE_SIZE at a time in the order of the dashboard and the CSV."""
    monkeypatch.setattr(dashboards, "LIMIT", 2)
    monkeypatch.setattr(dashboards, "PAGE_SIZE", 3)
    for n in range(7):
        CaseFactory(actor=oic_a, urn=f"MANY-{n}", reported_on=TODAY - datetime.timedelta(days=n))
    client.force_login(oic_a)
    csv_urns = [row[0] for row in _csv(client.get(reverse("dashboard_export", args=["oic", "cases"])))[1:]]
    assert len(csv_urns) == 7
    board = client.get(reverse("dashboard", args=["oic"]))
    assert [c.urn for c in board.context["sections"]["cases"].rows] == csv_urns[:2]
    view_all = reverse("dashboard_section", args=["oic", "cases"])
    assert f'href="{view_all}"' in body(board) and "Showing the 2 most urgent." in body(board)
    shown = []
    for number, expected in ((1, 3), (2, 3), (3, 1)):
        response = client.get(view_all, {"page": number})
        page = response.context["page"]
        assert response.status_code == 200 and len(page.rows) == expected
        assert page.first_row == (number - 1) * 3 + 1 and page.has_next == (number < 3)
        assert ('rel="next"' in body(response)) == (number < 3) and ('rel="prev"' in body(response)) == (
            number > 1
        )
        assert "<h1" in body(response) and "View all" not in body(response)
        shown += [c.urn for c in page.rows]
    assert shown == csv_urns
    assert client.get(view_all, {"page": 4}).status_code == 404
    assert client.get(view_all, {"page": "x"}).context["page"].number == 1
    assert client.get(reverse("dashboard_section", args=["oic", "no-such-list"])).status_code == 404
    client.force_login(prosecutor_a)
    assert client.get(view_all).status_code == 403


def test_dashboard_csv_and_formula_injection(client, oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, urn="=HYPERLINK(1)", reported_on=D(2026, 2, 20))
    charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 23), today=TODAY)
    client.force_login(prosecutor_a)
    rows = _csv(client.get(reverse("dashboard_export", args=["prosecutor", "awaiting"])))
    assert rows[0][:3] == ["URN", "Suspects", "Submission"]
    assert rows[1][0] == "'=HYPERLINK(1)", "a formula is neutralised"
    assert rows[1][5] == "2026-02-23" and rows[1][7] == "2026-03-09"


# --------------------------------------------------------------------------------------------------------------
# Bounded queries: the same count with 3 cases as with 30
# --------------------------------------------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200, url
        if response.streaming:
            b"".join(response.streaming_content)
        else:
            response.content  # noqa: B018
    return len(ctx.captured_queries)


def test_every_page_runs_the_same_bounded_queries_with_3_and_30_cases(
    client, oic_a, prosecutor_a, supervisor_a, legal_manager_a, django_assert_max_num_queries
):
    cases = build(oic_a, prosecutor_a, 0, 3)
    pages = {
        oic_a: [
            reverse("dashboard", args=["oic"]),
            reverse("case_list"),
            reverse("case_list") + "?status=action_plan&q=Q",
            reverse("case_export"),
            reverse("case_detail", args=[cases[0].pk]),
            reverse("case_detail", args=[cases[2].pk]),
            reverse("case_summary", args=[cases[0].pk]),
            *[reverse("dashboard_export", args=["oic", s.slug]) for s in dashboards.OIC.sections],
            *[reverse("dashboard_section", args=["oic", s.slug]) for s in dashboards.OIC.sections],
        ],
        prosecutor_a: [
            reverse("dashboard", args=["prosecutor"]),
            reverse("case_list"),
            reverse("case_detail", args=[cases[1].pk]),
            *[
                reverse("dashboard_export", args=["prosecutor", s.slug])
                for s in dashboards.PROSECUTOR.sections
            ],
            *[
                reverse("dashboard_section", args=["prosecutor", s.slug])
                for s in dashboards.PROSECUTOR.sections
            ],
        ],
        supervisor_a: [
            reverse("dashboard", args=["police-supervisor"]),
            *[
                reverse("dashboard_section", args=["police-supervisor", s.slug])
                for s in dashboards.POLICE_SUPERVISOR.sections
            ],
        ],
        legal_manager_a: [reverse("dashboard", args=["legal-manager"])],
    }

    def measure() -> dict[str, int]:
        counts = {}
        for user, urls in pages.items():
            client.force_login(user)
            for url in urls:
                counts[f"{user.username} {url}"] = _count(client, url)
        return counts

    with_3 = measure()
    build(oic_a, prosecutor_a, 3, 27)
    assert Case.objects.count() == 30
    with_30 = measure()
    assert with_30 == with_3
    for key, n in with_30.items():
        assert n <= 40, f"{key} ran {n} queries"
    client.force_login(oic_a)
    with django_assert_max_num_queries(40):
        client.get(reverse("case_detail", args=[cases[0].pk]))
    with django_assert_max_num_queries(15):
        client.get(reverse("dashboard", args=["oic"]))
    assert ActionPlan.objects.count() == 30


# --------------------------------------------------------------------------------------------------------------
# The front end is served from node_modules, not copied into the repository
# --------------------------------------------------------------------------------------------------------------


def test_front_end_assets_are_found():
    """Every asset the base template loads is found by the static finders (node_modules via STATICFILES_DIRS;
    run `npm ci` or bin/setup if this fails)."""
    for path in (
        "govuk/govuk-frontend.min.css",
        "govuk/govuk-frontend.min.js",
        "govuk/assets/images/favicon.ico",
        "moj/moj-frontend.min.css",
        "moj/moj-frontend.min.js",
        "css/jjp.css",
        "css/print.css",
        "js/jjp.js",
        "js/js-enabled.js",
        "django_htmx/htmx-2.min.js",
    ):
        assert finders.find(path), f"{path} not found: is node_modules installed (npm ci)?"


def test_no_inline_scripts_or_styles(client, oic_a, three):
    """A strict Content-Security-Policy will forbid inline scripts and styles: pages have none."""
    import re

    client.force_login(oic_a)
    for url in (
        reverse("dashboard", args=["oic"]),
        reverse("case_list"),
        reverse("case_detail", args=[three[0].pk]),
        reverse("case_summary", args=[three[0].pk]),
        reverse("case_create"),
    ):
        page = body(client.get(url))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert " style=" not in page and "<style" not in page and " onclick=" not in page, url


def test_every_demo_user_gets_working_pages(client):
    """The demo data set (cases at every stage, one user per role): every user's home, dashboards, case list and
    first visible case page render."""
    from io import StringIO

    from django.core.management import call_command
    from django.test import override_settings

    from cases.models import User

    with override_settings(LOCAL_RUN=False, DEBUG=False):
        call_command("seed_demo", stdout=StringIO())
    users = list(User.objects.filter(is_active=True, organisation__isnull=False).exclude(roles=[]))
    assert len(users) >= 10
    rendered_dashboards = set()
    for user in users:
        client.force_login(user)
        response = client.get(reverse("home"), follow=True)
        assert response.status_code == 200, user.username
        for board in dashboards.dashboards_for(user):
            assert client.get(reverse("dashboard", args=[board.slug])).status_code == 200
            rendered_dashboards.add(board.slug)
        assert client.get(reverse("case_list")).status_code == 200
        first = Case.objects.visible_to(user).first()
        if first is not None:
            assert client.get(reverse("case_detail", args=[first.pk])).status_code == 200
            assert client.get(reverse("case_summary", args=[first.pk])).status_code == 200
    assert rendered_dashboards == set(dashboards.DASHBOARDS)
