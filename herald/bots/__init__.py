"""Bot Maker (seed 001): many hosted Telegram bots answering through JSON flows."""
