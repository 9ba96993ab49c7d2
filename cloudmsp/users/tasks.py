"""Task wrappers over the users' services, run by the task worker (django-tasks-db)."""

from __future__ import annotations

from django.tasks import task

from cloudmsp.tenancy import rls
from cloudmsp.users import services


@task
def password_reset_send(email: str, client_address: str | None) -> bool:
    # Which tenant, if any, an email belongs to is the system's to find out.
    with rls.system_scope():
        return services.password_reset_send(email=email, client_address=client_address)
