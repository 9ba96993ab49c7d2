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
    # Again: nothing new, nothing lost.
    seed_demo_aws(aws)
    assert CloudAccount.unscoped.filter(parent=payer).count() == emulator.MEMBER_COUNT
    assert not members.filter(aws_state=AwsState.REMOVED).exists()


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
