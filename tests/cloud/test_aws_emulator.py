"""Connect, sync, onboard and unlink against the AWS emulator (moto server on loopback)."""

from __future__ import annotations

import math

import pytest
from django.core.management import call_command

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import AwsState, CloudAccount, Job, JobState, Kind, OnboardingStatus
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.services import accounts, onboarding, sync
from cloudmsp.cloud.tasks import run_onboard, run_sync
from cloudmsp.core.errors import ConflictError
from tests.cloud.conftest import PORTAL_ROLE, age_job, boto, create_portal_role

pytestmark = pytest.mark.django_db(transaction=True)


def _sync(admin, management) -> Job:
    job = sync.sync_start(actor=admin, account=management)
    run_sync.call(job.pk)
    job.refresh_from_db()
    return job


def test_connect_validates_and_stores_the_role(org, admin):
    account = accounts.account_create(actor=admin, category="msp", account_id=org.management_id, name="Payer")
    assert account.external_id.startswith("cmsp-")
    assert len(account.external_id) >= 5 + 32  # 192 random bits, base64url
    arn = create_portal_role(org.endpoint, org.management_id, account.external_id)
    result = accounts.account_connect(actor=admin, account=account, role_arn=arn)
    assert result.ok, result.message
    account.refresh_from_db()
    assert account.role_arn == arn
    assert account.onboarding_status == OnboardingStatus.ONBOARDED
    assert (
        AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.connect", outcome="success").exists()
    )


def test_connect_refuses_a_trust_policy_without_our_external_id(org, admin):
    account = accounts.account_create(actor=admin, category="msp", account_id=org.management_id, name="Payer")
    arn = create_portal_role(org.endpoint, org.management_id, "someone-elses-id")
    result = accounts.account_connect(actor=admin, account=account, role_arn=arn)
    assert not result.ok
    # As on AWS, the emulator refuses the session: the role's trust policy asks for another id.
    assert result.step == "Assume the role"
    account.refresh_from_db()
    assert account.role_arn == ""
    assert account.onboarding_status == OnboardingStatus.NOT_ONBOARDED
    assert "AccessDenied" in account.last_validation_message
    assert "external id" in account.last_validation_message


def test_connect_a_member_as_msp_account_is_refused(org, admin):
    member = org.members[0]
    account = accounts.account_create(actor=admin, category="msp", account_id=member, name="Not a payer")
    arn = create_portal_role(org.endpoint, member, account.external_id)
    result = accounts.account_connect(actor=admin, account=account, role_arn=arn)
    assert not result.ok
    assert result.step == "Check the organization"
    assert org.management_id in result.message


@pytest.mark.parametrize(
    ("arn", "step_text"),
    [
        ("arn:aws:iam::999999999999:role/X", "is in account 999999999999"),
        ("arn:aws:iam::111122223333:user/bob", "must name a role"),
        ("arn:aws:s3:::bucket", "s3"),
        ("not an arn", "form arn:aws:iam"),
    ],
)
def test_connect_refuses_malformed_arns_before_calling_aws(org, admin, arn, step_text):
    account = accounts.account_create(actor=admin, category="msp", account_id=org.management_id, name="Payer")
    result = accounts.account_connect(actor=admin, account=account, role_arn=arn)
    assert not result.ok
    assert result.step == "Check the Role ARN"
    assert step_text in result.message


def test_sync_discovers_every_member_with_ou_paths_and_pages_of_20(org, admin, management):
    job = _sync(admin, management)
    assert job.state == JobState.SUCCEEDED, job.error
    members = CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management)
    assert members.count() == len(org.members) == 25
    assert job.result["added"] == 25
    # 26 accounts listed (members + the management account), 20 per page.
    assert job.result["list_accounts_calls"] == math.ceil(26 / 20)
    for account in members:
        assert account.kind == Kind.MEMBER
        assert account.ou_path == org.ou_of[account.account_id]
        assert account.external_id.startswith("cmsp-")
    assert len({a.external_id for a in members}) == 25
    assert job.done == job.total == 25


def _steps_of_a_sync(admin, management, monkeypatch) -> tuple[Job, list[str]]:
    from cloudmsp.cloud.providers.aws import operations

    steps: list[str] = []
    real = operations.call

    def record(step, fn, **kwargs):
        steps.append(step)
        return real(step, fn, **kwargs)

    monkeypatch.setattr(operations, "call", record)
    return _sync(admin, management), steps


