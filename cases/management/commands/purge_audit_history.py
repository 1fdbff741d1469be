"""Delete audit rows older than the retention period (``JJP_AUDIT_RETENTION_DAYS``), and record the run.

    manage.py purge_audit_history --dry-run            # count only: what would go
    manage.py purge_audit_history --operator jsmith --reason "annual retention review"

The audit tables refuse DELETE by trigger; this command lifts the triggers for its own transaction only and
writes one ``AuditPurgeRun`` row with the counts (docs/security.md, "The audit trail"; docs/operations.md)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases import retention


class Command(BaseCommand):
    help = "Delete audit rows older than JJP_AUDIT_RETENTION_DAYS (timeline, clock crossings, row history, read logs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the rows that would be deleted; delete nothing."
        )
        parser.add_argument("--operator", default="", help="Who is running the purge (default: the OS user).")
        parser.add_argument("--reason", default="", help="Why (recorded with the run).")
        parser.add_argument(
            "--retention-days",
            type=int,
            default=None,
            help="Override the setting for this run (not below it: a shorter period needs the setting changed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        days = options["retention_days"]
        if days is not None and days < settings.JJP_AUDIT_RETENTION_DAYS:
            raise CommandError(
                f"--retention-days {days} is shorter than JJP_AUDIT_RETENTION_DAYS "
                f"({settings.JJP_AUDIT_RETENTION_DAYS}); change the setting (a policy decision) instead."
            )
        operator = options["operator"].strip() or _os_user()
        try:
            result = retention.purge(
                operator=operator,
                reason=options["reason"].strip(),
                retention_days=days,
                dry_run=options["dry_run"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "would delete" if result.dry_run else "deleted"
        for table, n in result.counts.items():
            if n:
                self.stdout.write(f"{table}: {verb} {n}")
        self.stdout.write(
            f"{'Dry run: ' if result.dry_run else ''}{verb} {result.total} audit rows recorded before "
            f"{result.cutoff.isoformat()} (retention {result.retention_days} days)"
            + (f"; run #{result.run.pk} recorded" if result.run is not None else "; nothing recorded")
        )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a container: still recorded, as unknown
        return "unknown"
