import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount, OwnershipInterval
from cloudmsp.cloud.services.association import accounts_associate, accounts_disassociate, accounts_matching
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


# "All N accounts matching this filter" -----------------------------------------------------------


def _associate_matching(admin, target, search="", **filters):
    ids = accounts_matching(actor=admin, search=search, filters=filters)
    return accounts_associate(actor=admin, customer=target, account_ids=ids)


def test_all_matching_links_every_account_the_filter_shows_on_all_pages(admin, customer):
    prod = CloudAccountFactory.create_batch(30, tenant=admin.tenant, ou_path="Root/Prod")
    CloudAccountFactory.create_batch(5, tenant=admin.tenant, ou_path="Root/Dev")
    taken = CloudAccountFactory(
        tenant=admin.tenant, ou_path="Root/Prod/Web", customer=CustomerFactory(tenant=admin.tenant)
    )
    assert _associate_matching(admin, customer, ou="Root/Prod", customer="none") == 30
    linked = set(CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).values_list("pk", flat=True))
    assert linked == {a.pk for a in prod}
    taken.refresh_from_db()
    assert taken.customer_id != customer.pk
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.associate").count() == 30
    assert OwnershipInterval.objects.for_tenant(admin.tenant).filter(customer=customer, valid_to=None).count() == 30


def test_all_matching_is_evaluated_on_the_server_within_the_tenant(admin, customer):
    from tests.factories import TenantFactory

    other = TenantFactory()
    foreign_parent = CloudAccountFactory(tenant=other, kind="management", category="msp")
    CloudAccountFactory.create_batch(3, tenant=other, kind="member", category="msp", parent=foreign_parent)
    foreign_customer = CustomerFactory(tenant=other)
    CloudAccountFactory(tenant=other, customer=foreign_customer)
    CloudAccountFactory(tenant=admin.tenant, name="mine")
    for filters in ({"parent": foreign_parent.pk}, {"customer": foreign_customer.pk}):
        with pytest.raises(ValidationError, match="No account matches this filter"):
            accounts_matching(actor=admin, filters=filters)
    # An empty filter is every account of the tenant, and only of the tenant.
    assert _associate_matching(admin, customer) == 1
    assert not CloudAccount.unscoped.filter(tenant=other, customer=customer).exists()


def test_all_matching_keeps_the_bulk_limit(admin, monkeypatch):
    from cloudmsp.cloud.services import association

    CloudAccountFactory.create_batch(4, tenant=admin.tenant)
    monkeypatch.setattr(association, "MAX_BULK", 3)
    with pytest.raises(ValidationError, match="At most 3 accounts at once"):
        accounts_matching(actor=admin, filters={})
    monkeypatch.setattr(association, "MAX_BULK", 4)
    assert len(accounts_matching(actor=admin, filters={})) == 4


def test_all_matching_is_for_tenant_admins_only(customer_user):
    with pytest.raises(PermissionDenied):
        accounts_matching(actor=customer_user, filters={})


def test_all_matching_takes_a_fixed_number_of_statements(admin, customer):
    CloudAccountFactory.create_batch(5, tenant=admin.tenant, ou_path="Root/Small")
    CloudAccountFactory.create_batch(400, tenant=admin.tenant, ou_path="Root/Large")
    n_small = _statements(lambda: _associate_matching(admin, customer, ou="Root/Small"))
    n_large = _statements(lambda: _associate_matching(admin, customer, ou="Root/Large"))
    assert n_small == n_large
    by_ids = [a.pk for a in _accounts(admin.tenant, 5)]
    # One statement more than the same change by ids: the one that reads the matching ids.
    assert _statements(lambda: accounts_associate(actor=admin, customer=customer, account_ids=by_ids)) == n_small - 1
    m_small = _statements(
        lambda: accounts_disassociate(
            actor=admin, account_ids=accounts_matching(actor=admin, filters={"ou": "Root/Small"})
        )
    )
    m_large = _statements(
        lambda: accounts_disassociate(
            actor=admin, account_ids=accounts_matching(actor=admin, filters={"ou": "Root/Large"})
        )
    )
    assert m_small == m_large
