"""The public kernel of the services: what every app's services share.

Each state change in every app is one service function (keyword-only, atomic, the case row locked, the actor's
permission and the case's stage checked, input validated, a timeline entry, clocks through the ledger). These are
the pieces they share, public so that no app imports another's private names:

- :func:`audited`: who and why, attached to the row-level audit history the pghistory triggers write;
- :func:`lock_case`: the case re-read under a row lock;
- :func:`event_record`: one timeline entry, the case's derived columns refreshed, the ``case_event`` hook fired;
- :func:`check_status`, :class:`TransitionError`: the stage check and its refusal;
- :func:`not_future`, :func:`born_on_check`: the dates a person types (docs/rules.md, "Input checks");
- :func:`request_cache`, :func:`sync_rules`, :func:`offence_type`: a block of many writes reads the rules and the
  reference tables once;
- :func:`language_check`: free text just saved goes to the ``free_text_saved`` hook.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import derived, hooks, ledger
from .models import Case, CaseEvent, OffenceType, User


class TransitionError(ValidationError):
    """The change is not allowed at the case's current stage."""


@contextmanager
def audited(actor: User | None, reason: str) -> Iterator[None]:
    """Attach who and why to the row-level audit history written by the pghistory triggers."""
    with pghistory.context(user=getattr(actor, "pk", None), reason=reason):
        yield


def lock_case(case: Case) -> Case:
    """Re-read the case under a row lock so two concurrent state changes cannot interleave."""
    return Case.objects.select_for_update().get(pk=case.pk)


def event_record(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    summary: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Write one entry on the case's timeline and refresh the case's derived columns (it has changed: see
    ``cases/derived.py``); the ``case_event`` hook then runs (the force's webhooks hear of it once it commits)."""
    now = timezone.now()
    event = CaseEvent.objects.create(
        case=case, kind=kind, actor=actor, summary=summary, reason=reason, data=data or {}, occurred_at=now
    )
    derived.case_refresh(case.pk, now=now)
    hooks.case_event.fire(event=event)
    return event


def check_status(case: Case, allowed: Iterable[str], doing: str) -> None:
    """Refuse (``TransitionError``) unless the case is at one of the ``allowed`` stages."""
    allowed = tuple(allowed)
    if case.status not in allowed:
        names = ", ".join(str(Case.Status(s).label).lower() for s in allowed)
        raise TransitionError(
            f"Cannot {doing}: the case is {case.get_status_display().lower()}; this is allowed only when it is {names}."
        )


def not_future(day: datetime.date, field: str, today: datetime.date) -> None:
    """The date of an event a person typed (a report, an offence, a receipt, a decision...): not in the future,
    and not before ``JJP_EARLIEST_EVENT_DATE`` (1 January 1950: an earlier one is a typing error). Every app's
    services check their event dates here, so web forms and the API are refused alike (docs/rules.md)."""
    if day > today:
        raise ValidationError({field: f"{day:%d %B %Y} is in the future (today is {today:%d %B %Y})."})
    earliest = settings.JJP_EARLIEST_EVENT_DATE
    if day < earliest:
        message = f"{day:%d %B %Y} is before {earliest:%d %B %Y}, the earliest date accepted; check the year."
        raise ValidationError({field: message})


def born_on_check(day: datetime.date | None, field: str, today: datetime.date) -> None:
    """A date of birth a person typed: not in the future, not before ``JJP_EARLIEST_BIRTH_DATE`` (1 January 1900)."""
    if day is None:
        return
    if day > today:
        raise ValidationError({field: f"A date of birth of {day:%d %B %Y} is in the future."})
    earliest = settings.JJP_EARLIEST_BIRTH_DATE
    if day < earliest:
        raise ValidationError(
            {field: f"A date of birth of {day:%d %B %Y} is before {earliest:%d %B %Y}; check the year."}
        )


@dataclass
class _RequestCache:
    rules_synced: bool = False
    offence_types: dict[str, OffenceType] | None = None


_request_cache: ContextVar[_RequestCache | None] = ContextVar("cases_request_cache", default=None)


@contextmanager
def request_cache() -> Iterator[None]:
    """One request that writes many records through the services (the API's bulk upsert, an upsert adding
    several offences): inside the block the deadline rules and holiday calendar are synced once
    (``ledger.sync_rules``), the offence table is read once, and so is what the ``request_cache`` hook's handlers
    read (the active lexicon), instead of once per record. Nothing outlives the block: the next request reads
    them afresh and sees an administrator's change. Every record still goes through its service (clocks,
    timeline, audit). Nested blocks share the outermost one."""
    if _request_cache.get() is not None:
        yield
        return
    token = _request_cache.set(_RequestCache())
    try:
        with hooks.request_cache.enter():
            yield
    finally:
        _request_cache.reset(token)


def sync_rules() -> None:
    """``ledger.sync_rules()``, once per ``request_cache`` block (every time outside one)."""
    cache = _request_cache.get()
    if cache is None or not cache.rules_synced:
        ledger.sync_rules()
        if cache is not None:
            cache.rules_synced = True


def offence_type(code: str) -> OffenceType | None:
    """The offence type with this code: one query, or the request's copy of the (small) offence table."""
    cache = _request_cache.get()
    if cache is None:
        return OffenceType.objects.filter(code=code).first()
    if cache.offence_types is None:
        cache.offence_types = {o.code: o for o in OffenceType.objects.all()}
    return cache.offence_types.get(code)


def language_check(*, case: Case, source: Any, actor: User | None, **fields: str) -> None:
    """Trauma-informed language: free text just saved goes to the ``free_text_saved`` hook, whose handler
    records (never blocks) victim-blaming or minimising phrases for the writer's warning and the governance
    counts (``victims/language.py``)."""
    hooks.free_text_saved.fire(case=case, source=source, actor=actor, fields=fields)


__all__ = [
    "TransitionError",
    "audited",
    "born_on_check",
    "check_status",
    "event_record",
    "language_check",
    "lock_case",
    "not_future",
    "offence_type",
    "request_cache",
    "sync_rules",
]
