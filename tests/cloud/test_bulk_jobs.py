"""Bulk onboarding and bulk validation as jobs (services.bulk_jobs), run by the real task worker
against the emulator: progress, a result per account, and "Retry the failed ones"."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount, Job, JobKind, JobState, OnboardingStatus
from cloudmsp.cloud.services import bulk_jobs, onboarding
from cloudmsp.core.errors import ApplicationError, PermissionDenied
from tests.cloud.conftest import create_portal_role
from tests.cloud.test_aws_emulator import _sync
from tests.cloud.test_bulk import _accounts_with_roles
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db


def _run(commit, run_tasks, start) -> Job:
    """Start a job inside a commit (its task is enqueued on commit), run the worker, reload it."""
    with commit():
        job = start()
    run_tasks()
    job.refresh_from_db()
    return job


def test_bulk_validation_reports_progress_a_result_per_account_and_retries_only_the_failed(
    org, admin, commit, run_tasks
):
    working = _accounts_with_roles(org, admin, 3)
    broken = working.pop()
    broken.role_arn = f"arn:aws:iam::{broken.account_id}:role/DoesNotExist"
    broken.save()
    no_role = CloudAccountFactory(tenant=admin.tenant)
    ids = [a.pk for a in [*working, broken, no_role]]
    job = _run(commit, run_tasks, lambda: bulk_jobs.bulk_validate_start(actor=admin, account_ids=ids))
    assert (job.kind, job.state, job.account_id) == (JobKind.VALIDATE, JobState.SUCCEEDED, None)
    assert (job.done, job.total) == (4, 4)
    assert (job.result["checked"], job.result["ok"], job.result["failed"]) == (4, 2, 2)
    by_id = {e["id"]: e for e in job.result["accounts"]}
    assert [by_id[a.pk]["ok"] for a in working] == [True, True]
    assert by_id[broken.pk]["ok"] is False
    assert by_id[broken.pk]["message"]
    assert by_id[no_role.pk] == {
        "id": no_role.pk,
        "account_id": no_role.account_id,
        "name": no_role.name,
        "ok": False,
        "message": bulk_jobs.NO_ROLE,
    }
    broken.refresh_from_db()
    assert broken.onboarding_status == OnboardingStatus.FAILED
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.bulk_validate_start").count() == 1
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.validate").count() == 3

    # The broken role is fixed in AWS; retrying takes only the two that failed.
    broken.role_arn = create_portal_role(
        org.endpoint, broken.account_id, broken.external_id, name="Fixed", management=False
    )
    broken.save()
    retry = _run(commit, run_tasks, lambda: bulk_jobs.bulk_retry(actor=admin, job=job))
    assert retry.pk != job.pk
    assert retry.params["accounts"] == sorted([broken.pk, no_role.pk])
    assert retry.params["retry_of"] == job.pk
    assert (retry.total, retry.result["ok"], retry.result["failed"]) == (2, 1, 1)
    assert [e["id"] for e in retry.result["accounts"] if not e["ok"]] == [no_role.pk]


def _members(admin, management, n: int) -> list[CloudAccount]:
    _sync(admin, management)
    return list(CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id")[:n])


def test_bulk_onboarding_onboards_each_member_and_says_why_the_others_failed(
    org, admin, management, commit, run_tasks, settings
):
    settings.AWS_CONCURRENCY = 3
    members = _members(admin, management, 4)
    onboard, already, suspended = members[:2], members[2], members[3]
    CloudAccount.unscoped.filter(pk=already.pk).update(
        onboarding_status=OnboardingStatus.ONBOARDED, role_arn="arn:aws:iam::000000000000:role/x"
    )
    CloudAccount.unscoped.filter(pk=suspended.pk).update(aws_state="SUSPENDED")
    ids = [a.pk for a in members] + [management.pk]
    job = _run(
        commit,
        run_tasks,
        lambda: bulk_jobs.bulk_onboard_start(actor=admin, account_ids=ids, role_name="BulkRole"),
    )
    assert (job.kind, job.state, job.done, job.total) == (JobKind.ONBOARD, JobState.SUCCEEDED, 5, 5)
    assert (job.result["attempted"], job.result["ok"], job.result["failed"]) == (5, 2, 3)
    by_id = {e["id"]: e for e in job.result["accounts"]}
    for member in onboard:
        member.refresh_from_db()
        assert member.onboarding_status == OnboardingStatus.ONBOARDED
        assert member.role_arn.endswith(":role/BulkRole")
        assert by_id[member.pk]["ok"]
        assert by_id[member.pk]["message"].startswith("Created through")
        assert "BulkRole" in org.iam_roles(member.account_id)
    assert "already onboarded" in by_id[already.pk]["message"]
    assert "suspended" in by_id[suspended.pk]["message"]
    assert "member accounts" in by_id[management.pk]["message"]
    audits = AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.onboard")
    assert audits.count() == 2
    assert all(a.actor_id == admin.pk for a in audits)


def test_a_failed_bulk_onboarding_removes_what_it_created_and_the_retry_onboards_it(
    org, admin, management, commit, run_tasks, monkeypatch
):
    [member] = _members(admin, management, 1)
    real = onboarding.provider_for

    class RefusingCheck:
        def __init__(self, provider):
            self._provider = provider

        def __getattr__(self, name):
            return getattr(self._provider, name)

        def check_role(self, **kwargs):
            from cloudmsp.cloud.providers.base import RoleCheck

            return RoleCheck(ok=False, step="AssumeRole", message="not yet assumable")

    monkeypatch.setattr(onboarding, "provider_for", lambda *a: RefusingCheck(real(*a)))
    job = _run(
        commit,
        run_tasks,
        lambda: bulk_jobs.bulk_onboard_start(actor=admin, account_ids=[member.pk]),
    )
    assert (job.result["ok"], job.result["failed"]) == (0, 1)
    [entry] = job.result["accounts"]
    assert "AssumeRole failed" in entry["message"] or "not yet assumable" in entry["message"]
    assert "removed again" in entry["message"]
    assert "CloudMSPAccess" not in org.iam_roles(member.account_id)
    member.refresh_from_db()
    assert member.onboarding_status == OnboardingStatus.NOT_ONBOARDED

    monkeypatch.setattr(onboarding, "provider_for", real)
    retry = _run(commit, run_tasks, lambda: bulk_jobs.bulk_retry(actor=admin, job=job))
    assert retry.params["role_name"] == job.params["role_name"] == "CloudMSPAccess"
    assert (retry.result["ok"], retry.result["failed"]) == (1, 0)
    member.refresh_from_db()
    assert member.onboarding_status == OnboardingStatus.ONBOARDED


def test_starting_with_a_foreign_or_missing_id_starts_nothing(admin):
    own = CloudAccountFactory(tenant=admin.tenant)
    foreign = CloudAccountFactory()
    for start in (bulk_jobs.bulk_validate_start, bulk_jobs.bulk_onboard_start):
        with pytest.raises(ValidationError, match="1 of the selected accounts were not found"):
            start(actor=admin, account_ids=[own.pk, foreign.pk])
    with pytest.raises(ValidationError, match="Select at least one account"):
        bulk_jobs.bulk_validate_start(actor=admin, account_ids=[])
    assert not Job.objects.for_tenant(admin.tenant).exists()


def test_bulk_onboarding_refuses_a_bad_role_name(admin):
    own = CloudAccountFactory(tenant=admin.tenant)
    with pytest.raises(ValidationError, match="Up to 64 letters"):
        bulk_jobs.bulk_onboard_start(actor=admin, account_ids=[own.pk], role_name="no spaces allowed")


def test_bulk_jobs_are_for_tenant_admins_only(customer_user):
    account = CloudAccountFactory(tenant=customer_user.tenant, customer=customer_user.customer)
    with pytest.raises(PermissionDenied):
        bulk_jobs.bulk_validate_start(actor=customer_user, account_ids=[account.pk])


def test_retry_refuses_what_is_not_a_finished_bulk_job_with_failures(admin):
    account = CloudAccountFactory(tenant=admin.tenant)
    sync = Job.objects.create(tenant=admin.tenant, kind=JobKind.SYNC, state=JobState.SUCCEEDED)
    running = Job.objects.create(
        tenant=admin.tenant, kind=JobKind.VALIDATE, params={"bulk": True, "accounts": [account.pk]}
    )
    clean = Job.objects.create(
        tenant=admin.tenant,
        kind=JobKind.VALIDATE,
        state=JobState.SUCCEEDED,
        params={"bulk": True, "accounts": [account.pk]},
        result={"accounts": [{"id": account.pk, "ok": True}]},
    )
    for job, message in ((sync, "Only a finished bulk"), (running, "Only a finished bulk"), (clean, "No account")):
        with pytest.raises(ApplicationError, match=message):
            bulk_jobs.bulk_retry(actor=admin, job=job)


def test_bulk_failed_ids_reads_the_result(admin):
    job = Job(result={"accounts": [{"id": 1, "ok": True}, {"id": 2, "ok": False}, {"id": 3, "ok": False}]})
    assert bulk_jobs.bulk_failed_ids(job) == [2, 3]
    assert bulk_jobs.bulk_failed_ids(Job()) == []


def test_an_account_deleted_before_the_job_ran_is_reported_gone(admin, commit, run_tasks):
    account = CloudAccountFactory(tenant=admin.tenant)
    pk = account.pk
    with commit():
        job = bulk_jobs.bulk_validate_start(actor=admin, account_ids=[pk])
        account.delete()
    run_tasks()
    job.refresh_from_db()
    assert job.result["accounts"] == [{"id": pk, "account_id": "", "name": "", "ok": False, "message": bulk_jobs.GONE}]


def test_bulk_onboarding_leaves_an_account_to_its_own_onboarding_under_way(org, admin, management, commit, run_tasks):
    first, second = _members(admin, management, 2)
    Job.objects.create(tenant=admin.tenant, kind=JobKind.ONBOARD, account=first, state=JobState.RUNNING)
    job = _run(commit, run_tasks, lambda: bulk_jobs.bulk_onboard_start(actor=admin, account_ids=[first.pk, second.pk]))
    by_id = {e["id"]: e for e in job.result["accounts"]}
    assert by_id[first.pk]["message"] == bulk_jobs.BUSY
    assert not by_id[first.pk]["ok"]
    assert by_id[second.pk]["ok"]
    assert "CloudMSPAccess" not in org.iam_roles(first.account_id)
