"""The generated access matrix: every web route and API endpoint, taken from the URL configuration (so a new
one cannot escape it), against every role, for an object of the user's own force, of another force, and of a
restricted police-perpetrated case. Each combination has an expected answer; a leak fails the test.

How an object is put into a route: each URL keyword names what it identifies (``OBJECT_KWARGS``). A route with a
keyword this file does not know fails ``test_every_route_is_in_the_matrix`` until someone says what it is.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from cases.models import Case, Organisation, Role
from cases.services import case_restrict
from charging.services import action_plan_issue, case_refer_to_cps
from tests.factories import CaseFactory, UserFactory
from victims.services import order_consider, victim_add

TODAY = datetime.date(2026, 3, 2)

# Routes outside the case gate: public, per-user or organisation-level pages. Each is listed with the reason.
NOT_CASE_ROUTES = {
    "admin": "Django admin: staff only; case data in it is filtered by CaseScopedAdmin (tested in test_admin_scoping)",
    "login": "public sign-in page",
    "logout": "signs the user out",
}

# URL keyword -> how to get its value from a case (own, other or restricted).
OBJECT_KWARGS: dict[str, Any] = {
    "pk": lambda case: case.pk,
    "case_pk": lambda case: case.pk,
    "urn": lambda case: case.urn,
    "step": lambda case: "refer",
    "victim_pk": lambda case: case.victims.first().pk if case.victims.exists() else 0,
    "order_pk": lambda case: case.orders.first().pk if case.orders.exists() else 0,
    "referral_pk": lambda case: case.referrals.first().pk if case.referrals.exists() else 0,
    "action_pk": lambda case: 0,
    "action_id": lambda c: _first_action_pk(c),
    "order_id": lambda c: c.orders.first().pk if c.orders.exists() else 0,
    "victim_id": lambda c: c.victims.first().pk if c.victims.exists() else 0,
    "offence_id": lambda c: c.offences.first().pk if c.offences.exists() else 0,
    "plan_pk": lambda c: c.action_plans.first().pk if c.action_plans.exists() else 0,
    "review_pk": lambda c: c.panel_reviews.first().pk if c.panel_reviews.exists() else 0,
    "person_pk": lambda c: c.suspects.first().pk if c.suspects.exists() else 0,
    "notification_pk": lambda c: c.cps_notification.pk if hasattr(c, "cps_notification") else 0,
    "panel_pk": lambda c: 0,
    "meeting_pk": lambda c: 0,
}


class _Ghost:
    """A case that does not exist: what every hidden case must look like."""

    pk = 987654321
    urn = "NO-SUCH-CASE"

    class _Empty:
        def exists(self) -> bool:
            return False

        def first(self) -> None:
            return None

    victims = orders = referrals = action_plans = panel_reviews = suspects = offences = _Empty()


GHOST: Any = _Ghost()


def _first_action_pk(case: Any) -> int:
    from charging.models import Action

    action = Action.objects.filter(plan__case_id=case.pk).first()
    return action.pk if action else 0


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwargs: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            full = prefix + str(p.pattern)
            yield Route(
                name=f"{namespace}{p.name or full}", pattern=full, kwargs=tuple(p.pattern.regex.groupindex)
            )


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


# URL keywords that name something of the signed-in user, not a case: filled with these values; such routes are
# checked as lists (no hidden case may appear in them).
def _dashboards() -> Any:
    from workspace import dashboards

    return dashboards.DASHBOARDS


PER_USER_KWARGS: dict[str, Any] = {
    # Every dashboard, and every section of every dashboard (as CSV), from the dashboards' own registry.
    "slug": lambda: sorted(_dashboards()),
    "section": lambda: sorted({s.slug for d in _dashboards().values() for s in d.sections}),
}
# Routes checked elsewhere, with the reason.
ELSEWHERE = {
    "token": "the calendar feed: a per-user secret token; tests/cases/test_calendar.py shows it lists only the "
    "user's own deadlines and that a revoked token is a 404",
}


def case_routes() -> list[Route]:
    return [
        r
        for r in all_routes()
        if not r.pattern.startswith("admin/") and r.kwargs and set(r.kwargs) <= OBJECT_KWARGS.keys()
    ]


def list_routes() -> list[Route]:
    return [
        r
        for r in all_routes()
        if not r.pattern.startswith("admin/") and set(r.kwargs) <= PER_USER_KWARGS.keys()
    ]


def test_every_route_is_in_the_matrix() -> None:
    """A route with a keyword this matrix cannot fill would escape the access tests."""
    known = OBJECT_KWARGS.keys() | PER_USER_KWARGS.keys() | ELSEWHERE.keys()
    unknown = {
        (r.pattern, k)
        for r in all_routes()
        if not r.pattern.startswith("admin/")
        for k in r.kwargs
        if k not in known
    }
    assert not unknown, f"routes with keywords the access matrix does not know: {sorted(unknown)}"
    mixed = [
        r.pattern
        for r in all_routes()
        if set(r.kwargs) & OBJECT_KWARGS.keys() and set(r.kwargs) - OBJECT_KWARGS.keys()
    ]
    assert not mixed, f"routes mixing case and per-user keywords need a rule here: {mixed}"


def _url(route: Route, case: Case) -> str:
    path = route.pattern.lstrip("^").rstrip("$").replace("\\Z", "")
    for key in route.kwargs:
        value = OBJECT_KWARGS[key](case)
        path = re.sub(rf"<(?:\w+:)?{key}>|\(\?P<{key}>[^)]*\)", str(value), path)
    return "/" + path


ROLES = [
    ("oic", Role.OIC, "force"),
    ("police_supervisor", Role.POLICE_SUPERVISOR, "force"),
    ("triage_officer", Role.TRIAGE_OFFICER, "force"),
    ("victim_liaison_police", Role.VICTIM_LIAISON, "force"),
    ("administrator_police", Role.ADMINISTRATOR, "force"),
    ("prosecutor", Role.PROSECUTOR, "area"),
    ("legal_manager", Role.LEGAL_MANAGER, "area"),
    ("panel_member", Role.PANEL_MEMBER, "area"),
]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """The matrix sends every route for one role in one test: far more than a person's (or a force system's)
    per-minute API limits, which have their own tests (tests/api/test_api_auth.py)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "jjp_read": "100000/min",
            "jjp_write": "100000/min",
            "jjp_bulk": "100000/min",
        },
    }


