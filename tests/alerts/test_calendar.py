"""The private calendar feed: a person's own deadlines only (behind the access gate), a secret token stored
hashed and revocable (revoked or unknown -> 404), and valid RFC 5545 text (CRLF, folded at 75 octets, escaped)."""

from __future__ import annotations

import datetime
import hashlib
import re
import sys
import types

import pytest
import time_machine
from django.urls import include, path, reverse

from alerts import calendar as feeds
from cases.models import CalendarFeed, Clock, Role
from cases.services import case_restrict
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory
from victims.services import victim_add

D = datetime.date
SITE = "https://jjp.example.test"

_urlconf = types.ModuleType("jjp_alert_test_urls")
_urlconf.urlpatterns = [path("", include("alerts.urls")), path("", include("jjp.urls"))]
sys.modules.setdefault("jjp_alert_test_urls", _urlconf)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ROOT_URLCONF = "jjp_alert_test_urls"
    settings.SITE_URL = SITE


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def unfold(text: str) -> list[str]:
    """RFC 5545 section 3.1: CRLF followed by a space or tab continues the previous line."""
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")


def assert_valid_ics(text: str) -> list[dict[str, str]]:
    """Check the structure and line rules; return the events as dicts of property name -> value."""
    assert text.endswith("\r\n")
    raw_lines = text[:-2].split("\r\n")
    for line in raw_lines:
        assert "\n" not in line and "\r" not in line, "bare line breaks"
        assert len(line.encode("utf-8")) <= 75, f"line longer than 75 octets: {line!r}"
    lines = unfold(text)[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events, current, depth = [], None, 0
    for line in lines:
        assert re.match(r"^[A-Z-]+(;[A-Z-]+=[^:;]+)*:", line), f"not a content line: {line!r}"
        if line == "BEGIN:VEVENT":
            assert current is None, "nested VEVENT"
            current = {}
            depth += 1
        elif line == "END:VEVENT":
            assert current is not None
            for required in ("UID", "DTSTAMP", "DTSTART"):
                assert required in current, f"VEVENT without {required}"
            events.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name.split(";")[0]] = value
    assert current is None
    return events


def feed_url(token: str) -> str:
    return reverse("calendar_feed", args=[token])


@pytest.fixture
def supervisor_b(force_b):
    return UserFactory(organisation=force_b, roles=[Role.POLICE_SUPERVISOR], username="supervisor-b")


@pytest.fixture
def other_oic_a(force_a):
    return UserFactory(organisation=force_a, roles=[Role.OIC], username="other-oic-a")


@pytest.mark.django_db
def test_feed_lists_the_users_own_deadlines_only(
    client, oic_a, other_oic_a, oic_b, supervisor_a, prosecutor_a
):
    mine = CaseFactory(actor=oic_a, urn="MINE1", today=TODAY)
    victim_add(actor=oic_a, case=mine, given_name="Zebedee", family_name="Quartermaine", today=TODAY)
    colleagues = CaseFactory(actor=other_oic_a, urn="COLLEAGUE1", today=TODAY)
    other_force = CaseFactory(actor=oic_b, urn="OTHERFORCE1", today=TODAY)
    case_refer_to_cps(actor=oic_a, case=mine, received_on=TODAY, today=TODAY)

    def events_for(user):
        _feed, token = feeds.calendar_feed_create(actor=user)
        response = client.get(feed_url(token))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        return assert_valid_ics(response.content.decode("utf-8"))

    oic_events = events_for(oic_a)
    oic_summaries = " ".join(e["SUMMARY"] for e in oic_events)
    assert "MINE1" in oic_summaries
    assert "COLLEAGUE1" not in oic_summaries and "OTHERFORCE1" not in oic_summaries
    open_police = mine.clocks.open().filter(side="police")
    assert {e["UID"].split("@")[0] for e in oic_events} == {f"jjp-clock-{c.pk}" for c in open_police}
    stl = mine.clocks.get(kind=Clock.Kind.STL)
    event = next(e for e in oic_events if e["UID"].startswith(f"jjp-clock-{stl.pk}@"))
    assert event["DTSTART"] == stl.due_on.strftime("%Y%m%d")
    assert event["URL"] == f"{SITE}/cases/{mine.pk}/"
    body = "".join("".join(e.values()) for e in oic_events)
    assert "Zebedee" not in body and "Quartermaine" not in body and "assault" not in body.lower()

    supervisor = " ".join(e["SUMMARY"] for e in events_for(supervisor_a))
    assert "MINE1" in supervisor and "COLLEAGUE1" in supervisor and "OTHERFORCE1" not in supervisor

    prosecutor_events = events_for(prosecutor_a)
    kinds = {
        Clock.objects.get(pk=int(e["UID"].split("@")[0].rsplit("-", 1)[1])).kind for e in prosecutor_events
    }
    assert kinds == {"charging_decision", "stl"}, "CPS acts on its decision and the time limit"
    assert all("MINE1" in e["SUMMARY"] for e in prosecutor_events)
    other = " ".join(e["SUMMARY"] for e in events_for(oic_b))
    assert other_force.urn in other and "MINE1" not in other
    assert colleagues.urn in " ".join(e["SUMMARY"] for e in events_for(other_oic_a))


