"""Reads: the querysets that carry the product's vocabulary, and the single access gate.

``Case.objects.visible_to(user)`` is the only place that decides who may see a case. Every view, API endpoint,
export, admin page and email starts from it (or from ``Clock.objects.visible_to``, which is built on it).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef, Q

if TYPE_CHECKING:
    from .models import User


def _model(name: str) -> Any:
    """A model of this app by its lower-case name, from the app registry: ``models`` imports this module, so this
    module never imports ``models`` back (no import cycle)."""
    return apps.all_models["cases"][name]


OPERATIONAL_ROLES = (
    "oic",
    "police_supervisor",
    "triage_officer",
    "prosecutor",
    "legal_manager",
    "victim_liaison",
    "administrator",
    "force_system",
)


def case_visibility_q(user: Any, prefix: str = "", *, case_id: str | None = None) -> Q | None:
    """The access rule as a Q over Case fields (``prefix`` lets related models reuse it, e.g. ``"case__"``;
    ``case_id`` names the case's id where it is not ``{prefix}pk``: a clock applies the rule to its own copy of
    the case's force, CPS Area and restricted flag with ``case_id="case_id"``).

    - inactive or anonymous: nothing (None);
    - superusers (system operators): everything;
    - staff of a force with an operational role: the force's cases;
    - staff of a CPS Area with an operational role: cases referred to the Area;
    - the further grounds higher apps register (``hooks.access_grants``): scrutiny panel members see the cases
      their panels review (``governance/access.py``);
    - a restricted (police-perpetrated) case: only the users named on it, on top of the above.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Q()
    org = user.organisation
    case_pk = case_id or f"{prefix}pk"
    allowed = Q(pk__in=[])
    if org is not None and any(role in user.roles for role in OPERATIONAL_ROLES):
        if org.kind == "force":
            allowed |= Q(**{f"{prefix}force_id": org.pk})
        else:
            allowed |= Q(**{f"{prefix}cps_area_id": org.pk})
    from . import hooks  # further grounds given by higher apps (scrutiny panels: governance)

    for grant in hooks.access_grants.grants():
        granted = grant.q(user, case_pk)
        if granted is not None:
            allowed |= granted
    Case = _model("case")  # noqa: N806

    named = Case.restricted_to.through.objects.filter(user_id=user.pk).values("case_id")
    not_restricted = Q(**{f"{prefix}restricted": False}) | Q(**{f"{case_pk}__in": named})
    return allowed & not_restricted


def gate_sql(user: str, org: str, case: str, *, case_id: str = "id") -> str:
    """``case_visibility_q`` as a SQL condition, for set-based statements that decide for many people at once
    (the alert detection and digests in ``alerts/engine.py``): true when the user row ``user`` (with its
    organisation LEFT JOINed as ``org``) may see the case row ``case`` (any row with the case's ``force_id``,
    ``cps_area_id`` and ``restricted``, and its id in the column ``case_id``). Clause by clause the same rule
    (tests/cases/test_alerts_gate.py compares the two for every persona and kind of case):

    - inactive: nothing; superusers: everything;
    - staff of a force with an operational role: the force's cases; of a CPS Area: the cases referred to it;
    - the further grounds higher apps register (``hooks.access_grants``: scrutiny panel members see the cases
      their panels review);
    - a restricted case: only the users named on it, on top of the above.

    Built from table names only; uses the parameter ``%(operational_roles)s`` (``list(OPERATIONAL_ROLES)``)."""
    from . import hooks

    Case = _model("case")  # noqa: N806

    restricted = Case.restricted_to.through._meta.db_table
    grants = "".join(
        f"\n                    OR ({grant.sql(user, f'{case}.{case_id}')})"
        for grant in hooks.access_grants.grants()
    )
    return f"""(
        {user}.is_active AND (
            {user}.is_superuser
            OR (
                (
                    (
                        {org}.id IS NOT NULL
                        AND {user}.roles::text[] && %(operational_roles)s::text[]
                        AND CASE WHEN {org}.kind = 'force' THEN {case}.force_id = {org}.id
                                 ELSE {case}.cps_area_id IS NOT DISTINCT FROM {org}.id END
                    )
{grants}
                )
                AND (
                    NOT {case}.restricted
                    OR EXISTS (
                        SELECT 1 FROM {restricted} gate_rt
                        WHERE gate_rt.case_id = {case}.{case_id} AND gate_rt.user_id = {user}.id
                    )
                )
            )
        )
    )"""  # noqa: S608


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user: User | Any) -> CaseQuerySet:
        q = case_visibility_q(user)
        if q is None:
            return self.none()
        return self.filter(q)

    def open(self) -> CaseQuerySet:
        return self.exclude(status__in=self.model.CLOSED_STATUSES)

    def stl_within(self, *, on: datetime.date, days: int | None = None) -> CaseQuerySet:
        """Cases with an open statutory time limit falling within ``days`` (default: the eight-week setting)."""
        from . import clocks

        limit = on + datetime.timedelta(
            days=days if days is not None else clocks.active_rules().stl_flag_days
        )
        Clock = _model("clock")  # noqa: N806

        return self.filter(
            Exists(
                Clock.objects.open().filter(
                    case=OuterRef("pk"), kind__in=Clock.STL_KINDS, due_on__gte=on, due_on__lte=limit
                )
            )
        )

    def time_barred(self) -> CaseQuerySet:
        Clock = _model("clock")  # noqa: N806

        return self.filter(Exists(Clock.objects.filter(case=OuterRef("pk"), state="time_barred")))


class GateCopyQuerySet(models.QuerySet):
    """Rows that carry a copy of their case's access-gate fields (``models.CaseGateCopy``: clocks, submissions)."""

    def visible_to(self, user: User | Any) -> GateCopyQuerySet:
        """The rows of the cases ``user`` may see: the access rule applied to the row's own copy of its case's
        force, CPS Area and restricted flag, so an organisation's rows are read off an index led by the
        organisation without visiting each case (tests/cases/test_derived.py keeps the copy equal to the case;
        tests/cases/test_alerts_gate.py compares the two forms for every persona)."""
        q = case_visibility_q(user, case_id="case_id")
        if q is None:
            return self.none()
        return self.filter(q)


class ClockQuerySet(GateCopyQuerySet):
    def open(self) -> ClockQuerySet:
        return self.filter(stopped_on__isnull=True)

    def overdue(self) -> ClockQuerySet:
        return self.open().filter(state__in=("overdue", "time_barred"))

    def due_by(self, day: datetime.date) -> ClockQuerySet:
        return self.open().filter(due_on__lte=day)


def victim_label(victim: Any) -> str:
    """How the case page, its forms and the timeline name a victim: by their number in the case, in the order the
    victims were added ("Victim 2"), never by name (the case page is shown and printed to everyone working the
    case; the victims page has the names)."""
    return f"Victim {type(victim).objects.filter(case_id=victim.case_id, pk__lte=victim.pk).count()}"
