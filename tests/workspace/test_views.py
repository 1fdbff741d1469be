"""The web pages: every route behind the access gate (404 for another force's case), forms that explain what
is wrong and save nothing, and the whole charging journey through the web forms by two people."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from cases.models import Case, Clock
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def login(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_login(client, case_a):
    for url in (reverse("home"), reverse("case_detail", args=[case_a.pk]), reverse("case_create")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_list_shows_only_visible_cases(client, oic_a, oic_b, case_a):
    case_b = CaseFactory(actor=oic_b, urn="OTHER-FORCE")
    body = login(client, oic_a).get(reverse("case_list")).content.decode()
    assert case_a.urn in body and case_b.urn not in body


def test_search_by_urn_and_suspect_name(client, oic_a, case_a):
    CaseFactory(actor=oic_a, urn="ZZZ999")
    login(client, oic_a)
    assert "ZZZ999" not in client.get(reverse("case_list"), {"q": case_a.urn}).content.decode()
    assert case_a.urn in client.get(reverse("case_list"), {"q": "suspect"}).content.decode()


def test_another_forces_case_is_404_on_every_case_route(client, oic_b, case_a):
    login(client, oic_b)
    assert client.get(reverse("case_detail", args=[case_a.pk])).status_code == 404
    response = client.post(
        reverse("case_step", args=[case_a.pk, "refer"]), {"refer-received_on": "2026-03-01"}
    )
    assert response.status_code == 404
    assert Case.objects.get(pk=case_a.pk).status == "investigation"


def test_cps_cannot_open_a_case(client, prosecutor_a):
    assert login(client, prosecutor_a).get(reverse("case_create")).status_code == 403


def test_create_case_form_explains_bad_input_and_saves_nothing(client, oic_a):
    login(client, oic_a)
    before = Case.objects.count()
    data = {
        "urn": "NEW1",
        "reported_on": "2026-02-20",
        "offence_type": "",
        "committed_on": "2026-02-25",
        "suspect_given_name": "A",
        "suspect_family_name": "B",
        "risk_level": "high",
    }
    from cases.models import OffenceType

    data["offence_type"] = OffenceType.objects.get(code="CJA88-39").pk
    response = client.post(reverse("case_create"), data)
    assert response.status_code == 200
    assert "The case was reported before this offence" in response.content.decode()
    assert Case.objects.count() == before
    data["committed_on"] = "2026-02-19"
    response = client.post(reverse("case_create"), data)
    assert response.status_code == 302
    case = Case.objects.get(urn="NEW1")
    assert case.clocks.filter(kind="stl").exists()


def test_case_page_shows_only_the_steps_this_user_may_take(client, oic_a, prosecutor_a, case_a):
    body = login(client, oic_a).get(reverse("case_detail", args=[case_a.pk])).content.decode()
    assert "Refer to CPS" in body and "Record the charging decision" not in body
    assert "Record the charge" in body and "Not at this stage" in body, "a refusal is explained"


def test_step_with_bad_input_is_400_with_the_reason(client, oic_a, case_a):
    login(client, oic_a)
    response = client.post(
        reverse("case_step", args=[case_a.pk, "refer"]),
        {"refer-received_on": "2026-12-01", "refer-kind": "charging_decision"},
    )
    assert response.status_code == 400
    assert "is in the future" in response.content.decode()
    assert not case_a.referrals.exists()


def test_unknown_step_is_404(client, oic_a, case_a):
    assert login(client, oic_a).post(reverse("case_step", args=[case_a.pk, "nope"])).status_code == 404


def test_the_whole_journey_through_the_web(client, oic_a, prosecutor_a):
    """OIC opens and refers; prosecutor issues an action plan; OIC completes it and resubmits; prosecutor
    decides to charge; OIC records the charge. The clocks move at each step."""
    case = CaseFactory(actor=oic_a, urn="JOURNEY", reported_on=datetime.date(2026, 2, 16), offence="CJA88-39")
    url = lambda step: reverse("case_step", args=[case.pk, step])  # noqa: E731

    login(client, oic_a)
    assert (
        client.post(
            url("refer"), {"refer-received_on": "2026-02-20", "refer-kind": "charging_decision"}
        ).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.status == "referred"
    assert case.clocks.get(kind="investigation").state == "met"
    assert case.clocks.get(kind="charging_decision").due_on == datetime.date(2026, 3, 6)

    login(client, prosecutor_a)
    r = client.post(
        url("action-plan"),
        {
            "action-plan-decided_on": "2026-02-24",
            "action-plan-respond_by": "2026-03-03",
            "action-plan-reasons": "Need the 999 call.",
            "action-plan-actions": "Obtain the 999 recording | 2026-03-01\nNeighbour statement",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    assert case.status == "action_plan"
    assert case.clocks.get(kind="charging_decision").state == "superseded"
    action = case.action_plans.get().actions.get(description="Obtain the 999 recording")

    login(client, oic_a)
    r = client.post(
        url("action"), {"action-action": action.pk, "action-status": "completed", "action-on": "2026-02-27"}
    )
    assert r.status_code == 302
    assert case.clocks.get(kind="action").state == "met"
    assert (
        client.post(
            url("refer"), {"refer-received_on": "2026-02-27", "refer-kind": "charging_decision"}
        ).status_code
        == 302
    )
    assert case.referrals.count() == 2

    login(client, prosecutor_a)
    r = client.post(
        url("decide"),
        {
            "decide-outcome": "charge",
            "decide-test": "full_code",
            "decide-decided_on": "2026-03-02",
            "decide-reasons": "Full Code Test met.",
        },
    )
    assert r.status_code == 302
    charge_clock = case.clocks.get(kind="charge")
    assert charge_clock.due_on == datetime.date(2026, 3, 9)

    login(client, oic_a)
    assert client.post(url("charge"), {"charge-charged_on": "2026-03-02"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "charged"
    assert case.clocks.get(kind="charge").state == "met"
    assert case.clocks.get(kind=Clock.Kind.STL).state == "met"
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [
        "case_created",
        "referred",
        "action_plan",
        "action_updated",
        "referred",
        "decision",
        "charged",
    ]
