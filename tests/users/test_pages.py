import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User
from tests.factories import PASSWORD, CloudAccountFactory, CustomerUserFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_login_with_email_and_logout(admin):
    client = Client()
    response = client.post(reverse("users:login"), {"username": "ADMIN@home.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200
    assert client.post(reverse("users:logout")).status_code == 302
    assert client.get(reverse("customers:list")).status_code == 302


def test_login_rotates_the_session_key(admin):
    client = Client()
    client.get(reverse("users:login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("users:login"), {"username": admin.email, "password": PASSWORD})
    assert client.session.session_key != before


def test_wrong_password_and_disabled_tenant_cannot_sign_in(admin):
    client = Client()
    response = client.post(reverse("users:login"), {"username": admin.email, "password": "nope"})
    assert response.status_code == 200
    assert "The email or password is not correct" in response.content.decode()
    admin.tenant.is_active = False
    admin.tenant.save()
    response = client.post(reverse("users:login"), {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_pages_redirect_anonymous_users_to_login():
    response = Client().get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_each_role_lands_on_its_start_page(admin, sysadmin, customer_user, client_for):
    assert client_for(sysadmin).get("/")["Location"] == reverse("tenants:list")
    dashboard = client_for(admin).get("/")  # issue 15: the tenant dashboard, no longer the customers
    assert dashboard.status_code == 200
    assert "<h1>Dashboard</h1>" in dashboard.content.decode()
    home = client_for(customer_user).get("/")
    assert home.status_code == 200
    assert "Acme" in home.content.decode()


def test_customer_user_home_shows_only_its_customers_accounts(customer_user, customer, client_for):
    mine = CloudAccountFactory(tenant=customer.tenant, customer=customer, name="mine-prod")
    CloudAccountFactory(tenant=customer.tenant, name="unassigned-acct")
    other = CustomerUserFactory(customer__tenant=customer.tenant)
    CloudAccountFactory(tenant=customer.tenant, customer=other.customer, name="other-customer-acct")
    html = client_for(customer_user).get("/").content.decode()
    assert mine.account_id in html
    assert "mine-prod" in html
    assert "unassigned-acct" not in html
    assert "other-customer-acct" not in html
    assert "Delete" not in html  # read-only


def test_activation_page_sets_password_and_signs_in(admin_client, customer):
    response = admin_client.post(
        reverse("customers:user_create", kwargs={"customer_id": customer.pk}),
        {"email": "fresh@acme.test", "first_name": "F", "last_name": "R"},
        **HTMX,
    )
    assert response.status_code == 200
    link = re.search(r'value="(http[^"]+/activate/[^"]+)"', response.content.decode()).group(1)
    path = "/activate/" + link.split("/activate/", 1)[1]
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert "fresh@acme.test" in page.content.decode()
    mismatch = client.post(path, {"password": "a-long-pass-123", "password_again": "different-456"})
    assert mismatch.status_code == 422
    assert "The two passwords are not the same." in mismatch.content.decode()
    done = client.post(path, {"password": "a-long-pass-123", "password_again": "a-long-pass-123"})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # signed in
    assert User.unscoped.get(email="fresh@acme.test").activated
    assert Client().get(path).status_code == 400  # used links are invalid


def test_forgot_password_flow(admin, django_capture_on_commit_callbacks, run_tasks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("users:forgot_password"), {"email": admin.email})
    assert response.status_code == 200
    assert "If an active account has this email" in response.content.decode()
    assert mail.outbox == []  # sent by the task worker, after the answer
    run_tasks()
    link = re.search(r"http://\S+/activate/\S+/", mail.outbox[0].body).group(0)
    path = "/activate/" + link.split("/activate/", 1)[1]
    client.post(path, {"password": "new-secret-pass-1", "password_again": "new-secret-pass-1"})
    admin.refresh_from_db()
    assert admin.check_password("new-secret-pass-1")
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="user.reset_password").exists()


def test_forgot_password_does_not_reveal_unknown_emails():
    response = Client().post(reverse("users:forgot_password"), {"email": "nobody@nowhere.test"})
    assert "If an active account has this email" in response.content.decode()
    assert mail.outbox == []


def test_profile_edit_and_password_change(admin_client, admin):
    response = admin_client.post(reverse("users:profile"), {"first_name": "Ada", "last_name": "L", "phone": "123"})
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.first_name == "Ada"
    bad = admin_client.post(
        reverse("users:password_change"),
        {"pw-old_password": "nope", "pw-password": "x-new-pass-999", "pw-password_again": "x-new-pass-999"},
    )
    assert bad.status_code == 422
    assert "Your current password is not correct." in bad.content.decode()
    ok = admin_client.post(
        reverse("users:password_change"),
        {"pw-old_password": PASSWORD, "pw-password": "x-new-pass-999", "pw-password_again": "x-new-pass-999"},
    )
    assert ok.status_code == 302
    assert admin_client.get(reverse("customers:list")).status_code == 200  # still signed in


def test_customer_users_list_create_edit_delete(admin_client, customer):
    list_url = reverse("customers:user_list", kwargs={"customer_id": customer.pk})
    assert "No users yet" in admin_client.get(list_url).content.decode()
    admin_client.post(
        reverse("customers:user_create", kwargs={"customer_id": customer.pk}),
        {"email": "cu@acme.test", "first_name": "C", "last_name": "U"},
        **HTMX,
    )
    user = User.unscoped.get(email="cu@acme.test")
    assert (user.role, user.customer_id) == (Role.CUSTOMER_USER, customer.pk)
    assert "cu@acme.test" in admin_client.get(list_url, **HTMX).content.decode()
    kwargs = {"customer_id": customer.pk, "user_id": user.pk}
    edit = admin_client.post(
        reverse("customers:user_edit", kwargs=kwargs),
        {"email": "cu@acme.test", "first_name": "Changed", "last_name": "U", "phone": "", "is_active": "on"},
        **HTMX,
    )
    assert edit.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Changed"
    assert admin_client.post(reverse("customers:user_delete", kwargs=kwargs), **HTMX).status_code == 200
    assert not User.unscoped.filter(pk=user.pk).exists()


def test_user_of_another_customer_is_404_under_this_customer(admin_client, customer):
    sibling = CustomerUserFactory(customer__tenant=customer.tenant)
    url = reverse("customers:user_detail", kwargs={"customer_id": customer.pk, "user_id": sibling.pk})
    assert admin_client.get(url).status_code == 404


def test_tenant_admin_manages_fellow_admins(admin_client, admin):
    colleague = UserFactory(tenant=admin.tenant, email="colleague@home.test")
    html = admin_client.get(reverse("users:admin_list")).content.decode()
    assert "colleague@home.test" in html
    assert "admin@home.test" in html
    response = admin_client.post(reverse("users:admin_delete", kwargs={"user_id": colleague.pk}), **HTMX)
    assert response.status_code == 200
    own = admin_client.post(reverse("users:admin_delete", kwargs={"user_id": admin.pk}), **HTMX)
    assert own.status_code == 409
    assert "You cannot delete yourself." in own.content.decode()


def test_send_activation_again_from_the_details_panel(admin_client, customer, django_capture_on_commit_callbacks):
    user = CustomerUserFactory(customer=customer, activated_at=None)
    url = reverse("customers:user_send_activation", kwargs={"customer_id": customer.pk, "user_id": user.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, **HTMX)
    assert "A new activation link was emailed" in response.content.decode()
    assert mail.outbox[-1].to == [user.email]


def test_every_create_dialog_names_what_it_creates_once(admin_client, sysadmin_client, admin, tenant):
    """Issue 15, defect 1: "Create customer usercustomer user"."""
    from tests.factories import CustomerFactory

    customer = CustomerFactory(tenant=admin.tenant)
    dialogs = [
        (admin_client, reverse("customers:user_create", kwargs={"customer_id": customer.pk}), "Create customer user"),
        (admin_client, reverse("users:admin_create"), "Create administrator"),
        (admin_client, reverse("customers:create"), "Create customer"),
        (admin_client, reverse("cloud:rule_create"), "Create assignment rule"),
        (
            sysadmin_client,
            reverse("tenants:admin_create", kwargs={"tenant_id": tenant.pk}),
            "Create tenant administrator",
        ),
    ]
    for client, url, title in dialogs:
        html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert f'<h2 id="modal-title">{title}</h2>' in html, (url, html[:300])


def test_a_users_details_panel_marks_its_row_and_can_be_closed(admin_client, customer, customer_user):
    url = reverse("customers:user_detail", kwargs={"customer_id": customer.pk, "user_id": customer_user.pk})
    html = admin_client.get(url).content.decode()
    assert f'<tr id="user-{customer_user.pk}" class="selected" aria-current="true">' in html
    assert 'aria-label="Close details"' in html
    panel = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'data-panel-row="user-{customer_user.pk}"' in panel
