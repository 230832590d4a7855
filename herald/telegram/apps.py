from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "herald.telegram"
    label = "telegram"
    verbose_name = "Telegram gateway"
