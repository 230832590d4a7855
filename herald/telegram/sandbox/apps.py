from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "herald.telegram.sandbox"
    label = "sandbox"
    verbose_name = "Telegram sandbox"
