"""ASGI entry point served by uvicorn."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

# The sandbox answers its Bot API hot path without Django's middleware hops (off when HERALD_SANDBOX is).
from herald.telegram.sandbox.asgi import SandboxBotApiFastPath  # noqa: E402

application = SandboxBotApiFastPath(django_application)
