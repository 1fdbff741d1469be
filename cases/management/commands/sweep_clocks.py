"""``python manage.py sweep_clocks [--today YYYY-MM-DD]``: run the clock sweep now, for operators."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from cases import ledger


class Command(BaseCommand):
    help = "Move every open clock's state on for today (Europe/London) and record the threshold crossings."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Compute states as on this London date (YYYY-MM-DD).")

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(
                    f"--today must be a date like 2026-01-31, not {options['today']!r}"
                ) from exc
        run = ledger.sweep(today=today)
        self.stdout.write(
            f"Sweep for {run.today}: {run.get_status_display()}; {run.examined} clocks changed state, "
            f"{run.events} threshold crossings recorded ({(run.finished_at - run.started_at).total_seconds():.2f}s)."
        )
