"""Task wrappers over the users' services, run by the task worker (django-tasks-db)."""

from __future__ import annotations

from django.tasks import task

from cloudmsp.tenancy import rls
from cloudmsp.users import services


@task
def password_reset_send(email: str, client_address: str | None) -> None:
    # Which tenant, if any, an email belongs to is the system's to find out. Whether a link went
    # out is not returned: the worker would keep it in the task's result for anyone to read.
    with rls.system_scope():
        services.password_reset_send(email=email, client_address=client_address)
