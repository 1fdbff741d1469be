"""Serializer fields shared by the API's input serializers (kept apart from the serializers so that the
charging and victims APIs can use them without import cycles)."""

from __future__ import annotations

import datetime
import re
from typing import Any

from rest_framework import serializers

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2100, 12, 31)
URN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")


class ApiDateField(serializers.DateField):
    """An ISO date between 1900 and 2100 (a wider range is a typing error, and the deadline arithmetic
    has no meaning there)."""

    def to_internal_value(self, value: Any) -> datetime.date:
        day = super().to_internal_value(value)
        if not EARLIEST <= day <= LATEST:
            self.fail("out_of_range")
        return day

    default_error_messages = {
        "out_of_range": f"Give a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}.",
    }


class ApiDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time (a time zone offset is recommended; without one it is London time)."""

    default_error_messages = {
        "out_of_range": f"Give a time from {EARLIEST.isoformat()} to {LATEST.isoformat()}.",
    }

    def to_internal_value(self, value: Any) -> datetime.datetime:
        moment = super().to_internal_value(value)
        if not EARLIEST <= moment.date() <= LATEST:
            self.fail("out_of_range")
        return moment


def normalise_urn(raw: str, *, new: bool = False) -> str | None:
    """The URN as stored (trimmed, upper case), or None when it cannot be one. A new URN must be 1 to 20
    letters, digits, dots, hyphens or underscores; looking one up accepts any printable 1 to 20 characters
    (cases opened on the web form may hold others)."""
    urn = (raw or "").strip()
    if new:
        return urn.upper() if URN_RE.match(urn) else None
    return urn.upper() if 0 < len(urn) <= 20 and urn.isprintable() else None


MAX_ID = 2**63 - 1


class IdConverter:
    """A row id in a path. Matches any integer (so that a negative or huge one gets the API's JSON 404, not
    the router's HTML one); ``valid_id`` says whether it can name a row."""

    regex = "-?[0-9]{1,30}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


def IdField(**kwargs: Any) -> serializers.IntegerField:  # noqa: N802 - a field, named like one
    """The id of a row, in a request body."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
