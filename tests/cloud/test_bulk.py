import threading

import pytest

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount, OnboardingStatus
from cloudmsp.cloud.providers.aws import operations
from cloudmsp.cloud.services.bulk import validate_many
from tests.cloud.conftest import create_portal_role
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _accounts_with_roles(org, admin, n):
    accounts = []
    for account_id in org.members[:n]:
        account = CloudAccountFactory(tenant=admin.tenant, account_id=account_id, external_id=f"cmsp-{account_id}")
        account.role_arn = create_portal_role(
            org.endpoint, account_id, account.external_id, name="CloudMSPAccess", management=False
        )
        account.save()
        accounts.append(account)
    return accounts


def test_validate_many_bounds_concurrency_and_reuses_credentials(org, admin, monkeypatch):
    accounts = _accounts_with_roles(org, admin, 12)
    broken = accounts[-1]
    broken.role_arn = f"arn:aws:iam::{broken.account_id}:role/DoesNotExist"
    broken.save()
    in_flight, peak = [0], [0]
    lock = threading.Lock()
    real = operations.caller_account

    def counting(creds):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            import time

            time.sleep(0.02)
            return real(creds)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(operations, "caller_account", counting)
    first = validate_many(actor=admin, accounts=accounts, fresh=True, concurrency=4)
    assert (first.checked, first.ok, first.failed) == (12, 11, 1)
    assert first.assume_role_calls == 12
    assert 1 < peak[0] <= 4
    second = validate_many(actor=admin, accounts=list(CloudAccount.objects.for_tenant(admin.tenant)), concurrency=4)
    # Every working role's credentials came from the cache; the missing role is refused by STS
    # (as on AWS), so nothing was cached for it and it is asked again.
    assert second.credentials_reused == 11
    assert second.assume_role_calls == 1
    statuses = dict(CloudAccount.objects.for_tenant(admin.tenant).values_list("account_id", "onboarding_status"))
    assert statuses[broken.account_id] == OnboardingStatus.FAILED
    assert sum(1 for s in statuses.values() if s == OnboardingStatus.ONBOARDED) == 11
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.validate").count() == 24


def test_validate_many_ignores_foreign_accounts(org, admin):
    foreign = CloudAccountFactory(role_arn="arn:aws:iam::123456789012:role/x")
    result = validate_many(actor=admin, accounts=[foreign])
    assert result.checked == 0


def test_a_role_removed_while_it_was_checked_keeps_what_its_removal_wrote(org, admin):
    from cloudmsp.cloud.models import Health, HealthCheck

    accounts = _accounts_with_roles(org, admin, 2)
    gone = accounts[0]
    # Someone removes the role while the check is under way (the check holds the old instance).
    CloudAccount.unscoped.filter(pk=gone.pk).update(role_arn="", onboarding_status=OnboardingStatus.NOT_ONBOARDED)
    result = validate_many(actor=admin, accounts=accounts)
    assert result.checked == 2
    gone.refresh_from_db()
    assert (gone.role_arn, gone.onboarding_status, gone.health) == ("", OnboardingStatus.NOT_ONBOARDED, Health.UNKNOWN)
    assert not HealthCheck.unscoped.filter(account=gone).exists()
    assert HealthCheck.unscoped.filter(account=accounts[1], ok=True).count() == 1
