"""`python manage.py demo_delete_role ACCOUNT_ID`: delete an account's role in the running demo's
AWS emulator, as a customer might by mistake; the scheduler's next check finds it broken."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.demo import emulator
from cloudmsp.demo.seed import DEMO_TENANT


class Command(BaseCommand):
    help = "Delete a demo account's role in the AWS emulator (the demo must be running)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", help="The 12-digit AWS account id (see the Health page).")

    def handle(self, *args: Any, **options: Any) -> None:
        account_id = str(options["account_id"]).strip()
        account = (
            CloudAccount.unscoped.filter(tenant__name=DEMO_TENANT, account_id=account_id).exclude(role_arn="").first()
        )
        if account is None:
            raise CommandError(f"No account {account_id[:20]} with a role in the demo tenant.")
        endpoint = settings.AWS_ENDPOINT_URL
        if not endpoint or not emulator.is_emulator(endpoint):
            raise CommandError(f"The demo's AWS emulator is not running at {endpoint!r}: start `make demo` first.")
        if not emulator.delete_role(endpoint, account_id, account.role_name):
            raise CommandError(f"The role {account.role_name} is already gone from {account_id}.")
        self.stdout.write(
            f"Deleted the role {account.role_name} in {account_id}. The scheduler's next check "
            "(within about a minute in the demo) finds it broken: open Health."
        )
