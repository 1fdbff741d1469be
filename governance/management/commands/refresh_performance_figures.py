"""``python manage.py refresh_performance_figures [--all]``: recompute the stored joint performance figures now."""

from django.core.management.base import BaseCommand

from governance import services


class Command(BaseCommand):
    help = (
        "Recompute the stored joint performance figures the dashboard, its CSV and /api/v1/metrics/ read: this "
        "month onwards, or every month when a full refresh is due (once a day, or after a change of pilot sites, "
        "Areas or bank holidays) or with --all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Recompute every month (a full refresh).")

    def handle(self, *args, **options):
        run = services.performance_figures_refresh(full=True if options["all"] else None)
        scope = "every month" if run.full else f"{run.from_month:%B %Y} onwards"
        self.stdout.write(
            f"Performance figures, {scope}: {run.get_status_display()}; {run.figures:,} figures written in "
            f"{run.seconds:.1f} s (as of {run.started_at:%Y-%m-%d %H:%M:%S %Z})."
        )
