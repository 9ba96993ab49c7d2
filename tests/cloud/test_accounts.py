"""cloudmsp/cloud/services/accounts.py: adding, renaming, deleting, connecting and validating
cloud accounts. The connect and validate checks run against the AWS emulator."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import Category, CloudAccount, Kind, OnboardingStatus
from cloudmsp.cloud.services import accounts
from cloudmsp.core.errors import ApplicationError, PermissionDenied
from tests.cloud.conftest import boto, create_portal_role
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

SETUP_KEYS = {
    "portal_account_id",
    "portal_error",
    "external_id",
    "role_name",
    "trust_policy",
    "access_policy",
    "cloudformation_template",
    "stackset_template",
}


def _events(tenant, action: str):
    return AuditEvent.objects.for_tenant(tenant).filter(action=action)


def _management(tenant, **kwargs) -> CloudAccount:
    return CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, **kwargs)


def _member(parent: CloudAccount, **kwargs) -> CloudAccount:
    return CloudAccountFactory(tenant=parent.tenant, category=Category.MSP, kind=Kind.MEMBER, parent=parent, **kwargs)


# account_create -------------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "kind"), [(Category.MSP, Kind.MANAGEMENT), (Category.NON_MSP, Kind.STANDALONE)])
def test_create_stores_a_not_yet_connected_account_and_audits_it(admin, category, kind):
    account = accounts.account_create(actor=admin, category=category, account_id=" 111122223333 ", name="  Payer ")
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk)
    assert (stored.category, stored.kind, stored.account_id, stored.name) == (category, kind, "111122223333", "Payer")
    assert stored.parent_id is None
    assert (stored.role_arn, stored.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert stored.external_id.startswith("cmsp-")
    assert len(stored.external_id) == len("cmsp-") + 32  # 24 random bytes, base64url
    event = _events(admin.tenant, "cloud_account.create").get()
    assert (event.actor_id, event.object_id) == (admin.pk, str(account.pk))
    assert event.changes == {
        "account_id": [None, "111122223333"],
        "category": [None, category],
        "name": [None, "Payer"],
    }


def test_each_account_gets_its_own_external_id(admin):
    ids = {
        accounts.account_create(actor=admin, category="non_msp", account_id=f"{n:012d}", name="").external_id
        for n in range(1, 6)
    }
    assert len(ids) == 5


@pytest.mark.parametrize(
    "bad_id",
    [
        "12345678901",
        "1234567890123",
        "12345678901a",
        "1234-5678-90",
        "",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff11\uff12",
    ],
    ids=["11 digits", "13 digits", "a letter", "dashes", "empty", "fullwidth digits"],
)
def test_create_refuses_an_id_that_is_not_12_ascii_digits(admin, bad_id):
    with pytest.raises(ValidationError) as exc:
        accounts.account_create(actor=admin, category="msp", account_id=bad_id, name="Payer")
    assert "An AWS account id is exactly 12 digits." in exc.value.message_dict["account_id"]
    assert not CloudAccount.objects.for_tenant(admin.tenant).exists()
    assert not _events(admin.tenant, "cloud_account.create").exists()


def test_create_reports_every_invalid_field_at_once(admin):
    with pytest.raises(ValidationError) as exc:
        accounts.account_create(actor=admin, category="msp", account_id="123", name="bad\x00name")
    errors = exc.value.message_dict
    assert errors["account_id"] == ["An AWS account id is exactly 12 digits."]
    assert "name" in errors
    assert not CloudAccount.objects.for_tenant(admin.tenant).exists()


def test_create_refuses_a_duplicate_in_the_tenant_but_not_in_another(admin):
    first = accounts.account_create(actor=admin, category="msp", account_id="111122223333", name="Payer")
    for category in ("msp", "non_msp"):
        with pytest.raises(ValidationError) as exc:
            accounts.account_create(actor=admin, category=category, account_id="111122223333", name="Again")
        assert exc.value.message_dict == {"account_id": ["This account is already in the portal."]}
    assert list(CloudAccount.objects.for_tenant(admin.tenant).values_list("pk", flat=True)) == [first.pk]
    assert _events(admin.tenant, "cloud_account.create").count() == 1
    other_admin = UserFactory(tenant=TenantFactory())
    elsewhere = accounts.account_create(actor=other_admin, category="msp", account_id="111122223333", name="Payer")
    assert elsewhere.tenant_id == other_admin.tenant_id


@pytest.mark.parametrize("category", ["member", "", "MSP"])
def test_create_refuses_a_category_other_than_msp_or_non_msp(admin, category):
    with pytest.raises(ValidationError) as exc:
        accounts.account_create(actor=admin, category=category, account_id="111122223333", name="")
    assert exc.value.message_dict == {"category": ["Choose MSP or Non-MSP."]}
    assert not CloudAccount.objects.for_tenant(admin.tenant).exists()


@pytest.mark.parametrize("who", ["customer_user", "sysadmin"])
def test_only_a_tenant_admin_creates_accounts(request, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        accounts.account_create(actor=actor, category="msp", account_id="111122223333", name="")
    assert not CloudAccount.unscoped.exists()


# account_update -------------------------------------------------------------------------------


def test_update_renames_and_audits_the_change(admin):
    account = CloudAccountFactory(tenant=admin.tenant, name="Old")
    accounts.account_update(actor=admin, account=account, name="  New name ")
    assert CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk).name == "New name"
    event = _events(admin.tenant, "cloud_account.update").get()
    assert event.changes == {"name": ["Old", "New name"]}
    assert event.object_id == str(account.pk)


def test_update_with_the_same_name_writes_nothing(admin):
    account = CloudAccountFactory(tenant=admin.tenant, name="Same")
    before = account.updated_at
    with CaptureQueriesContext(connection) as ctx:
        accounts.account_update(actor=admin, account=account, name=" Same ")
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    assert CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk).updated_at == before
    assert not _events(admin.tenant, "cloud_account.update").exists()


def test_update_refuses_a_control_character_and_keeps_the_name(admin):
    account = CloudAccountFactory(tenant=admin.tenant, name="Kept")
    with pytest.raises(ValidationError) as exc:
        accounts.account_update(actor=admin, account=account, name="evil\u202ename")
    assert "name" in exc.value.message_dict
    assert CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk).name == "Kept"
    assert not _events(admin.tenant, "cloud_account.update").exists()


def test_update_is_for_tenant_admins_only(customer_user):
    account = CloudAccountFactory(tenant=customer_user.tenant, name="Kept", customer=customer_user.customer)
    with pytest.raises(PermissionDenied):
        accounts.account_update(actor=customer_user, account=account, name="Mine now")
    assert CloudAccount.objects.for_tenant(customer_user.tenant).get(pk=account.pk).name == "Kept"


# account_delete and account_delete_impact ------------------------------------------------------


def test_delete_impact_counts_the_members_of_that_account_only(admin, django_assert_num_queries):
    payer = _management(admin.tenant)
    for _ in range(3):
        _member(payer)
    other = _management(admin.tenant)
    _member(other)
    with django_assert_num_queries(1):
        assert accounts.account_delete_impact(account=payer) == 3
    assert accounts.account_delete_impact(account=other) == 1
    assert accounts.account_delete_impact(account=CloudAccountFactory(tenant=admin.tenant)) == 0


def test_delete_removes_the_account_with_its_members_and_audits_it(admin):
    payer = _management(admin.tenant)
    members = [_member(payer) for _ in range(3)]
    other = _management(admin.tenant)
    kept_member = _member(other)
    standalone = CloudAccountFactory(tenant=admin.tenant)
    payer_pk = payer.pk
    assert accounts.account_delete(actor=admin, account=payer) == 3
    left = set(CloudAccount.objects.for_tenant(admin.tenant).values_list("pk", flat=True))
    assert left == {other.pk, kept_member.pk, standalone.pk}
    assert not left & {m.pk for m in members}
    event = _events(admin.tenant, "cloud_account.delete").get()
    assert event.object_id == str(payer_pk)
    assert event.changes == {"account_id": [payer.account_id, None], "members_removed": [3, 0]}


def test_delete_a_standalone_account_removes_only_it(admin):
    standalone = CloudAccountFactory(tenant=admin.tenant)
    kept = CloudAccountFactory(tenant=admin.tenant)
    assert accounts.account_delete(actor=admin, account=standalone) == 0
    assert list(CloudAccount.objects.for_tenant(admin.tenant).values_list("pk", flat=True)) == [kept.pk]


def test_delete_refuses_a_member_account(admin):
    payer = _management(admin.tenant)
    member = _member(payer)
    with pytest.raises(ApplicationError, match="delete its MSP account instead"):
        accounts.account_delete(actor=admin, account=member)
    assert CloudAccount.objects.for_tenant(admin.tenant).count() == 2
    assert not _events(admin.tenant, "cloud_account.delete").exists()


def test_delete_is_for_tenant_admins_only(customer_user):
    account = CloudAccountFactory(tenant=customer_user.tenant, customer=customer_user.customer)
    with pytest.raises(PermissionDenied):
        accounts.account_delete(actor=customer_user, account=account)
    assert CloudAccount.objects.for_tenant(customer_user.tenant).filter(pk=account.pk).exists()


# account_require_connectable ------------------------------------------------------------------


def test_require_connectable_refuses_a_member(admin):
    payer = _management(admin.tenant)
    with pytest.raises(ApplicationError, match="onboarded from Manage Customer Accounts"):
        accounts.account_require_connectable(_member(payer))
    accounts.account_require_connectable(payer)
    accounts.account_require_connectable(CloudAccountFactory(tenant=admin.tenant))


# account_setup_documents ----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "management"), [(Kind.MANAGEMENT, True), (Kind.STANDALONE, False)])
def test_setup_documents_name_the_portal_and_the_external_id(admin, settings, kind, management):
    settings.PORTAL_AWS_ACCOUNT_ID = "123456789012"
    category = Category.MSP if management else Category.NON_MSP
    account = CloudAccountFactory(tenant=admin.tenant, category=category, kind=kind, external_id="cmsp-abc")
    docs = accounts.account_setup_documents(actor=admin, account=account)
    assert set(docs) == SETUP_KEYS
    assert (docs["portal_account_id"], docs["portal_error"], docs["external_id"]) == ("123456789012", "", "cmsp-abc")
    assert docs["role_name"] == "CloudMSPAccess"
    statement = docs["trust_policy"]["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == "cmsp-abc"
    assert "cmsp-abc" in docs["cloudformation_template"]
    sids = [s["Sid"] for s in docs["access_policy"]["Statement"]]
    assert ("CloudMSPOrganizationRead" in sids) is management


def test_setup_documents_are_a_tenant_administrators(admin):
    customer_user = CustomerUserFactory(customer=CustomerFactory(tenant=admin.tenant))
    account = CloudAccountFactory(tenant=admin.tenant, external_id="cmsp-secret")
    with pytest.raises(PermissionDenied):
        accounts.account_setup_documents(actor=customer_user, account=account)


def test_setup_documents_when_the_portal_identity_cannot_be_read(admin, settings, monkeypatch):
    from cloudmsp.cloud.providers.aws import client as aws_client

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    settings.PORTAL_AWS_ACCOUNT_ID = ""
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.AWS_MAX_ATTEMPTS = 1
    monkeypatch.setattr(aws_client, "sleep", lambda _seconds: None)
    account = _management(admin.tenant, external_id="cmsp-abc")
    docs = accounts.account_setup_documents(actor=admin, account=account)
    assert set(docs) == SETUP_KEYS
    assert docs["portal_error"] == (
        "Read the portal's AWS identity failed: The AWS endpoint could not be reached; check the network."
    )
    assert (docs["portal_account_id"], docs["trust_policy"], docs["cloudformation_template"]) == (None, None, None)
    assert docs["external_id"] == "cmsp-abc"
    assert docs["access_policy"]["Statement"]  # needs no identity: still shown


# account_connect and account_validate ---------------------------------------------------------


def test_connect_refuses_a_member_before_checking_anything(admin):
    member = _member(_management(admin.tenant))
    with pytest.raises(ApplicationError, match="onboarded from Manage Customer Accounts"):
        accounts.account_connect(actor=admin, account=member, role_arn=f"arn:aws:iam::{member.account_id}:role/X")
    member.refresh_from_db()
    assert (member.role_arn, member.last_validated_at) == ("", None)
    assert not _events(admin.tenant, "cloud_account.connect").exists()


def test_connect_is_for_tenant_admins_only(customer_user):
    account = CloudAccountFactory(tenant=customer_user.tenant, customer=customer_user.customer)
    with pytest.raises(PermissionDenied):
        accounts.account_connect(
            actor=customer_user, account=account, role_arn=f"arn:aws:iam::{account.account_id}:role/X"
        )


def test_failed_connect_stores_only_the_attempt_and_audits_it_as_failed(admin):
    account = CloudAccountFactory(tenant=admin.tenant)
    result = accounts.account_connect(actor=admin, account=account, role_arn="arn:aws:iam::999999999999:role/X")
    assert not result.ok
    assert result.step == "Check the Role ARN"  # refused before any call to AWS
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk)
    assert (stored.role_arn, stored.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert stored.last_validated_at is not None
    assert stored.last_validation_message == f"Check the Role ARN failed: {result.message}"
    event = _events(admin.tenant, "cloud_account.connect").get()
    assert (event.outcome, event.message, event.changes) == ("failed", stored.last_validation_message, {})


def test_connect_a_non_msp_account_with_its_role(org, admin):
    standalone_id = org.members[0]
    account = accounts.account_create(actor=admin, category="non_msp", account_id=standalone_id, name="Solo")
    arn = create_portal_role(org.endpoint, standalone_id, account.external_id, management=False)
    result = accounts.account_connect(actor=admin, account=account, role_arn=f"  {arn} ")
    assert result.ok, result.message
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=account.pk)
    assert (stored.role_arn, stored.onboarding_status) == (arn, OnboardingStatus.ONBOARDED)
    assert stored.last_validation_message == result.message
    event = _events(admin.tenant, "cloud_account.connect").get()
    assert (event.outcome, event.changes) == ("success", {"role_arn": [None, arn]})


def test_validate_without_a_role_arn_is_refused(admin):
    account = CloudAccountFactory(tenant=admin.tenant)
    with pytest.raises(ApplicationError, match="no Role ARN yet"):
        accounts.account_validate(actor=admin, account=account)
    assert not _events(admin.tenant, "cloud_account.validate").exists()


def test_validate_checks_the_stored_role_again(admin, management):
    before = management.last_validated_at
    result = accounts.account_validate(actor=admin, account=management)
    assert result.ok, result.message
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=management.pk)
    assert stored.onboarding_status == OnboardingStatus.ONBOARDED
    assert stored.last_validated_at > before
    event = _events(admin.tenant, "cloud_account.validate").get()
    assert (event.actor_id, event.outcome, event.changes) == (admin.pk, "success", {})


def test_validate_by_the_system_after_the_role_was_deleted_marks_it_failed(admin, management, org):
    iam = boto(org.endpoint, "iam", org.management_id)
    iam.delete_role_policy(RoleName=management.role_name, PolicyName="CloudMSPReadOnly")
    iam.delete_role(RoleName=management.role_name)
    result = accounts.account_validate(actor=None, account=management)  # a scheduled check
    assert not result.ok
    stored = CloudAccount.objects.for_tenant(admin.tenant).get(pk=management.pk)
    assert stored.onboarding_status == OnboardingStatus.FAILED
    assert stored.role_arn == management.role_arn  # kept: the administrator decides
    assert stored.last_validation_message == f"{result.step} failed: {result.message}"
    event = _events(admin.tenant, "cloud_account.validate").get()
    assert (event.actor_id, event.actor_email, event.outcome) == (None, "", "failed")


def test_validate_is_for_tenant_admins_only(customer_user):
    account = CloudAccountFactory(
        tenant=customer_user.tenant,
        customer=customer_user.customer,
        role_arn="arn:aws:iam::100000000000:role/X",
    )
    with pytest.raises(PermissionDenied):
        accounts.account_validate(actor=customer_user, account=account)