@pytest.fixture
def world(db):
    """Force A's referred case, its restricted police-perpetrated case, and force B's case."""
    force_a = Organisation.objects.get(code="GMP")
    force_b = Organisation.objects.get(code="WYP")
    oic_a = UserFactory(organisation=force_a, roles=[Role.OIC], username="matrix-oic-a")
    sup_a = UserFactory(organisation=force_a, roles=[Role.POLICE_SUPERVISOR], username="matrix-sup-a")
    oic_b = UserFactory(organisation=force_b, roles=[Role.OIC], username="matrix-oic-b")
    own = CaseFactory(actor=oic_a, urn="MATRIX-OWN", today=TODAY)
    case_refer_to_cps(actor=oic_a, case=own, received_on=TODAY, today=TODAY)
    restricted = CaseFactory(actor=oic_a, urn="MATRIX-RESTRICTED", police_perpetrated=True, today=TODAY)
    case_refer_to_cps(actor=oic_a, case=restricted, received_on=TODAY, today=TODAY)
    case_restrict(actor=sup_a, case=restricted, users=[oic_a], reason="Serving officer.")
    other = CaseFactory(actor=oic_b, urn="MATRIX-OTHER", today=TODAY)
    # Every kind of sub-object a route can name: a victim, an order, an action plan with an action.
    prosecutors = {
        force_a.pk: UserFactory(organisation=force_a.area, roles=[Role.PROSECUTOR], username="matrix-pros-a"),
        force_b.pk: UserFactory(organisation=force_b.area, roles=[Role.PROSECUTOR], username="matrix-pros-b"),
    }
    restricted.restricted_to.add(prosecutors[force_a.pk])  # named, so the plan can be issued
    for case, oic in ((own, oic_a), (restricted, oic_a), (other, oic_b)):
        victim_add(actor=oic, case=case, given_name="Matrix", family_name="Victim")
        order_consider(actor=oic, case=case, kind="dvpn", on=TODAY, today=TODAY)
        referral = case.referrals.first() or case_refer_to_cps(
            actor=oic, case=case, received_on=TODAY, today=TODAY
        )
        action_plan_issue(
            actor=prosecutors[case.force_id],
            referral=referral,
            decided_on=TODAY,
            reasons="More needed.",
            respond_by=TODAY,
            actions=[{"description": "Statement"}],
            today=TODAY,
        )
    return {"A": force_a, "own": own, "restricted": restricted, "other": other}


