"""The governance pages in the GOV.UK and MOJ design system (issue 19): each page extends the base with GOV.UK
markup and none of the old bare classes; the period form's month boxes hold ``yyyy-MM``; the figures are charts
(accessible inline SVG) as well as tables; sampling rules read as their labels, never their stored names; a
form's error shows once in the error summary (linked to its field) and once at the field. The chart geometry
(``governance/charts.py``) is tested without a database."""

from __future__ import annotations

import datetime
import html as html_lib
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from cases.services import case_record_police_outcome
from charging import services as charging
from governance import forms, services
from governance.charts import bar_chart, comparison_chart
from governance.models import SamplingRule, ScrutinyPanel
from governance.selectors import hhro_flags_for_case
from governance.views import rule_label
from tests.conftest import TODAY
from tests.factories import CaseFactory

D = datetime.date
PERIOD = {"start": "2026-01", "end": "2026-02"}
OLD_MARKUP = (
    'class="table"',
    'class="summary"',
    'class="button',
    'class="error-summary"',
    'class="hint"',
    'class="notice"',
    'class="form"',
    'class="errorlist"',
)


def visible_text(page: str) -> str:
    """The page's main content as text: tags, scripts and attribute values dropped."""
    main = page[page.index("<main") : page.index("</main>")]
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", main))


def assert_govuk_page(page: str, *, tables: bool = True) -> None:
    assert '<html lang="en-GB" class="govuk-template">' in page  # extends base.html
    assert re.search(r'<h1 class="govuk-heading-l"', page)
    for old in OLD_MARKUP:
        assert old not in page, old
    if tables:
        assert 'class="govuk-table' in page and "govuk-table__header" in page and "govuk-table__cell" in page
    main = page[page.index("<main") : page.index("</main>")]
    bare = [
        tag
        for tag in re.findall(r"<(?:table|dl|button|input|select|textarea|h2|ul|p)\b[^>]*>", main)
        if "class=" not in tag and 'type="hidden"' not in tag
    ]
    assert not bare, f"elements without a GOV.UK class: {bare}"


# --------------------------------------------------------------------------------------------------------------
# Fixtures: a panel with a meeting and a case drawn by rule, an action plan, a police closure after it
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def panel(force_a, member_a):
    p = ScrutinyPanel.objects.create(name="GMP panel", organisation=force_a)
    p.members.add(member_a)
    return p


@pytest.fixture
def review(panel, member_a, oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    case_record_police_outcome(
        actor=oic_a, case=case, outcome="out_of_court", on=D(2026, 2, 2), reason="Caution.", today=TODAY
    )
    meeting = services.panel_meeting_schedule(
        actor=member_a, panel=panel, held_on=D(2026, 2, 24), random_count=1
    )
    [r] = services.panel_meeting_sample(actor=member_a, meeting=meeting)
    return r


@pytest.fixture
def plan(oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 20))
    referral = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 1, 27), today=TODAY)
    return charging.action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=D(2026, 2, 2),
        reasons="More needed.",
        respond_by=D(2026, 2, 23),
        actions=[{"description": "Full phone download"}],
        today=TODAY,
    )


@pytest.fixture
def closed_after_plan(oic_a, plan):
    case_record_police_outcome(
        actor=oic_a, case=plan.case, outcome="nfa", on=D(2026, 2, 9), reason="Victim withdrew.", today=TODAY
    )
    return services.cps_notification_record(actor=oic_a, case=plan.case)


