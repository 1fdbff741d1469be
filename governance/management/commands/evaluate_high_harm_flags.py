"""``python manage.py evaluate_high_harm_flags [--today YYYY-MM-DD]``: run the high-harm evaluation now."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from governance import services


class Command(BaseCommand):
    help = (
        "Evaluate the shared high-harm repeat offender definition (settings.JJP_HHRO) for every person and bring "
        "the people's and cases' flags in line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Evaluate as on this London date (YYYY-MM-DD).")

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(
                    f"--today must be a date like 2026-01-31, not {options['today']!r}"
                ) from exc
        run = services.high_harm_flags_evaluate(today=today)
        self.stdout.write(
            f"High-harm evaluation for {run.today}: {run.get_status_display()}; {run.evaluated} people evaluated, "
            f"{run.flagged} flagged by the definition; {run.people_changed} people and {run.cases_changed} cases "
            "changed."
        )
