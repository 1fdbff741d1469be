"""The high-harm repeat offender flag in the database: the nightly set-based evaluation across forces, the
reasons stored and shown, the person's and cases' flags kept in line, and the manual override (justified)."""

from __future__ import annotations

import datetime
from itertools import count

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, CaseEvent, Person
from cases.services import TransitionError, case_create
from governance import services
from governance.models import HighHarmFlag, HighHarmRun
from governance.selectors import hhro_flags_for_case
from governance.tasks import evaluate_high_harm_flags
from tests.conftest import TODAY
from victims import services as victims

pytestmark = pytest.mark.django_db

D = datetime.date
_urns = count(1)


def open_case(actor, pnc, reported_on, *, risk="standard", victim=None):
    case = case_create(
        actor=actor,
        urn=f"HH{next(_urns):05d}",
        reported_on=reported_on,
        offences=[{"offence_type": "CJA88-39", "committed_on": reported_on}],
        suspects=[{"given_name": "Sam", "family_name": f"Suspect{pnc}", "pnc_id": pnc}],
        risk_level=risk,
        today=TODAY,
    )
    if victim:
        victims.victim_add(actor=actor, case=case, given_name=victim[0], family_name=victim[1], today=TODAY)
    return case


def person(pnc) -> Person:
    return Person.objects.get(pnc_id=pnc)


@pytest.fixture
def people(oic_a, oic_b):
    # P1: a case in each force within 12 months, two victims, one high risk: flagged.
    open_case(oic_a, "P1", D(2025, 6, 1), risk="high", victim=("Ann", "X"))
    open_case(oic_b, "P1", D(2026, 1, 10), victim=("Beth", "Y"))
    # P2: the second case is outside the 12 months to 2 Mar 2026 (from 3 Mar 2025): one case in the window.
    open_case(oic_a, "P2", D(2025, 3, 2), risk="high")
    open_case(oic_a, "P2", D(2026, 1, 1))
    # P3: two cases, nothing else: repeat only, not flagged by the default definition.
    open_case(oic_a, "P3", D(2025, 9, 1))
    open_case(oic_a, "P3", D(2025, 10, 1))
    # P4: one case, then a breach of the order against them (the breach is a new case): repeat and a breach.
    case = open_case(oic_a, "P4", D(2025, 11, 3), victim=("Cara", "Z"))
    order = victims.order_consider(
        actor=oic_a, case=case, kind="non_molestation", on=D(2025, 11, 3), today=TODAY
    )
    victims.order_apply(actor=oic_a, order=order, on=D(2025, 11, 4), today=TODAY)
    victims.order_grant(actor=oic_a, order=order, on=D(2025, 11, 10), today=TODAY)
    victims.breach_record(
        actor=oic_a,
        order=order,
        occurred_on=D(2026, 2, 1),
        reported_on=D(2026, 2, 2),
        urn="HHBREACH",
        today=TODAY,
    )


def test_nightly_evaluation_flags_people_across_forces_with_reasons(people):
    run = services.high_harm_flags_evaluate(today=TODAY)
    assert run.status == "done" and run.evaluated == 4 and run.flagged == 2
    flagged = set(Person.objects.filter(high_harm_repeat_offender=True).values_list("pnc_id", flat=True))
    assert flagged == {"P1", "P4"}
    p1 = HighHarmFlag.objects.get(person=person("P1"))
    assert [r["text"] for r in p1.reasons] == [
        "2 domestic abuse cases within 12 months",
        "2 victims within 12 months",
        "assessed as high risk in 1 case",
    ]
    assert p1.facts["da_cases"] == 2 and p1.facts["window_start"] == "2025-03-03"
    p4 = HighHarmFlag.objects.get(person=person("P4"))
    assert {r["code"] for r in p4.reasons} == {"repeat", "order_breach"}
    p3 = HighHarmFlag.objects.get(person=person("P3"))
    assert p3.computed is False and [r["code"] for r in p3.reasons] == ["repeat"]  # a near miss, visible
    # The cases follow their suspects, in both forces, with a timeline entry on each.
    p1_cases = Case.objects.filter(suspects__pnc_id="P1")
    assert p1_cases.count() == 2 and all(c.high_harm_repeat_offender for c in p1_cases)
    assert {c.force.code for c in p1_cases} == {"GMP", "WYP"}
    assert not Case.objects.filter(suspects__pnc_id__in=["P2", "P3"], high_harm_repeat_offender=True).exists()
    assert (
        CaseEvent.objects.filter(kind="hhro_flag_on").count()
        == Case.objects.filter(high_harm_repeat_offender=True).count()
        == 4
    )
    assert run.people_changed == 2 and run.cases_changed == 4


def test_reasons_are_shown_with_the_flag(people, oic_b):
    services.high_harm_flags_evaluate(today=TODAY)
    case = Case.objects.visible_to(oic_b).get(suspects__pnc_id="P1")
    [view] = hhro_flags_for_case(case)
    assert view.effective and view.person.pnc_id == "P1"
    assert "2 victims within 12 months" in view.reasons


