"""The channel studio app: the editors' assistant bot of seed 000, a hosted bot of kind ``studio``."""

from __future__ import annotations

from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "herald.studio"
    label = "studio"
    verbose_name = "Channel studio"

    def ready(self) -> None:
        from herald.bots.handlers import register_settings_hook, register_update_handler
        from herald.studio import receivers  # noqa: F401  (publish results, the "writing…" message)
        from herald.studio.conversation import studio_update_handle
        from herald.studio.services import studio_settings_describe, studio_settings_prepare

        register_update_handler("studio", studio_update_handle)
        register_settings_hook("studio", studio_settings_prepare, studio_settings_describe)
