from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "herald.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from herald.core import metrics

        metrics.connect_celery_signals()
