"""STS sessions as SPEC section 8 asks: regional endpoints, and role chaining (the management
account's role, then the access role in a member) asking for at most one hour."""

from __future__ import annotations

import threading

import pytest

from cloudmsp.cloud.models import CloudAccount, JobState
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.services import onboarding
from cloudmsp.cloud.tasks import run_onboard
from tests.cloud.test_aws_emulator import _sync


@pytest.fixture
def fresh_session():
    """A new boto3 session for this thread, so that the environment is read again."""
    aws_client._local = threading.local()
    yield
    aws_client._local = threading.local()


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_sts_is_called_at_the_regional_endpoint_whatever_the_environment_says(
    region, settings, monkeypatch, fresh_session
):
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    settings.AWS_ENDPOINT_URL = None
    settings.AWS_REGION = region
    assert aws_client.client("sts").meta.endpoint_url == f"https://sts.{region}.amazonaws.com"


@pytest.mark.django_db(transaction=True)
def test_chained_sessions_ask_for_at_most_an_hour(org, admin, management):
    _sync(admin, management)
    member = CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id")[0]
    asked: list[tuple[str, int]] = []

    def record(params, **kwargs):
        asked.append((params["RoleArn"], params["DurationSeconds"]))

    events = aws_client._session().events
    events.register("provide-client-params.sts.AssumeRole", record)
    try:
        job = onboarding.onboard_start(actor=admin, account=member)
        run_onboard.call(job.pk)
    finally:
        events.unregister("provide-client-params.sts.AssumeRole", record)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    chained = [d for arn, d in asked if arn.endswith(":role/OrganizationAccountAccessRole")]
    assert chained, asked
    assert max(d for _, d in asked) <= 3600
