from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "herald.accounts"
    label = "accounts"
    verbose_name = "Accounts"
