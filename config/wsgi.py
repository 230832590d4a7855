"""WSGI entry point: granian serves Herald's web process from here (see Procfile.dev)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The sandbox delivers updates left pending before a restart without waiting for a first request.
from herald.telegram.sandbox.delivery import delivery_thread_start_with_server  # noqa: E402

delivery_thread_start_with_server()

from herald.core.startup import freeze_startup_objects  # noqa: E402

freeze_startup_objects()
