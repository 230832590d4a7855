"""The Telegram gateway: the only code that talks to the Bot API."""
