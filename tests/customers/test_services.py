"""cloudmsp.customers.services: creating, changing and deleting customers, each with its audit
event in the same transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.core.errors import PermissionDenied
from cloudmsp.customers import services
from cloudmsp.customers.models import Customer
from cloudmsp.customers.signals import customer_deleting
from cloudmsp.users.models import User
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, UserFactory

pytestmark = pytest.mark.django_db

DUPLICATE = "A customer with this company name already exists."


def _create(actor, company_name="Initech", **extra):
    return services.customer_create(
        actor=actor,
        company_name=company_name,
        first_name="Bill",
        last_name="Lumbergh",
        email="bill@initech.example",
        **extra,
    )


def _events(tenant, action):
    return list(AuditEvent.objects.for_tenant(tenant).filter(action=action))


# customer_create --------------------------------------------------------------------------------


def test_create_makes_the_customer_in_the_actors_tenant_with_its_event(admin, tenant):
    customer = services.customer_create(
        actor=admin,
        company_name="  Initech ",
        first_name="Bill",
        last_name="Lumbergh",
        email=" Bill@Initech.EXAMPLE ",
        city="Austin",
    )
    stored = Customer.objects.for_tenant(tenant).get(pk=customer.pk)
    assert (stored.company_name, stored.email, stored.city) == ("Initech", "bill@initech.example", "Austin")
    [event] = _events(tenant, "customer.create")
    assert (event.actor_id, event.actor_email, event.object_type, event.object_id) == (
        admin.pk,
        admin.email,
        "customer",
        str(customer.pk),
    )
    # Only the fields given a value are recorded.
    assert event.changes == {
        "company_name": [None, "Initech"],
        "first_name": [None, "Bill"],
        "last_name": [None, "Lumbergh"],
        "email": [None, "bill@initech.example"],
        "city": [None, "Austin"],
    }


def test_duplicate_company_name_is_refused_on_the_field_case_insensitively(admin, tenant, customer):
    with pytest.raises(ValidationError) as exc:
        _create(admin, company_name="  ACME ")
    assert exc.value.message_dict == {"company_name": [DUPLICATE]}
    assert Customer.objects.for_tenant(tenant).count() == 1
    assert _events(tenant, "customer.create") == []


def test_the_same_name_is_free_in_another_tenant(admin, customer):
    other_admin = UserFactory()
    created = _create(other_admin, company_name="Acme")
    assert created.tenant_id == other_admin.tenant_id != customer.tenant_id


def test_create_refuses_bad_fields_and_writes_nothing(admin, tenant):
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=admin, company_name=" ", first_name="A", last_name="B", email="not-an-email")
    assert {"company_name", "email"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        _create(admin, description="bidi \u202e override")
    assert "description" in exc.value.message_dict
    assert not Customer.objects.for_tenant(tenant).exists()
    assert not AuditEvent.objects.for_tenant(tenant).exists()


def test_create_refuses_fields_a_customer_does_not_have(admin, tenant):
    with pytest.raises(TypeError, match="tenant"):
        _create(admin, tenant="elsewhere")
    assert not Customer.objects.for_tenant(tenant).exists()


def test_only_a_tenant_administrator_creates(sysadmin, customer_user):
    for actor in (sysadmin, customer_user):
        with pytest.raises(PermissionDenied):
            _create(actor)
    assert not Customer.unscoped.filter(company_name="Initech").exists()


# customer_update --------------------------------------------------------------------------------


def test_update_records_before_and_after_of_what_changed(admin, customer):
    email_before = customer.email
    services.customer_update(
        actor=admin,
        customer=customer,
        data={"company_name": "Acme Ltd", "email": "Sales@ACME.example", "first_name": customer.first_name},
    )
    stored = Customer.objects.for_tenant(customer.tenant).get(pk=customer.pk)
    assert (stored.company_name, stored.email) == ("Acme Ltd", "sales@acme.example")
    [event] = _events(customer.tenant, "customer.update")
    assert event.object_id == str(customer.pk)
    assert event.actor_id == admin.pk
    assert event.changes == {
        "company_name": ["Acme", "Acme Ltd"],
        "email": [email_before, "sales@acme.example"],
    }


def test_update_leaves_fields_not_given_and_ignores_none_and_unknown_keys(admin, customer):
    foreign_tenant = UserFactory().tenant
    services.customer_update(
        actor=admin, customer=customer, data={"city": "Oslo", "phone": None, "tenant": foreign_tenant, "id": 999}
    )
    stored = Customer.unscoped.get(pk=customer.pk)
    assert (stored.city, stored.phone, stored.tenant_id, stored.company_name) == ("Oslo", "", admin.tenant_id, "Acme")
    [event] = _events(customer.tenant, "customer.update")
    assert event.changes == {"city": ["", "Oslo"]}


def test_update_without_a_change_writes_no_event(admin, customer):
    services.customer_update(actor=admin, customer=customer, data={"company_name": " Acme "})
    assert _events(customer.tenant, "customer.update") == []


def test_renaming_onto_another_customers_name_is_refused(admin, customer):
    other = CustomerFactory(tenant=customer.tenant, company_name="Globex")
    with pytest.raises(ValidationError) as exc:
        services.customer_update(actor=admin, customer=other, data={"company_name": "acme"})
    assert exc.value.message_dict == {"company_name": [DUPLICATE]}
    assert Customer.unscoped.get(pk=other.pk).company_name == "Globex"
    assert _events(customer.tenant, "customer.update") == []


def test_only_a_tenant_administrator_updates(customer_user, customer):
    with pytest.raises(PermissionDenied):
        services.customer_update(actor=customer_user, customer=customer, data={"city": "Oslo"})
    assert Customer.unscoped.get(pk=customer.pk).city == ""


# customer_delete_impact -------------------------------------------------------------------------


def test_delete_impact_counts_the_customers_users_and_accounts(customer):
    assert services.customer_delete_impact(customer=customer) == {"users": 0, "accounts": 0}
    CustomerUserFactory(customer=customer)
    CustomerUserFactory(customer=customer)
    CloudAccountFactory(tenant=customer.tenant, customer=customer)
    # Not this customer's:
    CustomerUserFactory(customer=CustomerFactory(tenant=customer.tenant))
    CloudAccountFactory(tenant=customer.tenant)
    assert services.customer_delete_impact(customer=customer) == {"users": 2, "accounts": 1}


# customer_delete --------------------------------------------------------------------------------


def test_delete_removes_users_releases_accounts_and_records_counts(admin, customer):
    users = [CustomerUserFactory(customer=customer).pk for _ in range(2)]
    accounts = [CloudAccountFactory(tenant=customer.tenant, customer=customer).pk for _ in range(3)]
    neighbour = CustomerFactory(tenant=customer.tenant)
    kept_user = CustomerUserFactory(customer=neighbour)
    kept_account = CloudAccountFactory(tenant=customer.tenant, customer=neighbour)
    pk = customer.pk

    impact = services.customer_delete(actor=admin, customer=customer)

    assert impact == {"users": 2, "accounts": 3}
    assert not Customer.unscoped.filter(pk=pk).exists()
    assert not User.unscoped.filter(pk__in=users).exists()
    released = CloudAccount.objects.for_tenant(customer.tenant).filter(pk__in=accounts)
    assert [a.customer_id for a in released] == [None, None, None]
    assert CloudAccount.unscoped.get(pk=kept_account.pk).customer_id == neighbour.pk
    assert User.unscoped.filter(pk=kept_user.pk).exists()
    [event] = _events(customer.tenant, "customer.delete")
    assert (event.actor_id, event.object_id, event.object_repr) == (admin.pk, str(pk), "Acme")
    assert event.changes == {"company_name": ["Acme", None], "users_deleted": [2, 0], "accounts_unassigned": [3, 0]}


def test_delete_is_one_transaction_with_the_release_of_the_accounts(admin, customer):
    """Should anything fail after the accounts were released, they are assigned again."""
    user = CustomerUserFactory(customer=customer)
    account = CloudAccountFactory(tenant=customer.tenant, customer=customer)

    def fail(**kwargs):
        # Runs after the cloud app's receiver, which has released the accounts by now.
        assert CloudAccount.unscoped.get(pk=account.pk).customer_id is None
        raise RuntimeError("something after the release fails")

    customer_deleting.connect(fail, weak=False, dispatch_uid="test-fail-after-release")
    try:
        with pytest.raises(RuntimeError):
            services.customer_delete(actor=admin, customer=customer)
    finally:
        customer_deleting.disconnect(dispatch_uid="test-fail-after-release")
    assert CloudAccount.unscoped.get(pk=account.pk).customer_id == customer.pk
    assert Customer.unscoped.filter(pk=customer.pk).exists()
    assert User.unscoped.filter(pk=user.pk).exists()
    assert _events(customer.tenant, "customer.delete") == []


def _delete_then_fail(admin, customer):
    with transaction.atomic():
        services.customer_delete(actor=admin, customer=customer)
        raise RuntimeError("the caller's transaction fails")


def test_delete_rolls_back_with_the_surrounding_transaction(admin, customer):
    account = CloudAccountFactory(tenant=customer.tenant, customer=customer)
    pk = customer.pk
    with pytest.raises(RuntimeError):
        _delete_then_fail(admin, customer)
    assert CloudAccount.unscoped.get(pk=account.pk).customer_id == pk
    assert Customer.unscoped.filter(pk=pk).exists()
    assert _events(customer.tenant, "customer.delete") == []


def test_delete_of_a_customer_without_users_or_accounts(admin, customer):
    assert services.customer_delete(actor=admin, customer=customer) == {"users": 0, "accounts": 0}
    [event] = _events(customer.tenant, "customer.delete")
    assert event.changes["users_deleted"] == [0, 0]


def test_only_a_tenant_administrator_deletes(sysadmin, customer_user, customer):
    for actor in (sysadmin, customer_user):
        with pytest.raises(PermissionDenied):
            services.customer_delete(actor=actor, customer=customer)
    assert Customer.unscoped.filter(pk=customer.pk).exists()
    assert User.unscoped.filter(pk=customer_user.pk).exists()
