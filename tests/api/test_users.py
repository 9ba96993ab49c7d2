"""`/api/v1/users/`: the users the caller manages, invitations with activation links."""

import pytest
from django.conf import settings
from django.core import mail

from cloudmsp.audit.models import AuditEvent
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import ApiToken, User
from tests.api.helpers import assert_error, ids, url
from tests.factories import CustomerFactory, CustomerUserFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

USER_KEYS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "role",
    "tenant",
    "customer",
    "is_active",
    "activated",
    "created_at",
    "version",
}


def invited(**kwargs):
    """A user who has not yet set a password."""
    user = UserFactory(activated_at=None, **kwargs)
    user.set_unusable_password()
    user.save()
    return user


def test_tenant_admin_lists_every_user_of_its_tenant_only(admin_api, admin, customer_user, foreign, sysadmin):
    response = admin_api.get(url("users/"))
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert ids(response) == [admin.pk, customer_user.pk]  # by email
    row = response.json()["results"][1]
    assert set(row) == USER_KEYS
    assert row == row | {
        "email": "user@acme.test",
        "role": "customer_user",
        "tenant": customer_user.tenant_id,
        "customer": customer_user.customer_id,
        "is_active": True,
        "activated": True,
    }


def test_filters_by_customer_and_role(admin_api, admin, tenant, customer, customer_user):
    other_customer = CustomerFactory(tenant=tenant, company_name="Globex")
    globex_user = CustomerUserFactory(customer=other_customer, email="g@globex.test")
    second_admin = UserFactory(tenant=tenant, email="second@home.test")

    assert ids(admin_api.get(url("users/"), {"customer": customer.pk})) == [customer_user.pk]
    assert ids(admin_api.get(url("users/"), {"customer": other_customer.pk})) == [globex_user.pk]
    assert ids(admin_api.get(url("users/"), {"role": "tenant_admin"})) == [admin.pk, second_admin.pk]
    assert ids(admin_api.get(url("users/"), {"role": "customer_user"})) == [globex_user.pk, customer_user.pk]
    assert ids(admin_api.get(url("users/"), {"role": "customer_user", "customer": customer.pk})) == [customer_user.pk]
    assert ids(admin_api.get(url("users/"), {"search": "GLOBEX"})) == [globex_user.pk]
    assert ids(admin_api.get(url("users/"), {"ordering": "-email"})) == [
        customer_user.pk,
        second_admin.pk,
        globex_user.pk,
        admin.pk,
    ]


def test_filtering_by_a_foreign_customer_reveals_nothing(admin_api, foreign):
    foreign_filter = admin_api.get(url("users/"), {"customer": foreign.customer.pk})
    missing_filter = admin_api.get(url("users/"), {"customer": 987654})
    assert foreign_filter.status_code == missing_filter.status_code == 404
    assert foreign_filter.json() == missing_filter.json()


def test_sysadmin_lists_the_tenant_admins_of_every_tenant(sysadmin_api, admin, customer_user, foreign):
    assert ids(sysadmin_api.get(url("users/"))) == [admin.pk, foreign.admin.pk]
    assert ids(sysadmin_api.get(url("users/"), {"role": "customer_user"})) == []


def test_tenant_admin_creates_a_customer_user_with_an_activation_link(
    admin_api, admin, customer, django_capture_on_commit_callbacks
):
    body = {"email": "New@Acme.test", "first_name": "Ada", "role": "customer_user", "customer": customer.pk}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(url("users/"), body, format="json")

    assert response.status_code == 201
    data = response.json()
    assert set(data) == USER_KEYS | {"activation_link"}
    assert data["activation_link"].startswith(f"{settings.PORTAL_BASE_URL}/activate/")
    user = User.objects.for_tenant(admin.tenant).get(pk=data["id"])
    assert (user.email, user.role, user.customer_id, user.activated, user.has_usable_password()) == (
        "new@acme.test",
        Role.CUSTOMER_USER,
        customer.pk,
        False,
        False,
    )
    assert data == data | {"email": "new@acme.test", "customer": customer.pk, "tenant": admin.tenant_id}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@acme.test"]
    assert data["activation_link"] in mail.outbox[0].body
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="user.create")
    assert (event.object_id, event.actor_id) == (str(user.pk), admin.pk)

    # The link opens the page where the new user sets a password.
    assert admin_api.get(data["activation_link"]).status_code == 200


def test_tenant_admin_creates_a_tenant_admin(admin_api, tenant):
    body = {"email": "boss@home.test", "role": "tenant_admin", "tenant": tenant.pk}
    response = admin_api.post(url("users/"), body, format="json")
    assert response.status_code == 201
    user = User.objects.for_tenant(tenant).get(email="boss@home.test")
    assert (user.role, user.customer_id) == (Role.TENANT_ADMIN, None)
    assert response.json()["activation_link"]


