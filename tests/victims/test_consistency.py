"""Issue 19, consistency on the victims page: a victim is named by the case page's number and the name; a
referral to an IDVA logged as a contact closes the IDVA-referral duty; a case conversation that considered
protective orders satisfies the high-risk prompt."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from cases.models import Case
from charging.services import conversation_record
from tests.factories import CaseFactory
from victims import selectors
from victims.models import SupportService
from victims.services import victim_add, victim_contact_record

pytestmark = pytest.mark.django_db
D = datetime.date
DAY = D(2025, 4, 17)
HIGH_RISK_PROMPT = "High-risk case: no protective order has been recorded as considered."
IDVA_REMINDER = "Offer a referral to an IDVA or specialist service."


def victims_page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(reverse("victims:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_victims_page_names_each_victim_by_the_case_pages_number_and_name(client, oic_a):
    case = CaseFactory(actor=oic_a, reported_on=DAY, today=DAY)
    victim_add(actor=oic_a, case=case, given_name="Jo", family_name="Bloggs", today=DAY)
    victim_add(actor=oic_a, case=case, given_name="Sam", family_name="Smith", today=DAY)
    client.force_login(oic_a)
    case_page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "Victim 1" in case_page and "Victim 2" in case_page
    assert "Bloggs" not in case_page and "Smith" not in case_page, "the case page never names a victim"
    page = victims_page(client, oic_a, case)
    assert "Victim 1: Jo Bloggs" in page and "Victim 2: Sam Smith" in page


@pytest.mark.parametrize(
    ("kind", "closed"), [("idva", True), ("specialist_da", True), ("victim_support", False)]
)
def test_a_support_referral_to_an_idva_closes_the_idva_referral_duty(client, oic_a, force_a, kind, closed):
    case = CaseFactory(actor=oic_a, reported_on=DAY, today=DAY)
    victim = victim_add(actor=oic_a, case=case, given_name="Jo", family_name="Bloggs", today=DAY)
    service = SupportService.objects.create(organisation=force_a, name="Local service", kind=kind)

    def outstanding() -> list[str]:
        return [r.duty for r in selectors.outstanding_duties(selectors.victims_for_case(case).get())]

    assert "specialist_referral" in outstanding()
    victim_contact_record(
        actor=oic_a,
        victim=victim,
        contacted_at=datetime.datetime(2025, 4, 18, 10, tzinfo=datetime.UTC),
        method="phone",
        purpose="support_referral",
        outcome="Referred with consent.",
        support_service=service,
    )
    assert ("specialist_referral" not in outstanding()) is closed
    assert (IDVA_REMINDER not in victims_page(client, oic_a, case)) is closed


def test_an_update_contact_with_an_idva_does_not_close_the_referral_duty(oic_a, force_a):
    case = CaseFactory(actor=oic_a, reported_on=DAY, today=DAY)
    victim = victim_add(actor=oic_a, case=case, given_name="Jo", family_name="Bloggs", today=DAY)
    service = SupportService.objects.create(organisation=force_a, name="IDVA", kind="idva")
    victim_contact_record(
        actor=oic_a,
        victim=victim,
        contacted_at=datetime.datetime(2025, 4, 18, 10, tzinfo=datetime.UTC),
        method="phone",
        purpose="update",
        support_service=service,
    )
    duties = [r.duty for r in selectors.outstanding_duties(selectors.victims_for_case(case).get())]
    assert "specialist_referral" in duties


@pytest.mark.parametrize("considered", [True, False])
def test_a_conversation_that_considered_orders_satisfies_the_high_risk_prompt(client, oic_a, considered):
    case = CaseFactory(actor=oic_a, reported_on=DAY, today=DAY, risk_level="high")
    assert HIGH_RISK_PROMPT in victims_page(client, oic_a, case)
    conversation_record(
        actor=oic_a,
        case=case,
        held_on=D(2025, 4, 18),
        mode="digital",
        protective_orders_considered=considered,
        protective_orders_notes="A DAPO discussed with the victim." if considered else "",
        today=D(2025, 4, 18),
    )
    listed = selectors.high_risk_cases_without_order_considered(Case.objects.visible_to(oic_a))
    assert listed.filter(pk=case.pk).exists() is not considered
    assert (HIGH_RISK_PROMPT in victims_page(client, oic_a, case)) is not considered
