"""Reactions instead of calls upward: the one place that lists every hook.

``cases`` is the bottom layer: it never imports ``charging``, ``victims``, ``governance`` or the delivery apps.
Where a change in the case record must cause work in a higher app, the service fires a named hook, and the higher
app registers its handler in its ``AppConfig.ready``. Handlers run in the order they were registered, inside the
caller's transaction (a handler that must wait for the commit uses ``transaction.on_commit`` itself), and an
exception in a handler undoes the whole change, as if the work were written in the service.

=====================  ============================================  ==========================================
hook                   fired by                                      handlers (registered in)
=====================  ============================================  ==========================================
``case_event``         ``kernel.event_record``: every timeline entry webhooks after the commit (``api``)
``free_text_saved``    services that save free text                  the trauma-informed language check
                                                                     (``victims``)
``household_changed``  ``case_create``, ``case_update`` (children    the Operation Encompass clock (``victims``)
                       in the household)
``police_nfa_after``   ``case_record_police_outcome`` after a CPS    the CPS notification record and email
``_plan``              action plan                                   (``governance``)
``request_cache``      ``kernel.request_cache`` (a context: each     the lexicon read once (``victims``)
                       handler is a context manager entered for the
                       block)
``access_grants``      the access gate (``selectors``): extra        scrutiny panel members see the cases their
                       grounds on which a user sees a case           panels review (``governance``)
=====================  ============================================  ==========================================

``tests/cases/test_hooks.py`` checks that every hook here has the handlers the table names once the apps are
ready, and ``docs/architecture.md`` repeats the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Hook:
    """A named reaction point: ``fire(**kwargs)`` calls every registered handler with the same arguments."""

    name: str
    doc: str
    handlers: list[Callable[..., Any]] = field(default_factory=list)

    def register(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Add a handler (once: registering the same function again changes nothing). Usable as a decorator."""
        if handler not in self.handlers:
            self.handlers.append(handler)
        return handler

    def fire(self, **kwargs: Any) -> None:
        for handler in list(self.handlers):
            handler(**kwargs)


@dataclass
class ContextHook(Hook):
    """A hook whose handlers are context managers, entered together around a block (``enter()``)."""

    @contextmanager
    def enter(self) -> Iterator[None]:
        with ExitStack() as stack:
            for handler in list(self.handlers):
                stack.enter_context(handler())
            yield


@dataclass(frozen=True)
class AccessGrant:
    """A further ground on which a user sees a case, given by a higher app (the gate itself is in ``cases``).

    ``q(user, case_pk)`` returns a ``Q`` over the case (``case_pk`` is the lookup of the case's id) or None when
    it grants this user nothing; ``sql(user, case_id)`` returns the same rule as a SQL condition on the user row
    alias ``user`` and the case id expression ``case_id`` (for ``selectors.gate_sql``)."""

    name: str
    q: Callable[[Any, str], Any]
    sql: Callable[[str, str], str]


@dataclass
class GrantsHook(Hook):
    """The registry of :class:`AccessGrant` objects (``register(grant)``; never fired)."""

    def grants(self) -> list[AccessGrant]:
        return list(self.handlers)


case_event = Hook(
    "case_event",
    "A timeline entry was written (handler(event)): the force's webhooks hear of it once the change commits.",
)
free_text_saved = Hook(
    "free_text_saved",
    "Free text was saved on a case (handler(case, source, actor, fields)): the language check records findings.",
)
household_changed = Hook(
    "household_changed",
    "Children in the household were recorded (handler(case, today)): the school must be told.",
)
police_nfa_after_plan = Hook(
    "police_nfa_after_plan",
    "Police closed a case after a CPS action plan (handler(actor, case, on, reason)): CPS must be told.",
)
request_cache = ContextHook(
    "request_cache",
    "A block of many writes (handler() -> context manager): reference data is read once for the block.",
)
access_grants = GrantsHook(
    "access_grants",
    "Further grounds on which a user sees a case (register(AccessGrant(...))).",
)

#: Every hook, by name.
ALL: dict[str, Hook] = {
    h.name: h
    for h in (
        case_event,
        free_text_saved,
        household_changed,
        police_nfa_after_plan,
        request_cache,
        access_grants,
    )
}


def registered(hook: Hook) -> list[str]:
    """The handlers of a hook as ``module.name`` strings (for the tests and the docs)."""
    out = []
    for handler in hook.handlers:
        if isinstance(handler, AccessGrant):
            out.append(f"grant:{handler.name}")
        else:
            out.append(f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}")
    return out


__all__ = [
    "ALL",
    "AccessGrant",
    "ContextHook",
    "Hook",
    "access_grants",
    "case_event",
    "free_text_saved",
    "household_changed",
    "police_nfa_after_plan",
    "registered",
    "request_cache",
]