def test_sysadmin_creates_a_tenant_admin_in_a_chosen_tenant(sysadmin_api, sysadmin, tenant):
    other = TenantFactory(name="Other MSP")
    body = {"email": "boss@other.test", "role": "tenant_admin", "tenant": other.pk}

    response = sysadmin_api.post(url("users/"), body, format="json")

    assert response.status_code == 201
    assert response.json()["tenant"] == other.pk
    assert response.json()["activation_link"]
    user = User.objects.for_tenant(other).get(email="boss@other.test")
    assert user.role == Role.TENANT_ADMIN
    event = AuditEvent.objects.for_tenant(other).get(action="user.create")
    assert event.actor_id == sysadmin.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@y.test", "role": "tenant_admin"}, "tenant"),
        ({"email": "x@y.test", "role": "customer_user", "tenant": "TENANT"}, "role"),
        ({"email": "x@y.test", "role": "tenant_admin", "tenant": 987654}, "tenant"),
        ({"email": "x@y.test", "role": "sysadmin", "tenant": "TENANT"}, "role"),
        ({"email": "x@y.test", "role": "tenant_admin", "tenant": "TENANT", "customer": "CUSTOMER"}, "customer"),
        ({"email": "admin@home.test", "role": "tenant_admin", "tenant": "TENANT"}, "email"),
    ],
)
def test_sysadmin_create_refusals(sysadmin_api, admin, customer, body, field):
    body = {
        k: {"TENANT": customer.tenant_id, "CUSTOMER": customer.pk}.get(v, v) if isinstance(v, str) else v
        for k, v in body.items()
    }
    before = User.unscoped.count()
    assert_error(sysadmin_api.post(url("users/"), body, format="json"), 400, field)
    assert User.unscoped.count() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "customer_user", "customer": "FOREIGN_CUSTOMER"}, "customer"),
        ({"role": "customer_user", "customer": 987654}, "customer"),
        ({"role": "customer_user"}, "customer"),
        ({"role": "tenant_admin", "tenant": "FOREIGN_TENANT"}, "tenant"),
        ({"role": "customer_user", "customer": "CUSTOMER", "tenant": "FOREIGN_TENANT"}, "tenant"),
        ({"role": "tenant_admin", "customer": "FOREIGN_CUSTOMER"}, "customer"),
        ({"role": "sysadmin"}, "role"),
        ({"role": "customer_user", "customer": "CUSTOMER", "email": "USER@acme.test"}, "email"),
        ({"role": "customer_user", "customer": "CUSTOMER", "email": "user@foreign.test"}, "email"),
        ({"role": "customer_user", "customer": "CUSTOMER", "email": "not an email"}, "email"),
        ({"role": "customer_user", "customer": "CUSTOMER", "phone": "\u202e1234"}, "phone"),
    ],
)
def test_tenant_admin_create_refusals_create_nothing(admin_api, customer, customer_user, foreign, body, field):
    refs = {
        "CUSTOMER": customer.pk,
        "FOREIGN_CUSTOMER": foreign.customer.pk,
        "FOREIGN_TENANT": foreign.tenant.pk,
    }
    body = {"email": "new@acme.test", **{k: refs.get(v, v) if isinstance(v, str) else v for k, v in body.items()}}
    before = User.unscoped.count()

    assert_error(admin_api.post(url("users/"), body, format="json"), 400, field)

    assert User.unscoped.count() == before
    assert not User.unscoped.filter(email="new@acme.test").exists()
    assert not AuditEvent.unscoped.filter(action="user.create").exists()


def test_send_activation_again(admin_api, admin, customer, django_capture_on_commit_callbacks):
    user = invited(tenant=customer.tenant, customer=customer, role=Role.CUSTOMER_USER, email="late@acme.test")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(url(f"users/{user.pk}/send-activation/"))

    assert response.status_code == 200
    assert set(response.json()) == {"activation_link"}
    assert response.json()["activation_link"].startswith(f"{settings.PORTAL_BASE_URL}/activate/")
    assert [m.to for m in mail.outbox] == [["late@acme.test"]]
    assert response.json()["activation_link"] in mail.outbox[0].body
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="user.send_activation")
    assert event.object_id == str(user.pk)


def test_send_activation_is_refused_once_the_user_has_a_password_or_is_disabled(admin_api, customer_user):
    assert_error(admin_api.post(url(f"users/{customer_user.pk}/send-activation/")), 400)
    disabled = invited(tenant=customer_user.tenant, is_active=False)
    assert_error(admin_api.post(url(f"users/{disabled.pk}/send-activation/")), 400)
    assert len(mail.outbox) == 0
    assert not AuditEvent.unscoped.filter(action="user.send_activation").exists()


def test_sysadmin_sends_activation_to_a_tenant_admin(sysadmin_api, tenant):
    boss = invited(tenant=tenant, email="boss@home.test")
    response = sysadmin_api.post(url(f"users/{boss.pk}/send-activation/"))
    assert response.status_code == 200
    assert response.json()["activation_link"]


