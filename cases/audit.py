"""The audit history: every row change of case data, with actor, time, before and after, recorded by
PostgreSQL triggers (django-pghistory), bulk updates included. Context (who, why) is attached by the
HistoryMiddleware for web requests and by ``pghistory.context`` in services."""

from collections.abc import Callable
from typing import Any, TypeVar

import pghistory

M = TypeVar("M")


def audited(*trackers: Any, **kwargs: Any) -> Callable[[type[M]], type[M]]:
    """Track a model's row history in ``<Model>History`` (named so it never collides with domain models such
    as the case timeline's ``CaseEvent``)."""

    def wrap(model: type[M]) -> type[M]:
        kwargs.setdefault("obj_field", pghistory.ObjForeignKey(related_name="history"))
        return pghistory.track(*trackers, model_name=f"{model.__name__}History", **kwargs)(model)  # type: ignore[no-any-return]

    return wrap
