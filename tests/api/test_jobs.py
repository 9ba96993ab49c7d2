"""`/api/v1/jobs/{id}/`: the state and progress of a background job, for tenant administrators."""

from __future__ import annotations

import pytest

from cloudmsp.cloud.models import Category, CloudAccount, Job, JobKind, JobState, Kind
from cloudmsp.cloud.tasks import run_sync
from tests.api.helpers import assert_error, url
from tests.cloud import conftest as emulator
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db

# The AWS emulator's fixtures (tests/cloud/conftest.py), shared with this module.
moto_endpoint, aws, org, management = emulator.moto_endpoint, emulator.aws, emulator.org, emulator.management

JOB_KEYS = {
    "id",
    "kind",
    "account",
    "state",
    "done",
    "total",
    "percent",
    "finished",
    "result",
    "error",
    "created_at",
    "started_at",
    "finished_at",
}


def make_job(tenant, **fields) -> Job:
    account = CloudAccountFactory(tenant=tenant, kind=Kind.MANAGEMENT, category=Category.MSP)
    return Job.unscoped.create(tenant=tenant, kind=JobKind.SYNC, account=account, **fields)


def test_a_queued_job(admin_api, tenant):
    job = make_job(tenant)

    response = admin_api.get(url(f"jobs/{job.pk}/"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == JOB_KEYS
    assert body == {
        **body,
        "id": job.pk,
        "kind": "sync",
        "account": job.account_id,
        "state": "queued",
        "done": 0,
        "total": None,
        "percent": None,
        "finished": False,
        "result": {},
        "error": "",
        "started_at": None,
        "finished_at": None,
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"state": JobState.RUNNING, "done": 3, "total": 4}, {"percent": 75, "finished": False}),
        ({"state": JobState.RUNNING, "done": 7, "total": None}, {"percent": None, "finished": False}),
        (
            {"state": JobState.SUCCEEDED, "done": 25, "total": 25, "result": {"added": 25}},
            {"percent": 100, "finished": True, "result": {"added": 25}},
        ),
        (
            {"state": JobState.FAILED, "error": "Assume the role: AWS refused access."},
            {"finished": True, "error": "Assume the role: AWS refused access."},
        ),
    ],
)
def test_progress_and_outcome(admin_api, tenant, fields, expected):
    job = make_job(tenant, **fields)
    body = admin_api.get(url(f"jobs/{job.pk}/")).json()
    assert body == {**body, "state": fields["state"], **expected}


def test_a_job_whose_account_was_deleted(admin_api, tenant):
    job = make_job(tenant, state=JobState.SUCCEEDED)
    CloudAccount.unscoped.filter(pk=job.account_id).delete()
    assert admin_api.get(url(f"jobs/{job.pk}/")).json()["account"] is None


def test_foreign_and_unknown_jobs_answer_the_same_404(admin_api, foreign):
    theirs = make_job(foreign.tenant)
    seen = admin_api.get(url(f"jobs/{theirs.pk}/"))
    missing = admin_api.get(url("jobs/987654321/"))
    assert_error(seen, 404)
    assert seen.json() == missing.json()
    assert_error(admin_api.get(url("jobs/99999999999999999999999/")), 404)
    assert_error(admin_api.get(url("jobs/abc/")), 404)


def test_only_tenant_administrators_read_jobs(customer_api, sysadmin_api, anon, customer_user):
    job = make_job(customer_user.tenant)
    assert_error(customer_api.get(url(f"jobs/{job.pk}/")), 403)
    assert_error(sysadmin_api.get(url(f"jobs/{job.pk}/")), 403)
    assert_error(anon.get(url(f"jobs/{job.pk}/")), 401)


def test_jobs_are_read_only_and_not_listed(admin_api, tenant):
    job = make_job(tenant)
    for method in ("post", "put", "patch", "delete"):
        assert_error(getattr(admin_api, method)(url(f"jobs/{job.pk}/"), {"state": "succeeded"}, format="json"), 405)
    assert_error(admin_api.get(url("jobs/")), 404)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


@pytest.mark.django_db(transaction=True)
def test_a_sync_job_from_start_to_finish(admin_api, management):
    started = admin_api.post(url(f"cloud-accounts/{management.pk}/sync/"), format="json")
    assert started.status_code == 202
    job_url = started["Location"]
    assert admin_api.get(job_url).json() == started.json()

    run_sync.call(started.json()["id"])

    body = admin_api.get(job_url).json()
    assert (body["state"], body["done"], body["total"], body["percent"], body["error"]) == (
        "succeeded",
        25,
        25,
        100,
        "",
    )
    assert body["started_at"] <= body["finished_at"]
    assert {k: body["result"][k] for k in ("listed", "added", "updated", "removed")} == {
        "listed": 25,
        "added": 25,
        "updated": 0,
        "removed": 0,
    }


def test_a_sync_job_that_fails_says_why(admin_api, tenant, settings, monkeypatch):
    """AWS cannot be reached: the job fails with the step that failed, for the progress bar."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "offline")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "offline")
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_MAX_ATTEMPTS = 1
    account = CloudAccountFactory(
        tenant=tenant,
        kind=Kind.MANAGEMENT,
        category=Category.MSP,
        account_id="111122223333",
        role_arn="arn:aws:iam::111122223333:role/CloudMSPPortal",
        onboarding_status="onboarded",
    )
    started = admin_api.post(url(f"cloud-accounts/{account.pk}/sync/"), format="json").json()

    run_sync.call(started["id"])

    body = admin_api.get(url(f"jobs/{started['id']}/")).json()
    assert (body["state"], body["finished"], body["result"]) == ("failed", True, {})
    assert body["error"].startswith("Assume the management account's role failed: ")
