"""``manage.py create_api_key NAME [--scope S ...] [--owner USERNAME]``: prints a new API key once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from herald.accounts.models import User
from herald.accounts.services import api_key_create
from herald.core.errors import HeraldError


class Command(BaseCommand):
    help = "Create an API key for a partner or an internal service and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="What the key is for, e.g. 'scraper' or 'partner acme'.")
        parser.add_argument(
            "--scope", action="append", default=[], dest="scopes", help="A scope; repeat for several."
        )
        parser.add_argument("--owner", help="Username or email of the user the key acts for.")
        parser.add_argument("--expires-in-days", type=int, help="Expire the key after this many days.")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = None
        if options["owner"]:
            try:
                owner = User.objects.get_by_natural_key(options["owner"])
            except User.DoesNotExist as exc:
                raise CommandError(f"No user {options['owner']!r}.") from exc
        days = options["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            api_key, plaintext = api_key_create(
                name=options["name"], owner=owner, scopes=options["scopes"], expires_at=expires_at
            )
        except HeraldError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Created API key {api_key.name!r} (prefix {api_key.prefix}). It is shown only once:"
        )
        self.stdout.write(plaintext)
