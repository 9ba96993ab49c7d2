"""An organization's accounts over their life (SPEC section 8), synced from the emulator:
accounts that move between two of the tenant's organizations, leave every organization, are
closed or suspended, or were invited."""

from __future__ import annotations

import pytest

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import AwsState, CloudAccount
from cloudmsp.cloud.services import sync
from cloudmsp.cloud.services.accounts import account_connect, account_create
from cloudmsp.demo import emulator
from tests.cloud.conftest import boto, create_portal_role

pytestmark = pytest.mark.django_db(transaction=True)
SECOND_MANAGEMENT = "444455556666"


def _sync(admin, management) -> dict:
    return sync.organization_sync(sync.sync_start(actor=admin, account=management))


def _account(admin, account_id: str) -> CloudAccount:
    return CloudAccount.objects.for_tenant(admin.tenant).get(account_id=account_id)


def _events(admin, action: str, account: CloudAccount) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.for_tenant(admin.tenant).filter(action=action, object_id=str(account.pk)).order_by("pk")
    )


@pytest.fixture
def second_management(org, admin) -> CloudAccount:
    """A second organization of the tenant, with one member of its own."""
    api = boto(org.endpoint, "organizations", SECOND_MANAGEMENT)
    api.create_organization(FeatureSet="ALL")
    api.create_account(Email="other@example.com", AccountName="other-member")
    account = account_create(actor=admin, category="msp", account_id=SECOND_MANAGEMENT, name="Second payer")
    arn = create_portal_role(org.endpoint, SECOND_MANAGEMENT, account.external_id)
    assert account_connect(actor=admin, account=account, role_arn=arn).ok
    account.refresh_from_db()
    return account


def test_an_account_moved_to_another_of_the_tenants_organizations_is_re_parented_keeping_its_customer(
    org, admin, management, second_management, customer
):
    _sync(admin, management)
    moving = _account(admin, org.members[0])
    CloudAccount.unscoped.filter(pk=moving.pk).update(customer=customer)
    emulator.move_account(moving.account_id, source=org.management_id, destination=SECOND_MANAGEMENT)

    result = _sync(admin, second_management)

    assert (result["added"], result["moved_in"]) == (1, 1)
    moving.refresh_from_db()
    assert (moving.parent_id, moving.customer_id) == (second_management.pk, customer.pk)
    assert (moving.aws_state, moving.joined_method) == (AwsState.ACTIVE, "INVITED")
    # With no role yet, it takes the id the new organization's StackSet template gives it.
    assert moving.external_id == f"{second_management.external_id}-{moving.account_id}"
    (event,) = _events(admin, "cloud_account.move", moving)
    assert event.changes == {"parent": [org.management_id, SECOND_MANAGEMENT]}
    assert "customer is kept" in event.message
    # The old organization's next sync no longer counts it as its own: not marked removed.
    assert _sync(admin, management)["removed"] == 0
    moving.refresh_from_db()
    assert (moving.parent_id, moving.aws_state) == (second_management.pk, AwsState.ACTIVE)


def test_an_account_that_left_every_organization_is_removed_keeping_its_customer(org, admin, management, customer):
    _sync(admin, management)
    leaving = _account(admin, org.members[1])
    CloudAccount.unscoped.filter(pk=leaving.pk).update(customer=customer)
    org.org_client().remove_account_from_organization(AccountId=leaving.account_id)

    assert _sync(admin, management)["removed"] == 1

    leaving.refresh_from_db()
    assert (leaving.aws_state, leaving.customer_id, leaving.parent_id) == (AwsState.REMOVED, customer.pk, management.pk)
    (event,) = _events(admin, "cloud_account.leave_organization", leaving)
    assert event.changes == {"aws_state": [AwsState.ACTIVE, AwsState.REMOVED]}
    # Once removed it stays so, and is not audited again.
    assert _sync(admin, management)["removed"] == 0
    assert len(_events(admin, "cloud_account.leave_organization", leaving)) == 1


def test_an_account_that_comes_back_is_active_again(org, admin, management, second_management):
    _sync(admin, management)
    account_id = org.members[2]
    emulator.move_account(account_id, source=org.management_id, destination=SECOND_MANAGEMENT)
    assert _sync(admin, management)["removed"] == 1
    emulator.move_account(account_id, source=SECOND_MANAGEMENT, destination=org.management_id)
    result = _sync(admin, management)
    assert result["updated"] == 1
    assert _account(admin, account_id).aws_state == AwsState.ACTIVE


@pytest.mark.parametrize("state", [AwsState.PENDING_CLOSURE, AwsState.CLOSED, AwsState.SUSPENDED])
def test_each_lifecycle_state_is_read(org, admin, management, state):
    emulator.set_account_state(org.members[3], state)
    _sync(admin, management)
    assert _account(admin, org.members[3]).aws_state == state


def test_an_invited_account_is_stored_as_invited(org, admin, management):
    emulator.make_invited(org.endpoint, org.members[4])
    _sync(admin, management)
    assert _account(admin, org.members[4]).joined_method == "INVITED"


def test_what_a_sync_finds_is_announced_once(org, admin, management):
    from cloudmsp.notifications.models import Event

    _sync(admin, management)
    assert not Event.unscoped.exists()  # the first sync finds every account: no news
    suspended, closing, leaving = org.members[:3]
    emulator.set_account_state(suspended, "SUSPENDED")
    emulator.set_account_state(closing, "PENDING_CLOSURE")
    boto(org.endpoint, "organizations", org.management_id).remove_account_from_organization(AccountId=leaving)
    new = org.add_member("late-joiner")

    _sync(admin, management)
    emulator.set_account_state(closing, "CLOSED")  # closing goes on: already announced
    _sync(admin, management)

    found = sorted((e.type, e.payload["account"]["account_id"]) for e in Event.unscoped.all())
    assert found == sorted(
        [
            ("account.suspended", suspended),
            ("account.closed", closing),
            ("account.removed", leaving),
            ("account.discovered", new),
        ]
    )
    removed = Event.unscoped.get(type="account.removed")
    assert removed.payload["data"] == {"management_account": org.management_id, "previous_state": "ACTIVE"}
    assert removed.account_id == _account(admin, leaving).pk
