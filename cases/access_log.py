"""The read log: who read a restricted case, and the auditor's search over it together with the victims app's log
of confidential address views (``victims.PersonalDataAccess``).

Data Protection Act 2018 s.62 asks a law enforcement controller to log consultation and disclosure of personal
data: who, when, and why. Changes are already in the audit history (``cases/audit.py``); this module records the
reads that matter most here: a restricted (police-perpetrated) case opened on a page, printed, read through the
API or included in a CSV export, and every search and export of the log itself. Each row is written before the
data is shown, so a read that cannot be logged fails. Rows are append-only: a PostgreSQL trigger refuses UPDATE
and DELETE, from the application, the admin and psql alike.

Views call ``record_case_read(request, case, what)`` (one case), ``record_many(request, cases, what)`` (an export:
one row per restricted case) or ``record_listed(request, rows)`` (a page of a list or a dashboard: one row per page
and user); all record restricted cases only, so they can be called for every case.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.db import models
from django.db.models import CharField, F, Func, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from .admin_base import ReadOnlyAdmin
from .models import Case, User, _choices_check


class AccessLogWhat(models.TextChoices):
    CASE_VIEWED = "case_viewed", "Restricted case page viewed"
    CASE_PRINTED = "case_printed", "Restricted case summary viewed for printing"
    CASE_API_READ = "case_api_read", "Restricted case read through the API"
    CASE_LISTED = "case_listed", "Restricted case shown in a list"
    CASE_EXPORTED = "case_exported", "Restricted case included in a CSV export"
    LOG_SEARCHED = "log_searched", "Access log searched"
    LOG_EXPORTED = "log_exported", "Access log exported"


class AccessLog(models.Model):
    """One read of restricted data: who (``actor``), what (``what``, the object's model, key and a description),
    which case, when, from where (address, X-Forwarded-For as sent, browser, path) and why (``purpose``, where the
    reader gave one). Written by ``record_case_read`` / ``record_many`` / ``record``; never changed or deleted
    (database trigger). DPA 2018 s.62 (logging)."""

    What = AccessLogWhat

    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="access_logs")
    what = models.CharField(max_length=20, choices=What.choices)
    object_model = models.CharField(max_length=60, help_text="app_label.model of what was read.")
    object_pk = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=300)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="REMOTE_ADDR of the request.")
    forwarded_for = models.CharField(max_length=200, blank=True, help_text="X-Forwarded-For, as sent.")
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True, help_text="The address that was read.")
    api_client = models.CharField(max_length=120, blank=True, help_text="The API client, for a token read.")
    purpose = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "read log entry"
        verbose_name_plural = "read log"
        # Only "view": no one can be given a permission to add, change or delete log rows.
        default_permissions = ("view",)
        constraints = [_choices_check("what", AccessLogWhat, "%(app_label)s_%(class)s_what_valid")]
        indexes = [
            # The auditor's searches: by case, by user, by period (all newest first).
            models.Index(fields=["case", "at"], name="cases_accesslog_case_at_idx"),
            models.Index(fields=["actor", "at"], name="cases_accesslog_actor_at_idx"),
            models.Index(fields=["at"], name="cases_accesslog_at_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_what_display()} by {self.actor} at {self.at:%d %b %Y %H:%M}"


# --------------------------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------------------------


def _client_ip(meta: Mapping[str, Any]) -> str | None:
    raw = str(meta.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None


def _where(request: Any) -> dict[str, Any]:
    """Who and from where, from a Django or DRF request (a DRF request's user is the token's user)."""
    meta = getattr(request, "META", {}) or {}
    client = getattr(request, "auth", None)
    return {
        "actor": request.user,
        "ip": _client_ip(meta),
        "forwarded_for": str(meta.get("HTTP_X_FORWARDED_FOR", ""))[:200],
        "user_agent": str(meta.get("HTTP_USER_AGENT", ""))[:300],
        "path": str(getattr(request, "get_full_path", lambda: "")())[:300],
        "api_client": str(getattr(client, "name", "") or "")[:120] if client is not None else "",
    }


def _case_row(case: Case, what: str, where: dict[str, Any], purpose: str) -> AccessLog:
    return AccessLog(
        what=what,
        object_model="cases.case",
        object_pk=str(case.pk),
        description=f"Case {case.urn} (restricted)"[:300],
        case_id=case.pk,
        purpose=(purpose or "").strip()[:300],
        **where,
    )


def record_case_read(request: Any, case: Case, what: str, *, purpose: str = "") -> AccessLog | None:
    """Log that ``request.user`` read ``case`` if it is restricted (nothing for other cases). Call it before the
    case is shown."""
    if not case.restricted:
        return None
    row = _case_row(case, AccessLogWhat(what), _where(request), purpose)
    row.save(force_insert=True)
    return row


def _loaded_case(row: Any) -> Case | None:
    """The case a row belongs to when it is already in memory: the row itself, or its ``case``, its ``plan``'s or
    its ``referral``'s case fetched with it (``select_related``). None otherwise; never runs a query."""
    if isinstance(row, Case):
        return row
    state = getattr(row, "_state", None)
    for name in ("case", "plan", "referral"):
        related = state.fields_cache.get(name) if state is not None else None
        if related is not None:
            return _loaded_case(related)
    return None


LISTED_PREFIX = "Listed"


def _listed_description(urns: list[str]) -> str:
    """``Listed 3 restricted cases: A, B, C`` (as many URNs as 300 characters hold, then "and N more")."""
    head = f"{LISTED_PREFIX} {len(urns)} restricted case{'s' if len(urns) != 1 else ''}: "
    shown: list[str] = []
    for i, urn in enumerate(urns):
        if len(head) + len(", ".join([*shown, urn])) > 300 - len(" and 9999 more"):
            return head + ", ".join(shown) + f" and {len(urns) - i} more"
        shown.append(urn)
    return head + ", ".join(shown)


def record_listed(
    request: Any, rows: Iterable[Any], what: str = AccessLogWhat.CASE_LISTED
) -> AccessLog | None:
    """Log that ``request.user`` was shown a page (a list, a dashboard, a page of the API list) with restricted
    cases on it: **one row per page and user**, naming every restricted case on the page, and nothing when there
    is none. ``rows`` are what the page shows, already loaded: cases, or rows fetched with their case (clocks,
    submissions, actions), so this costs no query but the insert; rows whose case was not fetched with them cost
    one query for all of them. The row's ``case`` is the case when the page shows one restricted case; with more,
    it is empty and the description lists them (the auditor's search by URN finds both). Call it before the
    page is sent."""
    restricted: dict[int, str] = {}
    missing: set[int] = set()
    for row in rows:
        case = _loaded_case(row)
        if case is None:
            missing.add(row.case_id)  # a row with no case to follow is a programming error: the page fails
        elif case.restricted:
            restricted[case.pk] = case.urn
    missing -= restricted.keys()
    if missing:
        restricted.update(Case.objects.filter(pk__in=missing, restricted=True).values_list("pk", "urn"))
    if not restricted:
        return None
    pks = sorted(restricted)
    keys = ",".join(str(pk) for pk in pks)
    row = AccessLog(
        what=AccessLogWhat(what),
        object_model="cases.case",
        object_pk=keys if len(keys) <= 40 else "",
        description=_listed_description([restricted[pk] for pk in pks]),
        case_id=pks[0] if len(pks) == 1 else None,
        **_where(request),
    )
    row.save(force_insert=True)
    return row


def _case_path(model: type[models.Model]) -> str:
    """The lookup from a row to its case: "" for a case, else through ``case``, ``plan`` or ``referral``."""
    if issubclass(model, Case):
        return ""
    names = {f.name for f in model._meta.get_fields()}
    for field, path in (("case", "case__"), ("plan", "plan__case__"), ("referral", "referral__case__")):
        if field in names:
            return path
    raise ValueError(f"Give the case_path from {model.__name__} to its case.")


def record_many(
    request: Any,
    cases: QuerySet[Any] | Iterable[Case],
    what: str,
    *,
    case_path: str | None = None,
    purpose: str = "",
) -> int:
    """Log one row per restricted case among ``cases``: a queryset of cases or of rows that belong to a case
    (clocks, referrals, actions: ``case_path`` is the lookup to the case, found from the model when not given),
    or cases already loaded. One query finds the restricted cases, one insert logs them (none if there are
    none). Returns the number of rows written."""
    what = AccessLogWhat(what)
    if isinstance(cases, QuerySet):
        if case_path is None:
            case_path = _case_path(cases.model)
        key = f"{case_path}pk" if case_path else "pk"
        ids = cases.order_by().values(key)
        found: list[Case] = list(
            Case.objects.filter(pk__in=ids, restricted=True).only("pk", "urn", "restricted")
        )
    else:
        found = [c for c in cases if c.restricted]
    if not found:
        return 0
    where = _where(request)
    AccessLog.objects.bulk_create([_case_row(c, what, where, purpose) for c in found])
    return len(found)


security_log = logging.getLogger("jjp.security")


def record_refused(request: Any, *, what: str, case: Case | None, object_model: str, object_pk: str) -> None:
    """Log a refused attempt to read personal data (e.g. a victim's confidential address asked for by a role that
    may not see it): who, what, which case, when, from where, as one line of the ``jjp.security`` logger, which
    production ships to the log store. Not yet a row of this log or of the victims' address log: both keep their
    kinds in a database check constraint, so a "refused" kind needs a migration (docs/security.md, "Second
    round")."""
    where = _where(request)
    security_log.warning(
        "refused: %s by %s (id %s) of %s #%s, case %s, from %s (forwarded for %r), path %s, client %r",
        what,
        getattr(where["actor"], "username", ""),
        getattr(where["actor"], "pk", None),
        object_model,
        object_pk,
        case.urn if case is not None else "-",
        where["ip"],
        where["forwarded_for"],
        where["path"],
        where["api_client"],
        extra={
            "jjp_refused": what,
            "jjp_actor_id": getattr(where["actor"], "pk", None),
            "jjp_case_id": case.pk if case is not None else None,
            "jjp_object": f"{object_model}:{object_pk}",
            "jjp_ip": where["ip"],
        },
    )


def record(
    request: Any,
    *,
    what: str,
    description: str,
    object_model: str = "",
    object_pk: str = "",
    purpose: str = "",
) -> AccessLog:
    """Log a read that is not of one case (a search or an export of the log itself)."""
    return AccessLog.objects.create(
        what=AccessLogWhat(what),
        object_model=object_model,
        object_pk=object_pk,
        description=description[:300],
        purpose=(purpose or "").strip()[:300],
        **_where(request),
    )


# --------------------------------------------------------------------------------------------------------------
# The auditor's search: the read log and the victims' address log as one list
# --------------------------------------------------------------------------------------------------------------

SOURCE_CASE = "case"
SOURCE_ADDRESS = "address"
SOURCES = {
    SOURCE_CASE: "Restricted case reads and log searches",
    SOURCE_ADDRESS: "Confidential address views",
}


def can_audit(user: Any) -> bool:
    """Auditors: system operators, holders of the ``cases.view_accesslog`` permission (the whole log: e.g.
    professional standards or the data protection officer), and administrators (their own organisation's part)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.has_perm("cases.view_accesslog") or user.has_role("administrator"))


def _sees_everything(user: Any) -> bool:
    return bool(user.is_superuser or user.has_perm("cases.view_accesslog"))


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
    everything = _sees_everything(auditor)
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
            views = views.filter(case__in=visible)
        columns = _entry_columns(
            SOURCE_ADDRESS,
            e_description=Concat(
                Value("Confidential address of victim #"),
                Cast("victim_id", output_field=text),
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
        if _sees_everything(user):
            return qs
        if not can_audit(user):
            return qs.none()
        return qs.filter(_organisation_part(user, Case.objects.visible_to(user).values("pk")))
