from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "herald.bots"
    label = "bots"
    verbose_name = "Bot Maker"

    def ready(self) -> None:
        from herald.bots import receivers  # noqa: F401  (connects the outbox signals)
