"""Register a force's records system as an API client and print its token (once: only its hash is stored).

manage.py create_api_client --force GMP --name "GMP Niche" --scope write [--expires-in-days 365]
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.clients import api_client_create


def expiry(days: int | None) -> datetime.datetime | None:
    if days is None:
        return None
    if days < 1:
        raise CommandError("--expires-in-days must be at least 1.")
    return timezone.now() + datetime.timedelta(days=days)


def fail(exc: ValidationError) -> CommandError:
    return CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))


class Command(BaseCommand):
    help = "Create an API client for a police force and print its bearer token (shown once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", required=True, help="The force's code, e.g. GMP.")
        parser.add_argument("--name", required=True, help="A name for the client, e.g. the records system.")
        parser.add_argument("--scope", required=True, choices=["read", "write"])
        parser.add_argument("--expires-in-days", type=int, default=None, help="Default: no expiry.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client, token = api_client_create(
                force_code=options["force"],
                name=options["name"],
                scope=options["scope"],
                expires_at=expiry(options["expires_in_days"]),
            )
        except ValidationError as exc:
            raise fail(exc) from exc
        self.stderr.write(
            f"Created API client {client.pk} {client.name!r} for {client.user.organisation.name} "
            f"(scope {client.scope}, user {client.user.username}"
            + (f", expires {client.expires_at:%Y-%m-%d %H:%M %Z}" if client.expires_at else "")
            + "). The token is shown once; store it now:"
        )
        self.stdout.write(token)
