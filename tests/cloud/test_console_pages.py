"""Account tables as a console's (issue 15): copy buttons for account ids and role ARNs,
tables that scroll in their own box under a sticky header."""

import pytest
from django.urls import reverse

from cloudmsp.cloud.models import Category, Kind
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db

ARN = "arn:aws:iam::111122223333:role/CloudmspAccess"


@pytest.fixture
def standalone(tenant):
    return CloudAccountFactory(tenant=tenant, account_id="111122223333", role_arn=ARN, name="Prod")


@pytest.mark.parametrize("route", ["cloud:accounts", "cloud:non_msp"])
def test_account_tables_copy_ids_and_role_arns(admin_client, standalone, route):
    html = admin_client.get(reverse(route)).content.decode()
    assert 'aria-label="Copy account id 111122223333"' in html
    assert 'data-copy-text="111122223333"' in html
    assert 'aria-label="Copy role ARN of 111122223333"' in html
    assert f'data-copy-text="{ARN}"' in html
    # The cell stays named by the id alone, as the rows are found by it.
    assert '<td aria-label="111122223333">' in html
    assert 'class="table-scroll" tabindex="0" role="region" aria-label="Accounts table"' in html


def test_msp_table_copies_the_management_account_id(admin_client, tenant):
    CloudAccountFactory(tenant=tenant, account_id="222233334444", category=Category.MSP, kind=Kind.MANAGEMENT)
    html = admin_client.get(reverse("cloud:msp")).content.decode()
    assert 'aria-label="Copy account id 222233334444"' in html
    assert 'aria-label="MSP accounts table"' in html


def test_account_health_page_copies_id_and_role_arn(admin_client, standalone):
    html = admin_client.get(reverse("cloud:account_health", kwargs={"account_id": standalone.pk})).content.decode()
    assert 'aria-label="Copy account id 111122223333"' in html
    assert 'aria-label="Copy role ARN of 111122223333"' in html


def test_a_copied_value_is_escaped(admin_client, tenant):
    CloudAccountFactory(tenant=tenant, account_id="333344445555", role_arn='arn:aws:iam::333344445555:role/x"><b>')
    html = admin_client.get(reverse("cloud:accounts")).content.decode()
    assert '"><b>' not in html


@pytest.mark.parametrize("route", ["cloud:accounts", "cloud:non_msp", "cloud:msp"])
def test_export_csv_is_a_button_in_the_tool_bar_above_the_table(admin_client, tenant, route):
    CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT)
    CloudAccountFactory(tenant=tenant)
    html = admin_client.get(reverse(route)).content.decode()
    tools = html.index('<div class="table-tools">')
    export = html.index('class="button-link" href="')
    assert tools < export < html.index("<table")
    assert html.count(">Export CSV</a>") == 1


def test_member_accounts_export_above_the_table(admin_client, tenant):
    management = CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT)
    CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MEMBER, parent=management)
    html = admin_client.get(reverse("cloud:members", kwargs={"account_id": management.pk})).content.decode()
    assert html.index(">Export CSV</a>") < html.index("<table")
