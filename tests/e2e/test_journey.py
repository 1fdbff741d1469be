"""The whole charging journey in a real browser, by two people in two browser contexts.

The OIC opens a common assault case whose statutory time limit is inside eight weeks and refers it; the
prosecutor sees the STL warning and issues an action plan; days pass and an action goes overdue; the OIC completes
the actions and resubmits; the prosecutor decides to charge; the OIC records the charge. At each step the badges
on both dashboards move as they should. axe-core runs on every page visited (no violations allowed), no request
fails, no script errors, and each dashboard is saved as a screenshot under test-artifacts/.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe

from cases import ledger
from cases.models import Case, Clock, OffenceType, Organisation, Role
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"
URN = "E2E-0001"
_axe = Axe()
# axe's defaults, plus WCAG 2.2's target size (2.5.8, AA), which axe leaves off by default.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}


def d(day: datetime.date) -> str:
    return day.isoformat()


class Person:
    """One person at their own browser (a separate context: own cookies, own session)."""

    def __init__(self, browser: Any, base_url: str, username: str, artifacts: Path) -> None:
        self.context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.username = username
        self.artifacts = artifacts
        self.visited: list[str] = []
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    # --- checks run on every page -------------------------------------------------------------------------------
    def check(self) -> None:
        """Every page: axe-core finds no violations; nothing failed to load; no script errors."""
        self.page.wait_for_load_state("networkidle")
        results = _axe.run(self.page, options=AXE_OPTIONS)
        url = self.page.url
        self.visited.append(url)
        assert results.violations_count == 0, f"axe on {url}:\n{results.generate_report()}"
        assert not self.problems, f"on {url}: {self.problems}"
        assert self.page.evaluate("document.body.classList.contains('govuk-frontend-supported')"), (
            "GOV.UK Frontend's JavaScript did not start"
        )

    def goto(self, path: str) -> None:
        self.page.goto(path)
        self.check()

    def login(self) -> None:
        self.goto("/login/")
        self.page.get_by_label("Username").fill(self.username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.check()

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)

    # --- the case page ------------------------------------------------------------------------------------------
    def open_case(self, urn: str) -> None:
        self.page.get_by_role("link", name=urn, exact=True).first.click()
        self.check()
        assert self.page.get_by_role("heading", level=1).inner_text().startswith(f"Case {urn}")

    def step(self, title: str) -> Any:
        """Open a step's details on the case page and return its form."""
        details = self.page.locator("details", has=self.page.locator("summary", has_text=title))
        details.locator("summary").click()
        return details.locator("form")

    def submit_step(self, form: Any, title: str) -> None:
        form.get_by_role("button", name=title).click()
        self.check()
        banner = self.page.locator(".govuk-notification-banner--success")
        assert banner.count() == 1, self.page.locator(".govuk-error-summary").all_inner_texts()
        assert f"{title}: done." in banner.inner_text()

    # --- dashboards ---------------------------------------------------------------------------------------------
    def dashboard(self, slug: str, shot: str | None = None) -> None:
        self.goto(f"/dashboards/{slug}/")
        if shot:
            self.screenshot(shot)

    def section(self, title: str) -> Any:
        return self.page.locator(
            "section", has=self.page.get_by_role("heading", name=re.compile(re.escape(title)))
        )

    def row(self, section_title: str, text: str) -> Any:
        return self.section(section_title).locator("tr", has_text=text)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_work_a_case_from_referral_to_charge(chromium, live_server, artifacts):
    start = ledger.london_today()
    gmp = Organisation.objects.get(code="GMP")
    UserFactory(
        username="e2e-oic", first_name="Olivia", last_name="Okafor", organisation=gmp, roles=[Role.OIC]
    )
    UserFactory(
        username="e2e-prosecutor",
        first_name="Priya",
        last_name="Patel",
        organisation=gmp.area,
        roles=[Role.PROSECUTOR],
    )
    UserFactory(
        username="e2e-supervisor",
        first_name="Sam",
        last_name="Sergeant",
        organisation=gmp,
        roles=[Role.POLICE_SUPERVISOR],
    )
    oic = Person(chromium, live_server.url, "e2e-oic", artifacts)
    cps = Person(chromium, live_server.url, "e2e-prosecutor", artifacts)

    # The OIC signs in and lands on their dashboard: nothing yet.
    oic.login()
    assert oic.page.url.endswith("/dashboards/oic/")
    assert "You are not the officer in charge of any open case." in oic.page.content()

    # The OIC opens a common assault reported late: committed 150 days ago, so its six-month time limit is about
    # a month away, well inside eight weeks.
    oic.page.get_by_role("link", name="Open a case").first.click()
    oic.check()
    form = oic.page.locator("main form")
    form.get_by_label("URN").fill(URN)
    form.get_by_label("Date reported to police").fill(d(start - datetime.timedelta(days=10)))
    form.get_by_label("Offence", exact=True).select_option(
        label=str(OffenceType.objects.get(code="CJA88-39"))
    )
    form.get_by_label("Offence date").fill(d(start - datetime.timedelta(days=150)))
    form.get_by_label("Suspect's given name").fill("Jordan")
    form.get_by_label("Suspect's family name").fill("Ashdown")
    form.get_by_label("Risk level").select_option("medium")
    form.get_by_role("button", name="Open the case").click()
    oic.check()
    assert f"Case {URN} opened." in oic.page.content()
    case = Case.objects.get(urn=URN)
    stl = case.clocks.get(kind=Clock.Kind.STL)
    days_to_stl = (stl.due_on - start).days
    assert 14 < days_to_stl <= 56, "the scenario needs an STL inside eight weeks"
    warning = oic.page.locator(".jjp-stl-warning")
    assert "within 8 weeks" in warning.inner_text()

    # The OIC refers the case to CPS the same day.
    refer = oic.step("Refer to CPS")
    assert refer.get_by_label("Date CPS receives it").input_value() == d(start), "dates start at today"
    oic.submit_step(refer, "Refer to CPS")
    oic.dashboard("oic", "oic-1-referred")
    mine = oic.row("My cases", URN)
    assert f"STL: {days_to_stl} days left, within 8 weeks" in mine.inner_text()
    assert "Charging decision:" in mine.inner_text()
    assert "Investigation" not in mine.inner_text(), "the referral stopped the investigation clock"

    # The prosecutor signs in: the case is on the STL watch list (red, at the top), awaiting a decision, and
    # flagged for a case conversation.
    cps.login()
    assert cps.page.url.endswith("/dashboards/prosecutor/")
    cps.screenshot("prosecutor-1-received")
    watch = cps.page.locator("#stl-watch")
    assert "jjp-alert-panel" in (watch.get_attribute("class") or "")
    assert URN in watch.inner_text()
    assert f"STL: {days_to_stl} days left, within 8 weeks" in watch.inner_text()
    awaiting = cps.row("Referrals awaiting a decision", URN)
    assert "within 8 weeks" in awaiting.inner_text() and "Charging decision:" in awaiting.inner_text()
    assert URN in cps.section("Cases flagged for a case conversation").inner_text()

    # The prosecutor opens the case from the watch list, sees the warning, and issues an action plan.
    watch.get_by_role("link", name=URN).click()
    cps.check()
    assert "Statutory time limit warning" in cps.page.locator(".jjp-stl-warning").inner_text()
    cps.screenshot("case-page-prosecutor")
    plan = cps.step("Issue an action plan")
    plan.get_by_label("Police to respond by").fill(d(start + datetime.timedelta(days=7)))
    plan.get_by_label("Why more is needed").fill("The 999 call and a neighbour's account are needed.")
    plan.get_by_label("Actions").fill(
        f"Obtain the 999 recording | {d(start + datetime.timedelta(days=3))}\nTake the neighbour's statement"
    )
    cps.submit_step(plan, "Issue an action plan")
    cps.dashboard("prosecutor")
    assert "No referral is awaiting a decision." in cps.page.content()
    assert URN in cps.page.locator("#stl-watch").inner_text(), "still uncharged: still on the watch list"

    oic.dashboard("oic", "oic-2-action-plan")
    actions = oic.section("Actions due from CPS action plans")
    assert "Action: due soon, 3 days left" in actions.locator("tr", has_text="999 recording").inner_text()
    assert "Take the neighbour's statement" in actions.inner_text()
    assert "Charging decision:" not in oic.row("My cases", URN).inner_text(), "the action plan stopped it"

    # Four days pass: the sweep runs and the 999 action is overdue. Both sign in again on the new day.
    later = datetime.datetime.combine(
        start + datetime.timedelta(days=4), datetime.time(9), tzinfo=ledger.clocks.LONDON
    )
    with time_machine.travel(later, tick=True):
        today = ledger.london_today()
        assert today == start + datetime.timedelta(days=4)
        ledger.sweep()

        oic.login()
        oic.screenshot("oic-3-action-overdue")
        actions = oic.section("Actions due from CPS action plans")
        assert "Action: overdue by 1 day" in actions.locator("tr", has_text="999 recording").inner_text()
        assert int(oic.page.locator(".jjp-count--red .jjp-count__number").first.inner_text()) >= 1

        boss = Person(chromium, live_server.url, "e2e-supervisor", artifacts)
        boss.login()
        assert boss.page.url.endswith("/dashboards/police-supervisor/")
        boss.screenshot("supervisor-1-overdue")
        overdue = boss.row("The team's overdue deadlines", URN)
        assert "Obtain the 999 recording" in overdue.inner_text()
        assert "Olivia Okafor" in overdue.inner_text()
        boss.context.close()

        # The OIC completes both actions and resubmits.
        oic.goto(f"/cases/{case.pk}/")
        for description in ("Obtain the 999 recording", "Take the neighbour's statement"):
            update = oic.step("Update an action")
            action = case.action_plans.get().actions.get(description=description)
            update.get_by_label("Action", exact=True).select_option(str(action.pk))
            update.get_by_label("New status").select_option("completed")
            oic.submit_step(update, "Update an action")
        oic.submit_step(oic.step("Refer to CPS"), "Refer to CPS")
        oic.dashboard("oic")
        assert "No actions from CPS are waiting for you." in oic.page.content()

        # The prosecutor sees the response to the action plan and decides to charge.
        cps.login()
        cps.screenshot("prosecutor-2-resubmitted")
        answered = cps.row("Action plan responses received", URN)
        assert "2 of 2 actions completed" in answered.inner_text()
        assert "Charging decision:" in cps.row("Referrals awaiting a decision", URN).inner_text()
        cps.open_case(URN)
        decide = cps.step("Record the charging decision")
        decide.get_by_label("Charge", exact=True).check()
        decide.get_by_role("radio", name="Full Code Test").check()
        decide.get_by_label("Reasons").fill("The Full Code Test is met: the 999 call supports the account.")
        cps.submit_step(decide, "Record the charging decision")
        cps.dashboard("prosecutor")
        assert "No action plan responses are waiting." in cps.page.content()

        # The OIC's dashboard shows the 7-day charge clock; the OIC records the charge.
        oic.dashboard("oic", "oic-4-decided")
        assert "Charge: 7 days left" in oic.row("My cases", URN).inner_text()
        oic.open_case(URN)
        oic.submit_step(oic.step("Record the charge"), "Record the charge")
        assert "Charged" in oic.page.get_by_role("heading", level=1).inner_text()
        assert oic.page.locator(".jjp-stl-warning").count() == 0, "the charge stopped the time limit"

        # Both dashboards move: nothing left due on the case, nothing left on the STL watch list.
        oic.dashboard("oic", "oic-5-charged")
        mine = oic.row("My cases", URN)
        assert "STL" not in mine.inner_text() and "Charge:" not in mine.inner_text()
        cps.dashboard("prosecutor", "prosecutor-3-charged")
        assert "No statutory time limit falls within eight weeks." in cps.page.content()

        # The printable summary for a case conversation, on screen and as printed.
        cps.goto(f"/cases/{case.pk}/summary/")
        assert cps.page.get_by_role("button", name="Print this page").is_visible()
        cps.page.emulate_media(media="print")
        cps.screenshot("case-summary-print")
        assert not cps.page.locator("div.moj-primary-navigation").is_visible()
        cps.page.emulate_media(media="screen")

    case.refresh_from_db()
    assert case.status == Case.Status.CHARGED
    assert case.clocks.get(kind=Clock.Kind.STL).state == Clock.State.MET
    oic.context.close()
    cps.context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_search_filters_and_csv_in_the_browser(chromium, live_server, artifacts):
    """Search by URN and filter (htmx swaps the results in and pushes the URL; the same URL works without
    JavaScript), export the list as CSV, and visit the legal manager's dashboard."""
    from tests.factories import CaseFactory

    gmp = Organisation.objects.get(code="GMP")
    oic_user = UserFactory(username="e2e-oic2", organisation=gmp, roles=[Role.OIC])
    UserFactory(username="e2e-lm", organisation=gmp.area, roles=[Role.LEGAL_MANAGER])
    today = ledger.london_today()
    for n in range(3):
        CaseFactory(
            actor=oic_user, urn=f"SRCH-{n}", reported_on=today - datetime.timedelta(days=5), today=today
        )
    oic = Person(chromium, live_server.url, "e2e-oic2", artifacts)
    oic.login()
    oic.goto("/cases/")
    assert oic.page.locator("#case-results tbody tr").count() == 3
    oic.page.locator("#id_q").fill("SRCH-1")
    oic.page.get_by_role("button", name="Apply filters").click()
    oic.page.wait_for_url(re.compile(r"q=SRCH-1"))
    oic.check()
    assert oic.page.locator("#case-results tbody tr").count() == 1
    oic.screenshot("case-list-search")
    with oic.page.expect_download() as download:
        oic.page.get_by_role("link", name="Download these cases as CSV").click()
    body = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert body.splitlines()[0].startswith("URN,") and "SRCH-1" in body and "SRCH-2" not in body

    # Without JavaScript the same search is a plain GET.
    plain = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = plain.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill("e2e-oic2")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/cases/?q=SRCH-2")
    assert page.locator("#case-results tbody tr").count() == 1 and "SRCH-2" in page.content()
    plain.close()

    lm = Person(chromium, live_server.url, "e2e-lm", artifacts)
    lm.login()
    assert lm.page.url.endswith("/dashboards/legal-manager/")
    lm.screenshot("legal-manager")
    lm.goto("/dashboards/prosecutor/")
    # A list in full, on its own page (axe runs on it as on every page).
    lm.goto("/dashboards/prosecutor/awaiting/")
    assert lm.page.locator("h1").inner_text() == "Referrals awaiting a decision, by charging clock"
    lm.screenshot("legal-manager-awaiting-all")
    oic.context.close()
    lm.context.close()
