from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cloudmsp.core.errors import ApplicationError
from cloudmsp.tenants.services import tenant_ensure_with_admin


class Command(BaseCommand):
    help = "Create a tenant and its administrator (idempotent). Prints an activation link when no password is given."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--admin", required=True, metavar="EMAIL")
        parser.add_argument("--password", default=None)

    def handle(self, *args: Any, name: str, admin: str, password: str | None, **options: Any) -> None:
        try:
            with transaction.atomic():
                result = tenant_ensure_with_admin(name=name, admin_email=admin, password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        tenant, user = result.tenant, result.admin
        self.stdout.write(
            f"Tenant {tenant.name!r}: {'created' if result.tenant_created else 'already exists'}; "
            f"administrator {user.email}: {'created' if result.admin_created else 'already exists'}."
        )
        if result.activation_link:
            self.stdout.write(f"Activation link (valid 24 h): {result.activation_link}")
