"""First-start setup for `make run`: migrate, create the admin if there is none, print where things are."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, create the admin user on first start, and print Herald's URLs."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        created_password = self._ensure_admin()
        base = settings.HERALD_PUBLIC_URL
        lines = [
            "",
            "Herald is starting:",
            f"  web app      {base}/",
            f"  admin        {base}/admin/",
            f"  API docs     {base}/api/docs",
            f"  health       {base}/health",
        ]
        if settings.HERALD_SANDBOX:
            lines.append(f"  sandbox      {base}/sandbox/   (a local Telegram: talk to your bots here)")
        if created_password is not None:
            lines += [
                "",
                "First start: an admin user was created.",
                f"  username     {settings.HERALD_ADMIN_USERNAME}",
                f"  password     {created_password}",
                "  (set HERALD_ADMIN_PASSWORD to choose it; it is shown only this once)",
            ]
        self.stdout.write("\n".join(lines) + "\n")

    def _ensure_admin(self) -> str | None:
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            return None
        password = settings.HERALD_ADMIN_PASSWORD or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(
            username=settings.HERALD_ADMIN_USERNAME, email=settings.HERALD_ADMIN_EMAIL, password=password
        )
        return password
