"""The account tables' cells (cloudmsp/cloud/templatetags/cloud_cells.py): what each badge and
row menu says for each kind and state, and that nothing from the database reaches the page
unescaped."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from cloudmsp.cloud.models import AwsState, Category, Health, Kind, OnboardingStatus
from cloudmsp.cloud.templatetags.cloud_cells import (
    account_rows,
    aws_state_badge,
    health_badge,
    onboarding_badge,
    row_menu,
)
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db

ALL_COLUMNS = {
    "name": True,
    "type": True,
    "ou": True,
    "customer": True,
    "onboarding": True,
    "aws_state": True,
    "health": True,
}


def _menu(account):
    return re.findall(r"<li[^>]*>(?:<a[^>]*>)?([^<]+)", str(row_menu(account)))


def test_a_management_account_offers_its_members_and_sync_once_onboarded(tenant):
    payer = CloudAccountFactory(tenant=tenant, kind=Kind.MANAGEMENT, category=Category.MSP)
    assert _menu(payer) == ["Manage Customer Accounts", "Connect (Role ARN)", "Edit", "Delete"]
    payer.onboarding_status = OnboardingStatus.ONBOARDED
    payer.role_arn = "arn:aws:iam::111122223333:role/cloudmsp"
    assert _menu(payer) == [
        "Manage Customer Accounts",
        "Sync now",
        "Validate role",
        "Change Role ARN",
        "Edit",
        "Delete",
    ]
    assert f'href="{reverse("cloud:members", kwargs={"account_id": payer.pk})}"' in str(row_menu(payer))
    assert f'hx-post="{reverse("cloud:sync", kwargs={"account_id": payer.pk})}"' in str(row_menu(payer))


def test_a_member_offers_onboarding_only_while_active_in_aws(tenant):
    payer = CloudAccountFactory(tenant=tenant, kind=Kind.MANAGEMENT, category=Category.MSP)
    member = CloudAccountFactory(tenant=tenant, kind=Kind.MEMBER, category=Category.MSP, parent=payer)
    assert _menu(member) == ["Onboard Account"]
    member.aws_state = AwsState.SUSPENDED
    assert _menu(member) == ["Onboard Account: not possible while the account is suspended in AWS."]
    member.onboarding_status = OnboardingStatus.ONBOARDED
    assert _menu(member) == ["Remove Role ARN", "Validate role"]


def test_a_standalone_account_with_a_role_can_have_it_removed(tenant):
    account = CloudAccountFactory(tenant=tenant, role_arn="arn:aws:iam::111122223333:role/r")
    assert _menu(account) == ["Validate role", "Remove Role ARN", "Change Role ARN", "Edit", "Delete"]


def test_badges_say_the_state_and_escape_what_aws_or_a_user_wrote(tenant):
    account = CloudAccountFactory(tenant=tenant, role_arn="arn:aws:iam::111122223333:role/r")
    account.onboarding_status = OnboardingStatus.FAILED
    account.last_validation_message = '<script>alert("x")</script>'
    assert str(onboarding_badge(account)) == (
        '<span class="badge bad" title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">Failed</span>'
    )
    assert str(aws_state_badge(account)) == "Active"
    account.aws_state = AwsState.PENDING_CLOSURE
    assert 'class="badge warn"' in str(aws_state_badge(account))
    assert ">Pending closure<" in str(aws_state_badge(account))
    account.aws_state = AwsState.REMOVED
    assert 'title="No longer in any organization of yours; it cannot be onboarded"' in str(aws_state_badge(account))
    assert str(health_badge(account)) == '<span class="badge">Never checked</span>'
    account.health = Health.BROKEN
    account.health_since = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    broken = str(health_badge(account))
    assert "<script>" not in broken
    assert "Broken since" in broken
    assert f'href="{reverse("cloud:account_health", kwargs={"account_id": account.pk})}"' in broken
    account.role_arn = ""
    assert "No role to check" in str(health_badge(account))


def test_account_rows_show_the_chosen_columns_and_escape_every_value(tenant):
    account = CloudAccountFactory(tenant=tenant, name="<b>Prod</b> & co", email="ops@acme.example", ou_path="Root/<i>")
    html = str(account_rows([account], ALL_COLUMNS, True, True))
    assert html.startswith(f'<tr id="account-{account.pk}">')
    assert html.endswith("</tr>")
    assert "&lt;b&gt;Prod&lt;/b&gt; &amp; co" in html
    assert "<b>" not in html
    assert "<i>" not in html
    assert html.count("<td") == 10
    assert "<td>Non-MSP</td>" in html
    assert "<td>—</td>" in html
    narrow = str(account_rows([account], {}, False, False))
    assert narrow.count("<td") == 3  # the checkbox, the id and the menu
    assert str(account_rows([], ALL_COLUMNS)) == ""
