"""`/api/v1/cloud-accounts/`: tenant administrators add, connect, sync, onboard, assign and remove
accounts; customer users read their own customer's accounts. The flows run against the AWS
emulator (moto); the refusals never reach AWS."""

from __future__ import annotations

import json

import pytest
import yaml

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Job, JobState, Kind, OnboardingStatus
from cloudmsp.cloud.tasks import run_onboard, run_sync
from tests.api.helpers import assert_error, ids, url
from tests.cloud import conftest as emulator
from tests.cloud.conftest import PORTAL_ACCOUNT, create_portal_role
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db
moto = pytest.mark.django_db(transaction=True)

# The AWS emulator's fixtures (tests/cloud/conftest.py), shared with this module.
moto_endpoint, aws, org, management = emulator.moto_endpoint, emulator.aws, emulator.org, emulator.management

ACCOUNT_KEYS = {
    "id",
    "provider",
    "category",
    "kind",
    "parent",
    "account_id",
    "name",
    "email",
    "aws_state",
    "aws_status",
    "joined_method",
    "joined_at",
    "ou_path",
    "customer",
    "customer_name",
    "role_arn",
    "role_name",
    "external_id",
    "role_created_by_portal",
    "onboarding_status",
    "last_validated_at",
    "last_validation_message",
    "health",
    "health_since",
    "last_synced_at",
    "created_at",
    "updated_at",
}
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
SECRETS = ("AccessKeyId", "SecretAccessKey", "SessionToken", "aws_access_key", "aws_secret", "secret_access")


