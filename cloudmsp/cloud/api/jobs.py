"""`/api/v1/jobs/`: poll a background job."""

from __future__ import annotations

from rest_framework import mixins

from cloudmsp.cloud import selectors
from cloudmsp.cloud.api.serializers import JobSerializer
from cloudmsp.cloud.models import Job
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role


class JobViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """Background jobs (organization syncs, automatic onboarding) of the caller's tenant: poll one
    until `finished`."""

    serializer_class = JobSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = ()

    def fetch(self, pk: str) -> Job:
        return selectors.job_get(actor=self.actor, job_id=pk)
