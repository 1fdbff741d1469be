"""Scrutiny panels: meetings, the reproducible sample (by rule and at random), findings and shared learning, and
what panel members see (only the cases their panel reviews)."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Case, CaseEvent, Role
from cases.services import TransitionError, case_record_police_outcome, case_restrict
from charging import services as charging
from governance import services
from governance.models import PanelMeeting, PanelReview, ScrutinyPanel
from governance.selectors import action_plan_review_queue, reviews_visible_to
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory
from victims import services as victims

pytestmark = pytest.mark.django_db

D = datetime.date
MEETING = D(2026, 3, 10)
CLOSED_ON = D(2026, 2, 20)


def police_close(oic, case, outcome="nfa", on=CLOSED_ON):
    return case_record_police_outcome(
        actor=oic, case=case, outcome=outcome, on=on, reason="Reason.", today=TODAY
    )


def with_plans(oic, prosecutor, n):
    case = CaseFactory(actor=oic, reported_on=D(2026, 1, 5))
    day = D(2026, 1, 12)
    for _ in range(n):
        referral = charging.case_refer_to_cps(actor=oic, case=case, received_on=day, today=TODAY)
        charging.action_plan_issue(
            actor=prosecutor,
            referral=referral,
            decided_on=day + datetime.timedelta(days=1),
            reasons="More needed.",
            respond_by=day + datetime.timedelta(days=8),
            actions=[{"description": "Statement from the neighbour"}],
            today=TODAY,
        )
        day += datetime.timedelta(days=7)
    return case


@pytest.fixture
def panel(force_a, member_a):
    p = ScrutinyPanel.objects.create(name="GMP DA scrutiny panel", organisation=force_a)
    p.members.add(member_a)
    return p


@pytest.fixture
def cases(oic_a, prosecutor_a, oic_b, supervisor_a):
    """One GMP case per rule, four more with an outcome (the random pool), one open case, a restricted case that
    meets a rule, and a WYP case that meets a rule."""
    nfa_after_plan = with_plans(oic_a, prosecutor_a, 1)
    police_close(oic_a, nfa_after_plan)
    two_plans = with_plans(oic_a, prosecutor_a, 2)
    stl = CaseFactory(
        actor=oic_a, offence="PHA97-2", reported_on=D(2025, 12, 15), committed_on=D(2025, 7, 10)
    )
    ooc = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    police_close(oic_a, ooc, outcome="out_of_court")
    withdrew = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    victim = victims.victim_add(actor=oic_a, case=withdrew, given_name="B", family_name="V", today=TODAY)
    victims.victim_position_record(
        actor=oic_a, victim=victim, position="withdrew", on=D(2026, 1, 9), reasons="Fear.", today=TODAY
    )
    pool = []
    for _ in range(4):
        c = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
        police_close(oic_a, c)
        pool.append(c)
    still_open = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    restricted = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5), police_perpetrated=True)
    case_restrict(actor=supervisor_a, case=restricted, users=[], reason="Serving officer.")
    police_close(supervisor_a, restricted, outcome="out_of_court")
    elsewhere = CaseFactory(actor=oic_b, reported_on=D(2026, 1, 5))
    police_close(oic_b, elsewhere, outcome="out_of_court")
    return {
        "nfa_after_action_plan": nfa_after_plan,
        "two_plus_action_plans": two_plans,
        "stl_failure": stl,
        "out_of_court": ooc,
        "victim_withdrawal": withdrew,
        "pool": pool,
        "open": still_open,
        "restricted": restricted,
        "elsewhere": elsewhere,
    }


def md5_order(ids, salt):
    return sorted(ids, key=lambda i: (hashlib.md5(f"{salt}{i}".encode()).hexdigest(), i))  # noqa: S324


def test_meeting_draws_by_rule_then_at_random_reproducibly(panel, cases, member_a):
    meeting = services.panel_meeting_schedule(
        actor=member_a, panel=panel, held_on=MEETING, random_count=2, per_rule_limit=5, seed="march"
    )
    reviews = services.panel_meeting_sample(actor=member_a, meeting=meeting)
    by_rule = {r.sampling_rule: r.case_id for r in reviews if r.sampling == "rule"}
    assert by_rule == {rule: cases[rule].pk for rule in services.selectors.RULES}
    # Nothing from another force, nothing restricted, nothing still open at random.
    drawn = {r.case_id for r in reviews}
    assert cases["restricted"].pk not in drawn and cases["elsewhere"].pk not in drawn
    randoms = [r.case_id for r in reviews if r.sampling == "random"]
    # The random pool: cases with an outcome not drawn by rule (the four closed cases), ordered by md5(seed).
    expected = md5_order([c.pk for c in cases["pool"]], "march:random:")[:2]
    assert sorted(randoms) == sorted(expected)
    assert all(r.meeting_on == MEETING and r.meeting_id == meeting.pk for r in reviews)
    meeting.refresh_from_db()
    assert meeting.sampled_at is not None and meeting.sampled_by == member_a
    # Each drawn case's timeline says so.
    assert CaseEvent.objects.filter(kind="panel_sampled", case_id__in=drawn).count() == len(drawn) == 7


def test_a_case_meeting_several_rules_is_drawn_once_with_all_its_rules(panel, member_a, oic_a, prosecutor_a):
    case = with_plans(oic_a, prosecutor_a, 2)
    police_close(oic_a, case)  # NFA after an action plan, and two plans
    meeting = services.panel_meeting_schedule(actor=member_a, panel=panel, held_on=MEETING, random_count=0)
    [review] = services.panel_meeting_sample(actor=member_a, meeting=meeting)
    assert review.case_id == case.pk
    assert review.sampling_rule == "nfa_after_action_plan"
    assert review.matched_rules == ["nfa_after_action_plan", "two_plus_action_plans"]


def test_per_rule_limit_picks_by_the_seed(panel, member_a, oic_a):
    closed = []
    for _ in range(3):
        c = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
        police_close(oic_a, c, outcome="out_of_court")
        closed.append(c.pk)
    meeting = services.panel_meeting_schedule(
        actor=member_a, panel=panel, held_on=MEETING, random_count=0, per_rule_limit=1, seed="s1"
    )
    [review] = services.panel_meeting_sample(actor=member_a, meeting=meeting)
    assert review.case_id == md5_order(closed, "s1:out_of_court:")[0]


def test_sampling_once_and_never_redraws_a_reviewed_case(panel, cases, member_a):
    first = services.panel_meeting_schedule(actor=member_a, panel=panel, held_on=MEETING, random_count=10)
    drawn = {r.case_id for r in services.panel_meeting_sample(actor=member_a, meeting=first)}
    with pytest.raises(TransitionError):
        services.panel_meeting_sample(actor=member_a, meeting=first)
    second = services.panel_meeting_schedule(
        actor=member_a, panel=panel, held_on=D(2026, 4, 14), random_count=10
    )
    again = {r.case_id for r in services.panel_meeting_sample(actor=member_a, meeting=second)}
    assert drawn and not (drawn & again)


def test_out_of_court_panel_draws_only_out_of_court_resolutions(force_a, member_a, cases):
    ooc_panel = ScrutinyPanel.objects.create(name="GMP OOCR panel", organisation=force_a, kind="out_of_court")
    ooc_panel.members.add(member_a)
    meeting = services.panel_meeting_schedule(
        actor=member_a, panel=ooc_panel, held_on=MEETING, random_count=5
    )
    reviews = services.panel_meeting_sample(actor=member_a, meeting=meeting)
    assert {r.case_id for r in reviews} == {cases["out_of_court"].pk}
    assert Case.objects.get(pk=cases["out_of_court"].pk).status == "out_of_court"


def test_area_panel_draws_from_cases_referred_to_the_area(area_a, oic_a, prosecutor_a, member_a):
    referred = with_plans(oic_a, prosecutor_a, 2)
    not_referred = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    police_close(oic_a, not_referred, outcome="out_of_court")
    area_panel = ScrutinyPanel.objects.create(name="CPS NW panel", organisation=area_a)
    area_panel.members.add(member_a)
    meeting = services.panel_meeting_schedule(
        actor=member_a, panel=area_panel, held_on=MEETING, random_count=5
    )
    assert {r.case_id for r in services.panel_meeting_sample(actor=member_a, meeting=meeting)} == {
        referred.pk
    }


def test_who_may_schedule_and_draw(panel, force_b, oic_a, admin_a, member_b):
    with pytest.raises(PermissionDenied):
        services.panel_meeting_schedule(actor=oic_a, panel=panel, held_on=MEETING)
    with pytest.raises(PermissionDenied):  # a panel member of another panel
        services.panel_meeting_schedule(actor=member_b, panel=panel, held_on=MEETING)
    admin_b = UserFactory(organisation=force_b, roles=[Role.ADMINISTRATOR])
    with pytest.raises(PermissionDenied):
        services.panel_meeting_schedule(actor=admin_b, panel=panel, held_on=MEETING)
    meeting = services.panel_meeting_schedule(actor=admin_a, panel=panel, held_on=MEETING)
    with pytest.raises(PermissionDenied):
        services.panel_meeting_sample(actor=oic_a, meeting=meeting)
    with pytest.raises(ValidationError) as exc:
        services.panel_meeting_schedule(actor=admin_a, panel=panel, held_on=MEETING)
    assert "held_on" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.panel_meeting_schedule(
            actor=admin_a, panel=panel, held_on=D(2026, 5, 1), random_count=0, per_rule_limit=0
        )
    assert PanelMeeting.objects.count() == 1


def test_panel_members_see_only_the_cases_their_panel_reviews(panel, cases, member_a, member_b, force_b):
    assert not Case.objects.visible_to(member_a).exists()
    meeting = services.panel_meeting_schedule(actor=member_a, panel=panel, held_on=MEETING, random_count=1)
    drawn = {r.case_id for r in services.panel_meeting_sample(actor=member_a, meeting=meeting)}
    assert set(Case.objects.visible_to(member_a).values_list("pk", flat=True)) == drawn
    assert cases["open"].pk not in drawn
    assert {r.case_id for r in reviews_visible_to(member_a)} == drawn
    # A member of another force's panel sees none of them.
    other = ScrutinyPanel.objects.create(name="WYP panel", organisation=force_b)
    other.members.add(member_b)
    assert not Case.objects.visible_to(member_b).exists()
    assert not reviews_visible_to(member_b).exists()
    # Leaving the panel ends the access.
    panel.members.remove(member_a)
    assert not Case.objects.visible_to(member_a).exists()


@pytest.fixture
def review(panel, member_a, oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    police_close(oic_a, case, outcome="out_of_court")
    meeting = services.panel_meeting_schedule(
        actor=member_a, panel=panel, held_on=D(2026, 2, 24), random_count=1
    )
    [r] = services.panel_meeting_sample(actor=member_a, meeting=meeting)
    return r


def test_findings_are_recorded_by_members_of_the_panel(review, member_a, member_b, admin_a, oic_a):
    findings = {"investigation": "good", "timeliness": "requires_improvement", "language": "poor"}
    for outsider in (member_b, admin_a, oic_a):
        with pytest.raises(PermissionDenied):
            services.panel_review_findings_record(
                actor=outsider, review=review, findings=findings, today=TODAY
            )
    with pytest.raises(ValidationError) as exc:
        services.panel_review_findings_record(
            actor=member_a, review=review, findings={"investigation": "excellent"}, today=TODAY
        )
    assert "investigation" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.panel_review_findings_record(
            actor=member_a, review=review, findings={"mood": "good"}, today=TODAY
        )
    with pytest.raises(ValidationError):
        services.panel_review_findings_record(actor=member_a, review=review, findings={}, today=TODAY)
    with pytest.raises(TransitionError):  # before the meeting
        services.panel_review_findings_record(
            actor=member_a, review=review, findings=findings, today=D(2026, 2, 23)
        )
    result = services.panel_review_findings_record(
        actor=member_a,
        review=review,
        findings=findings,
        learning_points="Early DVPN consideration would have helped.",
        today=TODAY,
    )
    result.refresh_from_db()
    assert (result.investigation, result.timeliness, result.language) == (
        "good",
        "requires_improvement",
        "poor",
    )
    assert result.decision_making == ""
    assert result.findings_recorded_by == member_a and result.findings_recorded_on == TODAY
    event = result.case.events.get(kind="panel_findings")
    assert event.data["findings"] == findings


def test_learning_is_shared_once_after_it_is_recorded(review, member_a):
    with pytest.raises(TransitionError):
        services.panel_review_learning_share(
            actor=member_a, review=review, shared_with="DA forum", on=D(2026, 2, 25), today=TODAY
        )
    services.panel_review_findings_record(
        actor=member_a,
        review=review,
        findings={"investigation": "good"},
        learning_points="Use BWV.",
        today=TODAY,
    )
    with pytest.raises(ValidationError):
        services.panel_review_learning_share(
            actor=member_a, review=review, shared_with=" ", on=D(2026, 2, 25), today=TODAY
        )
    with pytest.raises(ValidationError):  # before the meeting
        services.panel_review_learning_share(
            actor=member_a, review=review, shared_with="DA forum", on=D(2026, 2, 20), today=TODAY
        )
    services.panel_review_learning_share(
        actor=member_a, review=review, shared_with="Local DA forum", on=D(2026, 2, 25), today=TODAY
    )
    review.refresh_from_db()
    assert review.learning_shared and review.learning_shared_on == D(2026, 2, 25)
    assert review.learning_shared_with == "Local DA forum"
    with pytest.raises(TransitionError):
        services.panel_review_learning_share(
            actor=member_a, review=review, shared_with="JOIM", on=D(2026, 2, 26), today=TODAY
        )
    with pytest.raises(TransitionError):  # findings are final once shared
        services.panel_review_findings_record(
            actor=member_a, review=review, findings={"investigation": "poor"}, today=TODAY
        )


def test_cases_with_two_or_more_action_plans_are_queued_for_review(
    panel, member_a, oic_a, prosecutor_a, supervisor_a, oic_b
):
    one = with_plans(oic_a, prosecutor_a, 1)
    two = with_plans(oic_a, prosecutor_a, 2)
    three = with_plans(oic_a, prosecutor_a, 3)
    assert set(action_plan_review_queue(supervisor_a)) == {two, three}
    assert set(action_plan_review_queue(prosecutor_a)) == {two, three}
    assert not action_plan_review_queue(oic_b).exists()
    assert one not in action_plan_review_queue(supervisor_a)
    meeting = services.panel_meeting_schedule(actor=member_a, panel=panel, held_on=MEETING, random_count=0)
    drawn = {
        r.case_id: r.sampling_rule for r in services.panel_meeting_sample(actor=member_a, meeting=meeting)
    }
    assert drawn == {two.pk: "two_plus_action_plans", three.pk: "two_plus_action_plans"}
    assert not action_plan_review_queue(supervisor_a).exists()
    assert PanelReview.objects.filter(case=two).count() == 1
