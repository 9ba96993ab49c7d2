import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from cloudmsp.audit.models import AuditEvent
from cloudmsp.core.errors import ApplicationError, PermissionDenied
from cloudmsp.tenancy.roles import Role
from cloudmsp.users import services
from cloudmsp.users.models import ApiToken, User
from cloudmsp.users.tokens import activation_token
from tests.factories import CustomerFactory, CustomerUserFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _link_parts(link: str) -> tuple[str, str]:
    uid, token = link.rstrip("/").split("/")[-2:]
    return uid, token


def test_tenant_admin_invites_customer_user_with_activation_link(admin, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user, link = services.user_create(
            actor=admin, email=" New@Acme.TEST ", role=Role.CUSTOMER_USER, customer_id=customer.pk, first_name="N"
        )
    assert user.email == "new@acme.test"
    assert user.tenant_id == admin.tenant_id
    assert user.customer_id == customer.pk
    assert not user.has_usable_password()
    assert not user.activated
    assert link
    assert "/activate/" in link
    assert len(mail.outbox) == 1
    assert link in mail.outbox[0].body
    assert mail.outbox[0].to == ["new@acme.test"]
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="user.create")
    assert event.object_id == str(user.pk)
    assert event.actor_id == admin.pk


def test_customer_of_another_tenant_is_refused(admin):
    foreign = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=admin, email="x@y.test", role=Role.CUSTOMER_USER, customer_id=foreign.pk)
    assert "customer" in exc.value.message_dict
    assert not User.unscoped.filter(email="x@y.test").exists()


def test_duplicate_email_is_a_field_error_case_insensitively(admin, customer):
    UserFactory(email="taken@x.test")
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=admin, email="TAKEN@x.test", role=Role.CUSTOMER_USER, customer_id=customer.pk)
    assert exc.value.message_dict["email"] == ["A user with this email already exists."]


def test_sysadmin_creates_only_tenant_admins(sysadmin):
    tenant = TenantFactory()
    user, _ = services.user_create(actor=sysadmin, email="boss@t.test", role=Role.TENANT_ADMIN, tenant_id=tenant.pk)
    assert (user.role, user.tenant_id) == (Role.TENANT_ADMIN, tenant.pk)
    with pytest.raises(ValidationError):
        services.user_create(actor=sysadmin, email="c@t.test", role=Role.CUSTOMER_USER, tenant_id=tenant.pk)


def test_customer_user_cannot_create_users(customer_user):
    with pytest.raises(PermissionDenied):
        services.user_create(actor=customer_user, email="z@z.test", role=Role.CUSTOMER_USER)


def test_activation_sets_password_and_link_works_once(admin, customer):
    user, link = services.user_create(actor=admin, email="a@b.test", role=Role.CUSTOMER_USER, customer_id=customer.pk)
    uid, token = _link_parts(link)
    assert services.user_from_link(uidb64=uid, token=token) == user
    services.user_set_password_from_link(uidb64=uid, token=token, password="a-long-enough-pass-42")
    user.refresh_from_db()
    assert user.activated
    assert user.check_password("a-long-enough-pass-42")
    assert services.user_from_link(uidb64=uid, token=token) is None
    with pytest.raises(ApplicationError):
        services.user_set_password_from_link(uidb64=uid, token=token, password="another-long-pass-43")


def test_activation_link_expires(admin, customer, settings):
    _, link = services.user_create(actor=admin, email="a@b.test", role=Role.CUSTOMER_USER, customer_id=customer.pk)
    uid, token = _link_parts(link)
    settings.PASSWORD_RESET_TIMEOUT = 0
    # The generator compares whole seconds: a token made now is expired one second later.
    activation_token._now = lambda: timezone.now().replace(tzinfo=None) + timezone.timedelta(seconds=2)  # type: ignore[attr-defined]
    try:
        assert services.user_from_link(uidb64=uid, token=token) is None
    finally:
        del activation_token._now  # type: ignore[attr-defined]


def test_weak_password_refused_on_activation(admin, customer):
    _, link = services.user_create(actor=admin, email="a@b.test", role=Role.CUSTOMER_USER, customer_id=customer.pk)
    uid, token = _link_parts(link)
    with pytest.raises(ValidationError) as exc:
        services.user_set_password_from_link(uidb64=uid, token=token, password="password")
    assert "password" in exc.value.message_dict


@pytest.mark.parametrize("uid", ["", "!!", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODk", "LTE", "YWJj"])
def test_malformed_links_are_invalid(uid):
    assert services.user_from_link(uidb64=uid, token="x-y") is None


def test_resend_activation_only_before_activation(admin, customer):
    user, _ = services.user_create(actor=admin, email="a@b.test", role=Role.CUSTOMER_USER, customer_id=customer.pk)
    assert "/activate/" in services.user_send_activation(actor=admin, user=user)
    user.activated_at = timezone.now()
    user.save()
    with pytest.raises(ApplicationError):
        services.user_send_activation(actor=admin, user=user)


def test_disabling_a_user_ends_sessions_and_tokens(admin, customer_user, client_for):
    client = client_for(customer_user)
    from cloudmsp.users.authentication import token_issue

    token_issue(user=customer_user, name="ci")
    assert client.get("/").status_code == 200
    services.user_update(actor=admin, user=customer_user, data={"is_active": False})
    assert not ApiToken.objects.filter(user=customer_user).exists()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_cannot_disable_or_delete_yourself(admin):
    with pytest.raises(ValidationError):
        services.user_update(actor=admin, user=admin, data={"is_active": False})
    with pytest.raises(PermissionDenied):
        services.user_delete(actor=admin, user=admin)


def test_update_records_before_and_after(admin, customer_user):
    services.user_update(actor=admin, user=customer_user, data={"first_name": "Renamed", "phone": "+1 555"})
    event = AuditEvent.objects.for_tenant(admin.tenant).get(action="user.update")
    assert event.changes == {"first_name": ["Linus", "Renamed"], "phone": ["", "+1 555"]}


def test_update_without_changes_writes_nothing(admin, customer_user):
    services.user_update(actor=admin, user=customer_user, data={"first_name": customer_user.first_name})
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="user.update").exists()


def test_forgot_password_sends_only_for_active_users(django_capture_on_commit_callbacks):
    UserFactory(email="here@x.test")
    UserFactory(email="off@x.test", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        sent = [
            services.password_reset_send(email=email, client_address="192.0.2.1")
            for email in ("HERE@x.test", "off@x.test", "nobody@x.test")
        ]
    assert sent == [True, False, False]
    assert [m.to for m in mail.outbox] == [["here@x.test"]]


def test_password_change_checks_the_old_one(admin):
    with pytest.raises(ValidationError):
        services.password_change(actor=admin, old_password="wrong", new_password="brand-new-pass-77")
    services.password_change(actor=admin, old_password="correct-horse-battery-9", new_password="brand-new-pass-77")
    admin.refresh_from_db()
    assert admin.check_password("brand-new-pass-77")


def test_argon2_is_the_production_hasher(settings):
    from django.conf import settings as live
    from django.contrib.auth.hashers import make_password

    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    assert make_password("x-secret-value").startswith("argon2$")
    assert live.PASSWORD_HASHERS == base.PASSWORD_HASHERS


def test_delete_removes_user_and_records_it(admin, customer):
    user = CustomerUserFactory(customer=customer)
    pk = user.pk
    services.user_delete(actor=admin, user=user)
    assert not User.unscoped.filter(pk=pk).exists()
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="user.delete", object_id=str(pk)).exists()
