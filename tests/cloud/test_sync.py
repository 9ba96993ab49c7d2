"""cloudmsp/cloud/services/sync.py: what sync_start refuses and what it starts, then faults
during an organization sync, against the AWS emulator: the organization changes between two
ListAccounts pages, the emulator dies between two pages, credentials expire, the worker dies.
Each ends with a clear error or a correct listing, never with part of a listing applied; a sync
whose worker died can be restarted and the restart is clean."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django_tasks_db.models import DBTaskResult

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Job, JobKind, JobState, Kind, OnboardingStatus
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.providers.aws import operations
from cloudmsp.cloud.services import jobs, sync
from cloudmsp.core.errors import ApplicationError, ConflictError, PermissionDenied
from tests.cloud.conftest import age_job
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db

PAGE = operations.PAGE_SIZE


# sync_start -----------------------------------------------------------------------------------


def _connected_management(tenant, **kwargs) -> CloudAccount:
    return CloudAccountFactory(
        tenant=tenant,
        category=Category.MSP,
        kind=Kind.MANAGEMENT,
        role_arn="arn:aws:iam::111122223333:role/CloudMSPPortal",
        onboarding_status=OnboardingStatus.ONBOARDED,
        **kwargs,
    )


def _nothing_started(tenant) -> None:
    assert not Job.objects.for_tenant(tenant).exists()
    assert not AuditEvent.objects.for_tenant(tenant).filter(action="cloud_account.sync").exists()


def test_start_queues_a_sync_job_and_its_task(admin, django_capture_on_commit_callbacks):
    management = _connected_management(admin.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        job = sync.sync_start(actor=admin, account=management)
    stored = Job.objects.for_tenant(admin.tenant).get()
    assert stored.pk == job.pk
    assert (stored.kind, stored.state, stored.account_id, stored.created_by_id) == (
        JobKind.SYNC,
        JobState.QUEUED,
        management.pk,
        admin.pk,
    )
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="cloud_account.sync")
    assert (event.object_id, event.changes) == (str(management.pk), {"job": [None, job.pk]})
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs["args"]) == ("cloudmsp.cloud.tasks.run_sync", [job.pk])


@pytest.mark.parametrize("kind", [Kind.STANDALONE, Kind.MEMBER])
def test_start_refuses_an_account_that_is_not_a_management_account(admin, kind):
    connected = {"role_arn": "arn:aws:iam::100000000000:role/X", "onboarding_status": OnboardingStatus.ONBOARDED}
    if kind == Kind.MEMBER:
        parent = _connected_management(admin.tenant)
        account = CloudAccountFactory(
            tenant=admin.tenant, category=Category.MSP, kind=Kind.MEMBER, parent=parent, **connected
        )
    else:
        account = CloudAccountFactory(tenant=admin.tenant, **connected)
    with pytest.raises(ApplicationError, match=r"Only an MSP \(management\) account has an organization"):
        sync.sync_start(actor=admin, account=account)
    _nothing_started(admin.tenant)


@pytest.mark.parametrize("status", [OnboardingStatus.NOT_ONBOARDED, OnboardingStatus.FAILED])
def test_start_refuses_a_management_account_not_onboarded(admin, status):
    management = _connected_management(admin.tenant)
    management.onboarding_status = status
    management.save()
    with pytest.raises(ApplicationError, match="Connect the account's role first") as exc:
        sync.sync_start(actor=admin, account=management)
    assert not isinstance(exc.value, ConflictError)
    _nothing_started(admin.tenant)


@pytest.mark.parametrize("first_state", [JobState.QUEUED, JobState.RUNNING])
def test_second_start_while_one_runs_is_a_conflict_naming_that_job(admin, first_state):
    management = _connected_management(admin.tenant)
    first = sync.sync_start(actor=admin, account=management)
    if first_state == JobState.RUNNING:
        jobs.job_start(first)
    with pytest.raises(ConflictError) as exc:
        sync.sync_start(actor=admin, account=management)
    assert exc.value.status == 409
    assert exc.value.extra == {"job": first.pk}
    assert exc.value.message == f"A sync of this account is already running (job {first.pk})."
    assert list(Job.objects.for_tenant(admin.tenant).values_list("pk", flat=True)) == [first.pk]
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.sync").count() == 1


def test_start_after_the_previous_sync_finished_starts_a_new_job(admin):
    management = _connected_management(admin.tenant)
    first = sync.sync_start(actor=admin, account=management)
    jobs.job_start(first)
    jobs.job_finish(first, error="Assume the role failed: denied")
    second = sync.sync_start(actor=admin, account=management)
    assert second.pk != first.pk
    assert Job.objects.for_tenant(admin.tenant).get(pk=second.pk).state == JobState.QUEUED


def test_a_sync_of_another_account_does_not_block(admin):
    first = sync.sync_start(actor=admin, account=_connected_management(admin.tenant))
    second = sync.sync_start(actor=admin, account=_connected_management(admin.tenant))
    assert first.pk != second.pk


def test_start_is_for_tenant_admins_only(customer_user):
    management = _connected_management(customer_user.tenant)
    with pytest.raises(PermissionDenied):
        sync.sync_start(actor=customer_user, account=management)
    _nothing_started(customer_user.tenant)


# Faults during a sync ---------------------------------------------------------------------------


class ListAccountsHook:
    """Wraps ListAccounts of the organizations clients the portal makes: `between(self)` runs
    after a page has been answered and before the next one is asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, between: Callable[[ListAccountsHook], None]) -> None:
        self.pages: list[list[str]] = []  # account ids of each page answered
        self.attempts = 0
        real = operations.client

        def make(service: str, credentials: Any = None) -> Any:
            c = real(service, credentials)
            if service == "organizations":
                original = c.list_accounts

                def list_accounts(**kwargs: Any) -> Any:
                    if kwargs.get("NextToken"):
                        between(self)
                    else:
                        self.pages.clear()  # a listing (re)starts
                    self.attempts += 1
                    page = original(**kwargs)
                    self.pages.append([a["Id"] for a in page["Accounts"]])
                    return page

                c.list_accounts = list_accounts
            return c

        monkeypatch.setattr(operations, "client", make)


