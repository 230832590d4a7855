from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "herald.content"
    label = "content"
    verbose_name = "Content"

    def ready(self) -> None:
        from herald.content import receivers  # noqa: F401  (connects the outbox signals)
