"""cloudmsp.tenants.services: a system administrator's writes on tenants, whose audit events are
installation-level (kept without a tenant), and the operations command's idempotent set-up."""

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_totp.models import TOTPDevice

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.core.errors import PermissionDenied
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.tenants import services
from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import ApiToken, User, UserSession
from tests.factories import (
    CloudAccountFactory,
    CustomerFactory,
    CustomerUserFactory,
    SysadminFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DUPLICATE = "A tenant with this name already exists."


def _installation_events(action):
    return list(AuditEvent.unscoped.filter(action=action))


def _signed_in(client_for, user) -> str:
    """Sign `user` in with a browser; returns the session key."""
    client_for(user)
    return UserSession.objects.filter(user=user).latest("created_at").session_key


def _tokens(user) -> int:
    return ApiToken.objects.filter(user=user).count()


# tenant_create ----------------------------------------------------------------------------------


def test_create_records_an_event_kept_without_a_tenant(sysadmin):
    tenant = services.tenant_create(actor=sysadmin, name="  Blue MSP ")
    assert Tenant.objects.get(pk=tenant.pk).name == "Blue MSP"
    assert (tenant.is_active, tenant.require_admin_2fa) == (True, False)
    [event] = _installation_events("tenant.create")
    assert (event.tenant_id, event.actor_id, event.actor_email) == (None, sysadmin.pk, sysadmin.email)
    assert (event.object_type, event.object_id, event.object_repr) == ("tenant", str(tenant.pk), "Blue MSP")
    assert event.changes == {"name": [None, "Blue MSP"]}


def test_create_without_an_actor_is_for_operations_commands(db):
    tenant = services.tenant_create(actor=None, name="Ops MSP")
    [event] = _installation_events("tenant.create")
    assert (event.object_id, event.actor_id, event.actor_email) == (str(tenant.pk), None, "")


def test_duplicate_name_is_refused_on_the_field_case_insensitively(sysadmin, tenant):
    with pytest.raises(ValidationError) as exc:
        services.tenant_create(actor=sysadmin, name=" home msp ")
    assert exc.value.message_dict == {"name": [DUPLICATE]}
    assert Tenant.objects.count() == 1
    assert _installation_events("tenant.create") == []


@pytest.mark.parametrize("name", ["", "   ", "bad\u0000name", "x" * 201])
def test_invalid_names_are_refused(sysadmin, name):
    with pytest.raises(ValidationError) as exc:
        services.tenant_create(actor=sysadmin, name=name)
    assert "name" in exc.value.message_dict
    assert not Tenant.objects.exists()


def test_only_a_system_administrator_creates_tenants(admin, customer_user):
    for actor in (admin, customer_user):
        with pytest.raises(PermissionDenied):
            services.tenant_create(actor=actor, name="Sneaky")
    assert not Tenant.objects.filter(name="Sneaky").exists()


# tenant_update ----------------------------------------------------------------------------------


def test_rename_records_before_and_after_without_a_tenant(sysadmin, tenant):
    services.tenant_update(actor=sysadmin, tenant=tenant, data={"name": " Home MSP Ltd "})
    assert Tenant.objects.get(pk=tenant.pk).name == "Home MSP Ltd"
    [event] = _installation_events("tenant.update")
    assert (event.tenant_id, event.actor_id, event.object_type, event.object_id) == (
        None,
        sysadmin.pk,
        "tenant",
        str(tenant.pk),
    )
    assert event.changes == {"name": ["Home MSP", "Home MSP Ltd"]}
    # Deleting the tenant keeps its installation-level history.
    services.tenant_delete(actor=sysadmin, tenant=tenant)
    assert len(_installation_events("tenant.update")) == 1


def test_update_without_a_change_writes_no_event(sysadmin, tenant):
    services.tenant_update(actor=sysadmin, tenant=tenant, data={"name": "Home MSP", "is_active": True, "other": 1})
    services.tenant_update(actor=sysadmin, tenant=tenant, data={"name": None, "is_active": None})
    assert _installation_events("tenant.update") == []


def test_rename_onto_another_tenants_name_is_refused(sysadmin, tenant):
    other = TenantFactory(name="Other MSP")
    with pytest.raises(ValidationError) as exc:
        services.tenant_update(actor=sysadmin, tenant=other, data={"name": "HOME msp"})
    assert exc.value.message_dict == {"name": [DUPLICATE]}
    assert Tenant.objects.get(pk=other.pk).name == "Other MSP"
    assert _installation_events("tenant.update") == []


def test_only_a_system_administrator_updates_tenants(admin, tenant):
    with pytest.raises(PermissionDenied):
        services.tenant_update(actor=admin, tenant=tenant, data={"is_active": False})
    assert Tenant.objects.get(pk=tenant.pk).is_active


def test_disabling_ends_the_tenants_sessions_and_revokes_its_tokens(sysadmin, tenant, admin, customer_user, client_for):
    admin_key = _signed_in(client_for, admin)
    user_key = _signed_in(client_for, customer_user)
    token_issue(user=admin, name="ci")
    token_issue(user=customer_user, name="script")
    elsewhere = UserFactory()
    elsewhere_key = _signed_in(client_for, elsewhere)
    token_issue(user=elsewhere, name="theirs")

    services.tenant_update(actor=sysadmin, tenant=tenant, data={"is_active": False})

    assert not Tenant.objects.get(pk=tenant.pk).is_active
    assert not Session.objects.filter(session_key__in=[admin_key, user_key]).exists()
    assert not UserSession.objects.filter(user__tenant=tenant).exists()
    assert (_tokens(admin), _tokens(customer_user)) == (0, 0)
    # Another tenant's users stay signed in.
    assert Session.objects.filter(session_key=elsewhere_key).exists()
    assert _tokens(elsewhere) == 1
    [event] = _installation_events("tenant.update")
    assert event.changes == {"is_active": [True, False]}


def test_enabling_again_brings_no_token_back_and_other_changes_end_nothing(sysadmin, tenant, admin, client_for):
    token_issue(user=admin, name="before")
    services.tenant_update(actor=sysadmin, tenant=tenant, data={"is_active": False})
    services.tenant_update(actor=sysadmin, tenant=tenant, data={"is_active": True})
    assert Tenant.objects.get(pk=tenant.pk).is_active
    assert _tokens(admin) == 0
    key = _signed_in(client_for, admin)
    token_issue(user=admin, name="new")
    services.tenant_update(actor=sysadmin, tenant=tenant, data={"name": "Renamed"})
    services.tenant_update(actor=sysadmin, tenant=tenant, data={"require_admin_2fa": False})
    assert Session.objects.filter(session_key=key).exists()
    assert _tokens(admin) == 1


def test_requiring_two_factor_revokes_tokens_of_administrators_without_a_device(sysadmin, tenant, customer_user):
    enrolled = UserFactory(tenant=tenant)
    TOTPDevice.objects.create(user=enrolled, name="Authenticator app", confirmed=True)
    unenrolled = UserFactory(tenant=tenant)
    half_set_up = UserFactory(tenant=tenant)
    TOTPDevice.objects.create(user=half_set_up, name="Authenticator app", confirmed=False)
    elsewhere = UserFactory()
    for user in (enrolled, unenrolled, half_set_up, customer_user, elsewhere):
        token_issue(user=user, name="token")

    services.tenant_update(actor=sysadmin, tenant=tenant, data={"require_admin_2fa": True})

    assert Tenant.objects.get(pk=tenant.pk).require_admin_2fa
    assert (_tokens(unenrolled), _tokens(half_set_up)) == (0, 0)
    # Enrolled administrators, customer users and other tenants keep theirs.
    assert (_tokens(enrolled), _tokens(customer_user), _tokens(elsewhere)) == (1, 1, 1)
    [event] = _installation_events("tenant.update")
    assert event.changes == {"require_admin_2fa": [False, True]}


# tenant_delete ----------------------------------------------------------------------------------


def test_delete_removes_everything_in_the_tenant_and_keeps_the_event(sysadmin, tenant, admin, customer_user, customer):
    account = CloudAccountFactory(tenant=tenant, customer=customer)
    AuditEvent.unscoped.create(tenant=tenant, action="customer.create", object_repr="the tenant's own trail")
    other = CustomerFactory()
    pk = tenant.pk

    services.tenant_delete(actor=sysadmin, tenant=tenant)

    assert not Tenant.objects.filter(pk=pk).exists()
    assert not User.unscoped.filter(pk__in=[admin.pk, customer_user.pk]).exists()
    assert not Customer.unscoped.filter(pk=customer.pk).exists()
    assert not CloudAccount.unscoped.filter(pk=account.pk).exists()
    assert not AuditEvent.unscoped.filter(tenant_id=pk).exists()
    assert Customer.unscoped.filter(pk=other.pk).exists()
    [event] = _installation_events("tenant.delete")
    assert (event.tenant_id, event.actor_id, event.object_id, event.object_repr) == (
        None,
        sysadmin.pk,
        str(pk),
        "Home MSP",
    )
    assert event.changes == {"name": ["Home MSP", None]}


def test_only_a_system_administrator_deletes_tenants(admin, tenant):
    with pytest.raises(PermissionDenied):
        services.tenant_delete(actor=admin, tenant=tenant)
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert _installation_events("tenant.delete") == []


# tenant_ensure_with_admin -----------------------------------------------------------------------


def test_ensure_creates_the_tenant_and_invites_its_administrator(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.tenant_ensure_with_admin(name="Blue MSP", admin_email=" Boss@Blue.test ", password=None)
    assert (result.tenant_created, result.admin_created) == (True, True)
    assert result.tenant == Tenant.objects.get(name="Blue MSP")
    admin = User.unscoped.get(pk=result.admin.pk)
    assert (admin.email, admin.role, admin.tenant_id) == ("boss@blue.test", Role.TENANT_ADMIN, result.tenant.pk)
    assert not admin.has_usable_password()
    assert result.activation_link
    assert "/activate/" in result.activation_link
    assert [m.to for m in mail.outbox] == [["boss@blue.test"]]
    assert result.activation_link in mail.outbox[0].body
    assert len(_installation_events("tenant.create")) == 1


def test_ensure_with_a_password_activates_the_administrator(db):
    result = services.tenant_ensure_with_admin(
        name="Blue MSP", admin_email="boss@blue.test", password="a-long-pass-77x"
    )
    assert result.activation_link is None
    admin = User.unscoped.get(pk=result.admin.pk)
    assert admin.activated
    assert admin.check_password("a-long-pass-77x")


def test_ensure_again_changes_nothing(db):
    first = services.tenant_ensure_with_admin(name="Blue MSP", admin_email="boss@blue.test", password="a-long-pass-77x")
    counts = (Tenant.objects.count(), User.unscoped.count(), AuditEvent.unscoped.count())
    again = services.tenant_ensure_with_admin(
        name=" BLUE msp ", admin_email="BOSS@blue.test", password="another-pass-88y"
    )
    assert (again.tenant, again.admin) == (first.tenant, first.admin)
    assert (again.tenant_created, again.admin_created, again.activation_link) == (False, False, None)
    assert (Tenant.objects.count(), User.unscoped.count(), AuditEvent.unscoped.count()) == counts
    # The existing administrator's password is left as it was.
    assert User.unscoped.get(pk=first.admin.pk).check_password("a-long-pass-77x")


def test_ensure_adds_an_administrator_to_an_existing_tenant(tenant, admin):
    result = services.tenant_ensure_with_admin(name="home msp", admin_email="second@home.test", password=None)
    assert (result.tenant, result.tenant_created, result.admin_created) == (tenant, False, True)
    assert User.unscoped.filter(tenant=tenant, role=Role.TENANT_ADMIN).count() == 2


def test_ensure_refused_creates_no_tenant(db):
    UserFactory(email="taken@x.test")
    with pytest.raises(ValidationError):
        services.tenant_ensure_with_admin(name="Brand New", admin_email="taken@x.test", password=None)
    assert not Tenant.objects.filter(name="Brand New").exists()
    assert not AuditEvent.unscoped.filter(action="tenant.create", object_repr="Brand New").exists()


@pytest.mark.parametrize("whose", ["another tenant's admin", "a customer user", "a system administrator"])
def test_ensure_refuses_an_email_of_another_user(tenant, whose):
    user = {
        "another tenant's admin": lambda: UserFactory(email="taken@x.test"),
        "a customer user": lambda: CustomerUserFactory(customer=CustomerFactory(tenant=tenant), email="taken@x.test"),
        "a system administrator": lambda: SysadminFactory(email="taken@x.test"),
    }[whose]()
    before = (user.role, user.tenant_id)
    with pytest.raises(ValidationError) as exc:
        services.tenant_ensure_with_admin(name="Home MSP", admin_email="TAKEN@x.test", password=None)
    assert exc.value.message_dict == {"admin": ["This email already belongs to another user."]}
    stored = User.unscoped.get(email="taken@x.test")
    assert (stored.pk, stored.role, stored.tenant_id) == (user.pk, *before)
