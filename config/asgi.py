"""ASGI entry point, for an ASGI server. Herald serves WSGI with granian: see docs/production.md."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
