"""The trauma-informed language checker: the pure matcher (no database) and the seeded, editable lexicon."""

from __future__ import annotations

import ast
import pathlib

import pytest

from victims import lexicon
from victims.lexicon import STARTER_LEXICON, Entry, check


def phrases(text: str, entries=STARTER_LEXICON) -> list[str]:
    return [h.phrase for h in check(text, entries)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She claims he pushed her.", ["claims"]),
        ("The alleged victim said he shouted.", ["alleged victim"]),
        ("It was a volatile relationship.", ["volatile relationship"]),
        ("A TOXIC   relationship, both ways.", ["toxic relationship"]),
        ("Toxic\nrelationship", ["toxic relationship"]),
        ("Victim withdrew on day 3.", ["victim withdrew"]),
        ("He says she refused to engage and failed to attend.", ["refused to engage", "failed to attend"]),
        ("Police called to a domestic at the address.", ["domestic"]),
        ("It was just a domestic.", ["just a domestic"]),
        ("A domestic dispute over money.", ["domestic dispute"]),
        ("Why did she stay? She stayed for the children.", ["why did she stay", "she stayed"]),
        ("He claimed it was an accident.", ["claimed"]),
    ],
)
def test_hits(text, expected):
    assert phrases(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The Mayor proclaims a holiday.",  # "claims" inside another word
        "He reclaimed his car.",
        "Disclaimed liability.",
        "Domestic abuse incident, reported by a neighbour.",
        "A domestic-abuse protection notice was served.",
        "Domestic Violence Protection Order granted.",
        "Domestic homicide review.",
        "Domesticated animals at the address.",
        "She stayedat no address.",  # no boundary
        "The victim withdrewn support?",  # not the phrase
        "",
    ],
)
def test_misses(text):
    assert phrases(text) == []


def test_hit_gives_span_matched_words_and_suggestion():
    text = "Officer notes: VOLATILE relationship."
    [hit] = check(text, STARTER_LEXICON)
    assert text[hit.start : hit.end] == hit.matched == "VOLATILE relationship"
    assert hit.span == (15, 36)
    assert "abusive relationship" in hit.suggestion
    assert hit.category == "minimising"


def test_overlapping_hits_keep_the_longer_phrase():
    entries = [Entry("uncooperative", "a"), Entry("uncooperative victim", "b")]
    [hit] = check("An uncooperative victim.", entries)
    assert (hit.phrase, hit.suggestion) == ("uncooperative victim", "b")


def test_unless_followed_by_is_per_entry():
    entries = [Entry("domestic", "domestic abuse", unless_followed_by=("abuse",))]
    assert phrases("domestic abuse", entries) == []
    assert phrases("domestic violence", entries) == ["domestic"]


def test_phrases_with_punctuation_at_the_edges():
    entries = [Entry("lovers' tiff", "domestic abuse incident"), Entry("on-off relationship", "x")]
    assert phrases("A lovers' tiff, an on-off relationship.", entries) == [
        "lovers' tiff",
        "on-off relationship",
    ]


def test_an_empty_phrase_matches_nothing():
    assert check("anything", [Entry("   ", "x")]) == []


def test_module_is_pure():
    tree = ast.parse(pathlib.Path(lexicon.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported and not any(name.split(".")[0] in {"django", "victims", "cases"} for name in imported)


@pytest.mark.django_db
def test_seeded_lexicon_matches_the_starter_list_and_is_editable():
    from victims import language
    from victims.models import LexiconEntry

    seeded = {(e.phrase, e.suggestion, e.category, e.unless_followed_by) for e in language.active_entries()}
    assert seeded == {(e.phrase, e.suggestion, e.category, e.unless_followed_by) for e in STARTER_LEXICON}
    assert [h.phrase for h in language.check_text("It was a volatile relationship.")] == [
        "volatile relationship"
    ]
    LexiconEntry.objects.filter(phrase="volatile relationship").update(active=False)
    LexiconEntry.objects.create(phrase="hysterical", suggestion="distressed", category="blaming")
    assert [h.phrase for h in language.check_text("Volatile relationship; she was hysterical.")] == [
        "hysterical"
    ]
