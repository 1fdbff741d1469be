"""A private iCalendar feed (RFC 5545) of a person's deadlines, reached by a secret token.

The token is shown once when the feed is made and stored only as its SHA-256 hash (``CalendarFeed.token_hash``),
so a copy of the database cannot be used to read anyone's feed; the person can revoke it. The feed lists the open
clocks that ``alerts.engine.clocks_for(user)`` returns: the deadlines they act on, behind the access gate
(``Case.objects.visible_to``). Like the emails, an event carries only the URN, which deadline, the due date,
what to do and a link: no victim or offence details, since calendars are synced to phones and shared.

The iCalendar text is written by the ``icalendar`` library: CRLF line ends, lines folded at 75 octets without
splitting a UTF-8 character, TEXT values escaped (backslash, semicolon, comma, newline).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import CalendarFeed, User

from . import engine as alerts

# --------------------------------------------------------------------------------------------------------------
# RFC 5545 text, written by the icalendar library (CRLF line ends, lines folded at 75 octets without splitting a
# UTF-8 character, TEXT values escaped)
# --------------------------------------------------------------------------------------------------------------


def render_ics(events: Iterable[dict[str, Any]], *, now: datetime.datetime, name: str, host: str) -> str:
    """The VCALENDAR text for ``events`` (dicts with uid, day, summary, description, url)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Joint Justice case system//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", datetime.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = now.astimezone(datetime.UTC)
    for item in events:
        event = icalendar.Event()
        event.add("uid", f"{item['uid']}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item["day"])
        event.add("dtend", item["day"] + datetime.timedelta(days=1))
        event.add("summary", item["summary"])
        event.add("description", item["description"])
        event.add("url", item["url"])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


# --------------------------------------------------------------------------------------------------------------
# Feeds
# --------------------------------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def calendar_feed_create(*, actor: User) -> tuple[CalendarFeed, str]:
    """Make a new feed for the actor; returns it and the secret token (shown once, stored hashed)."""
    if not actor.is_authenticated or not actor.is_active:
        raise ValidationError("Sign in to make a calendar feed.")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=actor, token_hash=token_hash(token))
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, actor: User, feed_id: int) -> CalendarFeed:
    """Revoke one of the actor's own feeds; its address stops working at once."""
    feed = CalendarFeed.objects.select_for_update().filter(pk=feed_id, user=actor).first()
    if feed is None:
        raise ValidationError({"feed": "You have no calendar feed with that number."})
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
    return feed


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed with this token (not revoked, its owner active), or None."""
    if not token or len(token) > 200:
        return None
    return (
        CalendarFeed.objects.select_related("user__organisation")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def calendar_feed_text(feed: CalendarFeed, *, now: datetime.datetime | None = None) -> str:
    """The iCalendar text of the feed's owner's open deadlines; records when the feed was last read."""
    now = now or timezone.now()
    user = feed.user
    rows = (
        alerts.clocks_for(user)
        .order_by("due_on", "case__urn", "pk")
        .values("pk", "case_id", "case__urn", "kind", "due_on", "due_at")
    )
    events = []
    for row in rows:
        name = alerts.deadline_name(row["kind"])
        link = alerts.case_link(row["case_id"])
        when = f" at {timezone.localtime(row['due_at']):%H:%M}" if row["due_at"] else ""
        events.append(
            {
                "uid": f"jjp-clock-{row['pk']}",
                "day": row["due_on"],
                "summary": f"{row['case__urn']}: {name} due{when}",
                "description": f"Case {row['case__urn']}. {name} due {row['due_on']:%d %B %Y}{when}.\n"
                f"What to do: {alerts.WHAT_TO_DO.get(row['kind'], '')}\n{link}",
                "url": link,
            }
        )
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    host = urlsplit(settings.SITE_URL).hostname or "jjp.invalid"
    return render_ics(events, now=now, name="Joint Justice deadlines", host=host)
