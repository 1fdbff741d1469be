"""The governance pages, the CSV and the metrics JSON: who may see what (a case, plan, review or person out of
reach is a 404), and that each page's form calls its service."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse

from cases.models import Role
from cases.services import case_record_police_outcome
from charging import services as charging
from governance import services
from governance.models import CpsNotification, PanelReview, ScrutinyPanel
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
PERIOD = {"start": "2026-01", "end": "2026-02"}


@pytest.fixture
def referred(oic_a, oic_b):
    a = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    charging.case_refer_to_cps(actor=oic_a, case=a, received_on=D(2026, 1, 12), today=TODAY)
    b = CaseFactory(actor=oic_b, reported_on=D(2026, 1, 5))
    charging.case_refer_to_cps(actor=oic_b, case=b, received_on=D(2026, 2, 3), today=TODAY)
    return a, b


class TestPerformance:
    def test_page_for_a_supervisor_with_tables_and_charts(self, client, supervisor_a, referred):
        client.force_login(supervisor_a)
        response = client.get(reverse("governance:performance"), PERIOD)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Greater Manchester Police (force)" in html and "CPS North West (CPS Area)" in html
        assert "West Yorkshire Police" not in html
        # each headline figure twice: by month, and the whole period compared (test_governance_pages.py)
        assert html.count("<svg") == 2 * sum(1 for m in response.context["metrics"] if m.chart)
        assert 'role="img"' in html and "<title" in html
        row = dict(response.context["table"])  # metric -> values by month, then the period
        referrals = next(v for m, v in row.items() if m.key == "referrals")
        assert referrals == ["1", "–", "1"]  # GMP: January, no February activity, the period

    def test_only_supervisors_managers_panel_members_and_administrators(self, client, oic_a, prosecutor_a):
        for user in (oic_a, prosecutor_a):
            client.force_login(user)
            assert client.get(reverse("governance:performance")).status_code == 403
            assert client.get(reverse("governance:performance_csv")).status_code == 403
            assert client.get(reverse("governance:api_metrics")).status_code == 403
        client.logout()
        assert client.get(reverse("governance:performance")).status_code == 302
        assert client.get(reverse("governance:api_metrics")).status_code in (401, 403)
        member = UserFactory(organisation=prosecutor_a.organisation, roles=[Role.PANEL_MEMBER])
        client.force_login(member)
        assert client.get(reverse("governance:performance")).status_code == 200
        force_system = UserFactory(organisation=oic_a.organisation, roles=[Role.FORCE_SYSTEM])
        client.force_login(force_system)
        assert client.get(reverse("governance:api_metrics")).status_code == 200

    def test_csv_has_the_rows_the_user_may_see(self, client, legal_manager_b, referred):
        client.force_login(legal_manager_b)
        response = client.get(reverse("governance:performance_csv"), PERIOD)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        orgs = {(r["scope"], r["organisation_code"]) for r in rows if r["organisation_code"]}
        assert orgs == {("force", "WYP"), ("area", "YH")}
        assert {r["scope"] for r in rows} >= {"national", "force", "area"}
        wyp_feb = next(r for r in rows if r["organisation_code"] == "WYP" and r["month"] == "2026-02")
        assert wyp_feb["referrals"] == "1" and wyp_feb["charge_rate"] == ""
        national = next(r for r in rows if r["scope"] == "national" and r["month"] == "period")
        assert national["referrals"] == "2"

    def test_csv_cells_cannot_be_spreadsheet_formulas(self, client, legal_manager_b, referred):
        """The performance CSV goes through the one CSV writer (cases/csv_export.py): a name an administrator
        typed that starts like a formula is written as text. (It was written raw before.)"""
        from cases.models import Organisation

        Organisation.objects.filter(code="WYP").update(name='=HYPERLINK("http://x.invalid","WYP")')
        services.performance_figures_refresh(full=True)
        client.force_login(legal_manager_b)
        response = client.get(reverse("governance:performance_csv"), PERIOD)
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        names = {r["organisation"] for r in rows if r["organisation_code"] == "WYP"}
        assert names == {'\'=HYPERLINK("http://x.invalid","WYP")'}
        assert response["Cache-Control"] == "no-store"

    def test_json_is_the_same_figures(self, client, supervisor_a, referred):
        client.force_login(supervisor_a)
        response = client.get(reverse("governance:api_metrics"), PERIOD)
        assert response.status_code == 200
        data = response.json()
        assert data["period"] == {"start": "2026-01", "end": "2026-02"}
        assert {m["key"] for m in data["metrics"]} >= {"referrals", "charge_rate", "victims_code_compliance"}
        gmp = [r for r in data["rows"] if r["organisation"] and r["organisation"]["code"] == "GMP"]
        assert {r["month"]: r["values"]["referrals"] for r in gmp} == {"2026-01": 1, None: 1}
        assert not [r for r in data["rows"] if r["organisation"] and r["organisation"]["code"] == "WYP"]
        bad = client.get(reverse("governance:api_metrics"), {"start": "2026-05", "end": "2026-01"})
        assert bad.status_code == 400


@pytest.fixture
def panel(force_a, member_a):
    p = ScrutinyPanel.objects.create(name="GMP panel", organisation=force_a)
    p.members.add(member_a)
    return p


@pytest.fixture
def review(panel, member_a, oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    case_record_police_outcome(
        actor=oic_a, case=case, outcome="out_of_court", on=D(2026, 2, 2), reason="Caution.", today=TODAY
    )
    meeting = services.panel_meeting_schedule(
        actor=member_a, panel=panel, held_on=D(2026, 2, 24), random_count=1
    )
    [r] = services.panel_meeting_sample(actor=member_a, meeting=meeting)
    return r


class TestPanelPages:
    def test_member_works_the_review(self, client, member_a, review):
        client.force_login(member_a)
        assert client.get(reverse("governance:index")).status_code == 200
        assert client.get(reverse("governance:panel", args=[review.panel_id])).status_code == 200
        page = client.get(reverse("governance:meeting", args=[review.meeting_id]))
        assert page.status_code == 200 and review.case.urn in page.content.decode()
        assert client.get(reverse("governance:review", args=[review.pk])).status_code == 200
        assert client.get(reverse("case_detail", args=[review.case_id])).status_code == 200
        response = client.post(
            reverse("governance:review", args=[review.pk]),
            {
                "step": "findings",
                "findings-investigation": "good",
                "findings-language": "requires_improvement",
                "findings-learning_points": "Record the victim's words.",
            },
        )
        assert response.status_code == 302
        review.refresh_from_db()
        assert (review.investigation, review.language) == ("good", "requires_improvement")
        response = client.post(
            reverse("governance:review", args=[review.pk]),
            {"step": "share", "share-shared_with": "DA forum", "share-on": "2026-02-25"},
        )
        assert response.status_code == 302
        review.refresh_from_db()
        assert review.learning_shared

    def test_non_members_get_404s(self, client, member_b, oic_b, review):
        for user in (member_b, oic_b):
            client.force_login(user)
            for name, pk in (
                ("governance:panel", review.panel_id),
                ("governance:meeting", review.meeting_id),
                ("governance:review", review.pk),
            ):
                assert client.get(reverse(name, args=[pk])).status_code == 404
            assert client.get(reverse("case_detail", args=[review.case_id])).status_code == 404

    def test_an_administrator_sees_the_panel_but_does_not_record_findings(self, client, admin_a, review):
        client.force_login(admin_a)
        assert client.get(reverse("governance:review", args=[review.pk])).status_code == 200
        response = client.post(
            reverse("governance:review", args=[review.pk]),
            {"step": "findings", "findings-investigation": "poor"},
        )
        assert response.status_code == 403
        assert PanelReview.objects.get(pk=review.pk).investigation == ""

    def test_schedule_and_draw_from_the_pages(self, client, member_a, panel, oic_a):
        case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
        case_record_police_outcome(
            actor=oic_a, case=case, outcome="nfa", on=D(2026, 2, 2), reason="r", today=TODAY
        )
        client.force_login(member_a)
        response = client.post(
            reverse("governance:panel", args=[panel.pk]),
            {"held_on": "2026-03-10", "random_count": "3", "per_rule_limit": "5", "seed": "", "notes": ""},
        )
        assert response.status_code == 302
        meeting = panel.meetings.get()
        response = client.post(reverse("governance:meeting_sample", args=[meeting.pk]))
        assert response.status_code == 302
        assert list(meeting.reviews.values_list("case_id", flat=True)) == [case.pk]
        bad = client.post(
            reverse("governance:panel", args=[panel.pk]),
            {"held_on": "2026-03-10", "random_count": "3", "per_rule_limit": "5"},
        )
        assert bad.status_code == 400 and "already meets" in bad.content.decode()


class TestActionPlanPage:
    @pytest.fixture
    def plan(self, oic_a, prosecutor_a):
        case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 20))
        referral = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 1, 27), today=TODAY)
        return charging.action_plan_issue(
            actor=prosecutor_a,
            referral=referral,
            decided_on=D(2026, 2, 2),
            reasons="More needed.",
            respond_by=D(2026, 2, 23),
            actions=[{"description": "Full phone download"}],
            today=TODAY,
        )

    def test_rate_and_escalate_through_the_page(self, client, plan, supervisor_a, legal_manager_a):
        url = reverse("governance:action_plan", args=[plan.pk])
        client.force_login(supervisor_a)
        page = client.get(url)
        assert [name for name, _ in page.context["steps"]] == ["rate", "incomplete"]
        response = client.post(
            url,
            {"step": "rate", "rate-rating": "disproportionate", "rate-on": "2026-02-03", "rate-notes": ""},
        )
        assert response.status_code == 400 and "Say why" in response.content.decode()
        client.post(
            url,
            {
                "step": "rate",
                "rate-rating": "disproportionate",
                "rate-on": "2026-02-03",
                "rate-notes": "Overbuild",
            },
        )
        assert plan.rating.rating == "disproportionate"
        client.post(
            url, {"step": "raise", "raise-on": "2026-02-04", "raise-grounds": "Not needed to charge."}
        )
        assert plan.escalations.get().status == "raised"
        assert client.post(url, {"step": "answer", "answer-on": "2026-02-05"}).status_code == 403
        client.force_login(legal_manager_a)
        client.post(
            url,
            {
                "step": "answer",
                "answer-on": "2026-02-05",
                "answer-response": "plan_stands",
                "answer-notes": "Needed.",
            },
        )
        assert plan.escalations.get().status == "answered"

    def test_another_forces_plan_is_404(self, client, plan, supervisor_b):
        client.force_login(supervisor_b)
        assert client.get(reverse("governance:action_plan", args=[plan.pk])).status_code == 404

    def test_review_queue_lists_visible_cases_with_two_plans(self, client, plan, supervisor_a, supervisor_b):
        client.force_login(supervisor_a)
        assert client.get(reverse("governance:review_queue")).context["cases"].count() == 0
        client.force_login(supervisor_b)
        assert client.get(reverse("governance:review_queue")).status_code == 200


class TestFlagAndNotificationPages:
    def test_person_flag_page_and_override(self, client, oic_a, supervisor_a, supervisor_b):
        case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
        person = case.suspects.get()
        url = reverse("governance:person_flag", args=[person.pk])
        client.force_login(supervisor_b)
        assert client.get(url).status_code == 404
        client.force_login(supervisor_a)
        assert client.get(url).status_code == 200
        bad = client.post(url, {"override": "on", "justification": ""})
        assert bad.status_code == 400
        client.post(url, {"override": "on", "justification": "MARAC: serial perpetrator."})
        person.refresh_from_db()
        assert person.high_harm_repeat_offender
        page = client.get(url).content.decode()
        assert "MARAC: serial perpetrator." in page

    def test_notifications_and_acknowledgement(self, client, oic_a, prosecutor_a, prosecutor_b):
        case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 20))
        referral = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 1, 27), today=TODAY)
        charging.action_plan_issue(
            actor=prosecutor_a,
            referral=referral,
            decided_on=D(2026, 2, 2),
            reasons="r",
            respond_by=D(2026, 2, 23),
            actions=[{"description": "x"}],
            today=TODAY,
        )
        case_record_police_outcome(
            actor=oic_a, case=case, outcome="nfa", on=D(2026, 2, 9), reason="r", today=TODAY
        )
        notification = services.cps_notification_record(actor=oic_a, case=case)
        client.force_login(prosecutor_b)
        assert not client.get(reverse("governance:notifications")).context["notifications"]
        assert (
            client.post(reverse("governance:notification_acknowledge", args=[notification.pk])).status_code
            == 404
        )
        client.force_login(prosecutor_a)
        page = client.get(reverse("governance:notifications"))
        assert case.urn in page.content.decode() and "Acknowledge" in page.content.decode()
        client.post(reverse("governance:notification_acknowledge", args=[notification.pk]))
        assert CpsNotification.objects.get().acknowledged_by == prosecutor_a

    def test_hhro_include_shows_reasons(self, oic_a, supervisor_a):
        from django.template.loader import render_to_string

        from governance.selectors import hhro_flags_for_case

        case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
        services.high_harm_flag_override(
            actor=supervisor_a, person=case.suspects.get(), override="on", justification="MARAC referral."
        )
        html = render_to_string("governance/_hhro_flag.html", {"flags": hhro_flags_for_case(case)})
        assert "high-harm repeat offender" in html and "MARAC referral." in html
