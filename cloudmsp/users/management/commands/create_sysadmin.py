from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cloudmsp.users.services import sysadmin_ensure


class Command(BaseCommand):
    help = "Create a system administrator (idempotent). Prints an activation link when no password is given."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--password", default=None)

    def handle(self, *args: Any, email: str, password: str | None, **options: Any) -> None:
        try:
            user, created, link = sysadmin_ensure(email=email, password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if not created:
            self.stdout.write(f"System administrator {user.email} already exists; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"Created system administrator {user.email}."))
        if link:
            self.stdout.write(f"Activation link (valid 24 h): {link}")
