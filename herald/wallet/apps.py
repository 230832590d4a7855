from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "herald.wallet"
    label = "wallet"
    verbose_name = "Wallet"
