"""Outbound notifications to people: email, SMS and Telegram transports, with a delivery log."""
