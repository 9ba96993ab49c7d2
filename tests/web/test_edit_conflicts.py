"""Editing something that someone else changed meanwhile is refused (409) instead of silently
overwriting their change: the edit form carries the version it was loaded with, and the details
panel says what happened and offers to reload. One generic mechanism (cloudmsp/web/crud.py and
update_with_audit) for customers, users and tenants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from cloudmsp.customers.services import customer_update
from cloudmsp.tenants.services import tenant_update
from cloudmsp.users.services import user_update
from tests.factories import CustomerUserFactory, SysadminFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class Case:
    editor: Any  # who edits in the page
    other: Any  # who changes the object meanwhile
    obj: Any
    edit_url: str
    form: dict[str, str]  # a valid submission, changing `field`
    field: str
    change: Any  # changes `field` the other way, as the other person


def _customer(admin, customer) -> Case:
    data = {"company_name": "Acme Page", "first_name": "Ada", "last_name": "L", "email": "ada@acme.test"}
    return Case(
        admin,
        UserFactory(tenant=admin.tenant),
        customer,
        reverse("customers:edit", kwargs={"customer_id": customer.pk}),
        data,
        "company_name",
        lambda actor: customer_update(actor=actor, customer=customer, data={"company_name": "Acme Meanwhile"}),
    )


def _customer_user(admin, customer) -> Case:
    user = CustomerUserFactory(customer=customer, email="cu@acme.test")
    data = {"email": "cu@acme.test", "first_name": "Page", "last_name": "User", "phone": "", "is_active": "on"}
    return Case(
        admin,
        UserFactory(tenant=admin.tenant),
        user,
        reverse("customers:user_edit", kwargs={"customer_id": customer.pk, "user_id": user.pk}),
        data,
        "first_name",
        lambda actor: user_update(actor=actor, user=user, data={"first_name": "Meanwhile"}),
    )


def _administrator(admin, customer) -> Case:
    fellow = UserFactory(tenant=admin.tenant, email="fellow@home.test")
    data = {"email": "fellow@home.test", "first_name": "Page", "last_name": "Admin", "phone": "", "is_active": "on"}
    return Case(
        admin,
        UserFactory(tenant=admin.tenant),
        fellow,
        reverse("users:admin_edit", kwargs={"user_id": fellow.pk}),
        data,
        "first_name",
        lambda actor: user_update(actor=actor, user=fellow, data={"first_name": "Meanwhile"}),
    )


def _tenant(admin, customer) -> Case:
    tenant = admin.tenant
    return Case(
        SysadminFactory(),
        SysadminFactory(),
        tenant,
        reverse("tenants:edit", kwargs={"tenant_id": tenant.pk}),
        {"name": "Home MSP Page", "is_active": "on"},
        "name",
        lambda actor: tenant_update(actor=actor, tenant=tenant, data={"name": "Home MSP Meanwhile"}),
    )


CASES = [_customer, _customer_user, _administrator, _tenant]
IDS = ["customer", "customer user", "administrator", "tenant"]


@pytest.fixture(params=CASES, ids=IDS)
def case(request, admin, customer) -> Case:
    return request.param(admin, customer)


def _version(html: str) -> str:
    match = re.search(r'<input type="hidden" name="version" value="([^"]+)">', html)
    assert match, "the edit form carries no version"
    return match.group(1)


def _open(client, case: Case) -> str:
    response = client.get(case.edit_url, **HTMX)
    assert response.status_code == 200
    return _version(response.content.decode())


def test_a_change_made_meanwhile_is_not_overwritten(client_for, case):
    client = client_for(case.editor)
    version = _open(client, case)
    case.change(case.other)  # someone else saves first
    case.obj.refresh_from_db()
    theirs = getattr(case.obj, case.field)
    events = AuditEvent.unscoped.count()

    response = client.post(case.edit_url, {**case.form, "version": version}, **HTMX)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this" in html
    assert "Your changes below were not saved." in html
    assert re.search(r'<a href="[^"]+" role="button" hx-get="[^"]+" hx-target="#details-panel">Reload</a>', html)
    # The form keeps what the user typed (to copy), and the version they had: saving it again
    # is refused too, until they reload.
    assert case.form[case.field] in html
    assert _version(html) == version
    case.obj.refresh_from_db()
    assert getattr(case.obj, case.field) == theirs
    assert AuditEvent.unscoped.count() == events
    assert client.post(case.edit_url, {**case.form, "version": version}, **HTMX).status_code == 409

    # Reload: the current values and version; now the edit goes through.
    fresh = _open(client, case)
    assert fresh != version
    response = client.post(case.edit_url, {**case.form, "version": fresh}, **HTMX)
    assert response.status_code == 200, response.content.decode()[:2000]
    case.obj.refresh_from_db()
    assert getattr(case.obj, case.field) == case.form[case.field]


def test_an_unchanged_object_saves_and_a_second_save_needs_the_new_version(client_for, case):
    client = client_for(case.editor)
    version = _open(client, case)
    assert client.post(case.edit_url, {**case.form, "version": version}, **HTMX).status_code == 200
    # The same (now old) form submitted again, with a different value: the object has moved on.
    other = {**case.form, case.field: case.form[case.field] + " again"}
    assert client.post(case.edit_url, {**other, "version": version}, **HTMX).status_code == 409


def test_a_form_without_a_version_still_saves(client_for, case):
    # Nothing to compare with: the change applies to the object as it is now.
    response = client_for(case.editor).post(case.edit_url, case.form, **HTMX)
    assert response.status_code == 200
    case.obj.refresh_from_db()
    assert getattr(case.obj, case.field) == case.form[case.field]


@pytest.mark.parametrize("garbage", ["yesterday", "2020-01-01T00:00:00", "x" * 500])
def test_a_version_that_is_not_one_is_refused(client_for, case, garbage):
    response = client_for(case.editor).post(case.edit_url, {**case.form, "version": garbage}, **HTMX)
    assert response.status_code == 409
    assert "out of date" in response.content.decode() or "Someone else changed" in response.content.decode()


def test_without_htmx_the_conflict_is_a_full_page(client_for, case):
    client = client_for(case.editor)
    version = _open(client, case)
    case.change(case.other)
    response = client.post(case.edit_url, {**case.form, "version": version})
    assert response.status_code == 409
    html = response.content.decode()
    assert "<html" in html
    assert "Someone else changed this" in html
    assert f'href="{case.edit_url}" role="button"' in html