def _run(admin, management) -> Job:
    job = sync.sync_start(actor=admin, account=management)
    sync.organization_sync(job)
    job.refresh_from_db()
    return job


def _members(admin, management) -> dict[str, CloudAccount]:
    return {a.account_id: a for a in CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management)}


def _snapshot(admin) -> dict[str, Any]:
    """Everything a sync may write, to prove that a failed one wrote nothing."""
    accounts = CloudAccount.objects.for_tenant(admin.tenant).order_by("account_id")
    return {
        "accounts": [
            (a.account_id, a.kind, a.parent_id, a.name, a.email, a.aws_state, a.ou_path, a.customer_id, a.updated_at)
            for a in accounts
        ],
        "last_synced_at": [a.last_synced_at for a in accounts],
        "sync_results": AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.sync_result").count(),
    }


@pytest.fixture
def synced(org, admin, management):
    """The organization after one complete sync: 25 members in the portal."""
    job = _run(admin, management)
    assert job.state == JobState.SUCCEEDED, job.error
    assert len(_members(admin, management)) == 25
    return org


@pytest.mark.aws_fault("account closed mid-sync")
def test_account_closed_between_pages_keeps_the_listing_whole(synced, admin, management, customer, monkeypatch):
    org = synced
    changes: dict[str, str] = {}

    def between(hook: ListAccountsHook) -> None:
        if changes:
            return
        # After page 1: close an account page 1 showed as ACTIVE and one page 2 will show, and a
        # new account joins (so the listing changes under the page token).
        changes["closed_seen"] = next(a for a in hook.pages[0] if a != org.management_id)
        changes["closed_unseen"] = org.members[-1]
        api = org.org_client()
        api.close_account(AccountId=changes["closed_seen"])
        api.close_account(AccountId=changes["closed_unseen"])
        changes["new"] = org.add_member("joined-mid-sync")

    CloudAccount.objects.for_tenant(admin.tenant).filter(account_id__in=org.members[:3]).update(customer=customer)
    hook = ListAccountsHook(monkeypatch, between)
    job = _run(admin, management)

    assert job.state == JobState.SUCCEEDED, job.error
    assert len(hook.pages) == 2
    assert changes["closed_seen"] in hook.pages[0]
    members = _members(admin, management)
    # Each account once, none lost: the 25, plus the one that joined during the listing.
    assert set(members) == set(org.members) | {changes["new"]}
    assert CloudAccount.objects.for_tenant(admin.tenant).count() == 27  # with the management account
    assert job.result["added"] == 1
    assert job.result["removed"] == 0
    # The listing is a snapshot: the account was ACTIVE on the page that listed it.
    assert members[changes["closed_seen"]].aws_state == AwsState.ACTIVE
    assert members[changes["closed_unseen"]].aws_state == AwsState.SUSPENDED  # moto's word for closed
    assert all(members[a].customer_id == customer.pk for a in org.members[:3])
    # The OU tree was read before the account joined, but ListAccounts gave its Paths: its
    # place is known (at the root, where a new account starts).
    assert members[changes["new"]].ou_path == "Root"

    # The next sync catches up; the assignment stays.
    job = _run(admin, management)
    assert job.state == JobState.SUCCEEDED, job.error
    members = _members(admin, management)
    assert members[changes["closed_seen"]].aws_state == AwsState.SUSPENDED
    assert members[changes["new"]].ou_path == "Root"
    # Only the closed account's state had to catch up (the new one's place was already known).
    assert (job.result["added"], job.result["updated"], job.result["removed"]) == (0, 1, 0)
    assert all(members[a].customer_id == customer.pk for a in org.members[:3])


