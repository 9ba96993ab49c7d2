"""AWS faults, with botocore's Stubber (the emulator enforces neither external ids nor
throttling): each gives a clear error naming the failed step, retries where that helps, and
leaves nothing half-done."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from cloudmsp.cloud.models import Category, CloudAccount, Kind, OnboardingStatus
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.providers.aws import operations
from cloudmsp.cloud.providers.aws.policies import trust_policy
from cloudmsp.cloud.providers.aws.validation import check_role
from cloudmsp.cloud.services import accounts, onboarding
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "210987654321"
ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudMSPAccess"
EXTERNAL_ID = "cmsp-test-external-id-0123456789abcdef"
EXPIRES = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


def _role(**fields):
    """An IAM GetRole/CreateRole answer for the role at ARN, with `fields` added."""
    return {
        "Role": {
            "Path": "/",
            "RoleName": "CloudMSPAccess",
            "RoleId": "AROAEXAMPLEEXAMPLEEX",
            "Arn": ARN,
            "CreateDate": EXPIRES,
            **fields,
        }
    }


class FakeAws:
    """One stubbed client per service, handed out by cloud.providers.aws.operations.client()."""

    def __init__(self) -> None:
        self.clients = {}
        self.stubbers = {}
        self.sleeps: list[float] = []

    def __call__(self, service, credentials=None):
        if service not in self.clients:
            c = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
            self.clients[service] = c
            self.stubbers[service] = Stubber(c)
            self.stubbers[service].activate()
        return self.clients[service]

    def stub(self, service):
        self(service)
        return self.stubbers[service]

    def assume_ok(self, account=ACCOUNT, expected=None):
        self.stub("sts").add_response(
            "assume_role",
            {
                "Credentials": {
                    "AccessKeyId": "ASIAEXAMPLEEXAMPLE",
                    "SecretAccessKey": "secret-secret-secret",
                    "SessionToken": "token",
                    "Expiration": EXPIRES,
                }
            },
            expected,
        )

    def identity(self, account=ACCOUNT):
        self.stub("sts").add_response(
            "get_caller_identity",
            {"Account": account, "Arn": f"arn:aws:sts::{account}:assumed-role/x/y", "UserId": "u"},
        )

    def trust(self, external_id=EXTERNAL_ID):
        doc = trust_policy(portal_account_id="123456789012", external_id=external_id)
        self.stub("iam").add_response("get_role", _role(AssumeRolePolicyDocument=json.dumps(doc)))

    def error(self, service, method, code, message="", status=400):
        self.stub(service).add_client_error(
            method, service_error_code=code, service_message=message, http_status_code=status
        )

    def assert_done(self):
        for s in self.stubbers.values():
            s.assert_no_pending_responses()


@pytest.fixture
def fake(monkeypatch, settings):
    fake = FakeAws()
    monkeypatch.setattr(operations, "client", fake)
    monkeypatch.setattr(aws_client, "sleep", fake.sleeps.append)
    settings.PORTAL_AWS_ACCOUNT_ID = "123456789012"
    settings.AWS_CHECK_WRONG_EXTERNAL_ID = True
    settings.AWS_MAX_ATTEMPTS = 4
    aws_client.credential_cache.clear()
    yield fake
    aws_client.credential_cache.clear()


def _check(**kwargs):
    return check_role(account_id=ACCOUNT, role_arn=ARN, external_id=EXTERNAL_ID, **kwargs)


def test_all_checks_pass(fake):
    fake.assume_ok(
        expected={"RoleArn": ARN, "RoleSessionName": "cloudmsp", "DurationSeconds": 3600, "ExternalId": EXTERNAL_ID}
    )
    fake.identity()
    fake.trust()
    fake.error("sts", "assume_role", "AccessDenied", "not authorized", 403)  # the wrong external id
    result = _check()
    assert result.ok, result.message
    fake.assert_done()


def test_role_accepting_a_wrong_external_id_is_refused(fake):
    fake.assume_ok()
    fake.identity()
    fake.trust()
    fake.assume_ok()  # AWS let the wrong external id through
    result = _check()
    assert not result.ok
    assert result.step == "Check the external id is enforced"
    assert "accepted a wrong external id" in result.message


def test_trust_policy_with_another_external_id_is_refused(fake):
    fake.assume_ok()
    fake.identity()
    fake.trust(external_id="not-ours")
    result = _check()
    assert (result.ok, result.step) == (False, "Check the trust policy")


def test_trust_policy_without_condition_is_refused(fake):
    fake.assume_ok()
    fake.identity()
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    fake.stub("iam").add_response(
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "r",
                "RoleId": "AROAEXAMPLEEXAMPLEEX",
                "Arn": ARN,
                "CreateDate": EXPIRES,
                "AssumeRolePolicyDocument": json.dumps(doc),
            }
        },
    )
    assert not _check().ok


@pytest.mark.aws_fault("AccessDenied")
def test_assume_role_denied_says_what_to_check(fake):
    fake.error("sts", "assume_role", "AccessDenied", "User is not authorized to perform sts:AssumeRole", 403)
    result = _check()
    assert not result.ok
    assert result.step == "Assume the role"
    assert "trust policy" in result.message
    assert "AccessDenied" in result.message


def test_wrong_account_answer_is_refused(fake):
    fake.assume_ok()
    fake.identity(account="999999999999")
    result = _check()
    assert not result.ok
    assert "999999999999" in result.message


@pytest.mark.aws_fault("throttling")
def test_throttling_is_retried_with_backoff(fake):
    fake.error("sts", "assume_role", "Throttling", "Rate exceeded")
    fake.error("sts", "assume_role", "Throttling", "Rate exceeded")
    fake.assume_ok()
    fake.identity()
    fake.trust()
    fake.error("sts", "assume_role", "AccessDenied", "", 403)
    result = _check()
    assert result.ok, result.message
    assert len(fake.sleeps) == 2
    assert all(0 < s <= 8 for s in fake.sleeps)


@pytest.mark.aws_fault("throttling")
def test_throttling_that_does_not_stop_gives_up_with_a_clear_error(fake):
    for _ in range(4):
        fake.error("sts", "assume_role", "ThrottlingException", "Rate exceeded")
    result = _check()
    assert not result.ok
    assert "throttling" in result.message.lower()
    assert len(fake.sleeps) == 3  # 4 attempts


@pytest.mark.aws_fault("timeout")
def test_timeout_is_retried_then_reported(fake, monkeypatch):
    calls = []

    def timeout(**kwargs):
        calls.append(kwargs)
        raise ReadTimeoutError(endpoint_url="https://sts.amazonaws.com")

    client = fake("sts")
    monkeypatch.setattr(client, "assume_role", timeout)
    result = _check()
    assert not result.ok
    assert "did not answer in time" in result.message
    assert len(calls) == 4


def test_new_role_is_retried_until_assumable(fake):
    fake.error("sts", "assume_role", "AccessDenied", "", 403)
    fake.error("sts", "assume_role", "AccessDenied", "", 403)
    fake.assume_ok()
    fake.identity()
    fake.trust()
    fake.error("sts", "assume_role", "AccessDenied", "", 403)
    result = _check(wait_seconds=60, sleep=fake.sleeps.append)
    assert result.ok, result.message
    assert fake.sleeps  # it waited between attempts


@pytest.mark.aws_fault("ExpiredToken")
def test_expired_token_is_reported(fake):
    fake.error("sts", "assume_role", "ExpiredToken", "The security token included in the request is expired")
    result = _check()
    assert "expired" in result.message


def test_credentials_are_cached_for_their_lifetime(fake):
    fake.assume_ok()
    first = operations.assume_role(ARN, EXTERNAL_ID)
    second = operations.assume_role(ARN, EXTERNAL_ID)
    assert first is second
    assert aws_client.credential_cache.hits == 1
    fake.assert_done()


@pytest.mark.aws_fault("AccessDenied")
def test_failed_connect_leaves_the_account_as_it_was(fake, admin):
    account = CloudAccountFactory(
        tenant=admin.tenant,
        category=Category.NON_MSP,
        kind=Kind.STANDALONE,
        account_id=ACCOUNT,
        external_id=EXTERNAL_ID,
    )
    fake.error("sts", "assume_role", "AccessDenied", "", 403)
    result = accounts.account_connect(actor=admin, account=account, role_arn=ARN)
    assert not result.ok
    account.refresh_from_db()
    assert (account.role_arn, account.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert "Assume the role failed" in account.last_validation_message


def _member_with_parent(admin):
    parent = CloudAccountFactory(
        tenant=admin.tenant,
        category=Category.MSP,
        kind=Kind.MANAGEMENT,
        account_id="111122223333",
        role_arn="arn:aws:iam::111122223333:role/CloudMSPPortal",
        external_id="cmsp-parent",
        onboarding_status=OnboardingStatus.ONBOARDED,
    )
    return CloudAccountFactory(
        tenant=admin.tenant,
        category=Category.MSP,
        kind=Kind.MEMBER,
        parent=parent,
        account_id=ACCOUNT,
        external_id=EXTERNAL_ID,
    )


@pytest.mark.aws_fault("AccessDenied")
def test_onboarding_removes_the_created_role_when_validation_fails(fake, admin, settings):
    settings.AWS_NEW_ROLE_WAIT_SECONDS = 0
    settings.AWS_CHECK_WRONG_EXTERNAL_ID = False
    member = _member_with_parent(admin)
    fake.assume_ok()  # management role
    fake.assume_ok()  # organization access role in the member
    iam = fake.stub("iam")
    iam.add_response(
        "create_role",
        _role(),
    )
    iam.add_response("put_role_policy", {})
    fake.error("sts", "assume_role", "AccessDenied", "", 403)  # validation: the new role refuses
    # cleanup: read the role's tag (ours), list its policies, delete the inline one, then the role
    owned = {"Key": "cloudmsp:managed-by", "Value": onboarding.role_owner(member)}
    iam.add_response("get_role", _role(Tags=[owned]))
    iam.add_response("list_role_policies", {"PolicyNames": ["CloudMSPReadOnly"]})
    iam.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    iam.add_response("delete_role_policy", {})
    iam.add_response("delete_role", {})
    job = onboarding.onboard_start(actor=admin, account=member)
    onboarding.onboard_job(job)
    job.refresh_from_db()
    assert job.state == "failed"
    assert "removed again" in job.error
    member.refresh_from_db()
    assert (member.role_arn, member.onboarding_status, member.role_created_by_portal) == (
        "",
        OnboardingStatus.NOT_ONBOARDED,
        False,
    )
    fake.assert_done()


@pytest.mark.aws_fault("AccessDenied")
def test_remove_role_keeps_the_arn_when_aws_refuses(fake, admin):
    member = _member_with_parent(admin)
    CloudAccount.unscoped.filter(pk=member.pk).update(
        role_arn=ARN, role_created_by_portal=True, onboarding_status=OnboardingStatus.ONBOARDED
    )
    member.refresh_from_db()
    fake.assume_ok()
    fake.assume_ok()
    fake.error("iam", "get_role", "AccessDenied", "", 403)
    from cloudmsp.core.errors import ApplicationError

    with pytest.raises(ApplicationError, match="The Role ARN was kept"):
        onboarding.remove_role(actor=admin, account=member)
    member.refresh_from_db()
    assert member.role_arn == ARN
    assert member.onboarding_status == OnboardingStatus.ONBOARDED
