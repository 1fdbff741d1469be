"""Issue 15, orders: a DVPO outside 14-28 days is refused (CSA 2010 s.28(10)) at grant and on variation, by the
service, the web form and (tests/api/test_api_orders.py) the API; a DVPN is never labelled as a DAPN and leads to a
DVPO hearing; a DAPO records its own prohibitions and requirements (DA Act 2021 ss.35-37) and the s.41
notification of name and address, due within three days beginning with the day it is made."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cases.models import Clock
from cases.services import TransitionError
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from tests.factories import CaseFactory
from victims.models import DapoRequirement, ProtectiveOrder
from victims.services import (
    dapo_notification_record,
    dapo_requirement_add,
    dapo_requirement_remove,
    order_apply,
    order_consider,
    order_grant,
    order_notice_serve,
    order_vary,
    victim_add,
)

pytestmark = pytest.mark.django_db
D = datetime.date
LONDON = ZoneInfo("Europe/London")
REPORTED = D(2026, 2, 2)
MADE = D(2026, 2, 3)
# Made Tue 3 Feb 2026: in force 14 to 28 days beginning with that day.
MESSAGE = (
    "A DVPO made on 3 February 2026 must end between 16 February 2026 and 2 March 2026 "
    "(Crime and Security Act 2010 s.28(10))."
)


@pytest.fixture
def case(oic_a):
    return CaseFactory(actor=oic_a, reported_on=REPORTED, today=TODAY)


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


def applied(actor, case, kind):
    order = order_consider(actor=actor, case=case, kind=kind, on=REPORTED, today=TODAY)
    return order_apply(actor=actor, order=order, on=REPORTED, today=TODAY)


def granted_dapo(actor, case, **kwargs):
    order = applied(actor, case, "dapo")
    return order_grant(actor=actor, order=order, on=MADE, expires_on=D(2027, 2, 2), today=TODAY, **kwargs)


# -- DVPO duration -----------------------------------------------------------------------------------------


def test_a_60_day_dvpo_is_refused_with_the_allowed_dates_and_nothing_is_written(oic_a, case):
    order = applied(oic_a, case, "dvpo")
    with pytest.raises(ValidationError) as refused:
        order_grant(
            actor=oic_a, order=order, on=MADE, expires_on=MADE + datetime.timedelta(days=59), today=TODAY
        )
    assert refused.value.message_dict == {"expires_on": [MESSAGE]}
    order.refresh_from_db()
    assert (order.status, order.granted_on, order.expires_on) == ("applied", None, None)
    assert not case.clocks.filter(kind=Clock.Kind.ORDER_EXPIRY).exists()


@pytest.mark.parametrize(
    ("expires_on", "allowed"),
    [(D(2026, 2, 15), False), (D(2026, 2, 16), True), (D(2026, 3, 2), True), (D(2026, 3, 3), False)],
    ids=["13-days", "14-days", "28-days", "29-days"],
)
def test_dvpo_bounds_at_grant(oic_a, case, expires_on, allowed):
    order = applied(oic_a, case, "dvpo")
    if not allowed:
        with pytest.raises(ValidationError, match="must end between 16 February 2026 and 2 March 2026"):
            order_grant(actor=oic_a, order=order, on=MADE, expires_on=expires_on, today=TODAY)
        return
    order_grant(actor=oic_a, order=order, on=MADE, expires_on=expires_on, today=TODAY)
    assert case.clocks.get(kind=Clock.Kind.ORDER_EXPIRY, order=order).due_on == expires_on


def test_a_dvpo_needs_its_end_date(oic_a, case):
    order = applied(oic_a, case, "dvpo")
    with pytest.raises(ValidationError) as refused:
        order_grant(actor=oic_a, order=order, on=MADE, today=TODAY)
    assert refused.value.message_dict == {"expires_on": [f"Give the DVPO's last day. {MESSAGE}"]}


def test_a_variation_keeps_the_dvpo_within_the_bounds_from_the_day_it_was_made(oic_a, case):
    order = applied(oic_a, case, "dvpo")
    order_grant(actor=oic_a, order=order, on=MADE, expires_on=D(2026, 2, 16), today=TODAY)
    for bad in (D(2026, 3, 3), None):
        with pytest.raises(ValidationError) as refused:
            order_vary(
                actor=oic_a,
                order=order,
                on=D(2026, 2, 10),
                conditions="",
                expires_on=bad,
                reason="Extended.",
                today=TODAY,
            )
        assert MESSAGE in refused.value.message_dict["expires_on"][0]
    order_vary(
        actor=oic_a,
        order=order,
        on=D(2026, 2, 10),
        conditions="",
        expires_on=D(2026, 3, 2),
        reason="Extended to the longest allowed.",
        today=TODAY,
    )
    order.refresh_from_db()
    assert (order.status, order.expires_on) == ("varied", D(2026, 3, 2))
    assert case.clocks.open().get(kind=Clock.Kind.ORDER_EXPIRY, order=order).due_on == D(2026, 3, 2)


def test_other_orders_are_not_held_to_the_dvpo_bounds(oic_a, case):
    order = applied(oic_a, case, "restraining")
    order_grant(actor=oic_a, order=order, on=MADE, expires_on=D(2026, 4, 4), today=TODAY)
    order.refresh_from_db()
    assert order.expires_on == D(2026, 4, 4)


# -- a DVPN is a DVPN --------------------------------------------------------------------------------------


def served(actor, case, kind):
    order = order_consider(actor=actor, case=case, kind=kind, on=REPORTED, today=TODAY)
    served_at = datetime.datetime(2026, 2, 2, 18, 0, tzinfo=LONDON)
    with time_machine.travel(served_at + datetime.timedelta(minutes=5), tick=False):
        order_notice_serve(actor=actor, order=order, served_at=served_at, today=REPORTED)
    return order


def order_row(body, order):
    match = re.search(rf'<tr class="govuk-table__row" id="order-{order.pk}">(.*?)</tr>', body, re.S)
    assert match, f"no row for order {order.pk}"
    return match.group(1)


def test_the_orders_table_never_labels_a_dvpn_as_a_dapn(client, oic_a, case, frozen):
    dvpn = served(oic_a, case, "dvpn")
    dvpo = order_consider(actor=oic_a, case=case, kind="dvpo", on=REPORTED, notice=dvpn, today=TODAY)
    dapn = served(oic_a, case, "dapn")
    clock = case.clocks.get(kind=Clock.Kind.DAPN_HEARING, order=dvpn)
    assert clock.label == "DVPO hearing within 48 hours of the DVPN"
    client.force_login(oic_a)
    body = client.get(reverse("victims:case", args=[case.pk])).content.decode()
    for row in (order_row(body, dvpn), order_row(body, dvpo)):
        assert "DAPN" not in row and "DAPO" not in row
        assert "domestic abuse" not in row.lower()
    assert "DVPO hearing within 48 hours of the DVPN" in order_row(body, dvpn)
    assert "Follows the domestic violence protection notice" in order_row(body, dvpo)
    # The DAPN's own row does say so: the check above is not vacuous.
    assert "DAPO hearing within 48 hours of the DAPN" in order_row(body, dapn)


# -- DAPO requirements and notification --------------------------------------------------------------------


def test_a_dapo_records_its_notification_due_on_the_third_day(oic_a, case):
    order = granted_dapo(oic_a, case, notification_further="Notify any vehicle registration.")
    order.refresh_from_db()
    assert (order.notification_applies, order.notification_due_on, order.notified_on) == (
        True,
        D(2026, 2, 5),
        None,
    )
    assert order.notification_further == "Notify any vehicle registration."


def test_notification_recorded_late_is_said_so_on_the_timeline(oic_a, case):
    order = granted_dapo(oic_a, case)
    dapo_notification_record(actor=oic_a, order=order, notified_on=D(2026, 2, 6), today=TODAY)
    order.refresh_from_db()
    assert order.notified_on == D(2026, 2, 6)
    event = case.events.get(kind="order_notification_received")
    assert (
        event.reason == "Name and address notified on 6 February 2026, after the last day (5 February 2026)"
    )
    with pytest.raises(TransitionError, match="already recorded"):
        dapo_notification_record(actor=oic_a, order=order, notified_on=D(2026, 2, 6), today=TODAY)


def test_notification_checks(oic_a, prosecutor_a, case):
    order = granted_dapo(oic_a, case)
    with pytest.raises(ValidationError) as refused:
        dapo_notification_record(actor=oic_a, order=order, notified_on=D(2026, 2, 2), today=TODAY)
    assert refused.value.message_dict == {"notified_on": ["That is before the DAPO was made."]}
    with pytest.raises(PermissionDenied):
        dapo_notification_record(actor=prosecutor_a, order=order, notified_on=D(2026, 2, 4), today=TODAY)


def test_notification_that_does_not_apply(oic_a, case):
    order = granted_dapo(oic_a, case, notification_exempt_reason="Subject to SOA 2003 Part 2 notification.")
    order.refresh_from_db()
    assert (order.notification_applies, order.notification_due_on) == (False, None)
    with pytest.raises(TransitionError):
        dapo_notification_record(actor=oic_a, order=order, notified_on=D(2026, 2, 4), today=TODAY)
    other = applied(oic_a, case, "restraining")
    with pytest.raises(ValidationError) as refused:
        order_grant(actor=oic_a, order=other, on=MADE, notification_exempt_reason="x", today=TODAY)
    assert list(refused.value.message_dict) == ["notification_exempt_reason"]
    other.refresh_from_db()
    assert (other.status, other.notification_applies, other.notification_due_on) == ("applied", None, None)


def test_dapo_requirements_each_with_its_end(oic_a, case):
    order = granted_dapo(oic_a, case)
    no_contact = dapo_requirement_add(
        actor=oic_a,
        order=order,
        kind="prohibition",
        text="Not to contact Alex Jones.",
        imposed_on=MADE,
        today=TODAY,
    )
    programme = dapo_requirement_add(
        actor=oic_a,
        order=order,
        kind="requirement",
        text="Attend a behaviour change programme.",
        supervisor="Probation, Manchester",
        imposed_on=MADE,
        ends_on=D(2026, 8, 3),
        today=TODAY,
    )
    tag = dapo_requirement_add(
        actor=oic_a,
        order=order,
        kind="electronic_monitoring",
        text="Electronic monitoring of the 500 m exclusion zone.",
        imposed_on=D(2026, 2, 10),
        ends_on=D(2026, 5, 10),
        today=TODAY,
    )
    assert list(order.requirements.values_list("kind", "ends_on")) == [
        ("prohibition", None),
        ("requirement", D(2026, 8, 3)),
        ("electronic_monitoring", D(2026, 5, 10)),
    ]
    assert programme.supervisor == "Probation, Manchester"
    assert case.events.filter(kind="order_requirement_added").count() == 3
    dapo_requirement_remove(
        actor=oic_a,
        order=order,
        requirement=tag,
        on=D(2026, 2, 20),
        reason="Varied: monitoring ended.",
        today=TODAY,
    )
    tag.refresh_from_db()
    no_contact.refresh_from_db()
    assert (tag.removed_on, tag.reason, no_contact.removed_on) == (
        D(2026, 2, 20),
        "Varied: monitoring ended.",
        None,
    )
    with pytest.raises(TransitionError):
        dapo_requirement_remove(
            actor=oic_a, order=order, requirement=tag, on=D(2026, 2, 21), reason="x", today=TODAY
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "requirement"}, "supervisor"),  # s.36(2)
        ({"text": "  "}, "text"),
        ({"kind": "curfew"}, "kind"),
        ({"imposed_on": D(2026, 2, 2)}, "imposed_on"),  # before the grant
        ({"ends_on": D(2027, 2, 3)}, "ends_on"),  # after the order's last day
        ({"ends_on": D(2026, 2, 2), "imposed_on": D(2026, 2, 3)}, "ends_on"),
        ({"imposed_on": D(2026, 3, 3)}, "imposed_on"),  # in the future
    ],
)
def test_dapo_requirement_checks(oic_a, case, changes, field):
    order = granted_dapo(oic_a, case)
    data = {
        "kind": "prohibition",
        "text": "Not to come within 100 m of 1 High St.",
        "imposed_on": MADE,
    } | changes
    with pytest.raises(ValidationError) as refused:
        dapo_requirement_add(actor=oic_a, order=order, today=TODAY, **data)
    assert list(refused.value.message_dict) == [field]
    assert not DapoRequirement.objects.exists()


def test_requirements_belong_to_a_dapo_in_force(oic_a, case):
    other = applied(oic_a, case, "restraining")
    order_grant(actor=oic_a, order=other, on=MADE, today=TODAY)
    with pytest.raises(TransitionError, match="Only a DAPO"):
        dapo_requirement_add(
            actor=oic_a, order=other, kind="prohibition", text="x", imposed_on=MADE, today=TODAY
        )
    not_yet = applied(oic_a, case, "dapo")
    with pytest.raises(TransitionError, match="applied for"):
        dapo_requirement_add(
            actor=oic_a, order=not_yet, kind="prohibition", text="x", imposed_on=MADE, today=TODAY
        )


def test_other_forces_cannot_record_requirements(oic_a, oic_b, case):
    order = granted_dapo(oic_a, case)
    with pytest.raises(PermissionDenied):
        dapo_requirement_add(
            actor=oic_b, order=order, kind="prohibition", text="x", imposed_on=MADE, today=TODAY
        )


# -- the web forms and the page ------------------------------------------------------------------------------


def act(client, case, action, data):
    return client.post(
        reverse("victims:action", args=[case.pk, action]), {f"{action}-{k}": v for k, v in data.items()}
    )


def test_the_grant_form_shows_the_dvpo_refusal_on_the_end_date(client, oic_a, case, frozen):
    order = applied(oic_a, case, "dvpo")
    client.force_login(oic_a)
    response = act(
        client, case, "order-grant", {"order": order.pk, "on": "2026-02-03", "expires_on": "2026-04-03"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f"Ends on: {MESSAGE}" in body, "in the error summary, against the field"
    order.refresh_from_db()
    assert order.status == "applied"
    response = act(
        client, case, "order-grant", {"order": order.pk, "on": "2026-02-03", "expires_on": "2026-03-02"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.expires_on) == ("granted", D(2026, 3, 2))


def test_dapo_requirements_and_notification_on_the_page(client, oic_a, prosecutor_a, case, frozen):
    victim_add(actor=oic_a, case=case, given_name="Alex", family_name="Jones", today=TODAY)
    order = granted_dapo(oic_a, case)
    client.force_login(oic_a)
    body = client.get(reverse("victims:case", args=[case.pk])).content.decode()
    for slug in ("dapo-requirement", "dapo-notified"):
        assert f'id="action-{slug}"' in body
    assert 'id="action-dapo-requirement-remove"' not in body, "nothing to remove yet"
    row = order_row(body, order)
    assert "due by Thu 5 Feb 2026" in row and "Overdue" in row, (
        "today is 2 March: the notification is overdue"
    )

    response = act(
        client,
        case,
        "dapo-requirement",
        {
            "order": order.pk,
            "kind": "requirement",
            "text": "Attend a behaviour change programme.",
            "imposed_on": "2026-02-03",
        },
    )
    assert response.status_code == 400
    assert (
        "Name who supervises compliance with a requirement to do something (s.36(2))."
        in response.content.decode()
    )
    response = act(
        client,
        case,
        "dapo-requirement",
        {
            "order": order.pk,
            "kind": "requirement",
            "text": "Attend a behaviour change programme.",
            "supervisor": "Probation, Manchester",
            "imposed_on": "2026-02-03",
            "ends_on": "2026-08-03",
        },
    )
    assert response.status_code == 302
    requirement = order.requirements.get()
    assert (
        act(client, case, "dapo-notified", {"order": order.pk, "notified_on": "2026-02-05"}).status_code
        == 302
    )

    body = client.get(reverse("victims:case", args=[case.pk])).content.decode()
    row = order_row(body, order)
    assert (
        "<strong>Requirement</strong>: Attend a behaviour change programme. Supervised by Probation, Manchester. "
        "Imposed 3 Feb 2026, last day 3 Aug 2026"
    ) in row
    assert "notified 5 Feb 2026" in row and "Overdue" not in row
    assert 'id="action-dapo-notified"' not in body, "already recorded"

    response = act(
        client,
        case,
        "dapo-requirement-remove",
        {"requirement": requirement.pk, "on": "2026-02-20", "reason": "Varied by the court."},
    )
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert requirement.removed_on == D(2026, 2, 20)

    client.force_login(prosecutor_a)
    case_refer_to_cps(actor=oic_a, case=case, received_on=TODAY, today=TODAY)
    body = client.get(reverse("victims:case", args=[case.pk])).content.decode()
    assert 'id="action-dapo-requirement"' in body
    assert 'id="action-dapo-notified"' not in body, "police only"
    assert ProtectiveOrder.objects.get(pk=order.pk).notified_on == D(2026, 2, 5)
