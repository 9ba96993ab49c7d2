"""STS sessions as SPEC section 8 asks: regional endpoints, and role chaining (the management
account's role, then the access role in a member) asking for at most one hour."""

from __future__ import annotations

import threading
import time

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


def test_bulk_validations_run_on_the_same_threads_and_sessions(monkeypatch):
    """Issue 16: a bulk validation's threads (and so their boto3 sessions) serve the next one;
    a new pool per run made each of its threads build a session and load the models again."""
    from cloudmsp.cloud.providers.aws import provider as aws_provider
    from cloudmsp.cloud.providers.base import RoleCheck, RoleToCheck

    seen: list[tuple[threading.Thread, object]] = []

    def check(**kwargs):
        seen.append((threading.current_thread(), aws_client._session()))
        time.sleep(0.05)  # long enough that each run starts all three threads
        return RoleCheck(True, "The role works.")

    monkeypatch.setattr(aws_provider, "check_role", check)
    roles = [RoleToCheck(account_id=f"{i:012d}", role_arn="arn", external_id="x") for i in range(6)]
    for _ in range(2):
        checks = aws_provider.AwsProvider().check_roles(roles, fresh=False, concurrency=3)
        assert [r.ok for r in checks.results] == [True] * 6
    assert len(seen) == 12
    assert len({thread for thread, _ in seen}) == 3
    assert len({id(session) for _, session in seen}) == 3


def test_the_sessions_of_all_threads_share_one_loader_of_the_models(fresh_session):
    sessions = []

    def make():
        sessions.append(aws_client._session())

    for _ in range(3):
        thread = threading.Thread(target=make)
        thread.start()
        thread.join()
    loaders = {id(s._session.get_component("data_loader")) for s in sessions}
    assert len(sessions) == 3
    assert len(loaders) == 1
    # Each boto3 session adds its data directory to the loader's path; it stays there once.
    paths = sessions[0]._session.get_component("data_loader").search_paths
    assert len(paths) == len(set(paths))
