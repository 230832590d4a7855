"""Wiring only: settings, the Celery app, the API object, URLs and the ASGI entry point."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