# --------------------------------------------------------------------------------------------------------------
# Every page in GOV.UK markup
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestEveryPageIsStyled:
    def test_index_panel_meeting_and_review(self, client, member_a, review):
        client.force_login(member_a)
        for url, tables in (
            (reverse("governance:index"), True),
            (reverse("governance:panel", args=[review.panel_id]), True),
            (reverse("governance:meeting", args=[review.meeting_id]), True),
            (reverse("governance:review", args=[review.pk]), False),  # no action plans: no table
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            assert_govuk_page(response.content.decode(), tables=tables)
        panel_page = client.get(reverse("governance:panel", args=[review.panel_id])).content.decode()
        assert "govuk-summary-list" in panel_page and "govuk-back-link" in panel_page
        assert 'class="govuk-form-group' in panel_page and 'class="govuk-button"' in panel_page
        assert 'class="govuk-input govuk-input--width-10" ' in panel_page  # the meeting date
        review_page = client.get(reverse("governance:review", args=[review.pk])).content.decode()
        assert "govuk-summary-list" in review_page and "moj-timeline" in review_page
        assert 'class="govuk-select"' in review_page and 'class="govuk-textarea"' in review_page

    def test_action_plan_queue_flag_and_notifications(
        self, client, supervisor_a, prosecutor_a, plan, closed_after_plan
    ):
        client.force_login(supervisor_a)
        page = client.get(reverse("governance:action_plan", args=[plan.pk])).content.decode()
        assert_govuk_page(page)
        assert "govuk-summary-list" in page and "govuk-radios" in page and "govuk-fieldset__legend" in page
        assert page.count('class="govuk-button"') == 2  # rate, record why an action is not complete
        person = plan.case.suspects.get()
        page = client.get(reverse("governance:person_flag", args=[person.pk])).content.decode()
        assert_govuk_page(page)
        assert "govuk-summary-list" in page and "govuk-radios" in page and "govuk-textarea" in page
        page = client.get(reverse("governance:review_queue")).content.decode()
        assert_govuk_page(page, tables=False)  # none queued: one plan only
        assert "No cases waiting." in page
        client.force_login(prosecutor_a)
        page = client.get(reverse("governance:notifications")).content.decode()
        assert_govuk_page(page)
        assert "govuk-button govuk-button--secondary" in page and "Victim withdrew." in page

    def test_performance_page(self, client, supervisor_a):
        client.force_login(supervisor_a)
        page = client.get(reverse("governance:performance"), PERIOD).content.decode()
        assert_govuk_page(page)
        assert "govuk-summary-list" in page and "moj-sub-navigation" in page
        assert 'class="govuk-select"' in page and "govuk-button--secondary" in page

    def test_the_high_harm_flag_on_the_case_page_is_a_warning(self, oic_a, supervisor_a):
        case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
        services.high_harm_flag_override(
            actor=supervisor_a, person=case.suspects.get(), override="on", justification="MARAC referral."
        )
        html = render_to_string("governance/_hhro_flag.html", {"flags": hhro_flags_for_case(case)})
        assert "govuk-warning-text" in html and "govuk-tag" in html and 'class="govuk-link"' in html
        assert 'class="notice"' not in html


# --------------------------------------------------------------------------------------------------------------
# The month boxes
# --------------------------------------------------------------------------------------------------------------


class TestMonthBoxes:
    def test_a_month_box_holds_year_and_month(self):
        form = forms.PeriodForm(
            initial={"start": D(2026, 1, 1), "end": D(2026, 12, 1)}, series_choices=[("national", "E&W")]
        )
        start, end = str(form["start"]), str(form["end"])
        assert 'type="month"' in start and 'value="2026-01"' in start and "01/01/2026" not in start
        assert 'value="2026-12"' in end
        assert "govuk-input" in start

    def test_what_a_month_box_sends_is_read_back(self):
        form = forms.PeriodForm({"start": "2026-01", "end": "2026-03"}, series_choices=[])
        assert form.is_valid()
        assert (form.cleaned_data["start"], form.cleaned_data["end"]) == (D(2026, 1, 1), D(2026, 3, 1))
        bad = forms.PeriodForm({"start": "January"}, series_choices=[])
        assert not bad.is_valid() and bad.errors["start"] == ["Enter a month, for example 2026-01."]

    @pytest.mark.django_db
    def test_the_page_fills_the_boxes(self, client, supervisor_a):
        client.force_login(supervisor_a)
        page = client.get(reverse("governance:performance"), PERIOD).content.decode()
        assert re.search(r'<input type="month" name="start" value="2026-01"', page)
        assert re.search(r'<input type="month" name="end" value="2026-02"', page)
        default = client.get(reverse("governance:performance")).content.decode()
        this_month = default.split('name="end" value="')[1][:7]
        assert re.fullmatch(r"\d{4}-\d{2}", this_month)

    @pytest.mark.django_db
    def test_a_wrong_period_is_shown_the_gov_uk_way(self, client, supervisor_a):
        client.force_login(supervisor_a)
        response = client.get(reverse("governance:performance"), {"start": "2026-05", "end": "2026-01"})
        page = response.content.decode()
        assert response.status_code == 200  # the default period's figures, with the error
        assert "<title>Error: " in page
        assert re.search(r'<a href="#id_end">To \(month\): The period ends before it starts\.</a>', page)
        assert re.search(r'class="govuk-error-message">.*The period ends before it starts\.', page)
        assert page.count("The period ends before it starts.") == 2
        assert 'value="2026-01"' in page and "govuk-input--error" in page


# --------------------------------------------------------------------------------------------------------------
# Rule labels
# --------------------------------------------------------------------------------------------------------------


def test_every_rule_has_a_label_and_an_unknown_one_reads_as_stored():
    assert rule_label("two_plus_action_plans") == "Two or more action plans"
    assert rule_label("nfa_after_action_plan") == "No further action after an action plan"
    assert all(rule_label(v) != v for v in SamplingRule.values)
    assert rule_label("retired_rule") == "retired_rule"


@pytest.mark.django_db
class TestRuleLabels:
    def test_panel_meeting_and_review_pages_show_labels(self, client, member_a, review):
        assert review.sampling_rule == "out_of_court"
        client.force_login(member_a)
        for url in (
            reverse("governance:panel", args=[review.panel_id]),
            reverse("governance:meeting", args=[review.meeting_id]),
            reverse("governance:review", args=[review.pk]),
        ):
            text = visible_text(client.get(url).content.decode())
            for value in SamplingRule.values:
                assert value not in text, (url, value)
            assert "Out-of-court resolution" in text, url
        panel_text = visible_text(
            client.get(reverse("governance:panel", args=[review.panel_id])).content.decode()
        )
        for rule in SamplingRule:
            assert rule.label in panel_text
        meeting = visible_text(
            client.get(reverse("governance:meeting", args=[review.meeting_id])).content.decode()
        )
        assert "By rule: out-of-court resolution" in meeting
        page = visible_text(client.get(reverse("governance:review", args=[review.pk])).content.decode())
        assert "Rules the case meets" in page

    def test_review_queue_names_its_rule(self, client, supervisor_a):
        client.force_login(supervisor_a)
        text = visible_text(client.get(reverse("governance:review_queue")).content.decode())
        assert '"Two or more action plans"' in text and "two_plus_action_plans" not in text


# --------------------------------------------------------------------------------------------------------------
# One error, the GOV.UK way
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestErrorsShownOnce:
    def test_meeting_date_taken(self, client, member_a, panel):
        client.force_login(member_a)
        url = reverse("governance:panel", args=[panel.pk])
        data = {"held_on": "2026-03-10", "random_count": "3", "per_rule_limit": "5"}
        assert client.post(url, data).status_code == 302
        response = client.post(url, data)
        page = response.content.decode()
        message = "GMP panel already meets on 10 March 2026."
        assert response.status_code == 400
        assert not response.context["form"].non_field_errors()
        assert page.count(message) == 2  # the summary's link and the field's message, nothing more
        summary = page[
            page.index('class="govuk-error-summary"') : page.index("</ul>", page.index("govuk-error-summary"))
        ]
        assert f'<a href="#id_held_on">Meeting date: {message}</a>' in summary
        field = page[page.index('id="id_held_on_error"') :]
        assert (
            field.startswith('id="id_held_on_error" class="govuk-error-message"') and message in field[:200]
        )
        assert "govuk-form-group--error" in page and "govuk-input--error" in page
        assert "<title>Error: " in page

    def test_meeting_date_missing(self, client, member_a, panel):
        client.force_login(member_a)
        response = client.post(
            reverse("governance:panel", args=[panel.pk]),
            {"held_on": "", "random_count": "3", "per_rule_limit": "5"},
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert page.count("This field is required.") == 2
        assert '<a href="#id_held_on">Meeting date: This field is required.</a>' in page

    def test_a_service_error_on_an_action_plan_step(self, client, supervisor_a, plan):
        client.force_login(supervisor_a)
        response = client.post(
            reverse("governance:action_plan", args=[plan.pk]),
            {"step": "rate", "rate-rating": "disproportionate", "rate-on": "2026-02-03", "rate-notes": ""},
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert page.count("Say why the plan is disproportionate.") == 2
        assert '<a href="#id_rate-notes">Notes: Say why the plan is disproportionate.</a>' in page
        assert "govuk-textarea--error" in page


# --------------------------------------------------------------------------------------------------------------
# Charts as well as tables
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_performance_page_draws_each_headline_figure_twice_with_its_table(client, supervisor_a, oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 1, 12), today=TODAY)
    client.force_login(supervisor_a)
    response = client.get(reverse("governance:performance"), PERIOD)
    page = response.content.decode()
    headline = [m for m in response.context["metrics"] if m.chart]
    assert len(headline) >= 5
    assert page.count('<svg class="jjp-chart__svg" role="img"') == 2 * len(headline)
    assert "style=" not in page[page.index("<main") :]  # the Content-Security-Policy forbids inline style
    # The referrals chart of the user's force: a bar for January with its value, none for February.
    chart = page[
        page.index('id="chart-referrals"') : page.index("</figure>", page.index('id="chart-referrals"'))
    ]
    assert (
        '<title id="chart-referrals-title">Referrals received, Greater Manchester Police (force), by month'
        in chart
    )
    assert '<desc id="chart-referrals-desc">January 2026: 1; February 2026: no figure</desc>' in chart
    assert chart.count('<rect class="jjp-chart__bar"') == 1
    assert 'class="govuk-table' in chart and "January 2026" in chart  # the table beside the chart
    compare = page[page.index('id="compare-referrals"') :]
    compare = compare[: compare.index("</figure>")]
    assert "England and Wales: 1" in compare and "Greater Manchester Police (force): 1" in compare


class TestChartGeometry:
    def test_bars_scale_to_the_largest_value_or_to_a_share(self):
        chart = bar_chart("Referrals", [("Jan", 2, "2"), ("Feb", 4, "4"), ("Mar", None, "–")])
        jan, feb, mar = chart.bars
        assert feb.height == chart.baseline - chart.top and jan.height == feb.height / 2
        assert feb.y + feb.height == chart.baseline
        assert mar.value is None and mar.height == 0 and mar.text == "no figure"
        assert chart.top_label == "4" and chart.has_values
        share = bar_chart("Charge rate", [("Jan", 0.5, "50%")], maximum=1.0)
        assert share.top_label == "100%" and share.bars[0].height == (share.baseline - share.top) / 2

    def test_the_summary_names_each_month_in_full(self):
        chart = bar_chart(
            "Charge rate",
            [("Jan 26", 0.25, "25%"), ("Feb 26", None, "–")],
            maximum=1.0,
            long_labels=["January 2026", "February 2026"],
        )
        assert chart.summary == "January 2026: 25%; February 2026: no figure"
        assert [b.name for b in chart.bars] == ["January 2026", "February 2026"]
        with pytest.raises(ValueError):
            bar_chart("x", [("Jan", 1, "1")], long_labels=[])

    def test_many_months_label_every_few_bars_and_leave_values_to_the_table(self):
        twelve = bar_chart("x", [(f"m{i}", i, str(i)) for i in range(12)])
        assert all(b.show_label and b.show_text for b in twelve.bars)
        many = bar_chart("x", [(f"m{i}", i, str(i)) for i in range(36)])
        labelled = [i for i, b in enumerate(many.bars) if b.show_label]
        assert labelled[0] == 0 and 6 <= len(labelled) <= 18
        assert not any(b.show_text for b in many.bars)
        assert all(b.x + b.width <= many.width for b in many.bars)

    def test_nothing_to_draw(self):
        empty = bar_chart("x", [])
        assert empty.bars == () and empty.summary == "No figures in the period." and not empty.has_values
        flat = bar_chart("x", [("Jan", 0, "0")])
        assert flat.bars[0].height == 0 and flat.top_label == "1"

    def test_comparison_bars_run_from_the_labels(self):
        chart = comparison_chart(
            "Charge rate",
            [("England and Wales", 0.5, "50%"), ("Pilot sites", 1.0, "100%"), ("Other sites", None, "–")],
            maximum=1.0,
        )
        national, pilot, rest = chart.bars
        assert national.x == pilot.x == chart.left
        assert pilot.width == 2 * national.width and pilot.x + pilot.width < chart.width
        assert national.y < pilot.y < rest.y and rest.y + rest.height < chart.height
        assert rest.width == 0 and rest.text == "no figure"
        assert chart.summary == "England and Wales: 50%; Pilot sites: 100%; Other sites: no figure"
