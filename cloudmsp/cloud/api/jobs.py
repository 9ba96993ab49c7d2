"""`/api/v1/jobs/`: poll a background job; retry the failed accounts of a bulk one."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.serializers import ErrorSerializer
from cloudmsp.api.throttling import THROTTLED
from cloudmsp.cloud import selectors
from cloudmsp.cloud.api.serializers import JobSerializer, job_accepted
from cloudmsp.cloud.models import Job
from cloudmsp.cloud.services import bulk_jobs
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role


class JobViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """Background jobs (organization syncs, onboarding, validation) of the caller's tenant: poll
    one until `finished`. A bulk onboarding or validation job's `result.accounts` lists each
    account's outcome (`id`, `account_id`, `name`, `ok`, `message`)."""

    serializer_class = JobSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = (Role.TENANT_ADMIN,)
    rate_limits = {"retry": "bulk"}

    def fetch(self, pk: str) -> Job:
        return selectors.job_get(actor=self.actor, job_id=pk)

    @extend_schema(
        request=None,
        responses={
            202: JobSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Not a finished bulk job, or nothing of it failed."),
            404: OpenApiResponse(ErrorSerializer, description="No such job within reach."),
            **THROTTLED,
        },
        description="Retry the failed ones: a new job of the same kind for only the accounts that failed in "
        "this finished bulk onboarding or validation job.",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        return job_accepted(bulk_jobs.bulk_retry(actor=self.actor, job=self.fetch(pk)))