def test_sync_places_each_account_in_its_ou_from_its_paths(org, admin, management, monkeypatch):
    """Issue 16: ListAccounts answers each account's Paths today, so the OU tree is walked for
    its OUs alone: the organization's accounts are not listed a second time per OU."""
    job, steps = _steps_of_a_sync(admin, management, monkeypatch)
    assert job.state == JobState.SUCCEEDED, job.error
    assert "List accounts of an OU" not in steps
    assert steps.count("List the organization's accounts (ListAccounts)") == math.ceil(26 / 20)
    for account in CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management):
        assert account.ou_path == org.ou_of[account.account_id]


def test_sync_without_paths_lists_the_accounts_of_every_ou_instead(org, admin, management, monkeypatch):
    """An endpoint that answers no Paths (as AWS did before): the same OU paths, from
    ListAccountsForParent on the root and every OU."""
    from cloudmsp.cloud.providers.aws import operations

    monkeypatch.setattr(operations, "_parent_in_paths", lambda _acct: None)
    job, steps = _steps_of_a_sync(admin, management, monkeypatch)
    assert job.state == JobState.SUCCEEDED, job.error
    assert steps.count("List accounts of an OU") >= len(set(org.ou_of.values()))
    for account in CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management):
        assert account.ou_path == org.ou_of[account.account_id]


@pytest.mark.parametrize(
    ("paths", "parent"),
    [
        (["o-aa11bb22cc/r-ab12/ou-ab12-11111111/111122223333/"], "ou-ab12-11111111"),
        (["o-aa11bb22cc/r-ab12/111122223333/"], "r-ab12"),
        (["o-aa11bb22cc/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"], "ou-ab12-22222222"),
        (["o-aa11bb22cc/"], None),
        (["garbage"], None),
        ([], None),
        (None, None),
    ],
)
def test_the_parent_of_an_account_is_read_from_its_first_path(paths, parent):
    from cloudmsp.cloud.providers.aws.operations import _parent_in_paths

    acct = {"Id": "111122223333", **({"Paths": paths} if paths is not None else {})}
    assert _parent_in_paths(acct) == parent


def test_resync_adds_new_marks_closed_and_vanished_and_keeps_assignments(org, admin, management, customer):
    _sync(admin, management)
    members = {a.account_id: a for a in CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management)}
    closed_id, removed_id = org.members[0], org.members[1]
    CloudAccount.objects.for_tenant(admin.tenant).filter(account_id__in=[closed_id, removed_id]).update(
        customer=customer
    )
    api = org.org_client()
    api.close_account(AccountId=closed_id)
    api.remove_account_from_organization(AccountId=removed_id)
    new_id = org.add_member("late-joiner")
    job = _sync(admin, management)
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.result["added"], job.result["removed"]) == (1, 1)
    refreshed = {a.account_id: a for a in CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management)}
    assert set(refreshed) == set(members) | {new_id}
    assert refreshed[closed_id].aws_state in (AwsState.SUSPENDED, AwsState.CLOSED)  # moto reports SUSPENDED
    assert refreshed[removed_id].aws_state == AwsState.REMOVED
    assert refreshed[closed_id].customer_id == customer.pk
    assert refreshed[removed_id].customer_id == customer.pk
    # A third sync with nothing new changes nothing.
    assert _sync(admin, management).result["added"] == 0


def test_sync_runs_on_the_real_task_worker(org, admin, management):
    job = sync.sync_start(actor=admin, account=management)
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 1  # enqueued on commit
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).count() == 25


def test_second_sync_while_one_is_queued_is_a_conflict(org, admin, management):
    sync.sync_start(actor=admin, account=management)
    with pytest.raises(ConflictError):
        sync.sync_start(actor=admin, account=management)


def _member(admin, management, index=0) -> CloudAccount:
    return CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id")[index]


