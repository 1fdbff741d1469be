"""Settings for the servers the benchmarks start (``DJANGO_SETTINGS_MODULE=settings_bench`` with ``bench/`` on
``PYTHONPATH``): the product's settings, with two changes that only a load test needs.

- The API rate limits are lifted: a load generator is one caller sending hundreds of requests a second, which
  the per-caller limits (600 reads and 10 bulk requests a minute) would rightly refuse.
- Static files are served from the app folders without a manifest (no ``collectstatic`` run needed), so the
  HTML pages render as in development; whitenoise still serves them.

Nothing else differs: same middleware, same access gate, DEBUG off (no query log kept in memory).
"""

from jjp.settings import *  # noqa: F403
from jjp.settings import REST_FRAMEWORK, STORAGES

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "jjp_read": "1000000/min",
        "jjp_write": "1000000/min",
        "jjp_bulk": "1000000/min",
    },
}
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
DEBUG = False