@pytest.fixture(autouse=True)
def _aws_offline(settings, monkeypatch):
    """Tests that do not use the emulator must not reach AWS: any call fails at once. The
    emulator's `aws` fixture, when used, points the settings at it instead."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "offline")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "offline")
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_MAX_ATTEMPTS = 1
    settings.PORTAL_AWS_ACCOUNT_ID = PORTAL_ACCOUNT


@pytest.fixture
def accounts(tenant, customer):
    """A management account with two members (one assigned to `customer`), and a stand-alone
    account of another customer."""
    mgmt = CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, account_id="100000000001")
    m1 = CloudAccountFactory(
        tenant=tenant,
        category=Category.MSP,
        kind=Kind.MEMBER,
        parent=mgmt,
        account_id="100000000002",
        customer=customer,
        ou_path="Root/Prod",
    )
    m2 = CloudAccountFactory(
        tenant=tenant,
        category=Category.MSP,
        kind=Kind.MEMBER,
        parent=mgmt,
        account_id="100000000003",
        aws_state=AwsState.SUSPENDED,
        onboarding_status=OnboardingStatus.ONBOARDED,
        role_arn="arn:aws:iam::100000000003:role/CloudMSPAccess",
    )
    other = CustomerFactory(tenant=tenant, company_name="Other Co")
    alone = CloudAccountFactory(tenant=tenant, account_id="100000000004", customer=other, name="Standalone")
    return {"mgmt": mgmt, "m1": m1, "m2": m2, "alone": alone}


def post(client, path, body=None):
    return client.post(url(path), body, format="json")


def no_secrets(response):
    text = response.content.decode()
    assert not [s for s in SECRETS if s.lower() in text.lower()], text


# Reading -----------------------------------------------------------------------------------------


def test_list_shows_every_account_of_the_tenant(admin_api, accounts, customer, foreign):
    CloudAccountFactory(tenant=foreign.tenant, customer=foreign.customer)

    response = admin_api.get(url("cloud-accounts/"))

    body = response.json()
    assert body["count"] == 4
    assert [r["id"] for r in body["results"]] == [a.pk for a in accounts.values()]
    assert all(set(r) == ACCOUNT_KEYS for r in body["results"])
    m1 = body["results"][1]
    assert (m1["kind"], m1["parent"], m1["customer"], m1["customer_name"]) == (
        "member",
        accounts["mgmt"].pk,
        customer.pk,
        "Acme",
    )
    assert body["results"][0]["customer_name"] is None


def test_filters(admin_api, accounts, customer):
    a = accounts

    def listed(**params):
        return ids(admin_api.get(url("cloud-accounts/"), params))

    assert listed(category="msp") == [a["mgmt"].pk, a["m1"].pk, a["m2"].pk]
    assert listed(category="non_msp") == [a["alone"].pk]
    assert listed(kind="management") == [a["mgmt"].pk]
    assert listed(parent=a["mgmt"].pk) == [a["m1"].pk, a["m2"].pk]
    assert listed(parent=a["alone"].pk) == []
    assert listed(customer=customer.pk) == [a["m1"].pk]
    assert listed(customer="none") == [a["mgmt"].pk, a["m2"].pk]
    assert listed(onboarding_status="onboarded") == [a["m2"].pk]
    assert listed(aws_state="SUSPENDED") == [a["m2"].pk]
    assert listed(aws_status="SUSPENDED") == [a["m2"].pk]  # the deprecated name still filters
    assert listed(aws_state="ACTIVE", aws_status="SUSPENDED") == [a["mgmt"].pk, a["m1"].pk, a["alone"].pk]
    assert listed(kind="member", customer="none") == [a["m2"].pk]
    assert listed(kind="", customer="") == [x.pk for x in a.values()]  # empty means no filter


def test_filtering_by_a_foreign_customer_or_parent_reveals_nothing(admin_api, accounts, foreign):
    theirs = CloudAccountFactory(tenant=foreign.tenant, kind=Kind.MANAGEMENT, category=Category.MSP)
    CloudAccountFactory(tenant=foreign.tenant, customer=foreign.customer)
    assert ids(admin_api.get(url("cloud-accounts/"), {"customer": foreign.customer.pk})) == []
    assert ids(admin_api.get(url("cloud-accounts/"), {"parent": theirs.pk})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "MSP"}, "category"),
        ({"kind": "payer"}, "kind"),
        ({"parent": "abc"}, "parent"),
        ({"parent": "99999999999999999999999"}, "parent"),
        ({"parent": "-1"}, "parent"),
        ({"customer": "abc"}, "customer"),
        ({"customer": "0"}, "customer"),
        ({"onboarding_status": "done"}, "onboarding_status"),
        ({"aws_state": "active"}, "aws_state"),
        ({"kind": "\u202e" * 300}, "kind"),
    ],
)
def test_bad_filters_are_400(admin_api, accounts, params, field):
    assert_error(admin_api.get(url("cloud-accounts/"), params), 400, field)


def test_search_ordering_and_pages(admin_api, accounts):
    a = accounts
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "standal"})) == [a["alone"].pk]
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "root/prod"})) == [a["m1"].pk]
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "00000000003"})) == [a["m2"].pk]
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "Other co"})) == [a["alone"].pk]
    assert ids(admin_api.get(url("cloud-accounts/"), {"ordering": "-account_id"})) == [
        a["alone"].pk,
        a["m2"].pk,
        a["m1"].pk,
        a["mgmt"].pk,
    ]
    assert ids(admin_api.get(url("cloud-accounts/"), {"ordering": "tenant__name"})) == [x.pk for x in a.values()]
    second = admin_api.get(url("cloud-accounts/"), {"page_size": 3, "page": 2}).json()
    assert (second["count"], [r["id"] for r in second["results"]]) == (4, [a["alone"].pk])
    assert second["previous"]


def test_search_follows_changes_and_never_matches_across_two_fields(admin_api, accounts):
    alone = accounts["alone"]
    alone.name, alone.email = "Prod", "ops@example.com"
    alone.save()
    # search_text is kept by the database: the new name is found, the old one no longer.
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "standal"})) == []
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "OPS@EXAMPLE"})) == [alone.pk]
    # "...04" + "Prod" are neighbours in search_text, never one match.
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "04Prod"})) == []
    assert ids(admin_api.get(url("cloud-accounts/"), {"search": "04 Prod"})) == []


def test_search_is_case_insensitive_and_takes_wildcards_literally(admin_api, accounts):
    alone = accounts["alone"]
    alone.name = "Dev_100% ÉTÉ"
    alone.save()
    for term in ("dev_100%", "DEV_1", "_100%", "100% É"):
        assert ids(admin_api.get(url("cloud-accounts/"), {"search": term})) == [alone.pk], term
    # % and _ are not wildcards: "d_v" would match "Dev", "%%" every account.
    for term in ("%%", "d_v", "\\"):
        assert ids(admin_api.get(url("cloud-accounts/"), {"search": term})) == [], term


def test_retrieve(admin_api, accounts):
    response = admin_api.get(url(f"cloud-accounts/{accounts['m2'].pk}/"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ACCOUNT_KEYS
    assert (body["account_id"], body["role_name"], body["aws_state"]) == (
        "100000000003",
        "CloudMSPAccess",
        "SUSPENDED",
    )


def test_customer_user_reads_only_its_customers_accounts(customer_api, accounts, foreign):
    assert ids(customer_api.get(url("cloud-accounts/"))) == [accounts["m1"].pk]
    # Filters cannot widen the view.
    assert ids(customer_api.get(url("cloud-accounts/"), {"customer": accounts["alone"].customer_id})) == []
    assert ids(customer_api.get(url("cloud-accounts/"), {"customer": "none"})) == []
    assert customer_api.get(url(f"cloud-accounts/{accounts['m1'].pk}/")).status_code == 200
    for account in (accounts["mgmt"], accounts["m2"], accounts["alone"]):
        assert_error(customer_api.get(url(f"cloud-accounts/{account.pk}/")), 404)


def test_customer_user_writes_nothing(customer_api, accounts, customer):
    own = accounts["m1"].pk
    before = list(CloudAccount.unscoped.order_by("pk").values_list())
    assert_error(
        post(customer_api, "cloud-accounts/", {"category": "msp", "account_id": "123412341234", "name": "x"}), 403
    )
    assert_error(customer_api.patch(url(f"cloud-accounts/{own}/"), {"name": "x"}, format="json"), 403)
    assert_error(customer_api.delete(url(f"cloud-accounts/{own}/")), 403)
    assert_error(customer_api.get(url(f"cloud-accounts/{own}/setup/")), 403)
    for action, body in [
        ("connect", {"role_arn": "arn:aws:iam::100000000002:role/X"}),
        ("validate", None),
        ("sync", None),
        ("onboard", {"method": "automatic"}),
        ("remove-role", None),
    ]:
        assert_error(post(customer_api, f"cloud-accounts/{own}/{action}/", body), 403)
    assert_error(post(customer_api, "cloud-accounts/associate/", {"customer": customer.pk, "accounts": [own]}), 403)
    assert_error(post(customer_api, "cloud-accounts/disassociate/", {"accounts": [own]}), 403)
    assert list(CloudAccount.unscoped.order_by("pk").values_list()) == before


def test_sysadmin_and_anonymous_callers_are_refused(sysadmin_api, anon, accounts):
    pk = accounts["m1"].pk
    for client, status in ((sysadmin_api, 403), (anon, 401)):
        assert_error(client.get(url("cloud-accounts/")), status)
        assert_error(client.get(url(f"cloud-accounts/{pk}/")), status)
        assert_error(post(client, "cloud-accounts/", {"category": "msp", "account_id": "123412341234"}), status)
        assert_error(post(client, f"cloud-accounts/{pk}/validate/"), status)
        assert_error(post(client, "cloud-accounts/disassociate/", {"accounts": [pk]}), status)


DETAIL_REQUESTS = [
    ("get", "", None),
    ("patch", "", {"name": "Hijacked"}),
    ("delete", "", None),
    ("get", "setup/", None),
    ("post", "connect/", {"role_arn": "arn:aws:iam::100000000009:role/X"}),
    ("post", "validate/", None),
    ("post", "sync/", None),
    ("post", "onboard/", {"method": "manual", "role_arn": "arn:aws:iam::100000000009:role/X"}),
    ("post", "remove-role/", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), DETAIL_REQUESTS)
def test_foreign_ids_answer_404_like_missing_ones_and_change_nothing(admin_api, foreign, method, suffix, body):
    mgmt = CloudAccountFactory(
        tenant=foreign.tenant,
        kind=Kind.MANAGEMENT,
        category=Category.MSP,
        role_arn="arn:aws:iam::100000000009:role/X",
        onboarding_status=OnboardingStatus.ONBOARDED,
    )
    member = CloudAccountFactory(tenant=foreign.tenant, kind=Kind.MEMBER, category=Category.MSP, parent=mgmt)
    before = list(CloudAccount.unscoped.order_by("pk").values_list())
    for account in (mgmt, member):
        seen = getattr(admin_api, method)(url(f"cloud-accounts/{account.pk}/{suffix}"), body, format="json")
        missing = getattr(admin_api, method)(url(f"cloud-accounts/987654321/{suffix}"), body, format="json")
        assert_error(seen, 404)
        assert seen.json() == missing.json()
    assert list(CloudAccount.unscoped.order_by("pk").values_list()) == before
    assert not Job.unscoped.exists()


@pytest.mark.parametrize(
    "path", ["cloud-accounts/abc/", "cloud-accounts/0/", "cloud-accounts/0/setup/", "cloud-accounts/1/nothing/"]
)
def test_unknown_paths_are_json_404(admin_api, path):
    assert_error(admin_api.get(url(path)), 404)


def test_methods_not_served_are_405(admin_api, accounts):
    pk = accounts["alone"].pk
    assert_error(admin_api.put(url(f"cloud-accounts/{pk}/"), {"name": "x"}, format="json"), 405)
    assert_error(admin_api.get(url(f"cloud-accounts/{pk}/connect/")), 405)
    assert_error(admin_api.get(url("cloud-accounts/associate/")), 405)
    assert_error(admin_api.post(url(f"cloud-accounts/{pk}/setup/")), 405)
    assert admin_api.options(url(f"cloud-accounts/{pk}/onboard/")).status_code == 200


# Adding, renaming, deleting --------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "kind"), [("msp", "management"), ("non_msp", "standalone")])
def test_create_answers_the_external_id_and_the_role_documents(admin_api, tenant, category, kind):
    response = post(
        admin_api, "cloud-accounts/", {"category": category, "account_id": "210987654321", "name": " Payer "}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ACCOUNT_KEYS | {"setup"}
    account = CloudAccount.objects.for_tenant(tenant).get(pk=body["id"])
    assert (account.kind, account.category, account.name) == (kind, category, "Payer")
    assert (body["kind"], body["onboarding_status"], body["role_arn"]) == (kind, "not_onboarded", "")
    assert body["external_id"] == account.external_id
    assert account.external_id.startswith("cmsp-")
    setup = body["setup"]
    assert set(setup) == SETUP_KEYS
    assert (setup["portal_account_id"], setup["portal_error"], setup["external_id"]) == (
        PORTAL_ACCOUNT,
        "",
        account.external_id,
    )
    statement = setup["trust_policy"]["Statement"][0]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{PORTAL_ACCOUNT}:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": account.external_id}}
    template = yaml.safe_load(setup["cloudformation_template"])
    role = template["Resources"]["CloudMSPRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"] == setup["trust_policy"]
    assert role["Policies"][0]["PolicyDocument"] == setup["access_policy"]
    # Only a management account has an organization to deploy a StackSet to.
    assert (setup["stackset_template"] is not None) == (kind == "management")
    org_read = any("organizations:ListAccounts" in s["Action"] for s in setup["access_policy"]["Statement"])
    assert org_read == (kind == "management")
    assert AuditEvent.objects.for_tenant(tenant).filter(action="cloud_account.create").count() == 1


def test_setup_when_the_portals_aws_account_is_unknown(admin_api, settings):
    settings.PORTAL_AWS_ACCOUNT_ID = ""  # looked up in AWS, which is unreachable here

    response = post(admin_api, "cloud-accounts/", {"category": "non_msp", "account_id": "210987654321", "name": "x"})

    assert response.status_code == 201
    setup = response.json()["setup"]
    assert setup["portal_account_id"] is None
    assert setup["trust_policy"] is None
    assert setup["cloudformation_template"] is None
    assert "portal's AWS identity" in setup["portal_error"]
    assert setup["access_policy"]["Statement"]


def test_setup_of_an_existing_account(admin_api, accounts):
    member = accounts["m1"]
    response = admin_api.get(url(f"cloud-accounts/{member.pk}/setup/"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SETUP_KEYS
    assert body["external_id"] == member.external_id
    assert body["role_name"] == "CloudMSPAccess"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "msp", "account_id": "1234", "name": "x"}, "account_id"),
        ({"category": "msp", "account_id": "12345678901a", "name": "x"}, "account_id"),
        ({"category": "msp", "account_id": "1234567890123", "name": "x"}, "account_id"),
        ({"category": "member", "account_id": "123456789012", "name": "x"}, "category"),
        ({"category": "msp", "account_id": "123456789012"}, "name"),
        ({"category": "msp", "account_id": "123456789012", "name": ""}, "name"),
        ({"category": "msp", "account_id": "123456789012", "name": "a\u202eb"}, "name"),
        ({"category": "msp", "account_id": "123456789012", "name": "\ud800"}, "name"),
        ({"category": "msp", "account_id": "123456789012", "name": "x" * 201}, "name"),
        ({"category": "msp", "account_id": "1234567890\x00", "name": "x"}, "account_id"),
        ({"category": ["msp"], "account_id": "123456789012", "name": "x"}, "category"),
        ({"category": "msp", "account_id": {"a": 1}, "name": "x"}, "account_id"),
        ({"category": "msp", "account_id": 123456789012, "name": "x"}, "account_id"),
    ],
)
def test_create_refusals_create_nothing(admin_api, tenant, body, field):
    response = admin_api.post(url("cloud-accounts/"), json.dumps(body), content_type="application/json")
    assert_error(response, 400, field)
    assert not CloudAccount.objects.for_tenant(tenant).exists()


def test_create_refuses_an_account_already_in_the_portal(admin_api, accounts, foreign):
    assert_error(
        post(admin_api, "cloud-accounts/", {"category": "non_msp", "account_id": "100000000002", "name": "x"}),
        400,
        "account_id",
    )
    # Another tenant may have the same AWS account.
    CloudAccountFactory(tenant=foreign.tenant, account_id="555555555555")
    assert (
        post(admin_api, "cloud-accounts/", {"category": "msp", "account_id": "555555555555", "name": "x"}).status_code
        == 201
    )


@pytest.mark.parametrize("body", [[], "x", [1, 2], None])
def test_bodies_that_are_not_objects_are_400(admin_api, accounts, body):
    pk = accounts["m1"].pk
    for path in ("cloud-accounts/", f"cloud-accounts/{pk}/onboard/", "cloud-accounts/associate/"):
        response = admin_api.post(url(path), json.dumps(body), content_type="application/json")
        assert_error(response, 400)
    assert_error(admin_api.post(url("cloud-accounts/"), "{", content_type="application/json"), 400)


def test_rename_only_the_name(admin_api, accounts, tenant):
    account = accounts["alone"]
    response = admin_api.patch(
        url(f"cloud-accounts/{account.pk}/"),
        {"name": " Renamed ", "account_id": "999999999999", "kind": "member"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["account_id"]) == ("Renamed", "100000000004")
    account.refresh_from_db()
    assert (account.name, account.account_id, account.kind) == ("Renamed", "100000000004", Kind.STANDALONE)
    assert AuditEvent.objects.for_tenant(tenant).filter(action="cloud_account.update").count() == 1
    # Nothing to change is not an error.
    assert admin_api.patch(url(f"cloud-accounts/{account.pk}/"), {}, format="json").status_code == 200
    assert_error(admin_api.patch(url(f"cloud-accounts/{account.pk}/"), {"name": ""}, format="json"), 400, "name")
    assert_error(admin_api.patch(url(f"cloud-accounts/{account.pk}/"), {"name": ["x"]}, format="json"), 400, "name")


def test_delete(admin_api, accounts, tenant):
    response = admin_api.delete(url(f"cloud-accounts/{accounts['mgmt'].pk}/"))
    assert response.status_code == 204
    # The members go with their MSP account.
    assert list(CloudAccount.objects.for_tenant(tenant).values_list("pk", flat=True)) == [accounts["alone"].pk]
    assert admin_api.delete(url(f"cloud-accounts/{accounts['alone'].pk}/")).status_code == 204
    assert not CloudAccount.objects.for_tenant(tenant).exists()


def test_a_member_account_is_not_deleted_on_its_own(admin_api, accounts):
    body = assert_error(admin_api.delete(url(f"cloud-accounts/{accounts['m1'].pk}/")), 400)
    assert "delete its MSP account instead" in body["detail"]
    assert CloudAccount.unscoped.filter(pk=accounts["m1"].pk).exists()


# Refusals before AWS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account", "suffix", "body", "status", "text"),
    [
        ("m1", "connect/", {"role_arn": "arn:aws:iam::100000000002:role/X"}, 400, "Member accounts are onboarded"),
        ("alone", "validate/", None, 400, "no Role ARN yet"),
        ("alone", "sync/", None, 400, "Only an MSP (management) account"),
        ("m1", "sync/", None, 400, "Only an MSP (management) account"),
        ("mgmt", "sync/", None, 400, "Connect the account's role first"),
        ("alone", "onboard/", {"method": "automatic"}, 400, "for member accounts"),
        ("m1", "onboard/", {"method": "automatic"}, 400, "Connect the role of the MSP account"),
        (
            "m2",
            "onboard/",
            {"method": "manual", "role_arn": "arn:aws:iam::100000000003:role/X"},
            409,
            "already onboarded",
        ),
        ("alone", "remove-role/", None, 400, "no Role ARN"),
    ],
)
def test_actions_the_account_cannot_take(admin_api, accounts, account, suffix, body, status, text):
    before = list(CloudAccount.unscoped.order_by("pk").values_list())
    response = post(admin_api, f"cloud-accounts/{accounts[account].pk}/{suffix}", body)
    assert text in assert_error(response, status)["detail"]
    assert list(CloudAccount.unscoped.order_by("pk").values_list()) == before
    assert not Job.unscoped.exists()


@pytest.mark.parametrize(
    ("suffix", "body", "field"),
    [
        ("connect/", {}, "role_arn"),
        ("connect/", {"role_arn": ""}, "role_arn"),
        ("connect/", {"role_arn": ["arn"]}, "role_arn"),
        ("connect/", {"role_arn": "a" * 2049}, "role_arn"),
        ("connect/", {"role_arn": "arn:aws:iam::100000000004:role/\x00"}, "role_arn"),
        ("onboard/", {}, "method"),
        ("onboard/", {"method": "magic"}, "method"),
        ("onboard/", {"method": "manual"}, "role_arn"),
        ("onboard/", {"method": "manual", "role_arn": ""}, "role_arn"),
        ("onboard/", {"method": "automatic", "role_name": "bad name!"}, "role_name"),
        ("onboard/", {"method": "automatic", "role_name": "x" * 65}, "role_name"),
        ("onboard/", {"method": "automatic", "role_name": "\ud800"}, "role_name"),
        ("onboard/", {"method": "automatic", "role_name": 12}, "role_name"),
        ("onboard/", {"method": "manual", "role_arn": 12}, "role_arn"),
        ("connect/", {"role_arn": 12}, "role_arn"),
    ],
)
def test_malformed_action_bodies_are_400_and_change_nothing(admin_api, accounts, suffix, body, field):
    account = accounts["alone"] if suffix == "connect/" else accounts["m1"]
    before = list(CloudAccount.unscoped.order_by("pk").values_list())
    response = admin_api.post(
        url(f"cloud-accounts/{account.pk}/{suffix}"), json.dumps(body), content_type="application/json"
    )
    assert_error(response, 400, field)
    assert list(CloudAccount.unscoped.order_by("pk").values_list()) == before
    assert not Job.unscoped.exists()


def test_an_unparsable_role_arn_says_which_step_failed(admin_api, accounts):
    account = accounts["alone"]
    response = post(
        admin_api, f"cloud-accounts/{account.pk}/connect/", {"role_arn": "arn:aws:iam::999999999999:role/X"}
    )
    message = assert_error(response, 400, "role_arn")["errors"]["role_arn"][0]
    assert message == "Check the Role ARN failed: The ARN is in account 999999999999, but this is account 100000000004."
    account.refresh_from_db()
    assert (account.role_arn, account.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert account.last_validation_message == message  # the attempt is recorded, nothing else


# Customers: associate and disassociate, all or nothing ----------------------------------------------


def test_associate_and_disassociate(admin_api, accounts, customer, tenant):
    picked = [accounts["m1"].pk, accounts["m2"].pk, accounts["alone"].pk]

    response = post(admin_api, "cloud-accounts/associate/", {"customer": customer.pk, "accounts": picked})

    assert response.status_code == 200
    assert response.json() == {"changed": 2}  # m1 already was the customer's
    assert set(CloudAccount.objects.for_tenant(tenant).filter(customer=customer).values_list("pk", flat=True)) == set(
        picked
    )
    response = post(admin_api, "cloud-accounts/disassociate/", {"accounts": [str(pk) for pk in picked[:2]]})
    assert response.json() == {"changed": 2}
    assert list(CloudAccount.objects.for_tenant(tenant).filter(customer=customer).values_list("pk", flat=True)) == [
        accounts["alone"].pk
    ]
    assert AuditEvent.objects.for_tenant(tenant).filter(action__startswith="cloud_account.").count() == 4


@pytest.mark.parametrize("path", ["associate", "disassociate"])
def test_one_foreign_id_changes_nothing(admin_api, accounts, customer, foreign, path):
    theirs = CloudAccountFactory(tenant=foreign.tenant, customer=foreign.customer)
    before = list(CloudAccount.unscoped.order_by("pk").values_list())
    events = AuditEvent.unscoped.count()
    body = {"customer": customer.pk, "accounts": [accounts["m2"].pk, accounts["alone"].pk, theirs.pk]}

    seen = post(admin_api, f"cloud-accounts/{path}/", body)
    missing = post(admin_api, f"cloud-accounts/{path}/", {**body, "accounts": [accounts["m2"].pk, 987654321]})

    assert assert_error(seen, 400, "accounts")["errors"]["accounts"] == ["1 of the selected accounts were not found."]
    assert seen.json() == missing.json()
    assert list(CloudAccount.unscoped.order_by("pk").values_list()) == before
    assert AuditEvent.unscoped.count() == events


def test_a_foreign_customer_reads_like_a_missing_one(admin_api, accounts, foreign):
    body = {"accounts": [accounts["m2"].pk]}
    seen = post(admin_api, "cloud-accounts/associate/", {**body, "customer": foreign.customer.pk})
    missing = post(admin_api, "cloud-accounts/associate/", {**body, "customer": 987654321})
    assert assert_error(seen, 400, "customer")["errors"]["customer"] == ["Customer not found."]
    assert seen.json() == missing.json()
    assert CloudAccount.unscoped.get(pk=accounts["m2"].pk).customer_id is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"accounts": [1]}, "customer"),
        ({"customer": "abc", "accounts": [1]}, "customer"),
        ({"customer": 2**70, "accounts": [1]}, "customer"),
        ({"customer": True, "accounts": [1]}, "customer"),
        ({"customer": None, "accounts": [1]}, "customer"),
        ({"customer": "CUSTOMER"}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": []}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": "1,2"}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": {"1": True}}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": None}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", "abc"]}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", True]}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", 1.5]}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", -1]}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", 2**70]}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", [1]]}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", None]}, "accounts"),
        ({"customer": "CUSTOMER", "accounts": ["ACCOUNT", "\x00"]}, "accounts"),
    ],
)
def test_malformed_association_bodies_are_400(admin_api, accounts, customer, body, field):
    def fill(value):
        if value == "CUSTOMER":
            return customer.pk
        if value == "ACCOUNT":
            return accounts["m2"].pk
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    body = {k: fill(v) for k, v in body.items()}
    before = list(CloudAccount.unscoped.order_by("pk").values_list())
    for path in ("associate", "disassociate"):
        if path == "disassociate" and field == "customer":
            continue
        response = admin_api.post(url(f"cloud-accounts/{path}/"), json.dumps(body), content_type="application/json")
        assert_error(response, 400, field)
    assert list(CloudAccount.unscoped.order_by("pk").values_list()) == before


# Query counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 40])
@pytest.mark.parametrize("who", ["admin", "customer_user"])
def test_list_query_count_does_not_grow(api_for, request, tenant, customer, rows, who, django_assert_num_queries):
    mgmt = CloudAccountFactory(tenant=tenant, kind=Kind.MANAGEMENT, category=Category.MSP, customer=customer)
    CloudAccountFactory.create_batch(
        rows - 1, tenant=tenant, kind=Kind.MEMBER, category=Category.MSP, parent=mgmt, customer=customer
    )
    client = api_for(request.getfixturevalue(who))
    with django_assert_num_queries(2):  # the count and the page, customers and parents joined
        response = client.get(url("cloud-accounts/"), {"page_size": 100, "kind": "", "search": ""})
    assert len(response.json()["results"]) == rows
    with django_assert_num_queries(2):
        response = client.get(url("cloud-accounts/"), {"page_size": 100, "parent": mgmt.pk, "customer": customer.pk})
    assert len(response.json()["results"]) == rows - 1


# The flows, against the AWS emulator ----------------------------------------------------------------


@moto
def test_add_connect_validate_and_sync_an_msp_account(admin_api, admin, org):
    created = post(admin_api, "cloud-accounts/", {"category": "msp", "account_id": org.management_id, "name": "Payer"})
    assert created.status_code == 201
    account = created.json()
    arn = create_portal_role(org.endpoint, org.management_id, account["external_id"])
    path = f"cloud-accounts/{account['id']}"

    # A role whose trust policy names another external id is refused, and says why.
    wrong = create_portal_role(org.endpoint, org.management_id, "someone-elses-id", name="Wrong")
    message = assert_error(post(admin_api, f"{path}/connect/", {"role_arn": wrong}), 400, "role_arn")["errors"]
    assert message["role_arn"][0].startswith("Assume the role failed: AWS refused access.")
    assert "external id" in message["role_arn"][0]

    connected = post(admin_api, f"{path}/connect/", {"role_arn": arn})
    assert connected.status_code == 200, connected.content
    body = connected.json()
    assert (body["role_arn"], body["role_name"], body["onboarding_status"]) == (arn, "CloudMSPPortal", "onboarded")
    no_secrets(connected)

    validated = post(admin_api, f"{path}/validate/")
    assert validated.status_code == 200
    assert validated.json()["ok"] is True
    assert validated.json()["step"] == ""
    assert validated.json()["account"]["last_validated_at"]
    no_secrets(validated)

    started = post(admin_api, f"{path}/sync/")
    assert started.status_code == 202
    job = started.json()
    assert (job["kind"], job["state"], job["account"], job["finished"]) == ("sync", "queued", account["id"], False)
    assert started["Location"] == url(f"jobs/{job['id']}/")
    conflict = assert_error(post(admin_api, f"{path}/sync/"), 409)
    assert conflict["detail"] == f"A sync of this account is already running (job {job['id']})."

    run_sync.call(job["id"])

    done = admin_api.get(url(f"jobs/{job['id']}/")).json()
    assert (done["state"], done["done"], done["total"], done["percent"], done["finished"]) == (
        "succeeded",
        25,
        25,
        100,
        True,
    )
    assert done["result"]["added"] == 25
    members = admin_api.get(url("cloud-accounts/"), {"parent": account["id"], "page_size": 100}).json()
    assert members["count"] == 25
    assert {m["ou_path"] for m in members["results"]} == {"Root", "Root/Prod", "Root/Prod/Web", "Root/Dev"}
    # A second sync may run once the first has finished.
    assert post(admin_api, f"{path}/sync/").status_code == 202


@moto
def test_connect_a_non_msp_account(admin_api, org):
    account_id = org.members[0]
    created = post(
        admin_api, "cloud-accounts/", {"category": "non_msp", "account_id": account_id, "name": "Shop"}
    ).json()
    arn = create_portal_role(org.endpoint, account_id, created["external_id"], management=False)
    connected = post(admin_api, f"cloud-accounts/{created['id']}/connect/", {"role_arn": arn})
    assert connected.status_code == 200
    assert (connected.json()["kind"], connected.json()["onboarding_status"]) == ("standalone", "onboarded")


@moto
def test_validate_reports_a_failing_role(admin_api, org):
    account_id = org.members[1]
    created = post(
        admin_api, "cloud-accounts/", {"category": "non_msp", "account_id": account_id, "name": "Shop"}
    ).json()
    arn = create_portal_role(org.endpoint, account_id, created["external_id"], management=False)
    assert post(admin_api, f"cloud-accounts/{created['id']}/connect/", {"role_arn": arn}).status_code == 200
    CloudAccount.unscoped.filter(pk=created["id"]).update(external_id="cmsp-changed")

    response = post(admin_api, f"cloud-accounts/{created['id']}/validate/")

    assert response.status_code == 200
    body = response.json()
    # STS refuses the session, as AWS does when the external id differs from the trust policy's.
    assert (body["ok"], body["step"]) == (False, "Assume the role")
    assert "AccessDenied" in body["message"]
    assert body["account"]["onboarding_status"] == "failed"
    assert body["account"]["last_validation_message"] == f"{body['step']} failed: {body['message']}"


def _synced_members(admin, management) -> list[CloudAccount]:
    from cloudmsp.cloud.services.sync import sync_start

    run_sync.call(sync_start(actor=admin, account=management).pk)
    return list(CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id"))


@moto
def test_onboard_automatically_then_remove_the_role(admin_api, admin, org, management):
    member = _synced_members(admin, management)[0]
    path = f"cloud-accounts/{member.pk}"

    started = post(admin_api, f"{path}/onboard/", {"method": "automatic", "role_name": "CloudMSPAccess"})

    assert started.status_code == 202, started.content
    job = started.json()
    assert (job["kind"], job["state"], job["total"], job["percent"]) == ("onboard", "queued", 4, 0)
    assert_error(post(admin_api, f"{path}/onboard/", {"method": "automatic"}), 409)
    run_onboard.call(job["id"])
    assert admin_api.get(url(f"jobs/{job['id']}/")).json()["state"] == "succeeded"
    account = admin_api.get(url(f"{path}/")).json()
    assert (account["onboarding_status"], account["role_created_by_portal"]) == ("onboarded", True)
    assert account["role_arn"] == f"arn:aws:iam::{member.account_id}:role/CloudMSPAccess"
    assert "CloudMSPAccess" in org.iam_roles(member.account_id)
    assert_error(post(admin_api, f"{path}/onboard/", {"method": "automatic"}), 409)

    removed = post(admin_api, f"{path}/remove-role/")

    assert removed.status_code == 200
    assert removed.json()["note"] == "The role was deleted in AWS."
    assert (removed.json()["account"]["role_arn"], removed.json()["account"]["onboarding_status"]) == (
        "",
        "not_onboarded",
    )
    assert "CloudMSPAccess" not in org.iam_roles(member.account_id)


@moto
def test_onboard_manually(admin_api, admin, org, management):
    member = _synced_members(admin, management)[1]
    path = f"cloud-accounts/{member.pk}"
    setup = admin_api.get(url(f"{path}/setup/")).json()
    arn = create_portal_role(org.endpoint, member.account_id, setup["external_id"], name="HandMade", management=False)

    wrong = post(admin_api, f"{path}/onboard/", {"method": "manual", "role_arn": "arn:aws:iam::000000000000:role/X"})
    assert assert_error(wrong, 400, "role_arn")["errors"]["role_arn"][0].startswith("Check the Role ARN failed: ")

    response = post(admin_api, f"{path}/onboard/", {"method": "manual", "role_arn": arn})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["role_arn"], body["role_created_by_portal"], body["onboarding_status"]) == (arn, False, "onboarded")
    no_secrets(response)
    assert not Job.unscoped.filter(kind="onboard").exists()
    removed = post(admin_api, f"{path}/remove-role/").json()
    assert "stays in AWS" in removed["note"]
    assert "HandMade" in org.iam_roles(member.account_id)


@moto
def test_an_onboarding_job_that_fails_is_reported(admin_api, admin, org, management):
    member = _synced_members(admin, management)[2]
    # The role already exists, so the portal cannot create it.
    create_portal_role(org.endpoint, member.account_id, member.external_id, name="Taken", management=False)

    job = post(admin_api, f"cloud-accounts/{member.pk}/onboard/", {"method": "automatic", "role_name": "Taken"}).json()
    run_onboard.call(job["id"])

    body = admin_api.get(url(f"jobs/{job['id']}/")).json()
    assert (body["state"], body["finished"]) == (JobState.FAILED, True)
    assert "already exists" in body["error"]
    account = admin_api.get(url(f"cloud-accounts/{member.pk}/")).json()
    assert (account["onboarding_status"], account["role_arn"]) == ("not_onboarded", "")


def test_no_account_field_can_hold_an_access_key():
    names = {f.name.lower() for f in CloudAccount._meta.get_fields()}
    assert not [n for n in names if "secret" in n or "access_key" in n or "session_token" in n]


def test_the_schema_describes_requests_and_responses(anon):
    import yaml

    schema = yaml.safe_load(anon.get(url("schema/")).content)

    def ref(op, status=None):
        content = op["requestBody"] if status is None else op["responses"][str(status)]
        return content["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    paths, components = schema["paths"], schema["components"]["schemas"]
    base = "/api/v1/cloud-accounts/"
    assert (ref(paths[base]["post"]), ref(paths[base]["post"], 201)) == (
        "CloudAccountCreateRequest",
        "CloudAccountCreated",
    )
    assert components["CloudAccountCreated"]["properties"]["setup"]["allOf"][0]["$ref"].endswith("/Setup")
    assert ref(paths[base + "{id}/"]["patch"]) == "PatchedCloudAccountUpdateRequest"
    assert ref(paths[base + "{id}/connect/"]["post"]) == "ConnectRequest"
    assert ref(paths[base + "{id}/connect/"]["post"], 400) == "Error"
    assert ref(paths[base + "{id}/validate/"]["post"], 200) == "ValidationResult"
    assert ref(paths[base + "{id}/sync/"]["post"], 202) == "Job"
    assert ref(paths[base + "{id}/sync/"]["post"], 409) == "Error"
    onboard = paths[base + "{id}/onboard/"]["post"]
    assert (ref(onboard), ref(onboard, 200), ref(onboard, 202)) == ("OnboardRequest", "CloudAccount", "Job")
    assert ref(paths[base + "{id}/remove-role/"]["post"], 200) == "RemoveRole"
    assert ref(paths[base + "{id}/setup/"]["get"], 200) == "Setup"
    assert ref(paths[base + "associate/"]["post"]) == "AssociateRequest"
    assert ref(paths[base + "disassociate/"]["post"], 200) == "Changed"
    assert ref(paths["/api/v1/jobs/{id}/"]["get"], 200) == "Job"
    assert components["AssociateRequest"]["properties"]["accounts"]["items"]["type"] == "integer"
    # `accounts` or, for "all N matching", `filter` (the list's query parameters as an object).
    assert set(components["AssociateRequest"]["required"]) == {"customer"}
    assert components["AssociateRequest"]["properties"]["filter"]["allOf"][0]["$ref"].endswith("/AccountMatchRequest")
    assert {"search", "parent", "customer", "ou", "health"} <= set(components["AccountMatchRequest"]["properties"])
    for path in ("bulk-validate/", "bulk-onboard/"):
        assert ref(paths[base + path]["post"], 202) == "Job"
    assert ref(paths["/api/v1/jobs/{id}/retry/"]["post"], 202) == "Job"
    assert not [s for s in SECRETS if s.lower() in str(components).lower()]
    account = components["CloudAccount"]["properties"]
    assert all(field.get("readOnly") for field in account.values())


def test_customer_users_do_not_see_how_the_msp_reaches_their_accounts(api_for, customer_user):
    from tests.factories import CloudAccountFactory

    CloudAccountFactory(
        tenant=customer_user.tenant,
        customer=customer_user.customer,
        role_arn="arn:aws:iam::123456789012:role/CloudMSPAccess",
        external_id="cmsp-secret-ish",
    )
    body = api_for(customer_user).get("/api/v1/cloud-accounts/").json()
    row = body["results"][0]
    assert "external_id" not in row
    assert "role_arn" not in row
    assert row["account_id"]


@moto
@pytest.mark.parametrize("state", ["SUSPENDED", "PENDING_CLOSURE", "CLOSED", "REMOVED", "PENDING_ACTIVATION"])
def test_an_account_that_is_not_active_in_aws_is_not_onboarded(admin_api, admin, org, management, state):
    member = _synced_members(admin, management)[0]
    CloudAccount.objects.for_tenant(admin.tenant).filter(pk=member.pk).update(aws_state=state)

    automatic = post(admin_api, f"cloud-accounts/{member.pk}/onboard/", {"method": "automatic"})
    manual = post(
        admin_api,
        f"cloud-accounts/{member.pk}/onboard/",
        {"method": "manual", "role_arn": f"arn:aws:iam::{member.account_id}:role/CloudMSPAccess"},
    )

    for response in (automatic, manual):
        assert response.status_code == 400, response.content
        assert "cannot be onboarded" in response.json()["detail"]
    assert not Job.objects.for_tenant(admin.tenant).filter(account=member).exists()
    member.refresh_from_db()
    assert (member.onboarding_status, member.role_arn) == ("not_onboarded", "")
    body = admin_api.get(url(f"cloud-accounts/{member.pk}/")).json()
    assert (body["aws_state"], body["aws_status"]) == (state, state)