def test_a_rerun_changes_nothing_and_flags_drop_when_the_window_moves_on(people):
    services.high_harm_flags_evaluate(today=TODAY)
    events = CaseEvent.objects.count()
    again = services.high_harm_flags_evaluate(today=TODAY)
    assert (again.people_changed, again.cases_changed, CaseEvent.objects.count()) == (0, 0, events)
    later = services.high_harm_flags_evaluate(today=D(2027, 6, 1))
    assert later.flagged == 0 and later.people_changed == 2
    assert not Person.objects.filter(high_harm_repeat_offender=True).exists()
    assert CaseEvent.objects.filter(kind="hhro_flag_off").count() == 4
    assert HighHarmRun.objects.count() == 3


def test_the_definition_is_a_deployment_setting(people, settings):
    settings.JJP_HHRO = {"required": [], "min_criteria": 1}  # any one criterion
    run = services.high_harm_flags_evaluate(today=TODAY)
    assert run.flagged == 3  # P1, P4, and now P3; P2's high-risk case is outside the window
    assert run.definition["min_criteria"] == 1
    assert person("P3").high_harm_repeat_offender  # repeat alone now flags
    settings.JJP_HHRO = {"min_cases": "two"}
    with pytest.raises(ValueError):
        services.high_harm_flags_evaluate(today=TODAY)


def test_evaluation_is_set_based(people, oic_a):
    with CaptureQueriesContext(connection) as ctx:
        services.high_harm_flags_evaluate(today=TODAY)
    before = len(ctx)
    for pnc in ("P5", "P6", "P7"):
        open_case(oic_a, pnc, D(2026, 1, 5), risk="high")
        open_case(oic_a, pnc, D(2026, 2, 5))
    with CaptureQueriesContext(connection) as ctx:
        run = services.high_harm_flags_evaluate(today=TODAY)
    assert run.evaluated == 7 and run.flagged == 5
    assert len(ctx) == before


def test_override_needs_a_justification_and_wins_over_the_definition(
    people, supervisor_a, oic_a, supervisor_b
):
    services.high_harm_flags_evaluate(today=TODAY)
    p3 = person("P3")
    with pytest.raises(ValidationError) as exc:
        services.high_harm_flag_override(actor=supervisor_a, person=p3, override="on", justification="  ")
    assert "justification" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.high_harm_flag_override(actor=supervisor_a, person=p3, override="maybe", justification="x")
    with pytest.raises(PermissionDenied):  # not a supervisor
        services.high_harm_flag_override(actor=oic_a, person=p3, override="on", justification="x")
    with pytest.raises(PermissionDenied):  # cannot see any of P3's cases
        services.high_harm_flag_override(actor=supervisor_b, person=p3, override="on", justification="x")
    assert not HighHarmFlag.objects.get(person=p3).override
    flag = services.high_harm_flag_override(
        actor=supervisor_a, person=p3, override="on", justification="MARAC intelligence: escalating threats."
    )
    assert flag.effective and not flag.computed and flag.overridden_by == supervisor_a
    p3.refresh_from_db()
    assert p3.high_harm_repeat_offender
    assert all(c.high_harm_repeat_offender for c in Case.objects.filter(suspects=p3))
    event = CaseEvent.objects.filter(kind="hhro_flag_on", case__suspects=p3).first()
    assert event.actor == supervisor_a and "MARAC intelligence" in event.reason
    # The nightly run keeps the override.
    services.high_harm_flags_evaluate(today=TODAY)
    p3.refresh_from_db()
    assert p3.high_harm_repeat_offender
    with pytest.raises(TransitionError):
        services.high_harm_flag_override(actor=supervisor_a, person=p3, override="on", justification="again")
    # Removing the override returns to the definition; that needs a justification too.
    with pytest.raises(ValidationError):
        services.high_harm_flag_override(actor=supervisor_a, person=p3, override="", justification="")
    services.high_harm_flag_override(
        actor=supervisor_a, person=p3, override="", justification="MARAC closed."
    )
    p3.refresh_from_db()
    assert not p3.high_harm_repeat_offender


def test_override_off_by_a_cps_legal_manager(people, legal_manager_b, oic_b, prosecutor_b):
    services.high_harm_flags_evaluate(today=TODAY)
    p1 = person("P1")
    with pytest.raises(PermissionDenied):  # a prosecutor, not a legal manager
        services.high_harm_flag_override(actor=prosecutor_b, person=p1, override="off", justification="x")
    with pytest.raises(PermissionDenied):  # a legal manager who cannot see any case of P1 yet (none referred)
        services.high_harm_flag_override(actor=legal_manager_b, person=p1, override="off", justification="x")
    from charging.services import case_refer_to_cps

    case_refer_to_cps(
        actor=oic_b,
        case=Case.objects.get(suspects=p1, force__code="WYP"),
        received_on=D(2026, 2, 2),
        today=TODAY,
    )
    services.high_harm_flag_override(
        actor=legal_manager_b, person=p1, override="off", justification="Victims are the same person."
    )
    p1.refresh_from_db()
    assert not p1.high_harm_repeat_offender
    assert not Case.objects.filter(suspects=p1, high_harm_repeat_offender=True).exists()


def test_task_and_command_run_the_evaluation(people):
    result = evaluate_high_harm_flags.apply(kwargs={"today": "2026-03-02"}).get()
    assert result["status"] == "done" and result["flagged"] == 2
    call_command("evaluate_high_harm_flags", "--today", "2026-03-02")
    assert HighHarmRun.objects.count() == 2
