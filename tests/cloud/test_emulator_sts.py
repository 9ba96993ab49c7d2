"""The emulator's STS behaves like AWS's where the portal depends on it (SPEC section 8): a
session needs a role that exists and trusts the caller with the external id it asks for, and a
chained session gets at most an hour. moto alone grants every AssumeRole."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from cloudmsp.demo import emulator
from tests.cloud.conftest import MANAGEMENT_ACCOUNT, create_portal_role

pytestmark = pytest.mark.django_db(transaction=True)


def _sts(endpoint, creds=None):
    kwargs = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    if creds:
        kwargs.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    return boto3.client("sts", **kwargs)


def _assume(endpoint, arn, *, creds=None, external_id=None, duration=3600):
    kwargs = {"RoleArn": arn, "RoleSessionName": "cloudmsp", "DurationSeconds": duration}
    if external_id:
        kwargs["ExternalId"] = external_id
    return _sts(endpoint, creds).assume_role(**kwargs)["Credentials"]


def _code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_a_role_that_does_not_exist_cannot_be_assumed(org):
    with pytest.raises(ClientError) as exc:
        _assume(org.endpoint, f"arn:aws:iam::{org.members[0]}:role/Nobody")
    assert _code(exc) == "AccessDenied"
    assert "not authorized to perform: sts:AssumeRole" in exc.value.response["Error"]["Message"]


def test_the_external_id_of_the_trust_policy_is_required(org):
    arn = create_portal_role(org.endpoint, MANAGEMENT_ACCOUNT, "cmsp-right")
    for wrong in (None, "cmsp-wrong"):
        with pytest.raises(ClientError) as exc:
            _assume(org.endpoint, arn, external_id=wrong)
        assert _code(exc) == "AccessDenied"
    assert _assume(org.endpoint, arn, external_id="cmsp-right")["AccessKeyId"]


def test_the_organization_access_role_trusts_the_management_account_only(org):
    member_role = f"arn:aws:iam::{org.members[0]}:role/OrganizationAccountAccessRole"
    with pytest.raises(ClientError) as exc:  # the portal's own account is not the management account
        _assume(org.endpoint, member_role)
    assert _code(exc) == "AccessDenied"
    management = _assume(
        org.endpoint, create_portal_role(org.endpoint, MANAGEMENT_ACCOUNT, "cmsp-x"), external_id="cmsp-x"
    )
    assert _assume(org.endpoint, member_role, creds=management)["AccessKeyId"]


def test_role_chaining_gets_at_most_one_hour(org):
    management = _assume(
        org.endpoint, create_portal_role(org.endpoint, MANAGEMENT_ACCOUNT, "cmsp-x"), external_id="cmsp-x"
    )
    member_role = f"arn:aws:iam::{org.members[0]}:role/OrganizationAccountAccessRole"
    with pytest.raises(ClientError) as exc:
        _assume(org.endpoint, member_role, creds=management, duration=3601)
    assert _code(exc) == "ValidationError"
    assert "role chaining" in exc.value.response["Error"]["Message"]


def test_the_administrator_session_sets_accounts_up(org):
    creds = _sts(org.endpoint).assume_role(
        RoleArn=f"arn:aws:iam::{org.members[0]}:role/Nobody", RoleSessionName=emulator.ADMIN_SESSION
    )["Credentials"]
    assert _sts(org.endpoint, creds).get_caller_identity()["Account"] == org.members[0]


def test_a_role_may_chain_only_where_its_own_policy_allows(org):
    member_role = f"arn:aws:iam::{org.members[0]}:role/OrganizationAccountAccessRole"
    reader = create_portal_role(org.endpoint, MANAGEMENT_ACCOUNT, "cmsp-r", name="Reader", management=False)
    creds = _assume(org.endpoint, reader, external_id="cmsp-r")
    with pytest.raises(ClientError) as exc:  # trusted by the member, but not allowed by its own policy
        _assume(org.endpoint, member_role, creds=creds)
    assert _code(exc) == "AccessDenied"
    tower = f"arn:aws:iam::{org.members[0]}:role/AWSControlTowerExecution"
    portal = create_portal_role(org.endpoint, MANAGEMENT_ACCOUNT, "cmsp-p")  # the management policy
    creds = _assume(org.endpoint, portal, external_id="cmsp-p")
    assert _assume(org.endpoint, member_role, creds=creds)["AccessKeyId"]
    with pytest.raises(ClientError) as exc:  # allowed by the policy, but no such role there
        _assume(org.endpoint, tower, creds=creds)
    assert _code(exc) == "AccessDenied"
