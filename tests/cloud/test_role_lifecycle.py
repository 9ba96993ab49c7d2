"""The portal's role in a member account on AWS as it is today (SPEC section 8): which access
role gets the portal in (the organization's, Control Tower's, or none for an invited account),
and the `cloudmsp:managed-by` tag that keeps the portal from deleting or taking over a role it
did not create. Against the emulator, whose STS refuses what AWS refuses."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ReadTimeoutError
from django.urls import reverse

from cloudmsp.cloud.models import CloudAccount, JobState, OnboardingStatus
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.services import accounts, onboarding
from cloudmsp.cloud.tasks import run_onboard
from tests.cloud.conftest import boto
from tests.cloud.test_aws_emulator import _sync

pytestmark = pytest.mark.django_db(transaction=True)
ROLE = "CloudMSPAccess"
TAG = "cloudmsp:managed-by"


def _synced(admin, management, account_id: str) -> CloudAccount:
    _sync(admin, management)
    return CloudAccount.objects.for_tenant(admin.tenant).get(parent=management, account_id=account_id)


def _onboard(admin, member):
    job = onboarding.onboard_start(actor=admin, account=member)
    run_onboard.call(job.pk)
    job.refresh_from_db()
    member.refresh_from_db()
    return job


def _tags(org, account_id: str) -> dict[str, str]:
    role = boto(org.endpoint, "iam", account_id).get_role(RoleName=ROLE)["Role"]
    return {t["Key"]: t["Value"] for t in role.get("Tags", [])}


def _foreign_role(org, account_id: str) -> None:
    """A role of the portal's default name that someone else made (no tag of ours)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = boto(org.endpoint, "iam", account_id)
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "team", "Value": "sec"}])
    iam.put_role_policy(
        RoleName=ROLE,
        PolicyName="Theirs",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )


def test_onboarding_says_it_went_in_through_the_organization_access_role_and_tags_the_role(org, admin, management):
    member = _synced(admin, management, org.members[0])
    job = _onboard(admin, member)
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.result["access_role"], job.result["adopted"]) == ("OrganizationAccountAccessRole", False)
    assert member.last_validation_message.startswith("Created through OrganizationAccountAccessRole.")
    assert _tags(org, member.account_id)[TAG] == f"{onboarding.installation_id()}:{admin.tenant.pk}"


def test_a_control_tower_account_is_entered_through_aws_control_tower_execution(org, admin, management):
    status = org.org_client().create_account(
        Email="factory@example.com", AccountName="factory", RoleName="AWSControlTowerExecution"
    )["CreateAccountStatus"]
    member = _synced(admin, management, status["AccountId"])
    job = _onboard(admin, member)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["access_role"] == "AWSControlTowerExecution"
    assert member.onboarding_status == OnboardingStatus.ONBOARDED


def test_an_invited_account_without_an_access_role_is_told_to_use_the_manual_method(org, admin, management):
    member = _synced(admin, management, org.members[1])
    # An invited account: no role trusts the management account.
    boto(org.endpoint, "iam", member.account_id).delete_role(RoleName="OrganizationAccountAccessRole")
    job = _onboard(admin, member)
    assert job.state == JobState.FAILED
    assert "OrganizationAccountAccessRole and AWSControlTowerExecution" in job.error
    assert "invited" in job.error
    assert "manual method" in job.error
    assert "external id" not in job.error  # the organization access role never has one
    assert (member.onboarding_status, member.role_arn) == (OnboardingStatus.NOT_ONBOARDED, "")


def test_the_failed_job_offers_the_manual_method_with_the_template(org, admin, admin_client, management):
    member = _synced(admin, management, org.members[1])
    boto(org.endpoint, "iam", member.account_id).delete_role(RoleName="OrganizationAccountAccessRole")
    job = _onboard(admin, member)
    page = admin_client.get(reverse("cloud:job", kwargs={"job_id": job.pk})).content.decode()
    onboard_url = reverse("cloud:onboard", kwargs={"account_id": member.pk})
    assert f'hx-get="{onboard_url}?method=manual"' in page
    assert f'href="{reverse("cloud:template", kwargs={"account_id": member.pk})}" download' in page
    window = admin_client.get(f"{onboard_url}?method=manual").content.decode()
    (manual,) = re.findall(r'<input[^>]*value="manual"[^>]*>', window)
    assert manual.endswith(" checked>")


def test_a_role_of_that_name_that_is_not_the_portals_stops_onboarding_untouched(org, admin, management):
    member = _synced(admin, management, org.members[2])
    _foreign_role(org, member.account_id)
    job = _onboard(admin, member)
    assert job.state == JobState.FAILED
    assert f"A role named {ROLE} already exists in this account and is not one this portal created" in job.error
    iam = boto(org.endpoint, "iam", member.account_id)
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["Theirs"]
    assert _tags(org, member.account_id) == {"team": "sec"}
    assert (member.onboarding_status, member.role_arn) == (OnboardingStatus.NOT_ONBOARDED, "")


