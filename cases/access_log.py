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

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.db.models import QuerySet

from .models import AccessLog, AccessLogWhat, Case

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
    production ships to the log store. A refused confidential-address view is also a row of the victims' address
    log (``address_refused``), written by the victims view beside this call (docs/security.md, "The audit
    trail")."""
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


def sees_everything(user: Any) -> bool:
    return bool(user.is_superuser or user.has_perm("cases.view_accesslog"))
