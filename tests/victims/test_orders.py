"""Protective orders through their life (domain-rules.md section 6): the DAPN-to-DAPO hearing deadline worked
examples end to end through the services, expiry clocks, bail conditions with the victim's views, transitions
checked on the server, and the high-risk "no order considered" list."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Case, Clock
from cases.services import TransitionError
from tests.factories import CaseFactory
from victims import language, selectors
from victims.models import ProtectiveOrder
from victims.services import (
    bail_conditions_impose,
    order_apply,
    order_consider,
    order_end,
    order_grant,
    order_not_pursue,
    order_notice_hearing_record,
    order_notice_serve,
    order_refuse,
    order_vary,
    orders_expire_due,
    victim_add,
)

pytestmark = pytest.mark.django_db
D = datetime.date
LONDON = ZoneInfo("Europe/London")


def london(y, mo, d, h=0, mi=0):
    return datetime.datetime(y, mo, d, h, mi, tzinfo=LONDON)


def served_dapn(oic, served_at):
    day = served_at.date()
    case = CaseFactory(actor=oic, reported_on=day, today=day)
    order = order_consider(actor=oic, case=case, kind="dapn", on=day, today=day)
    with time_machine.travel(served_at + datetime.timedelta(minutes=30), tick=False):
        order_notice_serve(
            actor=oic, order=order, served_at=served_at, conditions="Not to enter the street.", today=day
        )
    order.refresh_from_db()
    return case, order


@pytest.mark.parametrize(
    ("served_at", "due_at"),
    [
        # Sunday 21 disregarded.
        (london(2025, 12, 20, 10), london(2025, 12, 23, 10)),
        # 25 Dec (Christmas), 26 Dec (Sunday), 27 and 28 Dec (substitute bank holidays) disregarded.
        (london(2027, 12, 24, 12), london(2027, 12, 30, 12)),
        # Good Friday 3 Apr, Sunday 5 Apr and Easter Monday 6 Apr 2026 disregarded (British Summer Time).
        (london(2026, 4, 2, 18), london(2026, 4, 7, 18)),
    ],
    ids=["saturday", "christmas-2027", "easter-2026"],
)
def test_dapn_hearing_deadline_worked_examples(oic_a, served_at, due_at):
    case, order = served_dapn(oic_a, served_at)
    clock = case.clocks.get(kind=Clock.Kind.DAPN_HEARING, order=order)
    assert clock.due_at == due_at
    assert clock.due_on == due_at.date()
    assert (clock.started_on, clock.side) == (served_at.date(), "police")
    assert (order.status, order.granted_on, order.served_at) == ("granted", served_at.date(), served_at)


@pytest.mark.parametrize(
    ("late", "state"), [(datetime.timedelta(0), "met"), (datetime.timedelta(minutes=1), "missed")]
)
def test_the_hearing_meets_or_misses_the_deadline_by_the_hour(oic_a, late, state):
    case, order = served_dapn(oic_a, london(2025, 12, 20, 10))
    heard = london(2025, 12, 23, 10) + late
    with time_machine.travel(heard + datetime.timedelta(hours=1), tick=False):
        order_notice_hearing_record(actor=oic_a, order=order, heard_at=heard)
    clock = case.clocks.get(kind=Clock.Kind.DAPN_HEARING, order=order)
    assert (clock.state, clock.stopped_on) == (state, D(2025, 12, 23))
    with pytest.raises(TransitionError), time_machine.travel(heard + datetime.timedelta(hours=2), tick=False):
        order_notice_hearing_record(actor=oic_a, order=order, heard_at=heard)


def test_a_dapo_granted_after_the_notice_ends_the_notice(oic_a):
    case, notice = served_dapn(oic_a, london(2025, 12, 20, 10))
    dapo = order_consider(
        actor=oic_a, case=case, kind="dapo", on=D(2025, 12, 20), notice=notice, today=D(2025, 12, 22)
    )
    order_apply(actor=oic_a, order=dapo, on=D(2025, 12, 20), today=D(2025, 12, 22))
    order_grant(
        actor=oic_a,
        order=dapo,
        on=D(2025, 12, 22),
        expires_on=D(2026, 6, 22),
        conditions="No contact.",
        today=D(2025, 12, 22),
    )
    notice.refresh_from_db()
    assert (notice.status, notice.ended_on) == ("expired", D(2025, 12, 22))
    hearing = case.clocks.get(kind=Clock.Kind.DAPN_HEARING, order=notice)
    assert hearing.state == "met", "decided on Mon 22 Dec, within the deadline of Tue 23 Dec"
    expiry = case.clocks.get(kind=Clock.Kind.ORDER_EXPIRY, order=dapo)
    assert (expiry.due_on, expiry.state) == (D(2026, 6, 22), "running")


def test_a_dapo_must_follow_a_dapn(oic_a, case_a):
    nmo = order_consider(actor=oic_a, case=case_a, kind="non_molestation", on=case_a.reported_on)
    with pytest.raises(ValidationError) as exc:
        order_consider(actor=oic_a, case=case_a, kind="dapo", on=case_a.reported_on, notice=nmo)
    assert "notice" in exc.value.message_dict


def test_order_life_with_expiry_clock_variation_and_end(oic_a, case_a, today):
    on = case_a.reported_on
    order = order_consider(actor=oic_a, case=case_a, kind="non_molestation", on=on, today=today)
    assert order.respondent == case_a.suspects.get(), "the only suspect is the respondent"
    order_apply(actor=oic_a, order=order, on=on, today=today)
    order_grant(
        actor=oic_a, order=order, on=on + datetime.timedelta(days=1), expires_on=D(2026, 9, 1), today=today
    )
    first = case_a.clocks.get(kind=Clock.Kind.ORDER_EXPIRY, order=order)
    assert first.due_on == D(2026, 9, 1)
    order_vary(
        actor=oic_a,
        order=order,
        on=today,
        conditions="No contact; 100 m exclusion zone.",
        expires_on=D(2026, 12, 1),
        reason="Court extended it.",
        today=today,
    )
    first.refresh_from_db()
    assert first.state == "superseded"
    second = case_a.clocks.open().get(kind=Clock.Kind.ORDER_EXPIRY, order=order)
    assert second.due_on == D(2026, 12, 1)
    order_end(
        actor=oic_a,
        order=order,
        on=today,
        outcome="discharged",
        reason="Discharged on the respondent's application.",
        today=today,
    )
    second.refresh_from_db()
    order.refresh_from_db()
    assert (order.status, order.ended_on, second.state) == ("discharged", today, "cancelled")
    kinds = list(case_a.events.filter(kind__startswith="order_").values_list("kind", flat=True))
    assert kinds == [
        "order_considered",
        "order_applied_for",
        "order_granted",
        "order_varied",
        "order_discharged",
    ]


def test_transitions_are_checked_on_the_server(oic_a, case_a, today):
    on = case_a.reported_on
    order = order_consider(actor=oic_a, case=case_a, kind="restraining", on=on, today=today)
    with pytest.raises(TransitionError):
        order_grant(actor=oic_a, order=order, on=on, today=today)
    with pytest.raises(TransitionError):
        order_notice_serve(actor=oic_a, order=order, served_at=london(2026, 2, 10, 9), today=today)
    order_apply(actor=oic_a, order=order, on=on, today=today)
    order_refuse(actor=oic_a, order=order, on=today, reason="Not necessary.", today=today)
    with pytest.raises(TransitionError):
        order_vary(
            actor=oic_a, order=order, on=today, conditions="", expires_on=None, reason="x", today=today
        )
    other = order_consider(actor=oic_a, case=case_a, kind="stalking_protection", on=on, today=today)
    with pytest.raises(ValidationError) as exc:
        order_not_pursue(actor=oic_a, order=other, on=today, reason=" ")
    assert "reason" in exc.value.message_dict
    order_not_pursue(actor=oic_a, order=other, on=today, reason="Victim's safety plan covers it.")
    assert ProtectiveOrder.objects.get(pk=other.pk).status == "not_pursued"


def test_bail_conditions_need_the_victims_views(oic_a, prosecutor_a, case_a, today):
    kwargs = dict(
        case=case_a, on=today, conditions="Not to contact the victim.", expires_on=D(2026, 6, 2), today=today
    )
    with pytest.raises(ValidationError) as exc:
        bail_conditions_impose(actor=oic_a, victim_views="  ", **kwargs)
    assert "victim_views" in exc.value.message_dict
    assert not case_a.orders.exists(), "nothing half-saved"
    order = bail_conditions_impose(actor=oic_a, victim_views="Wants no contact at all.", **kwargs)
    assert (order.kind, order.status, order.victim_views) == (
        "pre_charge_bail",
        "granted",
        "Wants no contact at all.",
    )
    clock = case_a.clocks.get(kind=Clock.Kind.BAIL_EXPIRY, order=order)
    assert (clock.due_on, clock.started_on) == (D(2026, 6, 2), today)
    with pytest.raises(ValidationError) as exc:
        order_vary(
            actor=oic_a, order=order, on=today, conditions="Curfew.", expires_on=None, reason="x", today=today
        )
    assert "victim_views" in exc.value.message_dict


def test_police_only_orders_are_refused_to_cps(oic_a, prosecutor_a, case_a, today):
    from charging.services import case_refer_to_cps

    case_refer_to_cps(actor=oic_a, case=case_a, received_on=today, today=today)
    with pytest.raises(PermissionDenied):
        bail_conditions_impose(
            actor=prosecutor_a, case=case_a, on=today, conditions="x", victim_views="y", today=today
        )
    with pytest.raises(PermissionDenied):
        order_consider(actor=prosecutor_a, case=case_a, kind="dapn", on=today, today=today)
    restraining = order_consider(actor=prosecutor_a, case=case_a, kind="restraining", on=today, today=today)
    assert restraining.created_by == prosecutor_a


def test_other_forces_cannot_touch_orders(oic_a, oic_b, case_a, today):
    with pytest.raises(PermissionDenied):
        order_consider(actor=oic_b, case=case_a, kind="non_molestation", on=today, today=today)
    assert not case_a.orders.exists()


def test_orders_expire_by_sweep(oic_a, case_a, today):
    on = case_a.reported_on
    order = order_consider(actor=oic_a, case=case_a, kind="non_molestation", on=on, today=on)
    order_apply(actor=oic_a, order=order, on=on, today=on)
    order_grant(actor=oic_a, order=order, on=on, expires_on=on + datetime.timedelta(days=14), today=on)
    assert orders_expire_due(today=on + datetime.timedelta(days=14)) == 0
    assert orders_expire_due(today=on + datetime.timedelta(days=15)) == 1
    assert orders_expire_due(today=on + datetime.timedelta(days=15)) == 0, "idempotent"
    order.refresh_from_db()
    clock = case_a.clocks.get(kind=Clock.Kind.ORDER_EXPIRY, order=order)
    assert (order.status, order.ended_on, clock.state) == ("expired", on + datetime.timedelta(days=14), "met")


def test_high_risk_cases_with_no_order_considered(oic_a, today):
    high = CaseFactory(actor=oic_a, risk_level="high")
    CaseFactory(actor=oic_a, risk_level="medium")
    listed = selectors.high_risk_cases_without_order_considered(Case.objects.visible_to(oic_a))
    assert list(listed) == [high]
    order_consider(actor=oic_a, case=high, kind="dvpn", on=high.reported_on, today=today)
    assert not selectors.high_risk_cases_without_order_considered(Case.objects.visible_to(oic_a)).exists()


def test_order_conditions_are_checked_for_language(oic_a, case_a, today):
    victim = victim_add(actor=oic_a, case=case_a, given_name="V", family_name="W", today=today)
    order = bail_conditions_impose(
        actor=oic_a,
        case=case_a,
        victim=victim,
        on=today,
        conditions="Not to contact; volatile relationship.",
        victim_views="Agrees.",
        today=today,
    )
    assert [f.phrase for f in language.findings_for(order)] == ["volatile relationship"]
