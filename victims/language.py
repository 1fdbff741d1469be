"""The trauma-informed language check for services and forms: the administrators' lexicon (``LexiconEntry``)
run through the pure checker in ``victims/lexicon.py``. It warns and never blocks a save.

- ``check_text(text)`` returns the hits (for a form or page to show as a warning);
- ``findings_record(...)`` also stores each hit as a ``LanguageFinding`` against the row and field it was found
  in, for the governance counts. Services that save free text call it after the save.

The lexicon is read from the database each time, except inside ``lexicon_cache()`` (entered by
``cases.kernel.request_cache`` for a request that writes many records): there it is read once, for that block
only, so an administrator's change is seen by the next request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from . import lexicon
from .models import LanguageFinding, LexiconEntry


class _Cached:
    entries: list[lexicon.Entry] | None = None


_cached: ContextVar[_Cached | None] = ContextVar("victims_lexicon_cache", default=None)


@contextmanager
def lexicon_cache() -> Iterator[None]:
    """Read the active lexicon at most once inside this block (nested blocks share the outermost)."""
    if _cached.get() is not None:
        yield
        return
    token = _cached.set(_Cached())
    try:
        yield
    finally:
        _cached.reset(token)


def _load() -> list[lexicon.Entry]:
    return [e.as_entry() for e in LexiconEntry.objects.filter(active=True).order_by("pk")]


def active_entries() -> list[lexicon.Entry]:
    """The active lexicon (one small query; none after the first inside ``lexicon_cache()``)."""
    cached = _cached.get()
    if cached is None:
        return _load()
    if cached.entries is None:
        cached.entries = _load()
    return cached.entries


def check_text(text: str, entries: list[lexicon.Entry] | None = None) -> list[lexicon.Hit]:
    """Lexicon phrases found in ``text`` (word boundaries, any case), each with a suggestion."""
    if not text or not text.strip():
        return []
    return lexicon.check(text, active_entries() if entries is None else entries)


def free_text_check(*, case: Any, source: models.Model, actor: Any, fields: Mapping[str, str]) -> None:
    """The ``free_text_saved`` hook's handler (``cases.kernel.language_check``): record what the lexicon finds."""
    findings_record(case=case, source=source, fields=fields, author=actor)


def findings_record(
    *, case: Any, source: models.Model, fields: Mapping[str, str], author: Any = None
) -> list[LanguageFinding]:
    """Check each named free-text field of ``source`` (a saved row of ``case``) and store what was found."""
    texts = {name: text for name, text in fields.items() if text and text.strip()}
    if not texts:
        return []
    entries = active_entries()
    label = source._meta.label_lower
    rows = [
        LanguageFinding(
            case=case,
            source_model=label,
            source_pk=source.pk,
            field=name,
            phrase=hit.phrase[:100],
            matched=hit.matched[:200],
            suggestion=hit.suggestion[:300],
            category=hit.category,
            author=author,
        )
        for name, text in texts.items()
        for hit in lexicon.check(text, entries)
    ]
    return LanguageFinding.objects.bulk_create(rows)


def findings_for(source: models.Model) -> list[LanguageFinding]:
    """What the checker found in a row's text (to show as a warning after a save)."""
    return list(
        LanguageFinding.objects.filter(source_model=source._meta.label_lower, source_pk=source.pk).order_by(
            "pk"
        )
    )


def warning_text(finding: LanguageFinding | lexicon.Hit) -> str:
    reads_as = finding_category_label(finding.category)
    return f"'{finding.matched}' can read as {reads_as}: consider '{finding.suggestion}'."


def finding_category_label(category: str) -> str:
    return {
        "blaming": "blaming the victim",
        "minimising": "minimising the abuse",
        "doubting": "doubting the victim",
    }.get(category, "unhelpful")
