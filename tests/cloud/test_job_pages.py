"""ADMINISTRATION > Jobs (cloudmsp/cloud/web/jobs.py): the tenant's jobs, newest first, filtered
by state and kind, searched by account; never another tenant's."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import Job, JobKind, JobState
from tests.factories import CloudAccountFactory, TenantFactory

pytestmark = pytest.mark.django_db
JOBS = reverse("cloud:jobs")


def _rows(client, query: str = "") -> list[int]:
    body = client.get(JOBS + query).content.decode()
    return [int(pk) for pk in re.findall(r'<tr id="job-row-(\d+)"', body)]


@pytest.fixture
def jobs(admin):
    prod = CloudAccountFactory(tenant=admin.tenant, name="prod-payer")
    make = Job.unscoped.create
    return {
        "sync": make(tenant=admin.tenant, kind=JobKind.SYNC, account=prod, state=JobState.SUCCEEDED),
        "failed": make(tenant=admin.tenant, kind=JobKind.ONBOARD, account=prod, state=JobState.FAILED, error="x"),
        "check": make(tenant=admin.tenant, kind=JobKind.VALIDATE, state=JobState.RUNNING, done=3, total=9),
        "foreign": make(tenant=TenantFactory(), kind=JobKind.SYNC, state=JobState.FAILED),
    }


def test_the_jobs_page_lists_the_tenants_jobs_newest_first(admin_client, jobs):
    assert _rows(admin_client) == [jobs["check"].pk, jobs["failed"].pk, jobs["sync"].pk]
    body = admin_client.get(JOBS).content.decode()
    assert "<h1>Jobs</h1>" in body
    assert "3 of 9" in body
    assert f'href="{reverse("cloud:job", kwargs={"job_id": jobs["failed"].pk})}"' in body


def test_filters_and_search_narrow_the_jobs(admin_client, jobs):
    assert _rows(admin_client, "?state=failed") == [jobs["failed"].pk]
    assert _rows(admin_client, "?kind=sync") == [jobs["sync"].pk]
    assert _rows(admin_client, "?kind=sync&state=failed") == []
    assert _rows(admin_client, "?q=prod-pay") == [jobs["failed"].pk, jobs["sync"].pk]
    assert _rows(admin_client, "?state=bogus") == _rows(admin_client)  # an unknown value is ignored
    assert "No job matches" in admin_client.get(JOBS + "?kind=apply_rule").content.decode()


def test_job_counts_are_the_tenants(admin, jobs):
    assert selectors.job_counts(actor=admin) == {"queued": 0, "running": 1, "succeeded": 1, "failed": 1}
    assert jobs["foreign"].pk not in [j.pk for j in selectors.job_list(actor=admin)]


def test_the_jobs_page_is_for_tenant_administrators(client_for, customer_user):
    assert client_for(customer_user).get(JOBS).status_code == 403
