"""The AWS emulator (moto in server mode, on loopback) and an organization seeded in it."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from dataclasses import dataclass, field

import boto3
import pytest
import requests
from django.utils import timezone

from cloudmsp.cloud.models import CloudAccount, Job
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.providers.aws.policies import access_policy, trust_policy
from cloudmsp.cloud.services import jobs
from cloudmsp.cloud.services.accounts import account_connect, account_create
from cloudmsp.demo import emulator

PORTAL_ACCOUNT = "123456789012"  # moto's default account: the portal's own identity
MANAGEMENT_ACCOUNT = "111122223333"
PORTAL_ROLE = "CloudMSPPortal"


def age_job(job: Job) -> None:
    """Make a job look as if its worker died: no heartbeat for longer than jobs.STALE_AFTER."""
    Job.unscoped.filter(pk=job.pk).update(updated_at=timezone.now() - jobs.STALE_AFTER - dt.timedelta(minutes=1))


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ[key] = value
    emulator.behave_like_aws_today()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, settings):
    """A clean emulator for each test, with the portal's settings pointing at it."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    settings.AWS_ENDPOINT_URL = moto_endpoint
    settings.PORTAL_AWS_ACCOUNT_ID = PORTAL_ACCOUNT
    settings.AWS_CHECK_WRONG_EXTERNAL_ID = True  # the emulator refuses a wrong external id, as AWS does
    settings.AWS_NEW_ROLE_WAIT_SECONDS = 0
    aws_client.credential_cache.clear()
    aws_client.sleep = lambda _seconds: None
    yield moto_endpoint
    aws_client.credential_cache.clear()


def boto(endpoint: str, service: str, account: str | None = None):
    """A raw boto3 client in `account` (moto maps assumed-role keys to their account)."""
    kwargs = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    if account is None or account == PORTAL_ACCOUNT:
        return boto3.client(service, **kwargs)
    sts = boto3.client("sts", **kwargs)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName=emulator.ADMIN_SESSION
    )["Credentials"]
    return boto3.client(
        service,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        **kwargs,
    )


@dataclass
class Org:
    endpoint: str
    management_id: str
    members: list[str] = field(default_factory=list)
    ou_of: dict[str, str] = field(default_factory=dict)

    def org_client(self):
        return boto(self.endpoint, "organizations", self.management_id)

    def add_member(self, name: str, parent: str | None = None) -> str:
        org = self.org_client()
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        account_id = status["AccountId"]
        if parent:
            root = org.list_roots()["Roots"][0]["Id"]
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=parent)
        self.members.append(account_id)
        return account_id

    def iam_roles(self, account_id: str) -> list[str]:
        return [r["RoleName"] for r in boto(self.endpoint, "iam", account_id).list_roles()["Roles"]]


def make_org(endpoint: str, *, members: int = 25) -> Org:
    """An organization whose management account is not the portal's, with OUs Prod, Prod/Web
    and Dev, and `members` member accounts spread over them."""
    org_api = boto(endpoint, "organizations", MANAGEMENT_ACCOUNT)
    org_api.create_organization(FeatureSet="ALL")
    root = org_api.list_roots()["Roots"][0]["Id"]
    prod = org_api.create_organizational_unit(ParentId=root, Name="Prod")["OrganizationalUnit"]["Id"]
    web = org_api.create_organizational_unit(ParentId=prod, Name="Web")["OrganizationalUnit"]["Id"]
    dev = org_api.create_organizational_unit(ParentId=root, Name="Dev")["OrganizationalUnit"]["Id"]
    org = Org(endpoint=endpoint, management_id=MANAGEMENT_ACCOUNT)
    targets = [None, prod, web, dev]
    paths = {None: "Root", prod: "Root/Prod", web: "Root/Prod/Web", dev: "Root/Dev"}
    for i in range(members):
        target = targets[i % len(targets)]
        account_id = org.add_member(f"member-{i:03d}", target)
        org.ou_of[account_id] = paths[target]
    return org


def create_portal_role(
    endpoint: str, account_id: str, external_id: str, *, name: str = PORTAL_ROLE, management=True
) -> str:
    iam = boto(endpoint, "iam", account_id)
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust_policy(portal_account_id=PORTAL_ACCOUNT, external_id=external_id)),
    )
    iam.put_role_policy(
        RoleName=name, PolicyName="CloudMSPReadOnly", PolicyDocument=json.dumps(access_policy(management=management))
    )
    return role["Role"]["Arn"]


@pytest.fixture
def org(aws):
    return make_org(aws)


@pytest.fixture
def management(org, admin) -> CloudAccount:
    """The organization's management account, added and connected as the tenant's MSP account."""
    account = account_create(actor=admin, category="msp", account_id=org.management_id, name="Payer")
    arn = create_portal_role(org.endpoint, org.management_id, account.external_id)
    result = account_connect(actor=admin, account=account, role_arn=arn)
    assert result.ok, result.message
    account.refresh_from_db()
    return account


# AWS fault kinds (issue 5) --------------------------------------------------------------------
# A test that injects a fault says which with @pytest.mark.aws_fault("<kind>"); the kinds whose
# tests passed are printed at the end of the run.
FAULT_KINDS = (
    "throttling",
    "timeout",
    "AccessDenied",
    "ExpiredToken",
    "role deleted out of band",
    "account closed mid-sync",
    "emulator killed mid-sync",
    "interrupted worker",
)
FAULTS_PASSED: Counter[str] = Counter()


def pytest_configure(config):
    config.addinivalue_line("markers", "aws_fault(kind): the test injects this AWS fault (counted in the summary)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.passed:
        for marker in item.iter_markers("aws_fault"):
            assert marker.args[0] in FAULT_KINDS, marker.args[0]
            FAULTS_PASSED[marker.args[0]] += 1
    return report


def pytest_terminal_summary(terminalreporter):
    if FAULTS_PASSED:
        terminalreporter.section("AWS faults")
        for kind in FAULT_KINDS:
            terminalreporter.write_line(f"{kind}: {FAULTS_PASSED[kind]} test(s) passed")
        injected = sum(1 for kind in FAULT_KINDS if FAULTS_PASSED[kind])
        terminalreporter.write_line(f"fault kinds injected: {injected} of {len(FAULT_KINDS)}")
