"""`make demo` seeds the emulator and connects it as the demo tenant's MSP account."""

import pytest

from cloudmsp.cloud.models import AwsState, CloudAccount, Kind, OnboardingStatus
from cloudmsp.demo import emulator
from cloudmsp.demo.seed import DEMO_ASSIGNMENTS, seed_demo, seed_demo_aws

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_connects_the_organization_and_is_idempotent(aws):
    seed_demo()
    summary = seed_demo_aws(aws)
    assert "36 member accounts" in summary
    payer = CloudAccount.unscoped.get(kind=Kind.MANAGEMENT)
    assert payer.account_id == emulator.MANAGEMENT_ACCOUNT
    assert payer.onboarding_status == OnboardingStatus.ONBOARDED
    members = CloudAccount.unscoped.filter(parent=payer)
    assert members.count() == emulator.MEMBER_COUNT
    assert members.filter(customer__isnull=False).count() == sum(DEMO_ASSIGNMENTS.values())
    assert {m.ou_path.split("/")[1] if "/" in m.ou_path else "Root" for m in members} >= {
        "Root",
        "Production",
        "Development",
        "Sandbox",
    }
    # Accounts in every lifecycle an organization has, as AWS reports them.
    states = {m.aws_state for m in members}
    assert states == {AwsState.ACTIVE, AwsState.SUSPENDED, AwsState.PENDING_CLOSURE, AwsState.CLOSED}
    assert members.filter(joined_method="INVITED").count() == 1
    tower = CloudAccount.unscoped.get(account_id=_member_id(aws, emulator.LIFECYCLE, "CONTROL_TOWER"))
    roles = [r["RoleName"] for r in emulator._client(aws, "iam", tower.account_id).list_roles()["Roles"]]
    assert "AWSControlTowerExecution" in roles
    assert "OrganizationAccountAccessRole" not in roles
    # Again: nothing new, nothing lost.
    seed_demo_aws(aws)
    assert CloudAccount.unscoped.filter(parent=payer).count() == emulator.MEMBER_COUNT
    assert not members.filter(aws_state=AwsState.REMOVED).exists()


def _member_id(endpoint: str, lifecycle: dict[int, str], kind: str) -> str:
    index = next(i for i, k in lifecycle.items() if k == kind)
    return emulator.seed_organization(endpoint).members[index]


def test_restarted_emulator_gets_its_roles_back(aws):
    seed_demo()
    seed_demo_aws(aws)
    payer = CloudAccount.unscoped.get(kind=Kind.MANAGEMENT)
    import requests

    requests.post(f"{aws}/moto-api/reset", timeout=10)  # as after Ctrl-C and make demo again
    seed_demo_aws(aws)
    payer.refresh_from_db()
    assert payer.onboarding_status == OnboardingStatus.ONBOARDED
    iam = emulator._client(aws, "iam", emulator.MANAGEMENT_ACCOUNT)
    assert iam.get_role(RoleName=emulator.PORTAL_ROLE)["Role"]["Arn"] == payer.role_arn


def test_deterministic_member_ids():
    a, b = emulator._Ids(), emulator._Ids()
    first = [a() for _ in range(5)]
    assert first == [b() for _ in range(5)]
    assert all(len(x) == 12 and x.isdigit() for x in first)


