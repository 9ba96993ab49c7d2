from typing import Any

from django.core.management.base import BaseCommand

from cloudmsp.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Seed the demo tenant, customers and logins (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for login in seed_demo():
            self.stdout.write(f"{login.role:22} {login.email:22} {login.password}")
