"""``case_update``: corrections of an open case's details, at the stages each is allowed, all or nothing, with
one timeline event and the clocks whose inputs changed recomputed."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Case, CaseEvent, Clock
from cases.services import TransitionError, case_record_police_outcome, case_update
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from tests.factories import CaseFactory
from victims.models import LanguageFinding

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def test_corrects_the_details_with_one_event_listing_what_changed(oic_a, case_a):
    case = case_update(
        actor=oic_a,
        case=case_a,
        changes={"risk_level": "high", "risk_tool": "dash", "summary": "Updated after the DASH assessment."},
        reason="DASH completed",
        today=TODAY,
    )
    stored = Case.objects.get(pk=case_a.pk)
    assert (stored.risk_level, stored.risk_tool, stored.summary) == (
        "high",
        "dash",
        "Updated after the DASH assessment.",
    )
    assert case.risk_level == "high"
    event = CaseEvent.objects.get(case=case_a, kind="case_updated")
    assert event.actor == oic_a and event.reason == "DASH completed"
    assert event.summary == "Case details corrected: risk level, risk assessment tool, summary"
    assert event.data["changed"]["risk_level"] == {"from": "unknown", "to": "high"}
    assert event.data["changed"]["summary"] == {}  # the text is in the audit history, not the timeline
    history = apps.get_model("cases", "CaseHistory")
    audit = (
        history.objects.filter(pgh_obj_id=case_a.pk, pgh_label="update").select_related("pgh_context").get()
    )
    assert audit.risk_level == "high" and audit.pgh_context.metadata["reason"] == "case_update"


def test_values_equal_to_the_stored_ones_change_nothing(oic_a, case_a):
    case_update(actor=oic_a, case=case_a, changes={"risk_level": case_a.risk_level}, today=TODAY)
    assert not CaseEvent.objects.filter(case=case_a, kind="case_updated").exists()


def test_the_date_reported_moves_the_investigation_clock(oic_a, case_a):
    # Reported four weeks ago: the 21-day investigation clock is overdue. The report was in fact ten days ago.
    old = case_a.clocks.get(kind=Clock.Kind.INVESTIGATION)
    assert old.state == Clock.State.OVERDUE
    case_update(actor=oic_a, case=case_a, changes={"reported_on": TODAY - 10 * DAY}, today=TODAY)
    old.refresh_from_db()
    assert old.state == Clock.State.SUPERSEDED and old.stopped_on == TODAY
    new = case_a.clocks.open().get(kind=Clock.Kind.INVESTIGATION)
    assert (new.started_on, new.due_on, new.state) == (
        TODAY - 10 * DAY,
        TODAY + 11 * DAY,
        Clock.State.RUNNING,
    )
    case_a.refresh_from_db()
    assert case_a.reported_on == TODAY - 10 * DAY
    assert case_a.next_due_on == min(case_a.clocks.open().values_list("due_on", flat=True))
    event = CaseEvent.objects.get(case=case_a, kind="case_updated")
    assert event.data["changed"]["reported_on"] == {
        "from": (TODAY - 28 * DAY).isoformat(),
        "to": (TODAY - 10 * DAY).isoformat(),
    }


@pytest.mark.parametrize(
    ("reported_on", "words"),
    [
        (TODAY + DAY, "future"),
        (TODAY - 40 * DAY, "offence was committed after"),  # the offence was 28 days ago
    ],
)
def test_a_date_reported_that_cannot_be_is_refused(oic_a, case_a, reported_on, words):
    with pytest.raises(ValidationError) as err:
        case_update(actor=oic_a, case=case_a, changes={"reported_on": reported_on}, today=TODAY)
    assert words in err.value.message_dict["reported_on"][0]


def test_the_date_reported_cannot_pass_what_was_recorded_after_it(oic_a):
    case = CaseFactory(
        actor=oic_a,
        reported_on=TODAY - 20 * DAY,
        first_qualifying_report_on=TODAY - 15 * DAY,
        first_qualifying_report_kind="vri",
    )
    with pytest.raises(ValidationError) as err:
        case_update(actor=oic_a, case=case, changes={"reported_on": TODAY - 12 * DAY}, today=TODAY)
    assert "first qualifying report" in err.value.message_dict["reported_on"][0]
    home = CaseFactory(actor=oic_a, reported_on=TODAY - 20 * DAY, children_in_household=True)
    with pytest.raises(ValidationError) as err:  # the Operation Encompass clock started on the report
        case_update(actor=oic_a, case=home, changes={"reported_on": TODAY - 12 * DAY}, today=TODAY)
    assert "Operation Encompass" in err.value.message_dict["reported_on"][0]


def test_the_domestic_abuse_flag_moves_the_time_limits(oic_a):
    # ABH in a domestic abuse case: a common-assault time limit is tracked too (it could be reduced to one).
    case = CaseFactory(actor=oic_a, offence="OAPA-47", reported_on=TODAY - 20 * DAY)
    tracked = case.clocks.open().get(kind=Clock.Kind.STL_COMMON_ASSAULT)
    case_update(actor=oic_a, case=case, changes={"domestic_abuse": False}, today=TODAY)
    tracked.refresh_from_db()
    assert tracked.state == Clock.State.CANCELLED
    assert not case.clocks.open().filter(kind=Clock.Kind.STL_COMMON_ASSAULT).exists()
    case_update(actor=oic_a, case=case, changes={"domestic_abuse": True}, today=TODAY)
    assert case.clocks.open().filter(kind=Clock.Kind.STL_COMMON_ASSAULT).count() == 1


def test_the_domestic_abuse_flag_decides_the_s39a_extension(oic_a):
    from tests.factories import complainant_with_own_report

    # DA common assault with a qualifying report: the limit runs from the report (s.39A), not the offence.
    offence_on = TODAY - 170 * DAY
    case = CaseFactory(actor=oic_a, committed_on=offence_on, reported_on=TODAY - 30 * DAY)
    complainant_with_own_report(oic_a, case, TODAY - 20 * DAY)
    stl = case.clocks.open().get(kind=Clock.Kind.STL)
    assert stl.params["basis"] == "s39a"
    extended = stl.due_on
    case_update(actor=oic_a, case=case, changes={"domestic_abuse": False}, today=TODAY)
    stl.refresh_from_db()
    assert stl.due_on < extended  # six months from the offence (s.127)
    assert stl.state in (Clock.State.DUE_SOON, Clock.State.RUNNING)


def test_children_in_the_household_open_and_cancel_the_encompass_clock(oic_a, case_a):
    case_update(actor=oic_a, case=case_a, changes={"children_in_household": True}, today=TODAY)
    clock = case_a.clocks.open().get(kind=Clock.Kind.OPERATION_ENCOMPASS, victim__isnull=True)
    case_update(actor=oic_a, case=case_a, changes={"children_in_household": False}, today=TODAY)
    clock.refresh_from_db()
    assert clock.state == Clock.State.CANCELLED
    # Corrected back: the school still has to be told, so a new household clock opens.
    case_update(actor=oic_a, case=case_a, changes={"children_in_household": True}, today=TODAY)
    assert case_a.clocks.open().filter(kind=Clock.Kind.OPERATION_ENCOMPASS, victim__isnull=True).count() == 1


def test_the_summary_gets_the_language_check(oic_a, case_a):
    case_update(
        actor=oic_a, case=case_a, changes={"summary": "The alleged victim called police."}, today=TODAY
    )
    finding = LanguageFinding.objects.get(case=case_a)
    assert finding.field == "summary" and finding.matched == "alleged victim"


def test_stages(oic_a, case_a):
    case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)
    with pytest.raises(TransitionError, match="date reported"):
        case_update(actor=oic_a, case=case_a, changes={"reported_on": TODAY - 20 * DAY}, today=TODAY)
    case_update(actor=oic_a, case=case_a, changes={"risk_level": "medium"}, today=TODAY)  # still allowed
    closed = CaseFactory(actor=oic_a)
    case_record_police_outcome(actor=oic_a, case=closed, outcome="nfa", on=TODAY, reason="No evidence.")
    with pytest.raises(TransitionError, match="risk level"):
        case_update(actor=oic_a, case=closed, changes={"risk_level": "high"}, today=TODAY)


def test_nothing_is_half_saved(oic_a, case_a):
    with pytest.raises(ValidationError):
        case_update(
            actor=oic_a,
            case=case_a,
            changes={"risk_level": "high", "summary": "New.", "reported_on": TODAY + DAY},
            today=TODAY,
        )
    case_a.refresh_from_db()
    assert (case_a.risk_level, case_a.summary) == ("unknown", "")
    assert not CaseEvent.objects.filter(case=case_a, kind="case_updated").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"risk_level": "extreme"}, "risk_level"),
        ({"risk_tool": "oasys"}, "risk_tool"),
        ({"police_perpetrated": True}, "police_perpetrated"),
        ({"urn": "NEW"}, "urn"),
    ],
)
def test_bad_or_uncorrectable_fields_are_refused(oic_a, case_a, changes, field):
    with pytest.raises(ValidationError) as err:
        case_update(actor=oic_a, case=case_a, changes=changes, today=TODAY)
    assert field in err.value.message_dict


def test_only_police_who_can_see_the_case_correct_it(case_a, prosecutor_a, oic_b, oic_a):
    case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)  # CPS can see it now
    for actor in (prosecutor_a, oic_b):
        with pytest.raises(PermissionDenied):
            case_update(actor=actor, case=case_a, changes={"risk_level": "high"}, today=TODAY)
    assert Case.objects.get(pk=case_a.pk).risk_level == "unknown"
