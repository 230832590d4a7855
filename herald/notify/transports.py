"""Transports: each channel has one ``send()`` that raises ``TransportError(message, permanent=...)``.

SMS is an interface with a sandbox twin (messages kept in a table); Telegram notices are queued through
the Telegram gateway's outbox, which paces and retries them.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail

from herald.core.errors import HeraldError
from herald.notify.models import SandboxSms


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Transport(Protocol):
    def send(self, *, recipient: str, subject: str, body: str, dedupe_key: str) -> None: ...


class EmailTransport:
    """Django's configured email backend (console in development, SMTP in production)."""

    def send(self, *, recipient: str, subject: str, body: str, dedupe_key: str) -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False)
        except OSError as exc:  # SMTP and socket errors: the server may take it later
            raise TransportError(f"email not sent: {exc}", permanent=False) from exc


class SandboxSmsTransport:
    """Keeps each SMS in the ``SandboxSms`` table instead of sending it."""

    def send(self, *, recipient: str, subject: str, body: str, dedupe_key: str) -> None:
        if not recipient.lstrip("+").isdigit():
            raise TransportError(f"{recipient!r} is not a phone number", permanent=True)
        SandboxSms.objects.create(to=recipient, text=f"{subject}: {body}"[:1600])


class TelegramTransport:
    """Queues a ``sendMessage`` in the Telegram gateway's outbox (it paces, retries and records it)."""

    def send(self, *, recipient: str, subject: str, body: str, dedupe_key: str) -> None:
        token = settings.NOTIFY_TELEGRAM_BOT_TOKEN
        if not token:
            raise TransportError(
                "no notification bot is configured (NOTIFY_TELEGRAM_BOT_TOKEN)", permanent=True
            )
        try:
            # resolved at run time: the gateway module is optional for the rest of notify
            gateway = importlib.import_module("herald.telegram.services")
            outbox_enqueue = gateway.outbox_enqueue
        except (ImportError, AttributeError) as exc:
            raise TransportError("the Telegram gateway is not installed", permanent=True) from exc
        try:
            # the outbox splits long texts itself; the dedupe key makes a repeated send queue nothing
            outbox_enqueue(
                token=token,
                chat_id=int(recipient),
                method="sendMessage",
                params={"text": f"{subject}\n\n{body}"},
                dedupe_key=dedupe_key,
                reference=dedupe_key[:100],
            )
        except (HeraldError, ValueError) as exc:
            raise TransportError(f"not queued for Telegram: {exc}", permanent=True) from exc


def transport_for(channel: str) -> Transport:
    if channel == "email":
        return EmailTransport()
    if channel == "telegram":
        return TelegramTransport()
    if channel == "sms":
        if settings.NOTIFY_SMS_BACKEND == "sandbox":
            return SandboxSmsTransport()
        raise TransportError(f"unknown SMS backend {settings.NOTIFY_SMS_BACKEND!r}", permanent=True)
    raise TransportError(f"unknown channel {channel!r}", permanent=True)