def test_a_role_tagged_as_the_portals_but_with_more_permissions_is_not_adopted(org, admin, management):
    member = _synced(admin, management, org.members[7])
    iam = boto(org.endpoint, "iam", member.account_id)
    trust = {"Version": "2012-10-17", "Statement": []}
    owner = onboarding.role_owner(member)
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": TAG, "Value": owner}])
    admin_policy = iam.create_policy(
        PolicyName="Admin",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=admin_policy)
    job = _onboard(admin, member)
    assert job.state == JobState.FAILED
    assert "carries permissions the portal did not give it" in job.error
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == []  # untouched
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]] == ["Admin"]


def test_an_external_id_a_sync_derived_during_onboarding_is_not_the_one_stored(org, admin, management, monkeypatch):
    member = _synced(admin, management, org.members[8])
    used = member.external_id
    provider = provider_for("aws")
    real_check = provider.check_role

    def sync_meanwhile(**kwargs):
        # A sync sees the account without a role yet and gives it another id.
        CloudAccount.unscoped.filter(pk=member.pk).update(external_id="cmsp-derived-meanwhile")
        return real_check(**kwargs)

    monkeypatch.setattr(provider, "check_role", sync_meanwhile)
    assert _onboard(admin, member).state == JobState.SUCCEEDED
    assert member.external_id == used  # the id the role's trust policy was made with
    monkeypatch.undo()
    assert accounts.account_validate(actor=admin, account=member).ok


def test_remove_role_leaves_a_role_that_is_not_the_portals_in_place(org, admin, management):
    member = _synced(admin, management, org.members[3])
    assert _onboard(admin, member).state == JobState.SUCCEEDED
    # Someone replaced the portal's role by one of their own under the same name.
    iam = boto(org.endpoint, "iam", member.account_id)
    iam.delete_role_policy(RoleName=ROLE, PolicyName="CloudMSPReadOnly")
    iam.delete_role(RoleName=ROLE)
    _foreign_role(org, member.account_id)
    note = onboarding.remove_role(actor=admin, account=member)
    assert "left in place" in note
    member.refresh_from_db()
    assert (member.role_arn, member.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["Theirs"]


def test_remove_role_does_not_delete_another_tenants_or_installations_role(org, admin, management):
    member = _synced(admin, management, org.members[4])
    assert _onboard(admin, member).state == JobState.SUCCEEDED
    iam = boto(org.endpoint, "iam", member.account_id)
    iam.tag_role(RoleName=ROLE, Tags=[{"Key": TAG, "Value": f"another-installation:{admin.tenant.pk}"}])
    assert "left in place" in onboarding.remove_role(actor=admin, account=member)
    assert ROLE in org.iam_roles(member.account_id)


def test_remove_role_when_the_account_cannot_be_entered_any_more_clears_the_arn_and_keeps_the_role(
    org, admin, management
):
    member = _synced(admin, management, org.members[6])
    assert _onboard(admin, member).state == JobState.SUCCEEDED
    # It moved to another organization (invited there): no access role trusts its management account.
    boto(org.endpoint, "iam", member.account_id).delete_role(RoleName="OrganizationAccountAccessRole")
    aws_client.credential_cache.clear()  # later on: the onboarding's sessions have expired
    note = onboarding.remove_role(actor=admin, account=member)
    assert "can no longer enter the account" in note
    assert "left in place" in note
    member.refresh_from_db()
    assert (member.role_arn, member.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert ROLE in org.iam_roles(member.account_id)


def test_a_create_role_that_timed_out_after_aws_completed_it_is_adopted(org, admin, management):
    member = _synced(admin, management, org.members[5])
    timeouts: list[str] = []

    def lose_the_answer(http_response, parsed, model, **kwargs):
        # AWS created the role, but its answer never reached the portal.
        if not timeouts:
            timeouts.append(model.name)
            raise ReadTimeoutError(endpoint_url=org.endpoint)

    events = aws_client._session().events
    events.register("after-call.iam.CreateRole", lose_the_answer)
    try:
        job = _onboard(admin, member)
    finally:
        events.unregister("after-call.iam.CreateRole", lose_the_answer)
    assert timeouts == ["CreateRole"]
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["adopted"] is True
    assert member.onboarding_status == OnboardingStatus.ONBOARDED
    assert member.role_arn == f"arn:aws:iam::{member.account_id}:role/{ROLE}"
    assert org.iam_roles(member.account_id).count(ROLE) == 1
    assert onboarding.remove_role(actor=admin, account=member) == "The role was deleted in AWS."
    assert ROLE not in org.iam_roles(member.account_id)
