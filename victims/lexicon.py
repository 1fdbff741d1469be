"""Trauma-informed language: find victim-blaming or minimising phrases in free text and suggest neutral wording.

A pure module (no Django): the lexicon is data passed in (``victims.LexiconEntry`` rows, edited in the admin, become
:class:`Entry` values in ``victims/language.py``). The checker only warns; it never blocks a save.

Matching is case-insensitive and on word boundaries, so "claims" is found in "She claims he hit her" but not in
"proclaims" or "reclaims". Spaces in a phrase match any run of whitespace (a phrase split over a line break is still
found). An entry may name words that, when they follow the phrase, make it acceptable: "domestic" is flagged in
"it was just a domestic" but not in "domestic abuse" or "Domestic Violence Protection Notice".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["STARTER_LEXICON", "Entry", "Hit", "check"]


@dataclass(frozen=True)
class Entry:
    """One lexicon entry: the phrase to flag, the neutral wording to suggest, and words that excuse it when they
    follow it (e.g. "abuse" after "domestic")."""

    phrase: str
    suggestion: str
    category: str = "minimising"
    unless_followed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A phrase found in the text: the lexicon phrase, where it is (``start``/``end`` into the text, so
    ``text[start:end] == matched``), the words as written, and the suggestion."""

    phrase: str
    start: int
    end: int
    matched: str
    suggestion: str
    category: str = "minimising"

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


@lru_cache(maxsize=1024)
def _pattern(phrase: str, unless_followed_by: tuple[str, ...]) -> re.Pattern[str] | None:
    words = phrase.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    # (?<!\w) and (?!\w) rather than \b: they also hold at a phrase's edge that is not a word character.
    pattern = rf"(?<!\w){body}(?!\w)"
    excused = [r"\s+".join(re.escape(w) for w in u.split()) for u in unless_followed_by if u.split()]
    if excused:
        pattern += rf"(?![\s\-]+(?:{'|'.join(excused)})(?!\w))"
    return re.compile(pattern, re.IGNORECASE)


def check(text: str, entries: Iterable[Entry]) -> list[Hit]:
    """Every lexicon phrase found in ``text``, in the order they appear.

    Where two hits overlap, the longer one is kept ("just a domestic" rather than "domestic" inside it); where they
    cover the same words, the first entry given wins."""
    if not text:
        return []
    found: list[tuple[int, int, int, Hit]] = []
    for order, entry in enumerate(entries):
        pattern = _pattern(entry.phrase, tuple(entry.unless_followed_by))
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            hit = Hit(
                phrase=entry.phrase,
                start=m.start(),
                end=m.end(),
                matched=m.group(0),
                suggestion=entry.suggestion,
                category=entry.category,
            )
            found.append((m.start(), -(m.end() - m.start()), order, hit))
    # Longest first at each start; then drop any hit that overlaps one already kept.
    kept: list[Hit] = []
    for _, _, _, hit in sorted(found, key=lambda t: (-(t[3].end - t[3].start), t[0], t[2])):
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


_DOMESTIC_OK = (
    "abuse",
    "abuser",
    "abusers",
    "abusive",
    "violence",
    "homicide",
    "homicides",
    "servitude",
)

# (phrase, suggestion, category, unless followed by). Seeded into victims.LexiconEntry by a data migration; the
# administrators' list in the database is what the product uses from then on.
STARTER_LEXICON: tuple[Entry, ...] = (
    Entry(
        "alleged victim",
        "victim (use 'complainant' only where the legal context needs it, e.g. court documents)",
        "doubting",
    ),
    Entry("purported victim", "victim", "doubting"),
    Entry("claims", "says / told us / reported", "doubting"),
    Entry("claimed", "said / told us / reported", "doubting"),
    Entry("claiming", "saying / reporting", "doubting"),
    Entry(
        "she stayed",
        "describe what kept her in the relationship (fear, finances, children, threats)",
        "blaming",
    ),
    Entry(
        "he stayed",
        "describe what kept him in the relationship (fear, finances, children, threats)",
        "blaming",
    ),
    Entry("chose to stay", "describe the barriers to leaving", "blaming"),
    Entry("why didn't she leave", "describe the barriers to leaving", "blaming"),
    Entry("why did she stay", "describe the barriers to leaving", "blaming"),
    Entry("let him back", "describe the pressure or barriers around contact", "blaming"),
    Entry("allowed him back", "describe the pressure or barriers around contact", "blaming"),
    Entry("domestic", "domestic abuse", "minimising", _DOMESTIC_OK),
    Entry("just a domestic", "domestic abuse", "minimising"),
    Entry("domestic dispute", "domestic abuse incident", "minimising"),
    Entry("domestic argument", "domestic abuse incident", "minimising"),
    Entry("domestic row", "domestic abuse incident", "minimising"),
    Entry("volatile relationship", "abusive relationship: say who did what to whom", "minimising"),
    Entry("toxic relationship", "abusive relationship: say who did what to whom", "minimising"),
    Entry("tempestuous relationship", "abusive relationship: say who did what to whom", "minimising"),
    Entry("turbulent relationship", "abusive relationship: say who did what to whom", "minimising"),
    Entry("stormy relationship", "abusive relationship: say who did what to whom", "minimising"),
    Entry("on-off relationship", "describe the abuse and any separations", "minimising"),
    Entry("lovers' tiff", "domestic abuse incident", "minimising"),
    Entry("lovers tiff", "domestic abuse incident", "minimising"),
    Entry("crime of passion", "describe the abuse", "minimising"),
    Entry("it takes two", "say who was responsible for the abuse", "blaming"),
    Entry("six of one", "identify the primary perpetrator", "blaming"),
    Entry("mutual abuse", "identify the primary perpetrator", "blaming"),
    Entry("mutual violence", "identify the primary perpetrator", "blaming"),
    Entry(
        "she provoked him",
        "the suspect is responsible for their behaviour: describe what happened",
        "blaming",
    ),
    Entry(
        "he provoked her", "the suspect is responsible for their behaviour: describe what happened", "blaming"
    ),
    Entry(
        "provoked him", "the suspect is responsible for their behaviour: describe what happened", "blaming"
    ),
    Entry("victim withdrew", "victim no longer supports a prosecution", "blaming"),
    Entry("withdrew her complaint", "no longer supports a prosecution", "blaming"),
    Entry("withdrew his complaint", "no longer supports a prosecution", "blaming"),
    Entry("withdrew the complaint", "no longer supports a prosecution", "blaming"),
    Entry("refused to engage", "has not felt able to engage yet: record the barriers", "blaming"),
    Entry("refuses to engage", "does not feel able to engage yet: record the barriers", "blaming"),
    Entry("unwilling to engage", "does not feel able to engage yet: record the barriers", "blaming"),
    Entry("failed to engage", "has not engaged yet: record the barriers", "blaming"),
    Entry("failed to attend", "did not attend (record why, if known)", "blaming"),
    Entry("uncooperative victim", "victim who does not currently support a prosecution", "blaming"),
    Entry("uncooperative", "not currently able to support: record the barriers", "blaming"),
    Entry("reluctant victim", "victim who does not currently support a prosecution", "blaming"),
    Entry("difficult victim", "victim with complex needs: say what support is needed", "blaming"),
    Entry("attention seeking", "describe the behaviour without judgement", "blaming"),
    Entry("attention-seeking", "describe the behaviour without judgement", "blaming"),
    Entry("no complaint", "victim does not currently support a prosecution", "blaming"),
    Entry("not a credible", "describe the evidence; credibility is for the court", "doubting"),
)
