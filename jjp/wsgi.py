"""WSGI entry point (gunicorn jjp.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jjp.settings")
application = get_wsgi_application()
