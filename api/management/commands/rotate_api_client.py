"""Issue a new token for an API client (the old one stops working at once) and print it once.

manage.py rotate_api_client <id | token prefix | name> [--expires-in-days 365]
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from api.clients import api_client_rotate, find_client

from .create_api_client import expiry, fail


class Command(BaseCommand):
    help = "Rotate an API client's token: print a new one (shown once); the old one stops working."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("client", help="The client's id, token prefix (jjp_xxxxxxxx) or name.")
        parser.add_argument("--expires-in-days", type=int, default=None, help="Default: no expiry.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = find_client(options["client"])
            token = api_client_rotate(client=client, expires_at=expiry(options["expires_in_days"]))
        except ValidationError as exc:
            raise fail(exc) from exc
        self.stderr.write(
            f"New token for API client {client.pk} {client.name!r}; the old one no longer works:"
        )
        self.stdout.write(token)
