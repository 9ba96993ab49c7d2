"""Reads of tenants that every app may use (the system administrator's list lives in tenants/)."""

from __future__ import annotations

from cloudmsp.tenancy.access import Actor, not_found, parse_id, require_sysadmin
from cloudmsp.tenancy.models import Tenant


def tenant_get(*, actor: Actor, tenant_id: object) -> Tenant:
    """A tenant by id, for a system administrator; NotFound for anything else."""
    require_sysadmin(actor)
    pk = parse_id(tenant_id)
    tenant = Tenant.objects.filter(pk=pk).first() if pk else None
    if tenant is None:
        raise not_found("Tenant", tenant_id)
    return tenant
