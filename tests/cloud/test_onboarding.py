"""cloudmsp/cloud/services/onboarding.py: what onboard_start, onboard_manual and remove_role
refuse, and what they store. Automatic onboarding end to end is in test_aws_emulator.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tasks_db.models import DBTaskResult

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import Category, CloudAccount, Job, JobKind, JobState, Kind, OnboardingStatus
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.services import onboarding
from cloudmsp.cloud.services.accounts import account_validate
from cloudmsp.core.errors import ApplicationError, ConflictError, PermissionDenied
from tests.cloud.conftest import create_portal_role
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db

MANAGEMENT_ARN = "arn:aws:iam::111122223333:role/CloudMSPPortal"


def _management(tenant, *, connected: bool = True) -> CloudAccount:
    return CloudAccountFactory(
        tenant=tenant,
        category=Category.MSP,
        kind=Kind.MANAGEMENT,
        role_arn=MANAGEMENT_ARN if connected else "",
        onboarding_status=OnboardingStatus.ONBOARDED if connected else OnboardingStatus.NOT_ONBOARDED,
    )


def _member(parent: CloudAccount, **kwargs) -> CloudAccount:
    member = CloudAccountFactory(tenant=parent.tenant, category=Category.MSP, kind=Kind.MEMBER, parent=parent, **kwargs)
    return CloudAccount.objects.for_tenant(parent.tenant).select_related("parent").get(pk=member.pk)


def _nothing_started(tenant) -> None:
    assert not Job.objects.for_tenant(tenant).exists()
    assert not AuditEvent.objects.for_tenant(tenant).filter(action="cloud_account.onboard_start").exists()


# onboard_start --------------------------------------------------------------------------------


def test_start_queues_an_onboarding_job_and_its_task(admin, django_capture_on_commit_callbacks):
    member = _member(_management(admin.tenant))
    with django_capture_on_commit_callbacks(execute=True):
        job = onboarding.onboard_start(actor=admin, account=member)
    stored = Job.objects.for_tenant(admin.tenant).get()
    assert stored.pk == job.pk
    assert (stored.kind, stored.state, stored.account_id, stored.created_by_id) == (
        JobKind.ONBOARD,
        JobState.QUEUED,
        member.pk,
        admin.pk,
    )
    assert (stored.done, stored.total) == (0, onboarding.STEPS)
    assert stored.params == {"role_name": "CloudMSPAccess"}  # the provider's default
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="cloud_account.onboard_start")
    assert (event.object_id, event.changes) == (str(member.pk), {"job": [None, job.pk]})
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs["args"]) == ("cloudmsp.cloud.tasks.run_onboard", [job.pk])


def test_start_keeps_a_chosen_role_name(admin):
    member = _member(_management(admin.tenant))
    job = onboarding.onboard_start(actor=admin, account=member, role_name="  Our.Role+1@x ")
    assert Job.objects.for_tenant(admin.tenant).get(pk=job.pk).params == {"role_name": "Our.Role+1@x"}


@pytest.mark.parametrize("kind", [Kind.MANAGEMENT, Kind.STANDALONE])
def test_start_refuses_an_account_that_is_not_a_member(admin, kind):
    if kind == Kind.MANAGEMENT:
        account = _management(admin.tenant, connected=False)
    else:
        account = CloudAccountFactory(tenant=admin.tenant)
    with pytest.raises(ApplicationError, match="for member accounts of an MSP account"):
        onboarding.onboard_start(actor=admin, account=account)
    _nothing_started(admin.tenant)


def test_start_refuses_an_account_already_onboarded(admin):
    member = _member(
        _management(admin.tenant),
        role_arn="arn:aws:iam::100000000000:role/X",
        onboarding_status=OnboardingStatus.ONBOARDED,
    )
    with pytest.raises(ConflictError, match="already onboarded; remove its Role ARN first"):
        onboarding.onboard_start(actor=admin, account=member)
    _nothing_started(admin.tenant)


def test_start_refuses_while_the_msp_account_is_not_connected(admin):
    parent = _management(admin.tenant, connected=False)
    member = _member(parent)
    with pytest.raises(ApplicationError) as exc:
        onboarding.onboard_start(actor=admin, account=member)
    assert exc.value.message == f"Connect the role of the MSP account {parent.account_id} first."
    assert not isinstance(exc.value, ConflictError)
    _nothing_started(admin.tenant)


@pytest.mark.parametrize(
    "role_name",
    ["has space", "x" * 65, "slash/name", "naïve", "semi;colon"],
    ids=["space", "65", "slash", "ascii", "semi"],
)
def test_start_refuses_a_bad_role_name(admin, role_name):
    member = _member(_management(admin.tenant))
    with pytest.raises(ValidationError) as exc:
        onboarding.onboard_start(actor=admin, account=member, role_name=role_name)
    assert exc.value.message_dict == {"role_name": ["Up to 64 letters, digits and +=,.@_- characters."]}
    _nothing_started(admin.tenant)


def test_start_a_second_time_while_one_is_queued_is_a_conflict(admin):
    member = _member(_management(admin.tenant))
    first = onboarding.onboard_start(actor=admin, account=member)
    with pytest.raises(ConflictError, match="already being onboarded"):
        onboarding.onboard_start(actor=admin, account=member)
    assert list(Job.objects.for_tenant(admin.tenant).values_list("pk", flat=True)) == [first.pk]


def test_start_is_for_tenant_admins_only(customer_user):
    member = _member(_management(customer_user.tenant))
    with pytest.raises(PermissionDenied):
        onboarding.onboard_start(actor=customer_user, account=member)
    _nothing_started(customer_user.tenant)


# onboard_manual -------------------------------------------------------------------------------


@pytest.mark.parametrize("role_arn", ["", "   ", None])
def test_manual_needs_a_role_arn_and_stores_nothing(admin, role_arn):
    member = _member(_management(admin.tenant))
    with pytest.raises(ValidationError) as exc:
        onboarding.onboard_manual(actor=admin, account=member, role_arn=role_arn)
    assert exc.value.message_dict == {"role_arn": ["Paste the Role ARN of the role you created."]}
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=member.pk)
    assert (stored.role_arn, stored.onboarding_status, stored.last_validated_at) == (
        "",
        OnboardingStatus.NOT_ONBOARDED,
        None,
    )
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.onboard").exists()


def test_manual_refuses_an_account_that_is_not_a_member(admin):
    account = CloudAccountFactory(tenant=admin.tenant)
    with pytest.raises(ApplicationError, match="for member accounts"):
        onboarding.onboard_manual(actor=admin, account=account, role_arn=f"arn:aws:iam::{account.account_id}:role/X")


def test_manual_refuses_an_account_already_onboarded(admin):
    arn = "arn:aws:iam::100000000000:role/Old"
    member = _member(_management(admin.tenant), role_arn=arn, onboarding_status=OnboardingStatus.ONBOARDED)
    with pytest.raises(ConflictError):
        onboarding.onboard_manual(actor=admin, account=member, role_arn="arn:aws:iam::100000000000:role/New")
    assert CloudAccount.objects.for_tenant(admin.tenant).get(pk=member.pk).role_arn == arn


def test_manual_with_an_arn_of_another_account_records_the_failed_attempt(admin):
    member = _member(_management(admin.tenant))
    result = onboarding.onboard_manual(actor=admin, account=member, role_arn="arn:aws:iam::999999999999:role/X")
    assert not result.ok
    assert result.step == "Check the Role ARN"
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=member.pk)
    assert (stored.role_arn, stored.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert stored.last_validated_at is not None
    assert stored.last_validation_message == f"Check the Role ARN failed: {result.message}"
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="cloud_account.onboard")
    assert (event.outcome, event.changes) == ("failed", {})


# remove_role ----------------------------------------------------------------------------------


def test_remove_a_role_not_created_by_the_portal_leaves_it_in_aws(org, admin):
    account_id = org.members[0]
    account = CloudAccountFactory(tenant=admin.tenant, account_id=account_id, external_id="cmsp-handmade")
    arn = create_portal_role(org.endpoint, account_id, account.external_id, name="HandMade", management=False)
    account.role_arn = arn
    account.save()
    assert account_validate(actor=admin, account=account).ok
    assert any(key[0] == arn for key in aws_client.credential_cache._items)

    note = onboarding.remove_role(actor=admin, account=account)

    assert note == (
        "The role was not created by the portal, so it stays in AWS; delete it there if it is no longer needed."
    )
    assert "HandMade" in org.iam_roles(account_id)
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk)
    assert (stored.role_arn, stored.role_created_by_portal, stored.onboarding_status) == (
        "",
        False,
        OnboardingStatus.NOT_ONBOARDED,
    )
    assert stored.last_validation_message == note
    assert not any(key[0] == arn for key in aws_client.credential_cache._items)  # credentials forgotten
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="cloud_account.remove_role")
    assert (event.actor_id, event.object_id, event.message) == (admin.pk, str(account.pk), note)
    assert event.changes == {"role_arn": [arn, None]}


def test_remove_role_of_an_account_without_one_is_refused(admin):
    member = _member(_management(admin.tenant))
    with pytest.raises(ApplicationError, match="no Role ARN"):
        onboarding.remove_role(actor=admin, account=member)
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.remove_role").exists()


def test_remove_a_portal_created_role_of_a_non_member_is_refused_and_kept(admin):
    arn = "arn:aws:iam::100000000000:role/CloudMSPAccess"
    account = CloudAccountFactory(
        tenant=admin.tenant, role_arn=arn, role_created_by_portal=True, onboarding_status=OnboardingStatus.ONBOARDED
    )
    with pytest.raises(ApplicationError, match="Only member accounts have roles created by the portal"):
        onboarding.remove_role(actor=admin, account=account)
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk)
    assert (stored.role_arn, stored.onboarding_status) == (arn, OnboardingStatus.ONBOARDED)
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.remove_role").exists()


def test_remove_role_is_for_tenant_admins_only(customer_user):
    arn = "arn:aws:iam::100000000000:role/X"
    account = CloudAccountFactory(tenant=customer_user.tenant, customer=customer_user.customer, role_arn=arn)
    with pytest.raises(PermissionDenied):
        onboarding.remove_role(actor=customer_user, account=account)
    assert CloudAccount.objects.for_tenant(customer_user.tenant).get(pk=account.pk).role_arn == arn


@pytest.mark.parametrize("state", ["PENDING_ACTIVATION", "SUSPENDED", "PENDING_CLOSURE", "CLOSED", "REMOVED"])
def test_an_account_not_active_in_aws_is_refused_with_its_reason(admin, state):
    member = _member(_management(admin.tenant), aws_state=state)
    reason = onboarding.onboard_blocker(member)
    assert reason
    assert reason in onboarding.NOT_ACTIVE_REASONS.values()

    with pytest.raises(ApplicationError, match="cannot be onboarded") as automatic:
        onboarding.onboard_start(actor=admin, account=member)
    with pytest.raises(ApplicationError, match="cannot be onboarded") as manual:
        onboarding.onboard_manual(
            actor=admin, account=member, role_arn=f"arn:aws:iam::{member.account_id}:role/CloudMSPAccess"
        )

    assert reason in str(automatic.value.message)
    assert reason in str(manual.value.message)
    _nothing_started(admin.tenant)
    member.refresh_from_db()
    assert (member.onboarding_status, member.role_arn) == (OnboardingStatus.NOT_ONBOARDED, "")


def test_an_active_account_has_no_blocker(admin):
    assert onboarding.onboard_blocker(_member(_management(admin.tenant))) == ""


def test_remove_role_of_a_non_msp_account_forgets_the_arn_and_never_touches_aws(admin, monkeypatch):
    from django.utils import timezone

    from cloudmsp.cloud.models import Health
    from cloudmsp.cloud.providers.aws.provider import AwsProvider

    def refuse(*args, **kwargs):
        raise AssertionError("a role the portal did not create was about to be deleted in AWS")

    monkeypatch.setattr(AwsProvider, "delete_member_role", refuse)
    arn = "arn:aws:iam::444455556666:role/CustomerMade"
    account = CloudAccountFactory(
        tenant=admin.tenant,
        category=Category.NON_MSP,
        kind=Kind.STANDALONE,
        role_arn=arn,
        onboarding_status=OnboardingStatus.ONBOARDED,
        health=Health.HEALTHY,
        health_since=timezone.now(),
    )

    note = onboarding.remove_role(actor=admin, account=account)

    assert "stays in AWS" in note
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk)
    assert (stored.role_arn, stored.onboarding_status, stored.health, stored.health_since) == (
        "",
        OnboardingStatus.NOT_ONBOARDED,
        Health.UNKNOWN,
        None,
    )
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="cloud_account.remove_role")
    assert event.changes == {"role_arn": [arn, None]}