def test_send_activation_to_a_foreign_user_is_404(admin_api, foreign):
    user = invited(tenant=foreign.tenant, email="pending@other.test")
    assert_error(admin_api.post(url(f"users/{user.pk}/send-activation/")), 404)
    assert_error(admin_api.post(url("users/987654/send-activation/")), 404)
    assert len(mail.outbox) == 0


def test_retrieve_and_update(admin_api, admin, customer_user):
    assert admin_api.get(url(f"users/{customer_user.pk}/")).json()["email"] == "user@acme.test"

    response = admin_api.patch(
        url(f"users/{customer_user.pk}/"),
        {"first_name": "Grace", "phone": "+1 555", "role": "tenant_admin", "tenant": 999},
        format="json",
    )

    assert response.status_code == 200
    customer_user.refresh_from_db()
    assert (customer_user.first_name, customer_user.phone) == ("Grace", "+1 555")
    # Role and tenant are not editable.
    assert (customer_user.role, customer_user.tenant_id) == (Role.CUSTOMER_USER, admin.tenant_id)
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="user.update")
    assert event.changes == {"first_name": ["Linus", "Grace"], "phone": ["", "+1 555"]}

    full = {"email": "Grace@Acme.test", "first_name": "G", "last_name": "H", "phone": "", "is_active": True}
    assert admin_api.put(url(f"users/{customer_user.pk}/"), full, format="json").status_code == 200
    customer_user.refresh_from_db()
    assert (customer_user.email, customer_user.last_name) == ("grace@acme.test", "H")


def test_update_refusals(admin_api, admin, customer_user):
    assert_error(admin_api.patch(url(f"users/{admin.pk}/"), {"is_active": False}, format="json"), 400, "is_active")
    taken = {"email": "ADMIN@home.test"}
    assert_error(admin_api.patch(url(f"users/{customer_user.pk}/"), taken, format="json"), 400, "email")
    admin.refresh_from_db()
    customer_user.refresh_from_db()
    assert admin.is_active
    assert customer_user.email == "user@acme.test"


def test_disabling_a_user_revokes_its_tokens(admin_api, customer_user):
    ApiToken.objects.create(user=customer_user, name="cli", prefix="abcdefgh", digest="0" * 64)
    response = admin_api.patch(url(f"users/{customer_user.pk}/"), {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert not ApiToken.objects.filter(user=customer_user).exists()


def test_delete(admin_api, admin, customer_user):
    response = admin_api.delete(url(f"users/{customer_user.pk}/"))
    assert response.status_code == 204
    assert not User.unscoped.filter(pk=customer_user.pk).exists()
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="user.delete")
    assert event.changes == {"email": ["user@acme.test", None], "role": ["customer_user", None]}


def test_nobody_deletes_themselves(admin_api, admin):
    assert_error(admin_api.delete(url(f"users/{admin.pk}/")), 403)
    assert User.unscoped.filter(pk=admin.pk).exists()


def test_sysadmin_manages_only_tenant_admins(sysadmin_api, sysadmin, admin, customer_user):
    assert sysadmin_api.patch(url(f"users/{admin.pk}/"), {"last_name": "Root"}, format="json").status_code == 200
    assert_error(sysadmin_api.get(url(f"users/{customer_user.pk}/")), 404)
    assert_error(sysadmin_api.delete(url(f"users/{customer_user.pk}/")), 404)
    assert_error(sysadmin_api.get(url(f"users/{sysadmin.pk}/")), 404)
    assert sysadmin_api.delete(url(f"users/{admin.pk}/")).status_code == 204
    assert not User.unscoped.filter(pk=admin.pk).exists()
    assert User.unscoped.filter(pk=customer_user.pk).exists()


def test_foreign_users_are_404_and_untouched(admin_api, foreign):
    for user in (foreign.admin, foreign.customer_user):
        assert user.pk not in ids(admin_api.get(url("users/")))
        assert_error(admin_api.get(url(f"users/{user.pk}/")), 404)
        assert_error(admin_api.patch(url(f"users/{user.pk}/"), {"is_active": False}, format="json"), 404)
        assert_error(admin_api.delete(url(f"users/{user.pk}/")), 404)
        user.refresh_from_db()
        assert user.is_active


def test_customer_users_get_403(customer_api, admin, customer, customer_user):
    assert_error(customer_api.get(url("users/")), 403)
    assert_error(customer_api.get(url(f"users/{customer_user.pk}/")), 403)
    body = {"email": "friend@acme.test", "role": "customer_user", "customer": customer.pk}
    assert_error(customer_api.post(url("users/"), body, format="json"), 403)
    assert_error(customer_api.patch(url(f"users/{admin.pk}/"), {"is_active": False}, format="json"), 403)
    assert_error(customer_api.delete(url(f"users/{admin.pk}/")), 403)
    assert_error(customer_api.post(url(f"users/{customer_user.pk}/send-activation/")), 403)
    admin.refresh_from_db()
    assert admin.is_active
    assert not User.unscoped.filter(email="friend@acme.test").exists()