def _body(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def _normalised(response: Any, case: Any, url: str) -> str:
    """The body with the requested URL, URN and numbers blanked: what is left must not depend on whether the
    case exists."""
    body = _body(response).replace(url, "<URL>").replace(str(case.urn), "<URN>")
    return re.sub(r"\b\d+\b", "<N>", body)


def _user(world: dict[str, Any], role: str, where: str):
    org = world["A"] if where == "force" else world["A"].area
    return UserFactory(organisation=org, roles=[role], username=f"matrix-{role}-{where}")


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "role", "where"), ROLES, ids=[r[0] for r in ROLES])
def test_matrix(client, world, label, role, where):
    """For every case route and this role: another force's case and a restricted case the user is not named on
    answer exactly as a case that does not exist answers: the same status (a 404, or a 405 for a wrong method;
    never a 403 that confirms it exists, never a success) and the same body but for the URL and URN asked for."""
    user = _user(world, role, where)
    client.force_login(user)
    checked = 0
    leaks = []
    for route in case_routes():
        for which in ("other", "restricted"):
            case = world[which]
            url = _url(route, case)
            ghost_url = _url(route, GHOST)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                ghost = getattr(client, method)(ghost_url)
                hidden = response.status_code in (404, 405) and response.status_code == ghost.status_code
                same_as_ghost = _normalised(response, case, url) == _normalised(ghost, GHOST, ghost_url)
                if not (hidden and same_as_ghost):
                    leaks.append(
                        f"{method.upper()} {url} ({route.name}) -> {response.status_code} for {which}"
                    )
                checked += 1
    assert not leaks, "leaks:\n" + "\n".join(leaks)
    assert checked >= 4 * len(case_routes())


@pytest.mark.django_db
def test_own_case_is_reachable_on_every_case_route_for_the_oic(client, world):
    """The matrix is not trivially passing: the same routes answer (not 404) for the user's own case."""
    user = _user(world, Role.OIC, "force")
    client.force_login(user)
    unreachable = []
    for route in case_routes():
        if not route.kwargs or set(route.kwargs) - {"pk", "case_pk", "urn", "step"}:
            continue
        response = client.get(_url(route, world["own"]))
        if response.status_code == 404:
            unreachable.append(route.pattern)
    assert not unreachable, unreachable


@pytest.mark.django_db
def test_admin_scoping(client, world):
    admin_a = UserFactory(
        organisation=world["A"],
        roles=[Role.ADMINISTRATOR],
        username="matrix-admin",
        is_staff=True,
        is_superuser=False,
    )
    from django.contrib.auth.models import Permission

    admin_a.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(admin_a)
    body = client.get("/admin/cases/case/").content.decode()
    assert "MATRIX-OWN" in body
    assert "MATRIX-OTHER" not in body and "MATRIX-RESTRICTED" not in body
    assert client.get(f"/admin/cases/case/{world['other'].pk}/change/").status_code in (302, 404)


def _fill(route: Route, values: dict[str, str]) -> str:
    path = route.pattern
    for key in route.kwargs:
        path = re.sub(rf"<(?:\w+:)?{key}>", values[key], path)
    return "/" + path


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "role", "where"), ROLES, ids=[r[0] for r in ROLES])
def test_lists_exports_and_dashboards_never_show_hidden_cases(client, world, label, role, where):
    """Every list page, export, dashboard and API list, for every role: another force's case and a restricted
    case the user is not named on never appear, and nothing answers with a server error."""
    user = _user(world, role, where)
    client.force_login(user)
    hidden = [world["other"].urn, world["restricted"].urn]
    problems, checked = [], 0
    for route in list_routes():
        combos = [{}]
        for key in route.kwargs:
            combos = [{**c, key: v} for c in combos for v in PER_USER_KWARGS[key]()]
        for values in combos:
            url = _fill(route, values)
            if url in ("/logout/",):
                continue
            response = client.get(url)
            checked += 1
            body = _body(response)
            if response.status_code >= 500:
                problems.append(f"GET {url} -> {response.status_code}")
            for urn in hidden:
                if urn in body:
                    problems.append(f"GET {url} shows {urn}")
    assert not problems, "\n".join(problems)
    assert checked >= len(list_routes()) - 1
