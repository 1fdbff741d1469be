"""The auditor's search of the two read logs (DPA 2018 s.62): the restricted-case read log (``cases.AccessLog``)
and the confidential-address log (``victims.PersonalDataAccess``), one list, filtered and paged, behind
``access_log.can_audit``; and the read-only admin page of the read log. Delivery: it reads both domain apps'
logs, which is why it is not in ``cases``."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, F, Func, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from cases.access_log import (
    LISTED_PREFIX,
    SOURCE_ADDRESS,
    SOURCE_CASE,
    SOURCES,
    AccessLog,
    AccessLogWhat,
    can_audit,
    sees_everything,
)
from cases.admin_base import ReadOnlyAdmin
from cases.models import Case


@dataclass(frozen=True)
class LogQuery:
    """What the auditor asked for. Dates are London days, both included."""

    username: str = ""
    urn: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    source: str = ""

    def describe(self) -> str:
        parts = [
            f"user {self.username}" if self.username else "",
            f"URN {self.urn}" if self.urn else "",
            f"from {self.date_from.isoformat()}" if self.date_from else "",
            f"to {self.date_to.isoformat()}" if self.date_to else "",
            SOURCES.get(self.source, "").lower(),
        ]
        return "Search: " + (", ".join(p for p in parts if p) or "everything")


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _listed_urn_q(urn: str) -> Q:
    """Pages that listed several restricted cases (no ``case`` on the row) with this URN among them."""
    pattern = rf"^{LISTED_PREFIX} [0-9]+ restricted cases?: (.*, )?{re.escape(urn)}(,| and [0-9]+ more|$)"
    return Q(case__isnull=True, what=AccessLogWhat.CASE_LISTED, description__iregex=pattern)


def _filtered(qs: QuerySet[Any], query: LogQuery, *, listed: bool = False) -> QuerySet[Any]:
    if query.username:
        qs = qs.filter(actor__username__iexact=query.username.strip())
    if query.urn:
        urn_q = Q(case__urn__iexact=query.urn.strip())
        qs = qs.filter(urn_q | _listed_urn_q(query.urn.strip()) if listed else urn_q)
    if query.date_from:
        qs = qs.filter(at__gte=_day_start(query.date_from))
    if query.date_to:
        qs = qs.filter(at__lt=_day_start(query.date_to + datetime.timedelta(days=1)))
    return qs


# The columns of one log entry, in order (a SQL UNION pairs columns by position).
ENTRY_COLUMNS = (
    "e_source",
    "e_pk",
    "e_at",
    "e_username",
    "e_user_name",
    "e_organisation",
    "e_urn",
    "e_force",
    "e_what",
    "e_description",
    "e_ip",
    "e_forwarded_for",
    "e_user_agent",
    "e_path",
    "e_client",
    "e_purpose",
)


def _entry_columns(source: str, **specific: Any) -> dict[str, Any]:
    text = CharField()
    return {
        "e_source": Value(source, output_field=text),
        "e_pk": F("pk"),
        "e_at": F("at"),
        "e_username": F("actor__username"),
        "e_user_name": Concat("actor__first_name", Value(" "), "actor__last_name", output_field=text),
        "e_organisation": F("actor__organisation__code"),
        "e_urn": F("case__urn"),
        "e_force": F("case__force__code"),
        "e_what": F("what"),
        "e_ip": Func(F("ip"), function="host", output_field=text),  # inet as text, without the /32
        "e_forwarded_for": F("forwarded_for"),
        "e_user_agent": F("user_agent"),
        **specific,
    }


def _organisation_part(auditor: Any, visible: QuerySet[Any]) -> Q:
    """An administrator's part of the read log: reads of the cases they can see, and the searches of their
    organisation's staff. Not a page that listed several restricted cases (its row names no one case): its
    description names cases the administrator may not be named on."""
    return Q(case__in=visible) | (
        Q(case__isnull=True, actor__organisation=auditor.organisation_id) & ~Q(what=AccessLogWhat.CASE_LISTED)
    )


def log_entries(auditor: Any, query: LogQuery) -> QuerySet[Any]:
    """The read log and the confidential address log as one list of dicts (``ENTRY_COLUMNS``), newest first:
    a SQL UNION ALL, so the database pages it. Scoped: everything for system operators and holders of
    ``cases.view_accesslog``; for an administrator, the entries about cases they can see and the searches made
    by their organisation's staff. Empty for anyone else."""
    from victims.models import PersonalDataAccess

    text = CharField()
    parts: list[QuerySet[Any]] = []
    if not can_audit(auditor):
        return AccessLog.objects.none().values("pk")
    everything = sees_everything(auditor)
    visible = Case.objects.visible_to(auditor).values("pk")
    if query.source in ("", SOURCE_CASE):
        reads = _filtered(AccessLog.objects.all(), query, listed=True)
        if not everything:
            reads = reads.filter(_organisation_part(auditor, visible))
        columns = _entry_columns(
            SOURCE_CASE,
            e_description=F("description"),
            e_path=F("path"),
            e_client=F("api_client"),
            e_purpose=F("purpose"),
        )
        parts.append(reads.order_by().annotate(**columns).values(*ENTRY_COLUMNS))
    if query.source in ("", SOURCE_ADDRESS):
        views = _filtered(PersonalDataAccess.objects.all(), query)
        if not everything:
            # A refusal outside the access gate names no case: an administrator sees those of their own staff.
            views = views.filter(
                Q(case__in=visible) | Q(case__isnull=True, actor__organisation=auditor.organisation_id)
            )
        columns = _entry_columns(
            SOURCE_ADDRESS,
            e_description=Concat(
                Value("Confidential address of victim #"),
                # A refusal outside the access gate keeps only the id asked for (no victim row is linked).
                Cast(Coalesce("victim_id", "asked_for"), output_field=text),
                output_field=text,
            ),
            e_path=Value("", output_field=text),
            e_client=Value("", output_field=text),
            e_purpose=F("reason"),
        )
        parts.append(views.order_by().annotate(**columns).values(*ENTRY_COLUMNS))
    combined = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    return combined.order_by("-e_at", "e_source", "-e_pk")


WHAT_LABELS: dict[str, str] = {}


def what_label(code: str) -> str:
    """The words for an entry's ``e_what`` code (from either log)."""
    if not WHAT_LABELS:
        from victims.models import PersonalDataAccessWhat

        WHAT_LABELS.update(dict(AccessLogWhat.choices))
        WHAT_LABELS.update(dict(PersonalDataAccessWhat.choices))
    return WHAT_LABELS.get(code, code)


# --------------------------------------------------------------------------------------------------------------
# Admin: read-only, scoped like the search
# --------------------------------------------------------------------------------------------------------------


class AccessLogAdmin(ReadOnlyAdmin):
    """The read log in the admin: read-only (the database refuses changes anyway)."""

    list_display = ("at", "actor", "what", "description", "case", "ip", "api_client")
    list_filter = ("what",)
    search_fields = ("actor__username", "case__urn", "description")
    list_select_related = ("actor", "case")
    date_hierarchy = "at"

    def get_queryset(self, request: Any) -> Any:
        qs = super().get_queryset(request)
        user = request.user
        if sees_everything(user):
            return qs
        if not can_audit(user):
            return qs.none()
        return qs.filter(_organisation_part(user, Case.objects.visible_to(user).values("pk")))
