"""Two administrators starting the same job at the same moment (a sync of a management account,
the onboarding of a member): exactly one job starts, the other is told it is already running.

Each round both calls start together (a barrier), each in a thread with its own database
connection, against committed data, on whichever database the suite runs on."""

from __future__ import annotations

from collections import Counter
from functools import partial

from cloudmsp.cloud.models import Category, CloudAccount, Job, JobKind, JobState, Kind, OnboardingStatus
from cloudmsp.cloud.services.onboarding import onboard_start
from cloudmsp.cloud.services.sync import sync_start
from cloudmsp.core.errors import ConflictError
from tests.factories import CloudAccountFactory, TenantFactory, UserFactory
from tests.threads import run_together

ROUNDS = 20


def _race(start, kind: str, account: CloudAccount) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for n in range(ROUNDS):
        results = run_together(start, start)
        started = [r for r in results if isinstance(r, Job)]
        refused = [r for r in results if isinstance(r, ConflictError)]
        assert len(started) + len(refused) == 2, (n, results)
        jobs = Job.unscoped.filter(account=account, kind=kind, state=JobState.QUEUED)
        assert jobs.count() == 1, (n, results)  # never two jobs at once
        assert len(started) == 1, (n, results)
        outcomes["refused"] += len(refused)
        jobs.update(state=JobState.SUCCEEDED)  # done: the next round may start one
    return outcomes


def _connected_management(tenant) -> CloudAccount:
    return CloudAccountFactory(
        tenant=tenant,
        category=Category.MSP,
        kind=Kind.MANAGEMENT,
        role_arn="arn:aws:iam::111122223333:role/CloudMSPAccess",
        onboarding_status=OnboardingStatus.ONBOARDED,
    )


def test_two_syncs_started_at_once_start_one_job(threads_db):
    tenant = TenantFactory()
    admin = UserFactory(tenant=tenant)
    management = _connected_management(tenant)
    outcomes = _race(partial(sync_start, actor=admin, account=management), JobKind.SYNC, management)
    assert outcomes["refused"] == ROUNDS


def test_two_onboardings_started_at_once_start_one_job(threads_db):
    tenant = TenantFactory()
    admin = UserFactory(tenant=tenant)
    management = _connected_management(tenant)
    member = CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MEMBER, parent=management)
    member = CloudAccount.objects.for_tenant(tenant).select_related("parent").get(pk=member.pk)
    outcomes = _race(partial(onboard_start, actor=admin, account=member), JobKind.ONBOARD, member)
    assert outcomes["refused"] == ROUNDS
