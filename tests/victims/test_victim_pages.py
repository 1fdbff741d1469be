"""The victims and safeguarding page: behind the access gate, only the forms the user may submit, each action
through its service, errors shown on the form, and language warnings shown after a save (never blocking it)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cases.models import Clock
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from victims.models import ProsecutionPosition, ProtectiveOrder, VictimContact
from victims.services import victim_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim(case_a, oic_a):
    return victim_add(actor=oic_a, case=case_a, given_name="Vic", family_name="Tim", today=TODAY)


def page(client, user, case):
    client.force_login(user)
    return client.get(reverse("victims:case", args=[case.pk]))


def act(client, case, action, data):
    prefixed = {f"{action}-{k}": v for k, v in data.items()}
    return client.post(reverse("victims:action", args=[case.pk, action]), prefixed)


def test_page_shows_victims_orders_and_the_forms_the_user_may_submit(client, oic_a, case_a, victim):
    response = page(client, oic_a, case_a)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Vic Tim" in body and "Enhanced rights" in body
    for slug in ("contact", "duty", "position", "order-consider", "bail", "address"):
        assert f'id="action-{slug}"' in body
    assert 'id="action-order-grant"' not in body, "no order is at that stage"


def test_prosecutor_sees_no_police_forms(client, oic_a, prosecutor_a, case_a, victim):
    case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)
    body = page(client, prosecutor_a, case_a).content.decode()
    assert 'id="action-position"' in body and 'id="action-order-consider"' in body
    for slug in ("contact", "bail", "address", "breach", "encompass"):
        assert f'id="action-{slug}"' not in body


def test_other_force_gets_404(client, oic_b, case_a, victim):
    assert page(client, oic_b, case_a).status_code == 404
    client.force_login(oic_b)
    assert act(client, case_a, "position", {"victim": victim.pk}).status_code == 404


def test_unknown_or_forbidden_actions(client, oic_a, prosecutor_a, case_a, victim):
    client.force_login(oic_a)
    assert act(client, case_a, "teleport", {}).status_code == 404
    case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)
    client.force_login(prosecutor_a)
    assert (
        act(client, case_a, "bail", {"on": TODAY, "conditions": "x", "victim_views": "y"}).status_code == 403
    )
    assert not ProtectiveOrder.objects.exists()


def test_contact_is_saved_with_a_language_warning(client, oic_a, case_a, victim):
    client.force_login(oic_a)
    response = act(
        client,
        case_a,
        "contact",
        {
            "victim": victim.pk,
            "contacted_at": "2026-02-03T10:00",
            "method": "phone",
            "purpose": "support_referral",
            "outcome": "It was a toxic relationship; victim refused to engage.",
        },
    )
    assert response.status_code == 302
    contact = VictimContact.objects.get()
    assert contact.outcome.startswith("It was a toxic relationship")
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert (
        len(warnings) == 2 and "toxic relationship" in warnings[0] and "abusive relationship" in warnings[0]
    )
    clock = case_a.clocks.get(kind=Clock.Kind.SUPPORT_REFERRAL, victim=victim)
    assert clock.stopped_on is not None


def test_service_errors_show_on_the_form(client, oic_a, case_a, victim):
    client.force_login(oic_a)
    response = act(
        client, case_a, "position", {"victim": victim.pk, "position": "withdrew", "on": TODAY, "reasons": ""}
    )
    assert response.status_code == 400
    assert "Give the victim" in response.content.decode()
    assert not ProsecutionPosition.objects.exists()


def test_order_consider_then_apply_through_the_page(client, oic_a, case_a, victim):
    client.force_login(oic_a)
    assert (
        act(
            client,
            case_a,
            "order-consider",
            {"kind": "non_molestation", "on": case_a.reported_on, "victim": victim.pk},
        ).status_code
        == 302
    )
    order = ProtectiveOrder.objects.get()
    body = page(client, oic_a, case_a).content.decode()
    assert 'id="action-order-apply"' in body
    assert act(client, case_a, "order-apply", {"order": order.pk, "on": TODAY}).status_code == 302
    order.refresh_from_db()
    assert (order.status, order.applied_on) == ("applied", TODAY)


def test_high_risk_case_without_order_is_flagged(client, oic_a):
    from tests.factories import CaseFactory

    case = CaseFactory(actor=oic_a, risk_level="high")
    assert "no protective order has been recorded as considered" in page(client, oic_a, case).content.decode()