def test_the_demo_breaks_a_customer_role_and_the_next_scheduled_check_finds_it(aws, run_tasks, capsys, time_machine):
    """The README's walk-through: a customer's onboarded role, deleted in the emulator with
    `demo_delete_role`, is broken on the Health page after the demo's short schedule."""
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from cloudmsp.cloud.models import Health
    from cloudmsp.cloud.services.schedule import scheduler_tick
    from cloudmsp.demo.seed import DEMO_CUSTOMER_ROLE, DEMO_TENANT, DEMO_VALIDATION_MINUTES
    from cloudmsp.demo.webhook_receiver import verify as receiver_verify
    from cloudmsp.notifications.services import sign
    from cloudmsp.tenancy.models import Tenant

    seed_demo()
    summary = seed_demo_aws(aws)
    tenant = Tenant.objects.get(name=DEMO_TENANT)
    assert tenant.validation_interval_minutes == DEMO_VALIDATION_MINUTES
    account = CloudAccount.unscoped.get(tenant=tenant, role_arn__endswith=f"/{DEMO_CUSTOMER_ROLE}")
    assert account.customer.company_name == "Acme Corporation"
    assert account.health == Health.HEALTHY
    assert account.account_id in summary

    call_command("demo_delete_role", account.account_id)
    assert "Deleted the role CloudMSPAccess" in capsys.readouterr().out
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=DEMO_VALIDATION_MINUTES + 1), tick=False)
    assert scheduler_tick().validations
    run_tasks()
    account.refresh_from_db()
    assert account.health == Health.BROKEN
    # The receiver of the README verifies what the portal signs.
    now = int(timezone.now().timestamp())
    header = sign("whsec_demo", now, b'{"type":"test"}')
    assert receiver_verify("whsec_demo", header, b'{"type":"test"}', tolerance=10**9)
    assert not receiver_verify("whsec_other", header, b'{"type":"test"}', tolerance=10**9)


def test_demo_delete_role_explains_what_it_cannot_do(aws):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No account 999999999999"):
        call_command("demo_delete_role", "999999999999")


def test_the_demo_rule_walk_through(aws, run_tasks, capsys, time_machine, api_for):
    """The README's walk-through of SPEC 10: a rule "OU Root/Production -> a customer" previews,
    applies, and assigns an account added to that OU in the emulator at the next sync; "as of
    yesterday" still shows who owned an account before."""
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from cloudmsp.cloud.models import JobState
    from cloudmsp.cloud.services.sync import sync_start
    from cloudmsp.customers.models import Customer
    from cloudmsp.users.models import User

    seed_demo()
    seed_demo_aws(aws)
    admin = User.unscoped.get(email="admin@demo.test")
    api = api_for(admin)
    globex = Customer.objects.for_tenant(admin.tenant).get(company_name="Globex Inc")
    production = CloudAccount.objects.for_tenant(admin.tenant).filter(ou_path__startswith="Root/Production")
    earlier = {a.pk: a.customer_id for a in production}
    yesterday = timezone.localdate()  # the demo's assignments were made today; the rule comes tomorrow
    time_machine.move_to(timezone.now() + dt.timedelta(days=1), tick=False)

    rule = {"name": "Production to Globex", "customer": globex.pk, "ou_path_prefix": "Root/Production"}
    preview = api.post("/api/v1/assignment-rules/preview/", {**rule, "override_manual": True}, format="json").json()
    assert preview["matched"] == production.count()
    assert preview["would_change"] == sum(1 for c in earlier.values() if c != globex.pk)
    created = api.post("/api/v1/assignment-rules/", {**rule, "override_manual": True}, format="json").json()
    api.post(f"/api/v1/assignment-rules/{created['id']}/apply/")
    run_tasks()
    assert set(production.values_list("customer_id", flat=True)) == {globex.pk}

    call_command("demo_add_account", "shop-prod", "--ou", "Root/Production/Web")
    assert "Created shop-prod" in capsys.readouterr().out
    sync_start(actor=admin, account=CloudAccount.objects.for_tenant(admin.tenant).get(kind=Kind.MANAGEMENT))
    run_tasks()
    shop = CloudAccount.objects.for_tenant(admin.tenant).get(name="shop-prod")
    assert shop.customer_id == globex.pk
    assert shop.jobs.model.objects.for_tenant(admin.tenant).latest("id").state == JobState.SUCCEEDED

    # As of yesterday: the owners before the rule.
    owned = api.get(f"/api/v1/ownership/?at={yesterday.isoformat()}").json()["results"]
    then = {row["account"]: row["customer"] for row in owned}
    assert {pk: c for pk, c in earlier.items() if c} == {pk: then[pk] for pk, c in earlier.items() if c}
    assert shop.pk not in then


def test_demo_add_account_explains_what_it_cannot_do(aws, settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.AWS_ENDPOINT_URL = aws
    emulator.seed_organization(aws)
    with pytest.raises(CommandError, match="No OU 'Nowhere'"):
        call_command("demo_add_account", "x", "--ou", "Root/Nowhere")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        call_command("demo_add_account", "x", "--tag", "novalue")
