"""The database refuses bad rows even when code bypasses the services.

Rows are written with ``Model.objects.create`` / ``.update()`` (no model validation), so only the PostgreSQL
constraints stand between them and the table. Each test first shows a good row is accepted, then that the bad
one raises IntegrityError naming the constraint.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from cases.models import Case, Clock, Offence, OffenceType, Organisation, User
from charging.models import Action, ActionPlan, ChargingDecision, ChargingReferral
from tests.conftest import TODAY
from victims.models import Breach, ProtectiveOrder

pytestmark = pytest.mark.django_db

D = datetime.date
REPORTED = TODAY - datetime.timedelta(days=10)


def refused(constraint: str, write: Callable[[], Any]) -> None:
    """``write`` must fail on ``constraint``, and the failure must not poison the surrounding transaction."""
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        write()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def case(force_a) -> Case:
    return Case.objects.create(force=force_a, urn="C-1", reported_on=REPORTED, status="investigation")


@pytest.fixture
def assault() -> OffenceType:
    return OffenceType.objects.get(code="CJA88-39")


@pytest.fixture
def offence(case, assault) -> Offence:
    return Offence.objects.create(case=case, offence_type=assault, committed_on=REPORTED)


@pytest.fixture
def referral(case, oic_a) -> ChargingReferral:
    return ChargingReferral.objects.create(case=case, sequence=1, received_on=TODAY, submitted_by=oic_a)


def decision(case, referral, user, **kw) -> ChargingDecision:
    fields = {"decided_on": TODAY, "outcome": "charge", "test": "full_code", "reasons": "Met."} | kw
    return ChargingDecision.objects.create(case=case, referral=referral, decided_by=user, **fields)


def clock(case, **kw) -> Clock:
    fields = {
        "kind": "investigation",
        "side": "police",
        "started_on": REPORTED,
        "due_on": REPORTED + datetime.timedelta(days=21),
        "warn_on": REPORTED + datetime.timedelta(days=18),
    }
    return Clock.objects.create(case=case, **(fields | kw))


# ---------------------------------------------------------------------------------------------------------------
# Organisations, users, offence types
# ---------------------------------------------------------------------------------------------------------------


def test_force_needs_an_area_and_an_area_has_none(area_a):
    Organisation.objects.create(kind="force", code="XXP", name="Example Police", area=area_a)
    refused(
        "cases_organisation_force_has_area",
        lambda: Organisation.objects.create(kind="force", code="YYP", name="Orphan Police"),
    )
    refused(
        "cases_organisation_force_has_area",
        lambda: Organisation.objects.create(kind="cps_area", code="ZZ", name="CPS Nowhere", area=area_a),
    )
    refused(
        "cases_organisation_force_has_area", lambda: Organisation.objects.filter(code="XXP").update(area=None)
    )


def test_user_roles_must_be_known(force_a):
    user = User.objects.create(username="good", organisation=force_a, roles=["oic", "police_supervisor"])
    refused(
        "cases_user_roles_valid",
        lambda: User.objects.create(username="bad", organisation=force_a, roles=["oic", "wizard"]),
    )
    refused("cases_user_roles_valid", lambda: User.objects.filter(pk=user.pk).update(roles=["chief"]))


def test_active_staff_need_an_organisation():
    User.objects.create(username="root", is_superuser=True)
    User.objects.create(username="left", is_active=False)
    refused("cases_user_staff_have_organisation", lambda: User.objects.create(username="nobody"))


def test_only_a_summary_offence_has_a_time_limit():
    OffenceType.objects.create(
        code="T-1", title="Summary", statute="X", mode_of_trial="summary", stl_regime="mca_s127"
    )
    refused(
        "cases_offencetype_stl_only_summary",
        lambda: OffenceType.objects.create(
            code="T-2", title="Either way", statute="X", mode_of_trial="either_way", stl_regime="mca_s127"
        ),
    )
    refused(
        "cases_offencetype_stl_only_summary",
        lambda: OffenceType.objects.filter(code="CDA71-1").update(stl_regime="mca_s127"),
    )


# ---------------------------------------------------------------------------------------------------------------
# Cases and offences
# ---------------------------------------------------------------------------------------------------------------


def test_urn_is_unique_within_a_force(case, force_b):
    Case.objects.create(force=force_b, urn="C-1", reported_on=REPORTED)  # another force may reuse it
    refused(
        "cases_case_urn_unique_per_force",
        lambda: Case.objects.create(force=case.force, urn="C-1", reported_on=REPORTED),
    )


def test_case_status_must_be_a_known_status(case, force_a):
    refused(
        "cases_case_status_valid",
        lambda: Case.objects.create(force=force_a, urn="C-2", reported_on=REPORTED, status="lost"),
    )
    refused("cases_case_status_valid", lambda: Case.objects.filter(pk=case.pk).update(status="archived"))
    case.refresh_from_db()
    assert case.status == "investigation"


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        ({"first_qualifying_report_on": REPORTED, "first_qualifying_report_kind": "vri"}, True),
        ({"first_qualifying_report_on": None, "first_qualifying_report_kind": ""}, True),
        ({"first_qualifying_report_on": REPORTED, "first_qualifying_report_kind": ""}, False),
        ({"first_qualifying_report_on": None, "first_qualifying_report_kind": "witness_statement"}, False),
    ],
    ids=["both", "neither", "date-only", "kind-only"],
)
def test_qualifying_report_date_and_kind_go_together(force_a, fields, ok):
    def write():
        return Case.objects.create(force=force_a, urn="Q-1", reported_on=REPORTED, **fields)

    if ok:
        assert write().pk
    else:
        refused("cases_case_fqr_date_and_kind_together", write)


def test_qualifying_report_not_before_the_report(case):
    Case.objects.filter(pk=case.pk).update(
        first_qualifying_report_on=REPORTED, first_qualifying_report_kind="vri"
    )
    day_before = REPORTED - datetime.timedelta(days=1)
    refused(
        "cases_case_fqr_not_before_report",
        lambda: Case.objects.filter(pk=case.pk).update(first_qualifying_report_on=day_before),
    )
    refused(
        "cases_case_fqr_not_before_report",
        lambda: Case.objects.create(
            force=case.force,
            urn="Q-2",
            reported_on=REPORTED,
            first_qualifying_report_on=D(2020, 1, 1),
            first_qualifying_report_kind="vri",
        ),
    )


def test_only_a_police_perpetrated_case_can_be_restricted(case, force_a):
    Case.objects.create(
        force=force_a, urn="R-1", reported_on=REPORTED, police_perpetrated=True, restricted=True
    )
    refused(
        "cases_case_restricted_only_police_perpetrated",
        lambda: Case.objects.create(force=force_a, urn="R-2", reported_on=REPORTED, restricted=True),
    )
    refused(
        "cases_case_restricted_only_police_perpetrated",
        lambda: Case.objects.filter(pk=case.pk).update(restricted=True),
    )


def test_offence_dates_in_order(case, assault):
    Offence.objects.create(case=case, offence_type=assault, committed_from=REPORTED, committed_on=REPORTED)
    refused(
        "cases_offence_dates_in_order",
        lambda: Offence.objects.create(
            case=case,
            offence_type=assault,
            committed_from=REPORTED + datetime.timedelta(days=1),
            committed_on=REPORTED,
        ),
    )


# ---------------------------------------------------------------------------------------------------------------
# Clocks
# ---------------------------------------------------------------------------------------------------------------


def test_clock_warns_before_it_is_due(case):
    due = REPORTED + datetime.timedelta(days=21)
    clock(case, warn_on=due)  # warn on the due day itself is fine
    refused(
        "cases_clock_warn_before_due",
        lambda: clock(case, kind="charge", warn_on=due + datetime.timedelta(days=1)),
    )


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        ({"stopped_on": TODAY, "state": "met"}, True),
        ({"stopped_on": None, "state": "overdue"}, True),
        ({"stopped_on": TODAY, "state": "running"}, False),
        ({"stopped_on": TODAY, "state": "time_barred"}, False),
        ({"stopped_on": None, "state": "missed"}, False),
        ({"stopped_on": None, "state": "cancelled"}, False),
    ],
)
def test_clock_state_matches_whether_it_is_stopped(case, fields, ok):
    if ok:
        assert clock(case, **fields).pk
    else:
        refused("cases_clock_state_matches_stop", lambda: clock(case, **fields))


def test_stopping_a_clock_without_closing_its_state_is_refused(case):
    c = clock(case)
    refused("cases_clock_state_matches_stop", lambda: Clock.objects.filter(pk=c.pk).update(stopped_on=TODAY))


def test_charging_clock_needs_a_referral(case, referral):
    clock(case, kind="charging_decision", side="cps", referral=referral)
    refused("cases_clock_charging_has_referral", lambda: clock(case, kind="charging_decision", side="cps"))


def test_stl_clocks_need_an_offence(case, offence):
    clock(case, kind="stl", offence=offence)
    clock(case, kind="stl_common_assault", offence=offence)
    refused("cases_clock_stl_has_offence", lambda: clock(case, kind="stl"))
    refused("cases_clock_stl_has_offence", lambda: clock(case, kind="stl_common_assault"))


def test_clock_kind_must_be_known(case):
    refused("cases_clock_kind_valid", lambda: clock(case, kind="egg_timer"))


def test_one_open_clock_of_a_kind_per_subject(case, offence, assault):
    first = clock(case)
    # Null subjects count as equal (NULLS NOT DISTINCT): a second open investigation clock is refused.
    refused("cases_clock_one_open_per_subject", lambda: clock(case))
    # Once the first is stopped, a new one may open.
    Clock.objects.filter(pk=first.pk).update(stopped_on=TODAY, state="superseded")
    clock(case)
    # One open STL clock per offence: another offence may have its own.
    clock(case, kind="stl", offence=offence)
    refused("cases_clock_one_open_per_subject", lambda: clock(case, kind="stl", offence=offence))
    other = Offence.objects.create(case=case, offence_type=assault, committed_on=REPORTED)
    clock(case, kind="stl", offence=other)
    assert case.clocks.filter(stopped_on__isnull=True).count() == 3


# ---------------------------------------------------------------------------------------------------------------
# Charging
# ---------------------------------------------------------------------------------------------------------------


def test_rejected_referral_names_a_reason(referral):
    ChargingReferral.objects.filter(pk=referral.pk).update(
        triage="rejected", triage_reasons=["no_mg3"], status="rejected"
    )
    refused(
        "charging_chargingreferral_rejection_has_reason",
        lambda: ChargingReferral.objects.filter(pk=referral.pk).update(triage_reasons=[]),
    )


def test_new_rejected_referral_without_reasons_is_refused(case, oic_a):
    refused(
        "charging_chargingreferral_rejection_has_reason",
        lambda: ChargingReferral.objects.create(
            case=case, sequence=1, received_on=TODAY, submitted_by=oic_a, triage="rejected", status="rejected"
        ),
    )


def test_triage_reasons_must_be_known(referral):
    refused(
        "charging_chargingreferral_reasons_valid",
        lambda: ChargingReferral.objects.filter(pk=referral.pk).update(triage_reasons=["bad_vibes"]),
    )


def test_one_awaiting_referral_per_case(case, referral, oic_a):
    ChargingReferral.objects.create(
        case=case, sequence=2, received_on=TODAY, submitted_by=oic_a, status="decided"
    )
    refused(
        "charging_chargingreferral_one_awaiting",
        lambda: ChargingReferral.objects.create(case=case, sequence=3, received_on=TODAY, submitted_by=oic_a),
    )
    refused(
        "charging_chargingreferral_sequence_unique",
        lambda: ChargingReferral.objects.create(
            case=case, sequence=1, received_on=TODAY, submitted_by=oic_a, status="decided"
        ),
    )


def test_decision_to_charge_names_its_test(case, referral, prosecutor_a, oic_a):
    decision(case, referral, prosecutor_a, outcome="nfa", test="")  # no test needed not to charge
    other = ChargingReferral.objects.create(
        case=case, sequence=2, received_on=TODAY, submitted_by=oic_a, status="decided"
    )
    refused(
        "charging_chargingdecision_charge_names_test", lambda: decision(case, other, prosecutor_a, test="")
    )


def test_decision_gives_reasons(case, referral, prosecutor_a):
    refused(
        "charging_chargingdecision_reasons_given", lambda: decision(case, referral, prosecutor_a, reasons="")
    )
    d = decision(case, referral, prosecutor_a)
    refused(
        "charging_chargingdecision_reasons_given",
        lambda: ChargingDecision.objects.filter(pk=d.pk).update(reasons=""),
    )


def test_completed_action_has_a_date(case, referral, prosecutor_a):
    plan = ActionPlan.objects.create(
        case=case,
        decision=decision(case, referral, prosecutor_a, outcome="action_plan", test=""),
        issued_on=TODAY,
        respond_by=TODAY,
    )
    done = Action.objects.create(plan=plan, description="Done", status="completed", completed_on=TODAY)
    refused(
        "charging_action_completed_has_date",
        lambda: Action.objects.create(plan=plan, description="Not dated", status="completed"),
    )
    refused(
        "charging_action_completed_has_date",
        lambda: Action.objects.filter(pk=done.pk).update(completed_on=None),
    )


# ---------------------------------------------------------------------------------------------------------------
# Victims
# ---------------------------------------------------------------------------------------------------------------


def test_protective_order_cannot_expire_before_it_was_granted(case):
    ProtectiveOrder.objects.create(
        case=case, kind="dvpo", considered_on=TODAY, granted_on=TODAY, expires_on=TODAY
    )
    refused(
        "victims_protectiveorder_expires_after_grant",
        lambda: ProtectiveOrder.objects.create(
            case=case,
            kind="dvpo",
            considered_on=TODAY,
            granted_on=TODAY,
            expires_on=TODAY - datetime.timedelta(days=1),
        ),
    )


def test_breach_cannot_be_reported_before_it_occurred(case):
    order = ProtectiveOrder.objects.create(
        case=case, kind="dapo", considered_on=REPORTED, granted_on=REPORTED
    )
    Breach.objects.create(order=order, occurred_on=TODAY, reported_on=TODAY)
    refused(
        "victims_breach_reported_after",
        lambda: Breach.objects.create(
            order=order, occurred_on=TODAY, reported_on=TODAY - datetime.timedelta(days=1)
        ),
    )
