"""The audit history: every row change of case data, with actor, time, before and after, recorded by
PostgreSQL triggers (django-pghistory), bulk updates included. Context (who, why) is attached by the
HistoryMiddleware for web requests and by ``pghistory.context`` in services.

Every audit table is append-only: a database trigger (``append_only_trigger``) refuses UPDATE and DELETE, on the
history tables made here as on the timeline, the clock crossings and the two read logs. The one way to delete is
the retention purge (``manage.py purge_audit_history``, docs/security.md), which lifts the triggers inside its own
transaction and records its run."""

from collections.abc import Callable
from typing import Any, TypeVar

import pghistory
import pgtrigger

M = TypeVar("M")

APPEND_ONLY = "append_only"


def append_only_trigger() -> pgtrigger.Protect:
    """The trigger that makes an audit table append-only: UPDATE and DELETE raise in the database, whoever
    sends them (the ORM, raw SQL, psql). TRUNCATE is not a row operation and is not refused (docs/security.md)."""
    return pgtrigger.Protect(name=APPEND_ONLY, operation=pgtrigger.Update | pgtrigger.Delete)


def audited(*trackers: Any, **kwargs: Any) -> Callable[[type[M]], type[M]]:
    """Track a model's row history in ``<Model>History`` (named so it never collides with domain models such
    as the case timeline's ``CaseEvent``), append-only: pghistory's own ``append_only`` option adds the same
    Protect trigger (named ``append_only``) to the event model."""

    def wrap(model: type[M]) -> type[M]:
        kwargs.setdefault("obj_field", pghistory.ObjForeignKey(related_name="history"))
        kwargs.setdefault("append_only", True)
        return pghistory.track(*trackers, model_name=f"{model.__name__}History", **kwargs)(model)  # type: ignore[no-any-return]

    return wrap
