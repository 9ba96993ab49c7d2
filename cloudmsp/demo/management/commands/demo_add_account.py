"""`python manage.py demo_add_account NAME --ou Root/Production [--tag key=value]`: create a member
account in the running demo's AWS organization; the next sync (Sync now, or the scheduler's)
discovers it and the assignment rules assign it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cloudmsp.demo import emulator


class Command(BaseCommand):
    help = "Create a member account in the demo's AWS organization (the demo must be running)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The account's name.")
        parser.add_argument("--ou", default="Root", help='Its OU path, such as "Root/Production" (default Root).')
        parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="An AWS tag (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        name = str(options["name"]).strip()
        if not name or len(name) > 50:
            raise CommandError("Give the account a name of 1 to 50 characters.")
        tags = {}
        for tag in options["tag"]:
            key, sep, value = str(tag).partition("=")
            if not sep or not key:
                raise CommandError(f"Give tags as KEY=VALUE, not {tag[:40]!r}.")
            tags[key] = value
        endpoint = settings.AWS_ENDPOINT_URL
        if not endpoint or not emulator.is_emulator(endpoint):
            raise CommandError(f"The demo's AWS emulator is not running at {endpoint!r}: start `make demo` first.")
        try:
            account_id = emulator.add_account(endpoint, name=name, ou_path=str(options["ou"]), tags=tags)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Created {name} ({account_id}) in {options['ou']}. The next sync of the demo payer (Sync now "
            "on the MSP list, or the scheduler's) discovers it, and the assignment rules assign it."
        )