@pytest.mark.aws_fault("account closed mid-sync")
def test_page_token_refused_after_the_listing_changed_reads_the_listing_again(synced, admin, management, monkeypatch):
    org = synced
    gone: list[str] = []

    def between(hook: ListAccountsHook) -> None:
        if gone:
            return
        # The account the next page starts with is closed and leaves the organization: the
        # page token names it, and AWS refuses the token.
        anchor = org.members[PAGE - 1]
        api = org.org_client()
        api.close_account(AccountId=anchor)
        api.remove_account_from_organization(AccountId=anchor)
        gone.append(anchor)

    hook = ListAccountsHook(monkeypatch, between)
    job = _run(admin, management)

    assert job.state == JobState.SUCCEEDED, job.error
    assert hook.attempts == 2 + 2  # page 1, the refused page 2, then a whole new listing
    members = _members(admin, management)
    assert set(members) == set(org.members)  # nothing dropped, nothing doubled
    assert members[gone[0]].aws_state == AwsState.REMOVED
    assert job.result["removed"] == 1


@pytest.mark.aws_fault("account closed mid-sync")
def test_listing_that_keeps_changing_fails_clearly_and_writes_nothing(synced, admin, management, monkeypatch):
    org = synced
    org.add_member("late-1")
    before = _snapshot(admin)
    removed: list[str] = []

    def between(hook: ListAccountsHook) -> None:
        # Before every second page, the account it would start with leaves the organization.
        anchor = next(a for a in org.members[PAGE - 1 :] if a not in removed)
        org.org_client().remove_account_from_organization(AccountId=anchor)
        removed.append(anchor)

    ListAccountsHook(monkeypatch, between)
    job = _run(admin, management)

    assert job.state == JobState.FAILED
    assert "List the organization's accounts (ListAccounts) failed" in job.error
    assert "changed while they were being listed; run the sync again" in job.error
    assert _snapshot(admin) == before