@pytest.mark.django_db
def test_restricted_case_is_not_in_an_unnamed_supervisors_feed(client, oic_a, supervisor_a, force_a):
    unnamed = UserFactory(organisation=force_a, roles=[Role.POLICE_SUPERVISOR], username="unnamed-supervisor")
    case = CaseFactory(actor=oic_a, urn="SECRET1", police_perpetrated=True, today=TODAY)
    case_restrict(actor=supervisor_a, case=case, users=[oic_a], reason="Suspect is an officer.")
    _feed, named_token = feeds.calendar_feed_create(actor=supervisor_a)
    _feed, unnamed_token = feeds.calendar_feed_create(actor=unnamed)
    assert "SECRET1" in client.get(feed_url(named_token)).content.decode()
    assert "SECRET1" not in client.get(feed_url(unnamed_token)).content.decode()


@pytest.mark.django_db
def test_token_is_stored_hashed_and_revoking_makes_the_feed_404(client, oic_a, case_a):
    feed, token = feeds.calendar_feed_create(actor=oic_a)
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(CalendarFeed.objects.filter(pk=feed.pk).values().get())
    assert client.get(feed_url(token)).status_code == 200
    feed.refresh_from_db()
    assert feed.last_used_at is not None

    feeds.calendar_feed_revoke(actor=oic_a, feed_id=feed.pk)
    assert client.get(feed_url(token)).status_code == 404
    assert client.get(feed_url("not-a-real-token")).status_code == 404


@pytest.mark.django_db
def test_an_inactive_users_feed_is_404(client, oic_a, case_a):
    _feed, token = feeds.calendar_feed_create(actor=oic_a)
    oic_a.is_active = False
    oic_a.save(update_fields=["is_active"])
    assert client.get(feed_url(token)).status_code == 404


@pytest.mark.django_db
def test_settings_page_makes_shows_once_and_revokes_feeds(client, oic_a, oic_b, case_a):
    client.force_login(oic_a)
    response = client.post(reverse("calendar_feed_new"))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    url = re.search(r'<code id="new-feed-url">([^<]+)</code>', response.content.decode()).group(1)
    assert url.startswith(f"{SITE}/alerts/calendar/") and url.endswith(".ics")
    path_only = url[len(SITE) :]
    assert case_a.urn in client.get(path_only).content.decode()
    page = client.get(reverse("alert_preferences")).content.decode()
    assert url not in page, "the address is shown only once"
    feed = CalendarFeed.objects.get(user=oic_a)

    client.force_login(oic_b)
    assert client.post(reverse("calendar_feed_revoke", args=[feed.pk])).status_code == 404, "not their feed"
    assert client.get(path_only).status_code == 200

    client.force_login(oic_a)
    assert client.post(reverse("calendar_feed_revoke", args=[feed.pk])).status_code == 302
    assert client.get(path_only).status_code == 404
    assert client.get(reverse("calendar_feed_revoke", args=[feed.pk])).status_code == 405


def test_long_text_is_folded_within_75_octets_and_never_splits_a_character():
    text = feeds.render_ics(
        [
            {
                "uid": "jjp-clock-2",
                "day": D(2026, 3, 12),
                "summary": "URN2: a\\b",
                "description": "é" * 100 + "x" * 90 + "\r\nnext",
                "url": "https://jjp.example.test/cases/2/",
            }
        ],
        now=datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC),
        name="Joint Justice deadlines",
        host="jjp.example.test",
    )
    (event,) = assert_valid_ics(text)  # every raw line within 75 octets, valid UTF-8 throughout
    assert event["DESCRIPTION"] == "é" * 100 + "x" * 90 + "\\nnext"
    assert event["SUMMARY"] == "URN2: a\\\\b"
    assert sum(1 for line in text.split("\r\n") if line.startswith(" ")) >= 2


def test_render_gives_a_valid_calendar_with_escaped_text():
    text = feeds.render_ics(
        [
            {
                "uid": "jjp-clock-1",
                "day": D(2026, 3, 12),
                "summary": "URN1: Charge, due; soon",
                "description": "Line one\nLine two " + "long " * 40,
                "url": "https://jjp.example.test/cases/1/",
            }
        ],
        now=datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC),
        name="Joint Justice deadlines",
        host="jjp.example.test",
    )
    (event,) = assert_valid_ics(text)
    assert event["SUMMARY"] == "URN1: Charge\\, due\\; soon"
    assert event["DTSTART"] == "20260312" and event["DTEND"] == "20260313"
    assert event["DTSTAMP"] == "20260302T100000Z"
    assert event["UID"] == "jjp-clock-1@jjp.example.test"
    assert event["DESCRIPTION"].startswith("Line one\\nLine two ")
