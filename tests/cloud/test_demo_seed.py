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
