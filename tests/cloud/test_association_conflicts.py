"""A bulk change acts on the accounts as the administrator saw them: if someone changed their
customer since the Link to Customer or Remove Account from Customer window opened (or since an
API request arrived), nothing is changed and the answer is 409 with a message to reload. The
simultaneous case is tests/cloud/test_association_concurrency.py."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.cloud.selectors import account_selection_state
from cloudmsp.cloud.services.association import CONFLICT, accounts_associate, accounts_disassociate
from cloudmsp.core.errors import ConflictError
from tests.factories import CloudAccountFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "modal-content"}


@pytest.fixture
def accounts(admin):
    return [a.pk for a in CloudAccountFactory.create_batch(4, tenant=admin.tenant)]


@pytest.fixture
def colleague(admin):
    return UserFactory(tenant=admin.tenant, email="colleague@home.test")


def _customers(tenant, ids):
    return list(
        CloudAccount.objects.for_tenant(tenant).filter(pk__in=ids).order_by("pk").values_list("customer_id", flat=True)
    )


def _seen_state(html: str) -> str:
    match = re.search(r'name="seen_state" value="([0-9a-f]+)"', html)
    assert match, "the dialog does not carry what it showed"
    return match.group(1)


def test_link_window_opened_before_someone_elses_change_is_refused(admin_client, admin, colleague, customer, accounts):
    dialog = admin_client.get(reverse("cloud:link"), {"accounts": accounts}, **HTMX).content.decode()
    seen = _seen_state(dialog)
    other = CustomerFactory(tenant=admin.tenant, company_name="Other")
    accounts_associate(actor=colleague, customer=other, account_ids=accounts[:1])  # meanwhile
    events = AuditEvent.unscoped.count()

    response = admin_client.post(
        reverse("cloud:link"), {"accounts": accounts, "customer": customer.pk, "seen_state": seen}, **HTMX
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert CONFLICT in html
    assert 'id="modal-title">Link to Customer' in html  # still the dialog, with the message in it
    assert _customers(admin.tenant, accounts) == [other.pk, None, None, None]
    assert AuditEvent.unscoped.count() == events

    # Opened again, it shows the current assignment and FINISH goes through.
    fresh = _seen_state(admin_client.get(reverse("cloud:link"), {"accounts": accounts}, **HTMX).content.decode())
    assert fresh != seen
    response = admin_client.post(
        reverse("cloud:link"), {"accounts": accounts, "customer": customer.pk, "seen_state": fresh}, **HTMX
    )
    assert response.status_code == 200
    assert _customers(admin.tenant, accounts) == [customer.pk] * 4


def test_remove_window_opened_before_someone_elses_change_is_refused(
    admin_client, admin, colleague, customer, accounts
):
    accounts_associate(actor=admin, customer=customer, account_ids=accounts)
    dialog = admin_client.get(reverse("cloud:unlink"), {"accounts": accounts}, **HTMX).content.decode()
    seen = _seen_state(dialog)
    accounts_disassociate(actor=colleague, account_ids=accounts[2:])  # meanwhile

    response = admin_client.post(reverse("cloud:unlink"), {"accounts": accounts, "seen_state": seen}, **HTMX)

    assert response.status_code == 409
    assert CONFLICT in response.content.decode()
    assert _customers(admin.tenant, accounts) == [customer.pk, customer.pk, None, None]


def test_a_change_by_create_customer_keeps_what_the_window_showed(admin_client, admin, colleague, customer, accounts):
    """Link to Customer > CREATE CUSTOMER > back in Link to Customer: still the first view."""
    seen = _seen_state(admin_client.get(reverse("cloud:link"), {"accounts": accounts}, **HTMX).content.decode())
    created = admin_client.post(
        reverse("cloud:link_create_customer"),
        {
            "accounts": accounts,
            "seen_state": seen,
            "company_name": "New Co",
            "first_name": "A",
            "last_name": "B",
            "email": "a@new.test",
        },
        **HTMX,
    )
    assert created.status_code == 200
    assert _seen_state(created.content.decode()) == seen


def test_unchanged_accounts_link_with_the_state_the_window_showed(admin_client, admin, customer, accounts):
    seen = _seen_state(admin_client.get(reverse("cloud:link"), {"accounts": accounts}, **HTMX).content.decode())
    assert seen == account_selection_state(actor=admin, account_ids=accounts)
    response = admin_client.post(
        reverse("cloud:link"), {"accounts": accounts, "customer": customer.pk, "seen_state": seen}, **HTMX
    )
    assert response.status_code == 200


def test_service_refuses_a_stale_state(admin, colleague, customer, accounts):
    seen = account_selection_state(actor=admin, account_ids=accounts)
    accounts_associate(actor=colleague, customer=customer, account_ids=accounts[1:2])
    with pytest.raises(ConflictError) as exc:
        accounts_disassociate(actor=admin, account_ids=accounts, seen_state=seen)
    assert exc.value.message == CONFLICT
    assert exc.value.status == 409


def test_the_state_does_not_reveal_foreign_accounts(admin, accounts):
    foreign = CloudAccountFactory()
    assert account_selection_state(actor=admin, account_ids=[*accounts, foreign.pk, "junk"]) == (
        account_selection_state(actor=admin, account_ids=accounts)
    )