@pytest.mark.aws_fault("emulator killed mid-sync")
def test_emulator_killed_between_pages_fails_clearly_and_writes_nothing(
    synced, admin, management, monkeypatch, settings
):
    from moto.server import ThreadedMotoServer

    org = synced
    # Changes a partial sync would half-apply: a new account, a closed one, one that left.
    api = org.org_client()
    new_id = org.add_member("late-joiner")
    api.close_account(AccountId=org.members[0])
    api.remove_account_from_organization(AccountId=org.members[1])
    before = _snapshot(admin)

    # A second emulator, in this process, so it shares the organization; the sync goes to it.
    doomed = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    doomed.start()
    host, port = doomed.get_host_and_port()
    settings.AWS_ENDPOINT_URL = f"http://{host}:{port}"
    settings.AWS_MAX_ATTEMPTS = 3
    sleeps: list[float] = []
    monkeypatch.setattr(aws_client, "sleep", sleeps.append)
    killed: list[bool] = []

    def between(hook: ListAccountsHook) -> None:
        if not killed:
            doomed.stop()
            doomed._server.server_close()  # nothing listens on the port any more
            killed.append(True)

    hook = ListAccountsHook(monkeypatch, between)
    job = _run(admin, management)

    assert killed
    assert job.state == JobState.FAILED
    assert job.error == (
        "List the organization's accounts (ListAccounts) failed: "
        "The AWS endpoint could not be reached; check the network."
    )
    assert hook.attempts == 1 + 3  # page 1, then page 2 tried three times with backoff
    assert len(sleeps) == 2
    assert _snapshot(admin) == before

    # The emulator is back (the first one): a new sync starts at once and applies everything.
    settings.AWS_ENDPOINT_URL = org.endpoint
    job = _run(admin, management)
    assert job.state == JobState.SUCCEEDED, job.error
    members = _members(admin, management)
    assert set(members) == set(org.members)
    assert members[new_id].aws_state == AwsState.ACTIVE
    assert members[org.members[0]].aws_state == AwsState.SUSPENDED
    assert members[org.members[1]].aws_state == AwsState.REMOVED


def _expired() -> ClientError:
    return ClientError(
        {
            "Error": {
                "Code": "ExpiredTokenException",
                "Message": "The security token included in the request is expired",
            }
        },
        "ListAccounts",
    )


@pytest.mark.aws_fault("ExpiredToken")
def test_credentials_expiring_mid_sync_are_renewed_and_the_listing_read_again(synced, admin, management, monkeypatch):
    expired: list[bool] = []

    def between(hook: ListAccountsHook) -> None:
        if not expired:
            expired.append(True)
            raise _expired()

    ListAccountsHook(monkeypatch, between)
    misses = aws_client.credential_cache.misses
    job = _run(admin, management)
    assert job.state == JobState.SUCCEEDED, job.error
    assert aws_client.credential_cache.misses == misses + 1  # the role was assumed anew
    assert len(_members(admin, management)) == 25


@pytest.mark.aws_fault("ExpiredToken")
def test_credentials_that_keep_expiring_fail_clearly_and_write_nothing(synced, admin, management, monkeypatch):
    synced.add_member("late-1")
    before = _snapshot(admin)

    def between(hook: ListAccountsHook) -> None:
        raise _expired()

    ListAccountsHook(monkeypatch, between)
    job = _run(admin, management)
    assert job.state == JobState.FAILED
    assert "temporary AWS credentials expired; try again" in job.error
    assert _snapshot(admin) == before


class WorkerDied(BaseException):
    """What the sync sees of a worker killed mid-job: nothing after this runs."""


@pytest.mark.aws_fault("interrupted worker")
def test_sync_whose_worker_died_is_restarted_cleanly(org, admin, management, monkeypatch, api_for):
    dying = [True]

    def between(hook: ListAccountsHook) -> None:
        if dying:
            raise WorkerDied

    ListAccountsHook(monkeypatch, between)
    first = sync.sync_start(actor=admin, account=management)
    with pytest.raises(WorkerDied):
        sync.organization_sync(first)
    first.refresh_from_db()
    assert first.state == JobState.RUNNING  # the worker is gone; nobody finished the job
    assert _members(admin, management) == {}  # page 1 was read, nothing was written

    # While its heartbeat is recent the job may still be alive: a new sync is refused.
    assert not jobs.job_is_stale(first)
    with pytest.raises(ConflictError):
        sync.sync_start(actor=admin, account=management)

    # Once it is stale, a new sync takes over (here through the API, which answers 202).
    age_job(first)
    response = api_for(admin).post(f"/api/v1/cloud-accounts/{management.pk}/sync/")
    assert response.status_code == 202, response.content
    first.refresh_from_db()
    assert first.state == JobState.FAILED
    assert first.error.startswith("Interrupted:")
    assert first.finished_at is not None

    second = Job.unscoped.get(pk=response.json()["id"])
    dying.clear()  # the new worker lives
    sync.organization_sync(second)
    second.refresh_from_db()
    assert second.state == JobState.SUCCEEDED, second.error
    members = _members(admin, management)
    assert set(members) == set(org.members)
    assert CloudAccount.objects.for_tenant(admin.tenant).count() == 26  # each account once


