import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.cloud.services.association import accounts_associate, accounts_disassociate
from cloudmsp.core.errors import PermissionDenied
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _accounts(tenant, n):
    return CloudAccountFactory.create_batch(n, tenant=tenant)


def test_associate_links_all_and_audits_each(admin, customer):
    accounts = _accounts(admin.tenant, 3)
    assert accounts_associate(actor=admin, customer=customer, account_ids=[a.pk for a in accounts]) == 3
    assert set(CloudAccount.objects.for_tenant(admin.tenant).values_list("customer_id", flat=True)) == {customer.pk}
    events = AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.associate")
    assert sorted(int(e.object_id) for e in events) == sorted(a.pk for a in accounts)
    assert all(e.changes == {"customer": [None, customer.pk]} for e in events)


@pytest.mark.parametrize("bad", ["foreign", "missing", "garbage", "negative"])
def test_one_bad_id_changes_nothing(admin, customer, bad):
    accounts = _accounts(admin.tenant, 3)
    odd = {
        "foreign": CloudAccountFactory().pk,
        "missing": 10**12,
        "garbage": "12; DROP TABLE cloud_cloudaccount",
        "negative": -4,
    }[bad]
    with pytest.raises(ValidationError) as exc:
        accounts_associate(actor=admin, customer=customer, account_ids=[*(a.pk for a in accounts), odd])
    assert "accounts" in exc.value.message_dict
    assert not CloudAccount.objects.for_tenant(admin.tenant).filter(customer__isnull=False).exists()
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.associate").exists()


def test_foreign_and_missing_ids_get_the_same_message(admin, customer):
    mine = _accounts(admin.tenant, 1)[0].pk
    messages = []
    for odd in (CloudAccountFactory().pk, 10**12):
        with pytest.raises(ValidationError) as exc:
            accounts_associate(actor=admin, customer=customer, account_ids=[mine, odd])
        messages.append(exc.value.messages)
    assert messages[0] == messages[1]


def test_customer_of_another_tenant_is_refused(admin):
    accounts = _accounts(admin.tenant, 2)
    with pytest.raises(ValidationError):
        accounts_associate(actor=admin, customer=CustomerFactory(), account_ids=[a.pk for a in accounts])


def test_disassociate_all_or_nothing(admin, customer):
    accounts = _accounts(admin.tenant, 4)
    accounts_associate(actor=admin, customer=customer, account_ids=[a.pk for a in accounts])
    with pytest.raises(ValidationError):
        accounts_disassociate(actor=admin, account_ids=[accounts[0].pk, CloudAccountFactory().pk])
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).count() == 4
    assert accounts_disassociate(actor=admin, account_ids=[a.pk for a in accounts[:2]]) == 2
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).count() == 2


def test_customer_user_cannot_associate(customer_user, customer):
    with pytest.raises(PermissionDenied):
        accounts_associate(actor=customer_user, customer=customer, account_ids=[1])


@pytest.mark.parametrize("payload", [[], "123", None, 5, [[1]], [{"id": 1}], [True]])
def test_malformed_lists_are_refused(admin, customer, payload):
    with pytest.raises(ValidationError):
        accounts_associate(actor=admin, customer=customer, account_ids=payload)


def _statements(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_statement_count_does_not_grow_with_the_number_of_accounts(admin, customer):
    small = [a.pk for a in _accounts(admin.tenant, 5)]
    large = [a.pk for a in _accounts(admin.tenant, 400)]
    n_small = _statements(lambda: accounts_associate(actor=admin, customer=customer, account_ids=small))
    n_large = _statements(lambda: accounts_associate(actor=admin, customer=customer, account_ids=large))
    assert n_small == n_large
    m_small = _statements(lambda: accounts_disassociate(actor=admin, account_ids=small))
    m_large = _statements(lambda: accounts_disassociate(actor=admin, account_ids=large))
    assert m_small == m_large
