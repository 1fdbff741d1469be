"""Police closing a case after an action plan tell CPS: a row (who, when, which case and plan), an email to the
prosecutor who issued the plan through the alert outbox, a timeline entry; the catch-up makes sure none is
missed; CPS acknowledges."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from cases.models import Alert
from cases.services import TransitionError, case_record_police_outcome
from charging import services as charging
from governance import services
from governance.models import CpsNotification
from tests.conftest import TODAY
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def with_plan(oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 20))
    referral = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 1, 27), today=TODAY)
    charging.action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=D(2026, 2, 2),
        reasons="More needed.",
        respond_by=D(2026, 2, 23),
        actions=[{"description": "Statement from the neighbour"}],
        today=TODAY,
    )
    return case


def close(oic, case, outcome="nfa"):
    return case_record_police_outcome(
        actor=oic,
        case=case,
        outcome=outcome,
        on=D(2026, 2, 16),
        reason="Victim cannot be traced.",
        today=TODAY,
    )


def test_police_nfa_after_an_action_plan_tells_cps(with_plan, oic_a, prosecutor_a):
    close(oic_a, with_plan)
    notification = services.cps_notification_record(
        actor=oic_a, case=with_plan, on=D(2026, 2, 16), reason="Victim cannot be traced."
    )
    assert notification.notified_by == oic_a and notification.recipient == prosecutor_a
    assert notification.area == with_plan.force.area and notification.outcome == "nfa"
    assert notification.outcome_on == D(2026, 2, 16) and notification.plan == with_plan.action_plans.get()
    alert = Alert.objects.get(recipient=prosecutor_a, case=with_plan)
    assert alert.status == "pending" and alert.threshold == "police_outcome_after_action_plan"
    assert with_plan.urn in alert.subject and f"/cases/{with_plan.pk}/" in alert.body_text
    assert "Victim cannot be traced." not in alert.body_text + alert.body_html  # the minimum, as every alert
    assert "<p>" in alert.body_html
    assert with_plan.events.filter(kind="cps_informed").count() == 1
    # Idempotent.
    assert services.cps_notification_record(actor=oic_a, case=with_plan) == notification
    assert CpsNotification.objects.count() == 1 and Alert.objects.count() == 1


def test_out_of_court_resolution_after_a_plan_too(with_plan, oic_a):
    close(oic_a, with_plan, outcome="out_of_court")
    assert services.cps_notification_record(actor=oic_a, case=with_plan).outcome == "out_of_court"


def test_refused_when_the_case_is_open_or_had_no_plan(with_plan, oic_a, oic_b):
    with pytest.raises(TransitionError):
        services.cps_notification_record(actor=oic_a, case=with_plan)
    no_plan = CaseFactory(actor=oic_a)
    close(oic_a, no_plan)
    with pytest.raises(TransitionError):
        services.cps_notification_record(actor=oic_a, case=no_plan)
    with pytest.raises(PermissionDenied):
        services.cps_notification_record(actor=oic_b, case=with_plan)
    assert not CpsNotification.objects.exists() and not Alert.objects.exists()


def test_closing_the_case_tells_cps_at_once(with_plan, oic_a, prosecutor_a):
    close(oic_a, with_plan)
    notification = CpsNotification.objects.get(case=with_plan)
    assert notification.recipient == prosecutor_a and notification.notified_by == oic_a
    assert (
        Alert.objects.filter(recipient=prosecutor_a, threshold="police_outcome_after_action_plan").count()
        == 1
    )
    assert services.cps_notifications_catch_up() == 0


def test_the_catch_up_tells_cps_of_closures_not_yet_told(with_plan, oic_a, prosecutor_a):
    close(oic_a, with_plan)
    # As if the direct call had been lost (e.g. a closure written before it existed).
    Alert.objects.all().delete()
    CpsNotification.objects.all().delete()
    no_plan = CaseFactory(actor=oic_a)
    close(oic_a, no_plan)
    assert services.cps_notifications_catch_up() == 1
    notification = CpsNotification.objects.get()
    assert notification.case == with_plan and notification.notified_by == oic_a
    assert notification.outcome_on == D(2026, 2, 16) and notification.reason == "Victim cannot be traced."
    assert Alert.objects.filter(recipient=prosecutor_a).count() == 1
    assert services.cps_notifications_catch_up() == 0


def test_cps_acknowledges(with_plan, oic_a, prosecutor_a, prosecutor_b):
    close(oic_a, with_plan)
    notification = services.cps_notification_record(actor=oic_a, case=with_plan)
    with pytest.raises(PermissionDenied):
        services.cps_notification_acknowledge(actor=prosecutor_b, notification=notification)
    with pytest.raises(PermissionDenied):
        services.cps_notification_acknowledge(actor=oic_a, notification=notification)
    services.cps_notification_acknowledge(actor=prosecutor_a, notification=notification)
    notification.refresh_from_db()
    assert notification.acknowledged_by == prosecutor_a and notification.acknowledged_at is not None
    with pytest.raises(TransitionError):
        services.cps_notification_acknowledge(actor=prosecutor_a, notification=notification)
