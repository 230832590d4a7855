"""Fails unless the settings point at PostgreSQL and Redis, so the server leg of CI cannot silently fall back
to the embedded defaults (SQLite, file cache, filesystem broker)."""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HERALD_TESTING", "1")
os.environ.setdefault("HERALD_DATA_DIR", "var/test")
sys.path.insert(0, os.getcwd())
django.setup()

from django.conf import settings  # noqa: E402

checks = {
    "database is PostgreSQL": settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
    "cache is Redis": settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache",
    "rate limits use Redis": settings.RATE_LIMIT_BACKEND == "redis",
    "broker is Redis": settings.CELERY_BROKER_URL.startswith("redis://"),
}
for name, ok in checks.items():
    sys.stdout.write(f"  {'ok  ' if ok else 'FAIL'} {name}\n")
sys.exit(0 if all(checks.values()) else 1)
