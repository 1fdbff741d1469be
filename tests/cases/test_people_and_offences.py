"""People and offences: the legal facts that belong to each complainant and suspect.

A domestic abuse common assault gets the CJA 1988 s.39A limit only from its own complainant's statement or VRI,
with both people 16 or over on the offence day and personally connected (DA Act 2021 ss.1-2); in every other case
the MCA 1980 s.127 date. The pure rule is table- and property-tested; the services, the case page and the clocks
are tested on the two unsafe cases of the issue, an under-16 and a not-connected case, and two suspects and two
complainants in one case."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from cases import clocks, ledger
from cases import services as case_services
from cases.models import Clock, Offence
from victims import services as victim_services
from victims.models import Relationship, Victim

D = datetime.date
B = clocks.StlBasis
R = clocks.StlReason
ADULT = D(1990, 5, 1)


def ca(**kw):
    args = {
        "offence_on": D(2025, 1, 1),
        "complainant_born_on": ADULT,
        "suspect_born_on": ADULT,
        "personally_connected": True,
        "first_qualifying_report_on": D(2025, 6, 1),
    }
    args.update(kw)
    return clocks.common_assault_stl_decision(**args)


# --------------------------------------------------------------------------------------------------------------
# The pure rule
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "due", "basis", "reasons"),
    [
        # All conditions: min(offence + 24 months, report + 6 months).
        ({}, D(2025, 12, 1), B.S39A, (R.S39A_REPORT,)),
        ({"first_qualifying_report_on": D(2026, 10, 1)}, D(2027, 1, 1), B.S39A, (R.S39A_REPORT,)),
        (
            {"offence_on": D(2024, 2, 29), "first_qualifying_report_on": D(2025, 10, 1)},
            D(2026, 2, 28),
            B.S39A,
            None,
        ),
        (
            {"offence_on": D(2025, 8, 31), "first_qualifying_report_on": D(2025, 8, 31)},
            D(2026, 2, 28),
            B.S39A,
            None,
        ),
        # The first unsafe case: no statement of the complainant's own -> s.127.
        ({"first_qualifying_report_on": None}, D(2025, 7, 1), B.S127, (R.NO_REPORT,)),
        # The second: a complainant aged 15 on the offence day.
        ({"complainant_born_on": D(2009, 6, 1)}, D(2025, 7, 1), B.S127, (R.COMPLAINANT_UNDER_AGE,)),
        ({"suspect_born_on": D(2009, 1, 2)}, D(2025, 7, 1), B.S127, (R.SUSPECT_UNDER_AGE,)),
        # 16 on the offence day itself counts.
        ({"complainant_born_on": D(2009, 1, 1)}, D(2025, 12, 1), B.S39A, None),
        ({"complainant_born_on": None}, D(2025, 7, 1), B.S127, (R.COMPLAINANT_AGE_UNKNOWN,)),
        ({"suspect_born_on": None}, D(2025, 7, 1), B.S127, (R.SUSPECT_AGE_UNKNOWN,)),
        ({"personally_connected": False}, D(2025, 7, 1), B.S127, (R.NOT_CONNECTED,)),
        ({"personally_connected": None}, D(2025, 7, 1), B.S127, (R.CONNECTION_UNKNOWN,)),
        (
            {"offence_on": D(2022, 6, 27), "first_qualifying_report_on": D(2022, 7, 1)},
            D(2022, 12, 27),
            B.S127,
            (R.BEFORE_COMMENCEMENT,),
        ),
        (
            {"complainant_born_on": None, "personally_connected": False, "first_qualifying_report_on": None},
            D(2025, 7, 1),
            B.S127,
            (R.COMPLAINANT_AGE_UNKNOWN, R.NOT_CONNECTED, R.NO_REPORT),
        ),
    ],
)
def test_common_assault_stl_table(kw, due, basis, reasons):
    decision = ca(**kw)
    assert (decision.due_on, decision.basis) == (due, basis)
    if reasons is not None:
        assert decision.reasons == reasons
    assert (
        clocks.common_assault_stl(
            **{
                "offence_on": D(2025, 1, 1),
                "complainant_born_on": ADULT,
                "suspect_born_on": ADULT,
                "personally_connected": True,
                "first_qualifying_report_on": D(2025, 6, 1),
                **kw,
            }
        )
        == due
    )


def test_a_person_born_on_29_february_attains_an_age_on_1_march_in_a_common_year():
    """The safe reading: never treated as 16 before the law could (which would give the later s.39A date).
    16 years after a 29 February is a leap year except across a century (2084 -> 2100)."""
    assert clocks.age_attained_on(D(2008, 2, 29), 16) == D(2024, 2, 29)
    assert clocks.age_attained_on(D(2008, 2, 29), 17) == D(2025, 3, 1)
    assert clocks.age_attained_on(D(2084, 2, 29), 16) == D(2100, 3, 1)
    under = ca(
        offence_on=D(2100, 2, 28),
        complainant_born_on=D(2084, 2, 29),
        first_qualifying_report_on=D(2100, 3, 1),
    )
    assert under.basis == B.S127 and under.reasons == (R.COMPLAINANT_UNDER_AGE,)
    assert (
        ca(
            offence_on=D(2100, 3, 1),
            complainant_born_on=D(2084, 2, 29),
            first_qualifying_report_on=D(2100, 3, 1),
        ).basis
        == B.S39A
    )
    # The day before the 16th birthday is under 16; the birthday itself is 16.
    assert ca(complainant_born_on=D(2009, 1, 2)).reasons == (R.COMPLAINANT_UNDER_AGE,)
    assert ca(complainant_born_on=D(2009, 1, 1)).basis == B.S39A


def test_impossible_dates_raise():
    with pytest.raises(ValueError, match="before the offence"):
        ca(first_qualifying_report_on=D(2024, 12, 31))
    with pytest.raises(ValueError, match="date of birth"):
        ca(complainant_born_on=D(2025, 1, 2))
    with pytest.raises(TypeError):
        ca(personally_connected="yes")
    with pytest.raises(TypeError):
        ca(offence_on=datetime.datetime(2025, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("made", "bounds"),
    [
        (D(2026, 6, 1), (D(2026, 6, 14), D(2026, 6, 28))),
        (D(2026, 2, 20), (D(2026, 3, 5), D(2026, 3, 19))),
        (D(2028, 2, 20), (D(2028, 3, 4), D(2028, 3, 18))),
        (D(2026, 12, 31), (D(2027, 1, 13), D(2027, 1, 27))),
    ],
)
def test_dvpo_end_bounds_table(made, bounds):
    assert clocks.dvpo_end_bounds(made) == bounds


dates = st.dates(min_value=D(2022, 6, 28), max_value=D(2035, 12, 31))
births = st.one_of(st.none(), st.dates(min_value=D(1930, 1, 1), max_value=D(2022, 6, 28)))


@given(
    offence_on=dates,
    complainant_born_on=births,
    suspect_born_on=births,
    personally_connected=st.one_of(st.none(), st.booleans()),
    report_after=st.one_of(st.none(), st.integers(min_value=0, max_value=1500)),
)
def test_common_assault_stl_properties(
    offence_on, complainant_born_on, suspect_born_on, personally_connected, report_after
):
    report = None if report_after is None else offence_on + datetime.timedelta(days=report_after)
    decision = clocks.common_assault_stl_decision(
        offence_on=offence_on,
        complainant_born_on=complainant_born_on,
        suspect_born_on=suspect_born_on,
        personally_connected=personally_connected,
        first_qualifying_report_on=report,
    )
    s127 = clocks.add_months(offence_on, 6)
    # Never earlier than s.127, never later than the 24-month cap.
    assert s127 <= decision.due_on <= clocks.add_months(offence_on, 24)
    # s.39A only when every condition holds; every missing fact keeps s.127.
    all_met = (
        report is not None
        and personally_connected is True
        and complainant_born_on is not None
        and suspect_born_on is not None
        and clocks.age_attained_on(complainant_born_on, 16) <= offence_on
        and clocks.age_attained_on(suspect_born_on, 16) <= offence_on
    )
    assert (decision.basis == B.S39A) == all_met
    if not all_met:
        assert decision.due_on == s127 and decision.reasons
    else:
        assert decision.due_on == min(clocks.add_months(offence_on, 24), clocks.add_months(report, 6))
    # Losing a fact never makes the limit later.
    weaker = clocks.common_assault_stl_decision(
        offence_on=offence_on,
        complainant_born_on=complainant_born_on,
        suspect_born_on=suspect_born_on,
        personally_connected=None,
        first_qualifying_report_on=report,
    )
    assert weaker.due_on <= decision.due_on


@given(made=st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 1)))
def test_dvpo_bounds_property(made):
    first, last = clocks.dvpo_end_bounds(made)
    # "Beginning with the day on which it is made": the made day is day 1.
    assert (first - made).days + 1 == 14
    assert (last - made).days + 1 == 28


# --------------------------------------------------------------------------------------------------------------
# Through the services and the ledger
# --------------------------------------------------------------------------------------------------------------

TODAY = D(2025, 6, 10)


def _case(
    actor, *, offences, suspects=({"given_name": "Sam", "family_name": "Suspect", "date_of_birth": ADULT},)
):
    return case_services.case_create(
        actor=actor,
        urn="PO-1",
        reported_on=D(2025, 1, 2),
        offences=offences,
        suspects=list(suspects),
        today=TODAY,
    )


def _victim(actor, case, name, born=ADULT):
    return victim_services.victim_add(
        actor=actor, case=case, given_name=name, family_name="Victim", date_of_birth=born, today=TODAY
    )


def _stl(offence: Offence) -> Clock:
    return offence.clocks.get(kind=Clock.Kind.STL, stopped_on__isnull=True)


@pytest.mark.django_db
class TestTheUnsafeCases:
    def test_another_complainants_statement_never_extends_a_limit(self, oic_a):
        """Victim X's statement of 1 Jun 2025; victim Y, assaulted on 1 Jan 2025, gave none: Y's limit is
        1 Jul 2025 (s.127), not 1 Dec 2025."""
        case = _case(
            oic_a,
            offences=[
                {"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)},
                {"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)},
            ],
        )
        x = _victim(oic_a, case, "Xena")
        y = _victim(oic_a, case, "Yusuf")
        against_x, against_y = case.offences.order_by("pk")
        suspect = case.suspects.get()
        for offence, victim in ((against_x, x), (against_y, y)):
            case_services.offence_people_set(
                actor=oic_a, offence=offence, complainant=victim, suspect=suspect, today=TODAY
            )
            victim_services.victim_relationship_set(
                actor=oic_a, victim=victim, suspect=suspect, relationship=Relationship.MARRIED, today=TODAY
            )
        victim_services.victim_qualifying_report_record(
            actor=oic_a,
            victim=x,
            on=D(2025, 6, 1),
            kind="witness_statement",
            received_by="PC 123",
            today=TODAY,
        )
        assert _stl(against_x).due_on == D(2025, 12, 1)
        assert _stl(against_x).params["basis"] == "s39a"
        assert _stl(against_y).due_on == D(2025, 7, 1)
        assert _stl(against_y).params == {"basis": "s127", "reasons": ["no_report"]}
        against_y.refresh_from_db()
        assert ledger.stl_basis_text(_stl(against_y), against_y) == (
            "s.127: the complainant has made no witness statement or video-recorded interview yet"
        )
        against_x.refresh_from_db()
        assert ledger.stl_basis_text(_stl(against_x), against_x) == (
            "s.39A: witness statement of 1 June 2025 by Xena Victim"
        )
        case.refresh_from_db()
        assert case.stl_due_on == D(2025, 7, 1)

    def test_a_complainant_under_16_keeps_the_s127_date(self, oic_a):
        case = _case(oic_a, offences=[{"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)}])
        victim = _victim(oic_a, case, "Young", born=D(2009, 6, 1))  # 15 on the offence day
        offence = case.offences.get()
        assert offence.complainant_id is None or offence.complainant == victim
        victim_services.victim_relationship_set(
            actor=oic_a, victim=victim, suspect=case.suspects.get(), relationship="relatives", today=TODAY
        )
        victim_services.victim_qualifying_report_record(
            actor=oic_a, victim=victim, on=D(2025, 6, 1), kind="vri", today=TODAY
        )
        offence.refresh_from_db()
        assert offence.complainant == victim  # the first victim is named complainant
        clock = _stl(offence)
        assert clock.due_on == D(2025, 7, 1)
        assert clock.params["reasons"] == ["complainant_under_age"]
        # Corrected to a date of birth that makes them 16: the limit is recomputed to the s.39A date.
        victim_services.victim_date_of_birth_set(
            actor=oic_a, victim=victim, date_of_birth=D(2008, 6, 1), today=TODAY
        )
        assert _stl(offence).due_on == D(2025, 12, 1)

    def test_not_personally_connected_keeps_the_s127_date(self, oic_a):
        case = _case(oic_a, offences=[{"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)}])
        victim = _victim(oic_a, case, "Neighbour")
        victim_services.victim_qualifying_report_record(
            actor=oic_a, victim=victim, on=D(2025, 6, 1), kind="witness_statement", today=TODAY
        )
        offence = case.offences.get()
        assert _stl(offence).params["reasons"] == ["connection_unknown"]
        victim_services.victim_relationship_set(
            actor=oic_a, victim=victim, suspect=case.suspects.get(), relationship="not_connected", today=TODAY
        )
        assert _stl(offence).due_on == D(2025, 7, 1)
        assert _stl(offence).params["reasons"] == ["not_connected"]
        victim_services.victim_relationship_set(
            actor=oic_a, victim=victim, suspect=case.suspects.get(), relationship="intimate", today=TODAY
        )
        assert _stl(offence).due_on == D(2025, 12, 1)


@pytest.mark.django_db
def test_two_suspects_and_two_complainants(oic_a):
    """Each offence is judged on its own people: the suspect related to the complainant gets the s.39A date;
    the other suspect, not connected, the s.127 date, although the complainant's statement is the same."""
    case = _case(
        oic_a,
        offences=[
            {"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)},
            {"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)},
            {"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)},
        ],
        suspects=(
            {"given_name": "Alex", "family_name": "Partner", "date_of_birth": ADULT},
            {"given_name": "Chris", "family_name": "Friend", "date_of_birth": ADULT},
        ),
    )
    partner, friend = case.suspects.order_by("pk")
    first, second, third = case.offences.order_by("pk")
    assert first.suspect_id is None  # with two suspects, none is guessed
    x = _victim(oic_a, case, "Xena")
    y = _victim(oic_a, case, "Yusuf")
    case_services.offence_people_set(actor=oic_a, offence=first, complainant=x, suspect=partner, today=TODAY)
    case_services.offence_people_set(actor=oic_a, offence=second, complainant=x, suspect=friend, today=TODAY)
    case_services.offence_people_set(actor=oic_a, offence=third, complainant=y, suspect=partner, today=TODAY)
    victim_services.victim_relationship_set(
        actor=oic_a, victim=x, suspect=partner, relationship="intimate", today=TODAY
    )
    victim_services.victim_relationship_set(
        actor=oic_a, victim=x, suspect=friend, relationship="not_connected", today=TODAY
    )
    victim_services.victim_relationship_set(
        actor=oic_a, victim=y, suspect=partner, relationship="parental", today=TODAY
    )
    victim_services.victim_qualifying_report_record(
        actor=oic_a, victim=x, on=D(2025, 6, 1), kind="witness_statement", today=TODAY
    )
    assert [_stl(o).due_on for o in (first, second, third)] == [D(2025, 12, 1), D(2025, 7, 1), D(2025, 7, 1)]
    # Y's own VRI later extends only the offence against Y.
    victim_services.victim_qualifying_report_record(
        actor=oic_a, victim=y, on=D(2025, 6, 5), kind="vri", today=TODAY
    )
    assert [_stl(o).due_on for o in (first, second, third)] == [D(2025, 12, 1), D(2025, 7, 1), D(2025, 12, 5)]


@pytest.mark.django_db
class TestPeopleChecks:
    def test_complainant_and_suspect_must_belong_to_the_case(self, oic_a):
        case = _case(oic_a, offences=[{"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)}])
        other = case_services.case_create(
            actor=oic_a,
            urn="PO-2",
            reported_on=D(2025, 1, 2),
            offences=[{"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)}],
            suspects=[{"given_name": "Other", "family_name": "Person"}],
            today=TODAY,
        )
        stranger = _victim(oic_a, other, "Stranger")
        with pytest.raises(ValidationError) as exc:
            case_services.offence_people_set(
                actor=oic_a, offence=case.offences.get(), complainant=stranger, suspect=None, today=TODAY
            )
        assert "complainant" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            case_services.offence_people_set(
                actor=oic_a,
                offence=case.offences.get(),
                complainant=None,
                suspect=other.suspects.get(),
                today=TODAY,
            )
        assert "suspect" in exc.value.message_dict

    def test_dates_that_cannot_be_right_are_refused(self, oic_a):
        case = _case(oic_a, offences=[{"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)}])
        victim = _victim(oic_a, case, "Xena")
        with pytest.raises(ValidationError) as exc:
            victim_services.victim_date_of_birth_set(
                actor=oic_a, victim=victim, date_of_birth=D(2025, 3, 1), today=TODAY
            )
        assert "after the offence" in exc.value.message_dict["date_of_birth"][0]
        with pytest.raises(ValidationError):
            victim_services.victim_date_of_birth_set(
                actor=oic_a, victim=victim, date_of_birth=D(1899, 12, 31), today=TODAY
            )
        with pytest.raises(ValidationError) as exc:
            victim_services.victim_qualifying_report_record(
                actor=oic_a, victim=victim, on=D(2024, 12, 1), kind="vri", today=TODAY
            )
        assert "before the report to police" in exc.value.message_dict["on"][0]
        victim_services.victim_qualifying_report_record(
            actor=oic_a, victim=victim, on=D(2025, 2, 1), kind="vri", today=TODAY
        )
        with pytest.raises(ValidationError, match="only an earlier one"):
            victim_services.victim_qualifying_report_record(
                actor=oic_a, victim=victim, on=D(2025, 3, 1), kind="vri", today=TODAY
            )


@pytest.mark.django_db
def test_the_only_victim_is_named_complainant_but_not_a_child_who_saw(oic_a):
    case = _case(oic_a, offences=[{"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)}])
    victim_services.victim_add(
        actor=oic_a,
        case=case,
        given_name="Kid",
        family_name="Victim",
        child_saw_or_heard=True,
        is_child=True,
        today=TODAY,
    )
    assert case.offences.get().complainant_id is None
    assert _stl(case.offences.get()).params["reasons"] == ["no_complainant"]
    adult = _victim(oic_a, case, "Adult")
    assert case.offences.get().complainant_id is None  # not the first victim: never guessed
    case_services.offence_people_set(
        actor=oic_a, offence=case.offences.get(), complainant=adult, suspect=case.suspects.get(), today=TODAY
    )
    assert Victim.objects.get(pk=adult.pk).offences.count() == 1


# --------------------------------------------------------------------------------------------------------------
# Through the web forms of the case page
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_complainants_through_the_web_forms(client, oic_a):
    """The issue's first unsafe case, then an under-16 and a not-connected complainant, all by the case page's
    forms: each limit is the law's, and the page says which rule gave it and why."""
    import time_machine
    from django.urls import reverse

    from cases.models import Case

    with time_machine.travel(datetime.datetime(2025, 6, 10, 12, 0, tzinfo=clocks.LONDON), tick=False):
        case = _case(
            oic_a,
            offences=[
                {"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)},
                {"offence_type": "CJA88-39", "committed_on": D(2025, 1, 1)},
            ],
        )
        client.force_login(oic_a)

        def step(slug: str, data: dict) -> None:
            response = client.post(
                reverse("case_step", args=[case.pk, slug]), {f"{slug}-{k}": v for k, v in data.items()}
            )
            assert response.status_code == 302, response.content.decode()[-3000:]

        step("victim", {"given_name": "Xena", "family_name": "Victim", "date_of_birth": "1990-05-01"})
        step("victim", {"given_name": "Yusuf", "family_name": "Victim"})
        x, y = case.victims.order_by("pk")
        suspect = case.suspects.get()
        against_x, against_y = case.offences.order_by("pk")
        assert against_x.complainant == x and against_y.complainant == x  # the first victim, named for both
        step("offence-people", {"offence": against_y.pk, "complainant": y.pk, "suspect": suspect.pk})
        step("relationship", {"victim": x.pk, "suspect": suspect.pk, "relationship": "intimate"})
        step("relationship", {"victim": y.pk, "suspect": suspect.pk, "relationship": "relatives"})
        step("qualifying-report", {"victim": x.pk, "on": "2025-06-01", "kind": "witness_statement"})
        assert (_stl(against_x).due_on, _stl(against_y).due_on) == (D(2025, 12, 1), D(2025, 7, 1))
        page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        assert "s.39A: witness statement of 1 June 2025 by Victim 1" in page
        assert "s.127: the complainant&#x27;s date of birth is not recorded" in page  # Y's
        assert "Yusuf" not in page and "Xena" not in page, "the case page names victims by number"

        # Y aged 15 on the offence day, with a VRI: still s.127.
        step("victim-born", {"victim": y.pk, "date_of_birth": "2009-06-01"})
        step("qualifying-report", {"victim": y.pk, "on": "2025-06-02", "kind": "vri"})
        assert _stl(against_y).due_on == D(2025, 7, 1)
        assert (
            "s.127: the complainant was under 16 on the offence day"
            in client.get(reverse("case_detail", args=[case.pk])).content.decode()
        )
        # 16 after all (the date corrected), but recorded as not personally connected: still s.127.
        step("victim-born", {"victim": y.pk, "date_of_birth": "2008-06-01"})
        assert _stl(against_y).due_on == D(2025, 12, 2)
        step("relationship", {"victim": y.pk, "suspect": suspect.pk, "relationship": "not_connected"})
        assert _stl(against_y).due_on == D(2025, 7, 1)
        # A date of birth after the offence is refused with the error on the field.
        response = client.post(
            reverse("case_step", args=[case.pk, "victim-born"]),
            {"victim-born-victim": y.pk, "victim-born-date_of_birth": "2025-03-01"},
        )
        assert (
            response.status_code == 400
            and "after the offence against this victim" in response.content.decode()
        )
        assert Case.objects.get(pk=case.pk).stl_due_on == D(2025, 7, 1)
