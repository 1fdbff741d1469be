"""Revoke an API client's token (it gets 401 from now on; ``rotate_api_client`` issues a new one).

manage.py revoke_api_client <id | token prefix | name>
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from api.clients import api_client_revoke, find_client

from .create_api_client import fail


class Command(BaseCommand):
    help = "Revoke an API client's token."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("client", help="The client's id, token prefix (jjp_xxxxxxxx) or name.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = api_client_revoke(client=find_client(options["client"]))
        except ValidationError as exc:
            raise fail(exc) from exc
        self.stdout.write(
            f"Revoked API client {client.pk} {client.name!r} at {client.revoked_at:%Y-%m-%d %H:%M %Z}."
        )