@pytest.mark.aws_fault("interrupted worker")
def test_worker_that_only_seemed_dead_does_not_apply_its_listing(org, admin, management, monkeypatch):
    taken_over: list[Job] = []

    def between(hook: ListAccountsHook) -> None:
        if not taken_over:
            # The worker stalls so long that its job is taken as interrupted and a new sync
            # starts; then it wakes up and finishes its listing.
            age_job(first)
            taken_over.append(sync.sync_start(actor=admin, account=management))

    ListAccountsHook(monkeypatch, between)
    first = sync.sync_start(actor=admin, account=management)
    assert sync.organization_sync(first) == {}
    first.refresh_from_db()
    assert first.state == JobState.FAILED
    assert first.error == jobs.INTERRUPTED
    assert _members(admin, management) == {}  # the late listing was not applied

    second = taken_over[0]
    sync.organization_sync(second)
    second.refresh_from_db()
    assert second.state == JobState.SUCCEEDED, second.error
    assert set(_members(admin, management)) == set(org.members)


def test_progress_is_a_heartbeat(org, admin, management):
    job = sync.sync_start(actor=admin, account=management)
    jobs.job_start(job)
    age_job(job)
    job.refresh_from_db()
    assert jobs.job_is_stale(job)
    jobs.job_progress(job, done=1)
    job.refresh_from_db()
    assert not jobs.job_is_stale(job)
    assert not jobs.job_interrupt(job)  # a job that reported meanwhile is left alone


# State, not Status (SPEC 8) ------------------------------------------------------------------


def test_the_emulator_answers_without_the_retired_status(org):
    """The tests' emulator answers as AWS does since 2026-09-09: `State`, no `Status`."""
    api = org.org_client()
    accounts = api.list_accounts()["Accounts"]
    assert accounts
    assert all("Status" not in a and a["State"] == "ACTIVE" for a in accounts)
    assert "Status" not in api.describe_account(AccountId=org.members[0])["Account"]


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ({"State": "PENDING_CLOSURE"}, "PENDING_CLOSURE"),
        ({"State": "SUSPENDED", "Status": "ACTIVE"}, "SUSPENDED"),  # State wins when both come
        ({"Status": "SUSPENDED"}, "SUSPENDED"),  # an older endpoint: Status only
        ({}, "ACTIVE"),
    ],
)
def test_the_state_is_read_and_status_only_when_state_is_absent(answer, state):
    assert operations.account_state(answer) == state


def test_sync_stores_each_accounts_state_and_how_it_joined(org, admin, management):
    closed = org.members[0]
    org.org_client().close_account(AccountId=closed)
    job = sync.sync_start(actor=admin, account=management)
    assert sync.organization_sync(job)["added"] == len(org.members)
    members = {a.account_id: a for a in CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management)}
    # Read from State: with Status gone from the answers, the old code called this account Active.
    assert members[closed].aws_state == AwsState.SUSPENDED
    assert {a.aws_state for k, a in members.items() if k != closed} == {AwsState.ACTIVE}
    assert {a.joined_method for a in members.values()} == {"CREATED"}
    assert all(a.joined_at is not None for a in members.values())
    # Read back, the joining time compares equal: a second sync changes nothing.
    again = sync.sync_start(actor=admin, account=management)
    assert sync.organization_sync(again)["updated"] == 0
