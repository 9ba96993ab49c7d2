"""The CloudFormation templates of the setup windows (SPEC section 8): downloadable as .yaml,
deployable as they are, and for a management account a StackSet template whose roles the portal
accepts in every member account, each with the external id the sync gave it."""

from __future__ import annotations

import json

import pytest
import yaml
from django.urls import reverse

from cloudmsp.cloud.models import CloudAccount, OnboardingStatus
from cloudmsp.cloud.services import accounts, onboarding
from tests.cloud.conftest import PORTAL_ACCOUNT, boto
from tests.cloud.test_aws_emulator import _sync
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _download(client, name: str, account: CloudAccount):
    route = "cloud:template" if name == "template" else "cloud:stackset_template"
    return client.get(reverse(route, kwargs={"account_id": account.pk}))


def _window(client, name: str, account: CloudAccount) -> str:
    return client.get(reverse(f"cloud:{name}", kwargs={"account_id": account.pk})).content.decode()


def test_every_setup_window_offers_the_template_as_a_yaml_download(org, admin, admin_client, management):
    _sync(admin, management)
    member = CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).first()
    for account, window in ((management, "connect"), (member, "onboard")):
        page = _window(admin_client, window, account)
        assert f'href="{reverse("cloud:template", kwargs={"account_id": account.pk})}" download' in page
        response = _download(admin_client, "template", account)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/yaml; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="cloudmsp-role-{account.account_id}.yaml"'
        role = yaml.safe_load(response.content)["Resources"]["CloudMSPRole"]["Properties"]
        condition = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
        assert condition == {"StringEquals": {"sts:ExternalId": account.external_id}}
    # Only the management account's window has the StackSet.
    assert "stackset.yaml" in _window(admin_client, "connect", management)
    assert "stackset.yaml" not in _window(admin_client, "onboard", member)
    stackset = _download(admin_client, "stackset", management)
    assert stackset.status_code == 200
    assert "${AWS::AccountId}" in stackset.content.decode()
    assert _download(admin_client, "stackset", member).status_code == 404


def test_the_template_deploys_and_its_role_connects(org, admin):
    account = accounts.account_create(actor=admin, category="non_msp", account_id=org.members[0], name="Shop")
    template = accounts.account_setup_documents(actor=admin, account=account)["cloudformation_template"]
    cfn = boto(org.endpoint, "cloudformation", account.account_id)
    cfn.create_stack(StackName="cloudmsp", TemplateBody=template, Capabilities=["CAPABILITY_NAMED_IAM"])
    outputs = cfn.describe_stacks(StackName="cloudmsp")["Stacks"][0]["Outputs"]
    arn = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "RoleArn")
    assert accounts.account_connect(actor=admin, account=account, role_arn=arn).ok


def test_roles_the_stackset_creates_are_accepted_in_every_member(org, admin, management):
    _sync(admin, management)
    setup = accounts.account_setup_documents(actor=admin, account=management)
    role = yaml.safe_load(setup["stackset_template"])["Resources"]["CloudMSPRole"]["Properties"]
    members = list(CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id"))
    for member in members[:3]:
        # What CloudFormation deploys in this member: the template with AWS::AccountId resolved.
        trust = json.loads(
            json.dumps(role["AssumeRolePolicyDocument"])
            .replace('{"Fn::Sub": "', '"')
            .replace('${AWS::AccountId}"}', f'{member.account_id}"')
        )
        iam = boto(org.endpoint, "iam", member.account_id)
        arn = iam.create_role(RoleName=role["RoleName"], AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        pol = role["Policies"][0]
        iam.put_role_policy(
            RoleName=role["RoleName"], PolicyName=pol["PolicyName"], PolicyDocument=json.dumps(pol["PolicyDocument"])
        )
        result = onboarding.onboard_manual(actor=admin, account=member, role_arn=arn)
        assert result.ok, result.message
        member.refresh_from_db()
        assert member.external_id == f"{management.external_id}-{member.account_id}"
        assert member.onboarding_status == OnboardingStatus.ONBOARDED
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{PORTAL_ACCOUNT}:root"}


def test_members_discovered_earlier_without_a_role_take_the_derived_id(org, admin, management):
    _sync(admin, management)
    members = CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id")
    old, onboarded = members[0], members[1]
    CloudAccount.unscoped.filter(pk=old.pk).update(external_id="cmsp-from-before")
    CloudAccount.unscoped.filter(pk=onboarded.pk).update(
        external_id="cmsp-in-use", role_arn=f"arn:aws:iam::{onboarded.account_id}:role/R"
    )
    _sync(admin, management)
    old.refresh_from_db()
    onboarded.refresh_from_db()
    assert old.external_id == f"{management.external_id}-{old.account_id}"
    assert onboarded.external_id == "cmsp-in-use"  # its role trusts this id: it stays


def test_downloads_are_a_tenant_administrators_of_their_own_accounts(admin, admin_client, customer_user, client):
    foreign = CloudAccountFactory()
    assert _download(admin_client, "template", foreign).status_code == 404
    own = CloudAccountFactory(tenant=admin.tenant)
    client.force_login(customer_user)
    assert _download(client, "template", own).status_code == 403
    assert b"CloudMSPRole" not in _download(client, "template", own).content