def test_onboard_automatic_creates_the_role_in_the_member(org, admin, management):
    _sync(admin, management)
    member = _member(admin, management)
    assert PORTAL_ROLE not in org.iam_roles(member.account_id)
    job = onboarding.onboard_start(actor=admin, account=member, role_name="CloudMSPAccess")
    run_onboard.call(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    member.refresh_from_db()
    assert member.onboarding_status == OnboardingStatus.ONBOARDED
    assert member.role_arn == f"arn:aws:iam::{member.account_id}:role/CloudMSPAccess"
    assert member.role_created_by_portal
    assert "CloudMSPAccess" in org.iam_roles(member.account_id)
    iam = boto(org.endpoint, "iam", member.account_id)
    assert iam.list_role_policies(RoleName="CloudMSPAccess")["PolicyNames"] == ["CloudMSPReadOnly"]
    assert iam.list_attached_role_policies(RoleName="CloudMSPAccess")["AttachedPolicies"] == []


def test_onboarding_whose_worker_died_is_taken_over_once_it_is_stale(org, admin, management):
    _sync(admin, management)
    member = _member(admin, management)
    first = onboarding.onboard_start(actor=admin, account=member)
    Job.unscoped.filter(pk=first.pk).update(state=JobState.RUNNING)  # a worker took it, then died
    with pytest.raises(ConflictError):  # its heartbeat is recent: it may still be alive
        onboarding.onboard_start(actor=admin, account=member)
    age_job(first)
    second = onboarding.onboard_start(actor=admin, account=member)
    first.refresh_from_db()
    assert (first.state, first.error.startswith("Interrupted:")) == (JobState.FAILED, True)
    run_onboard.call(second.pk)
    second.refresh_from_db()
    assert second.state == JobState.SUCCEEDED, second.error
    member.refresh_from_db()
    assert member.onboarding_status == OnboardingStatus.ONBOARDED


def test_onboarding_worker_that_only_seemed_dead_writes_nothing(org, admin, management, monkeypatch):
    _sync(admin, management)
    member = _member(admin, management)
    first = onboarding.onboard_start(actor=admin, account=member)
    provider = provider_for("aws")
    real_check = provider.check_role
    taken_over: list[Job] = []

    def stalled(**kwargs):
        # The worker stalls so long that its job is taken as interrupted and a new one starts.
        age_job(first)
        taken_over.append(onboarding.onboard_start(actor=admin, account=member))
        return real_check(**kwargs)

    monkeypatch.setattr(provider, "check_role", stalled)
    assert run_onboard.call(first.pk) == {}
    first.refresh_from_db()
    assert first.state == JobState.FAILED
    assert first.error.startswith("Interrupted:")
    member.refresh_from_db()
    assert (member.onboarding_status, member.role_arn) == (OnboardingStatus.NOT_ONBOARDED, "")
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.onboard").exists()
    taken_over[0].refresh_from_db()
    assert taken_over[0].state == JobState.QUEUED  # the newer job owns the account


def test_remove_role_deletes_it_in_aws_and_clears_the_arn(org, admin, management):
    _sync(admin, management)
    member = _member(admin, management)
    run_onboard.call(onboarding.onboard_start(actor=admin, account=member).pk)
    member.refresh_from_db()
    assert "CloudMSPAccess" in org.iam_roles(member.account_id)
    note = onboarding.remove_role(actor=admin, account=member)
    assert note == "The role was deleted in AWS."
    member.refresh_from_db()
    assert (member.role_arn, member.onboarding_status, member.role_created_by_portal) == (
        "",
        OnboardingStatus.NOT_ONBOARDED,
        False,
    )
    assert "CloudMSPAccess" not in org.iam_roles(member.account_id)


@pytest.mark.aws_fault("role deleted out of band")
def test_remove_role_when_it_was_deleted_out_of_band(org, admin, management):
    _sync(admin, management)
    member = _member(admin, management)
    run_onboard.call(onboarding.onboard_start(actor=admin, account=member).pk)
    iam = boto(org.endpoint, "iam", member.account_id)
    iam.delete_role_policy(RoleName="CloudMSPAccess", PolicyName="CloudMSPReadOnly")
    iam.delete_role(RoleName="CloudMSPAccess")
    member.refresh_from_db()
    result = accounts.account_validate(actor=admin, account=member)
    assert not result.ok  # STS refuses a role that no longer exists
    assert onboarding.remove_role(actor=admin, account=member) == "The role was already gone in AWS."
    member.refresh_from_db()
    assert member.role_arn == ""


def test_onboard_manual_validates_a_pasted_arn(org, admin, management):
    _sync(admin, management)
    member = _member(admin, management, 1)
    arn = create_portal_role(org.endpoint, member.account_id, member.external_id, name="HandMade", management=False)
    result = onboarding.onboard_manual(actor=admin, account=member, role_arn=arn)
    assert result.ok, result.message
    member.refresh_from_db()
    assert (member.role_arn, member.role_created_by_portal) == (arn, False)
    note = onboarding.remove_role(actor=admin, account=member)
    assert "stays in AWS" in note
    assert "HandMade" in org.iam_roles(member.account_id)  # not ours to delete


def test_onboard_manual_with_wrong_account_changes_nothing(org, admin, management):
    _sync(admin, management)
    member = _member(admin, management, 1)
    result = onboarding.onboard_manual(actor=admin, account=member, role_arn="arn:aws:iam::000000000000:role/X")
    assert not result.ok
    member.refresh_from_db()
    assert (member.role_arn, member.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
