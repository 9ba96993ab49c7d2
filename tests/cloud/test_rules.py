"""Auto-assignment rules (SPEC 10): matching, first match wins, manual assignments kept unless the
rule overrides them, preview, apply as one audited change, and the sync applying them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import (
    AssignmentRule,
    Category,
    CloudAccount,
    Job,
    JobKind,
    JobState,
    Kind,
    OwnershipCause,
    OwnershipInterval,
)
from cloudmsp.cloud.services import rules, sync
from cloudmsp.cloud.services.association import accounts_associate, accounts_disassociate
from cloudmsp.core.errors import PermissionDenied
from tests.factories import CloudAccountFactory, CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _management(tenant, **kwargs) -> CloudAccount:
    return CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, **kwargs)


def _member(tenant, management, **kwargs) -> CloudAccount:
    return CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MEMBER, parent=management, **kwargs)


def _rule(admin, customer, **fields) -> AssignmentRule:
    return rules.rule_create(actor=admin, data={"name": "r", "customer": customer.pk, **fields})


@pytest.fixture
def local(admin):
    """An organization in the portal only (no emulator): four members in OUs and with tags."""
    management = _management(admin.tenant, account_id="111122223333")
    members = {
        "web": _member(admin.tenant, management, name="prod-web", email="ops@acme.example", ou_path="Root/Production"),
        "db": _member(
            admin.tenant,
            management,
            name="prod-db",
            email="dba@globex.example",
            ou_path="Root/Production/Data",
            tags={"team": "data", "cost-center": "42", "2024": "yes", 'we"ird.$[0]': "x"},
        ),
        "near": _member(admin.tenant, management, name="Production-like", ou_path="Root/ProductionX"),
        "dev": _member(admin.tenant, management, name="dev-1", email="x@ACME.example", ou_path="Root/Dev"),
    }
    return management, members


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ou_path_prefix": "Root/Production"}, {"web", "db"}),
        ({"ou_path_prefix": "Root/Production/"}, {"web", "db"}),
        ({"name_glob": "prod-*"}, {"web", "db"}),
        ({"name_glob": "PROD-?B"}, {"db"}),
        ({"name_glob": "production*"}, {"near"}),
        ({"name_glob": "dev-1.*"}, set()),  # a dot is a dot, not "any character"
        ({"name_glob": "prod_web"}, set()),  # and _ is itself, not LIKE's one character
        ({"name_glob": "*-***w*"}, {"web"}),
        ({"email_domain": "acme.example"}, {"web", "dev"}),
        ({"email_domain": "@Globex.Example"}, {"db"}),
        ({"tag_key": "team"}, {"db"}),
        ({"tag_key": "team", "tag_value": "data"}, {"db"}),
        ({"tag_key": "team", "tag_value": "web"}, set()),
        ({"tag_key": "2024"}, {"db"}),  # a key of digits is a key, not an array index
        ({"tag_key": 'we"ird.$[0]', "tag_value": "x"}, {"db"}),
        ({"tag_key": "team", "tag_value": "dat%"}, set()),
        ({"ou_path_prefix": "Root/Production", "email_domain": "acme.example"}, {"web"}),
    ],
)
def test_a_rule_matches_accounts_meeting_all_its_conditions(admin, local, fields, expected):
    _, members = local
    customer = CustomerFactory(tenant=admin.tenant)
    found = rules.rule_preview(actor=admin, data={"name": "p", "customer": customer.pk, **fields})
    names = {k for k, a in members.items() if a.account_id in {s["account_id"] for s in found.sample}}
    assert names == expected
    assert found.matched == found.would_change == len(expected)


def test_management_account_condition_and_msp_accounts_are_never_assigned(admin, local):
    management, members = local
    other = _management(admin.tenant, account_id="444455556666")
    stranger = _member(admin.tenant, other, name="prod-web-2", ou_path="Root/Production")
    customer = CustomerFactory(tenant=admin.tenant)
    found = rules.rule_preview(
        actor=admin, data={"name": "p", "customer": customer.pk, "management_account": management.pk}
    )
    assert {s["account_id"] for s in found.sample} == {a.account_id for a in members.values()}
    anywhere = rules.rule_preview(actor=admin, data={"name": "p", "customer": customer.pk, "name_glob": "*"})
    assert (
        anywhere.matched
        == len(members) + 1 + CloudAccount.objects.for_tenant(admin.tenant).filter(kind=Kind.STANDALONE).count()
    )
    assert management.account_id not in {s["account_id"] for s in anywhere.sample}
    assert stranger.account_id in {s["account_id"] for s in anywhere.sample}


def test_first_match_wins_by_priority(admin, local):
    _, members = local
    first, second = CustomerFactory(tenant=admin.tenant), CustomerFactory(tenant=admin.tenant)
    _rule(admin, first, priority=10, email_domain="acme.example")
    # Later in order: the accounts the first rule matches are not this one's.
    found = rules.rule_preview(
        actor=admin, data={"name": "p", "customer": second.pk, "priority": 20, "ou_path_prefix": "Root/Production"}
    )
    assert [s["account_id"] for s in found.sample] == [members["db"].account_id]
    # Earlier in order: it takes them all.
    found = rules.rule_preview(
        actor=admin, data={"name": "p", "customer": second.pk, "priority": 5, "ou_path_prefix": "Root/Production"}
    )
    assert found.matched == 2
    # A disabled earlier rule does not count.
    AssignmentRule.objects.for_tenant(admin.tenant).update(enabled=False)
    found = rules.rule_preview(
        actor=admin, data={"name": "p", "customer": second.pk, "priority": 20, "ou_path_prefix": "Root/Production"}
    )
    assert found.matched == 2


def test_manual_assignments_are_kept_unless_the_rule_overrides_them(admin, local):
    _, members = local
    mine, theirs = CustomerFactory(tenant=admin.tenant), CustomerFactory(tenant=admin.tenant)
    CloudAccount.objects.for_tenant(admin.tenant).filter(pk=members["web"].pk).update(customer=theirs)
    CloudAccount.objects.for_tenant(admin.tenant).filter(pk=members["db"].pk).update(customer=mine)
    data = {"name": "p", "customer": mine.pk, "ou_path_prefix": "Root/Production"}
    kept = rules.rule_preview(actor=admin, data=data)
    assert (kept.matched, kept.would_change) == (2, 0)
    moved = rules.rule_preview(actor=admin, data={**data, "override_manual": True})
    assert (moved.matched, moved.would_change) == (2, 1)
    assert moved.sample[0]["customer"] == theirs.pk
    assert moved.sample[0]["customer_name"] == theirs.company_name


def test_the_preview_saves_nothing(admin, local):
    customer = CustomerFactory(tenant=admin.tenant)
    rule = _rule(admin, customer, ou_path_prefix="Root/Dev")
    before = list(CloudAccount.objects.for_tenant(admin.tenant).values_list("pk", "customer_id"))
    events = AuditEvent.objects.for_tenant(admin.tenant).count()
    found = rules.rule_preview(actor=admin, rule=rule, data={"ou_path_prefix": "Root/Production"})
    assert found.matched == 2
    rule.refresh_from_db()
    assert rule.ou_path_prefix == "Root/Dev"
    assert list(CloudAccount.objects.for_tenant(admin.tenant).values_list("pk", "customer_id")) == before
    assert AuditEvent.objects.for_tenant(admin.tenant).count() == events


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "__all__"),
        ({"email_domain": "not a domain"}, "email_domain"),
        ({"email_domain": "a..b"}, "email_domain"),
        ({"tag_value": "x"}, "tag_key"),
        ({"name_glob": "x" * 201}, "name_glob"),
        ({"name_glob": "a\u0000b"}, "name_glob"),
        ({"ou_path_prefix": "Root/\u202eevil"}, "ou_path_prefix"),
        ({"name": "", "name_glob": "a"}, "name"),
        ({"management_account": 10**12}, "management_account"),
        ({"management_account": "abc"}, "management_account"),
    ],
)
def test_bad_fields_are_refused_on_their_field(admin, fields, field):
    customer = CustomerFactory(tenant=admin.tenant)
    with pytest.raises(ValidationError) as caught:
        rules.rule_create(actor=admin, data={"name": "r", "customer": customer.pk, **fields})
    assert field in caught.value.message_dict
    assert not AssignmentRule.objects.for_tenant(admin.tenant).exists()


def test_foreign_customers_and_msp_accounts_read_as_missing(admin):
    other = TenantFactory()
    foreign_customer = CustomerFactory(tenant=other)
    foreign_msp = _management(other)
    mine = CustomerFactory(tenant=admin.tenant)
    with pytest.raises(ValidationError) as caught:
        rules.rule_create(actor=admin, data={"name": "r", "customer": foreign_customer.pk, "name_glob": "*"})
    assert caught.value.message_dict == {"customer": ["Customer not found."]}
    with pytest.raises(ValidationError) as caught:
        rules.rule_create(actor=admin, data={"name": "r", "customer": mine.pk, "management_account": foreign_msp.pk})
    assert caught.value.message_dict == {"management_account": ["MSP account not found."]}
    with pytest.raises(ValidationError):
        rules.rule_preview(actor=admin, data={"name": "r", "customer": foreign_customer.pk, "name_glob": "*"})


def test_only_tenant_administrators_manage_rules(admin, customer_user):
    customer = CustomerFactory(tenant=admin.tenant)
    rule = _rule(admin, customer, name_glob="*")
    with pytest.raises(PermissionDenied):
        rules.rule_create(actor=customer_user, data={"name": "r", "customer": customer.pk, "name_glob": "*"})
    with pytest.raises(PermissionDenied):
        rules.rule_apply_start(actor=customer_user, rule=rule)


def test_update_and_delete_are_audited(admin):
    customer = CustomerFactory(tenant=admin.tenant)
    rule = _rule(admin, customer, name_glob="a*")
    rules.rule_update(actor=admin, rule=rule, data={"name_glob": "b*", "priority": 7})
    rules.rule_update(actor=admin, rule=rule, data={"name_glob": "b*"})  # unchanged: no event
    rules.rule_delete(actor=admin, rule=rule)
    events = list(
        AuditEvent.objects.for_tenant(admin.tenant).filter(action__startswith="assignment_rule.").order_by("id")
    )
    assert [e.action for e in events] == ["assignment_rule.create", "assignment_rule.update", "assignment_rule.delete"]
    assert events[1].changes == {"name_glob": ["a*", "b*"], "priority": [100, 7]}
    assert not AssignmentRule.objects.for_tenant(admin.tenant).exists()


def test_apply_is_a_job_that_assigns_audits_and_records_history(admin, local, run_tasks, commit):
    _, members = local
    customer = CustomerFactory(tenant=admin.tenant, company_name="Acme")
    rule = _rule(admin, customer, ou_path_prefix="Root/Production")
    with commit():
        job = rules.rule_apply_start(actor=admin, rule=rule)
    assert (job.kind, job.state) == (JobKind.APPLY_RULE, JobState.QUEUED)
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result == {"rule": rule.pk, "matched": 2, "changed": 2}
    assigned = set(CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).values_list("pk", flat=True))
    assert assigned == {members["web"].pk, members["db"].pk}
    events = AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.associate")
    assert events.count() == 2
    assert all(f"#{rule.pk}" in e.message for e in events)
    history = OwnershipInterval.objects.for_tenant(admin.tenant).filter(valid_to__isnull=True)
    assert {(i.account_id, i.cause, i.actor_id) for i in history} == {
        (members["web"].pk, OwnershipCause.RULE, admin.pk),
        (members["db"].pk, OwnershipCause.RULE, admin.pk),
    }


def test_a_rule_disabled_before_its_job_runs_changes_nothing(admin, local, run_tasks, commit):
    customer = CustomerFactory(tenant=admin.tenant)
    rule = _rule(admin, customer, ou_path_prefix="Root/Production")
    with commit():
        job = rules.rule_apply_start(actor=admin, rule=rule)
    AssignmentRule.objects.for_tenant(admin.tenant).update(enabled=False)
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "nothing changed" in job.error
    assert not CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).exists()


def _apply_queries(admin, customer, count: int) -> int:
    rule = _rule(admin, customer, ou_path_prefix=f"Root/Bulk{count}")
    management = _management(admin.tenant)
    for _ in range(count):
        _member(admin.tenant, management, ou_path=f"Root/Bulk{count}")
    job = Job.objects.create(tenant=admin.tenant, kind=JobKind.APPLY_RULE, created_by=admin, params={"rule": rule.pk})
    with CaptureQueriesContext(connection) as queries:
        result = rules.rule_apply(job)
    assert result["changed"] == count
    return len(queries)


def test_applying_takes_the_same_statements_for_any_number_of_accounts(admin):
    customer = CustomerFactory(tenant=admin.tenant)
    _apply_queries(admin, customer, 1)  # the database's one-time feature probes
    assert _apply_queries(admin, customer, 3) == _apply_queries(admin, customer, 60) <= 14


# The sync applies the rules -----------------------------------------------------------------


def _sync(admin, management) -> Job:
    job = sync.sync_start(actor=admin, account=management)
    sync.organization_sync(job)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    return job


def test_the_sync_assigns_the_accounts_it_adds_by_the_rules(org, admin, management):
    production = CustomerFactory(tenant=admin.tenant, company_name="Production Co")
    web = CustomerFactory(tenant=admin.tenant, company_name="Web Co")
    _rule(admin, web, priority=1, ou_path_prefix="Root/Prod/Web")
    _rule(admin, production, priority=2, ou_path_prefix="Root/Prod")
    job = _sync(admin, management)
    owners = {
        a.account_id: a.customer_id for a in CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management)
    }
    expected = {
        account_id: {"Root/Prod/Web": web.pk, "Root/Prod": production.pk}.get(path)
        for account_id, path in org.ou_of.items()
    }
    assert owners == expected
    assert job.result["assigned_by_rules"] == sum(1 for v in expected.values() if v)
    causes = set(OwnershipInterval.objects.for_tenant(admin.tenant).values_list("cause", flat=True))
    assert causes == {OwnershipCause.RULE}

    # The next sync leaves a manual change alone; a new account in the OU is assigned.
    moved = next(a for a, c in owners.items() if c == production.pk)
    account = CloudAccount.objects.for_tenant(admin.tenant).get(account_id=moved)
    accounts_disassociate(actor=admin, account_ids=[account.pk])
    prod_ou = next(
        ou["Id"]
        for ou in org.org_client().list_organizational_units_for_parent(
            ParentId=org.org_client().list_roots()["Roots"][0]["Id"]
        )["OrganizationalUnits"]
        if ou["Name"] == "Prod"
    )
    newcomer = org.add_member("newcomer", prod_ou)
    job = _sync(admin, management)
    assert job.result["assigned_by_rules"] == 1
    assert CloudAccount.objects.for_tenant(admin.tenant).get(account_id=newcomer).customer_id == production.pk
    assert CloudAccount.objects.for_tenant(admin.tenant).get(account_id=moved).customer_id is None


def test_a_rule_that_overrides_re_applies_at_each_sync(org, admin, management):
    keeper = CustomerFactory(tenant=admin.tenant)
    _sync(admin, management)
    first = CloudAccount.objects.for_tenant(admin.tenant).get(account_id=org.members[0])
    accounts_associate(actor=admin, customer=CustomerFactory(tenant=admin.tenant), account_ids=[first.pk])
    _rule(admin, keeper, management_account=management.pk, override_manual=True)
    job = _sync(admin, management)
    assert job.result["assigned_by_rules"] == len(org.members)
    assert set(
        CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).values_list("customer_id", flat=True)
    ) == {keeper.pk}


def test_tags_are_read_paged_only_while_a_rule_needs_them(org, admin, management):
    tagged = org.members[1]
    many = [{"Key": f"k{i:02d}", "Value": str(i)} for i in range(12)] + [{"Key": "team", "Value": "data"}]
    org.org_client().tag_resource(ResourceId=tagged, Tags=many)
    first = _sync(admin, management)
    assert CloudAccount.objects.for_tenant(admin.tenant).get(account_id=tagged).tags == {}
    data = CustomerFactory(tenant=admin.tenant)
    rule = _rule(admin, data, tag_key="team", tag_value="data")
    assert rule.tag_syncs == 1  # the first tag rule starts the sync that reads the tags
    second = Job.objects.for_tenant(admin.tenant).get(kind=JobKind.SYNC, state=JobState.QUEUED)
    sync.organization_sync(second)
    second.refresh_from_db()
    account = CloudAccount.objects.for_tenant(admin.tenant).get(account_id=tagged)
    assert account.tags == {t["Key"]: t["Value"] for t in many}
    # One call per account, and a second page for the tagged one (the emulator pages like AWS).
    members_and_management = len(org.members) + 1
    assert second.result["other_calls"] - first.result["other_calls"] == members_and_management + 1
    # Existing accounts are not re-assigned by a rule that does not override: apply it.
    assert account.customer_id is None
    found = rules.rule_preview(actor=admin, rule=rule, data={})
    assert [s["account_id"] for s in found.sample] == [tagged]
    # An unsaved rule of the same priority comes after it: the account is the saved rule's.
    draft = rules.rule_preview(actor=admin, data={"name": "p", "customer": data.pk, "tag_key": "team"})
    assert draft.matched == 0


def test_an_earlier_tag_rule_leaves_untagged_accounts_to_later_rules(admin, local):
    _, members = local
    tagged, other = CustomerFactory(tenant=admin.tenant), CustomerFactory(tenant=admin.tenant)
    _rule(admin, tagged, priority=1, tag_key="team", tag_value="data")
    found = rules.rule_preview(
        actor=admin, data={"name": "p", "customer": other.pk, "priority": 2, "ou_path_prefix": "Root"}
    )
    # Every member but the tagged one: an account without the tag is not the earlier rule's.
    assert {s["account_id"] for s in found.sample} == {a.account_id for k, a in members.items() if k != "db"}


def test_the_ou_prefix_is_case_sensitive_on_both_databases(admin, local):
    customer = CustomerFactory(tenant=admin.tenant)
    found = rules.rule_preview(
        actor=admin, data={"name": "p", "customer": customer.pk, "ou_path_prefix": "root/production"}
    )
    assert found.matched == 0


def test_tag_keys_and_values_keep_their_spaces(admin):
    customer = CustomerFactory(tenant=admin.tenant)
    rule = _rule(admin, customer, tag_key=" team ", tag_value="a b ")
    assert (rule.tag_key, rule.tag_value) == (" team ", "a b ")


def test_the_first_tag_rule_starts_a_sync_of_each_connected_msp_account(admin, local):
    management, _ = local
    CloudAccount.objects.for_tenant(admin.tenant).filter(pk=management.pk).update(
        role_arn="arn:aws:iam::111122223333:role/CloudMSPPortal", onboarding_status="onboarded"
    )
    _management(admin.tenant, account_id="999988887777")  # not connected: no sync
    customer = CustomerFactory(tenant=admin.tenant)
    first = _rule(admin, customer, tag_key="team")
    assert first.tag_syncs == 1
    assert list(Job.objects.for_tenant(admin.tenant).values_list("kind", "account_id")) == [
        (JobKind.SYNC, management.pk)
    ]
    assert _rule(admin, customer, tag_key="env").tag_syncs == 0  # tags are read already
    assert Job.objects.for_tenant(admin.tenant).count() == 1


def test_rules_deleted_with_their_customer_or_msp_account_are_audited(admin, local):
    management, _ = local
    from cloudmsp.cloud.services.accounts import account_delete
    from cloudmsp.customers.services import customer_delete

    gone, kept = CustomerFactory(tenant=admin.tenant), CustomerFactory(tenant=admin.tenant)
    by_customer = _rule(admin, gone, name_glob="*")
    by_msp = _rule(admin, kept, management_account=management.pk)
    _rule(admin, kept, name_glob="x*")
    customer_delete(actor=admin, customer=gone)
    account_delete(actor=admin, account=management)
    deletions = AuditEvent.objects.for_tenant(admin.tenant).filter(action="assignment_rule.delete")
    assert sorted(int(e.object_id) for e in deletions) == sorted([by_customer.pk, by_msp.pk])
    assert AssignmentRule.objects.for_tenant(admin.tenant).count() == 1


def test_tags_that_cannot_be_read_leave_the_listing_whole_and_say_why(org, admin, management, monkeypatch):
    from cloudmsp.cloud.providers.aws import operations
    from cloudmsp.cloud.providers.aws.errors import AwsError

    _sync(admin, management)
    CloudAccount.objects.for_tenant(admin.tenant).filter(account_id=org.members[0]).update(tags={"team": "old"})
    AssignmentRule.objects.create(
        tenant=admin.tenant, name="t", customer=CustomerFactory(tenant=admin.tenant), tag_key="team"
    )

    def denied(*_args, **_kwargs):
        raise AwsError("Read an account's tags (ListTagsForResource)", "denied", code="AccessDeniedException")

    monkeypatch.setattr(operations, "account_tags", denied)
    org.add_member("late-comer")
    job = _sync(admin, management)
    assert job.result["added"] == 1
    assert "organizations:ListTagsForResource" in job.result["warnings"][0]
    assert CloudAccount.objects.for_tenant(admin.tenant).get(account_id=org.members[0]).tags == {"team": "old"}


def test_tags_are_read_with_progress_and_an_account_gone_meanwhile_has_none(org, admin, management):
    from cloudmsp.cloud.providers.aws import operations
    from cloudmsp.cloud.providers.aws.client import credential_cache
    from cloudmsp.cloud.providers.aws.provider import _assume_management

    org.org_client().tag_resource(ResourceId=org.members[2], Tags=[{"Key": "k", "Value": "v"}])
    creds = _assume_management(management.role_arn, management.external_id)
    seen: list[int] = []
    found = operations.account_tags(
        creds,
        [org.members[2], org.members[3], "000000000000"],
        concurrency=2,
        stats=operations.ListingStats(),
        progress=seen.append,
    )
    assert found == {org.members[2]: {"k": "v"}, org.members[3]: {}, "000000000000": {}}
    assert seen == [1, 2, 3]
    credential_cache.clear()


def test_the_management_policy_allows_reading_tags():
    from cloudmsp.cloud.providers.aws.policies import access_policy

    actions = {a for st in access_policy(management=True)["Statement"] for a in st["Action"]}
    assert "organizations:ListTagsForResource" in actions
    member = {a for st in access_policy(management=False)["Statement"] for a in st["Action"]}
    assert "organizations:ListTagsForResource" not in member
