from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and benchmark data: ``seed_demo`` (invented people at every stage) and ``generate_cases`` (a
    synthetic national data set, planned by the pure ``demo/generate.py``). Delivery layer: it builds on every
    domain app and nothing imports it."""

    name = "demo"
    verbose_name = "Demo and benchmark data"
