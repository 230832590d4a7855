from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "herald.notify"
    label = "notify"
    verbose_name = "Notifications"
