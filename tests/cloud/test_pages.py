"""Page 000 in the test client, against the emulator."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cloudmsp.cloud.models import CloudAccount, JobState, OnboardingStatus
from cloudmsp.cloud.tasks import run_onboard, run_sync
from cloudmsp.customers.models import Customer
from tests.cloud.conftest import create_portal_role
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}


def _run_jobs():
    from cloudmsp.cloud.models import Job

    for job in Job.unscoped.filter(state=JobState.QUEUED):
        (run_sync if job.kind == "sync" else run_onboard).call(job.pk)


def test_account_management_navigation(admin_client):
    html = admin_client.get("/").content.decode()
    html = admin_client.get(reverse("customers:list")).content.decode()
    assert "Account Management" in html
    page = admin_client.get(reverse("cloud:accounts")).content.decode()
    assert "<summary>AWS</summary>" in page
    assert ">MSP</a>" in page
    assert ">Non-MSP</a>" in page
    assert "No cloud accounts yet" in page


def test_add_connect_and_sync_an_msp_account(admin_client, admin, org):
    form = admin_client.get(reverse("cloud:add", kwargs={"category": "msp"}), **HTMX)
    assert form.status_code == 200
    bad = admin_client.post(
        reverse("cloud:add", kwargs={"category": "msp"}), {"account_id": "12ab", "name": "x"}, **HTMX
    )
    assert bad.status_code == 422
    assert "exactly 12 digits" in bad.content.decode()
    added = admin_client.post(
        reverse("cloud:add", kwargs={"category": "msp"}), {"account_id": org.management_id, "name": "Payer"}, **HTMX
    )
    html = added.content.decode()
    assert added.status_code == 200
    account = CloudAccount.objects.for_tenant(admin.tenant).get(account_id=org.management_id)
    assert account.external_id in html
    assert "sts:ExternalId" in html
    assert "AWSTemplateFormatVersion" in html
    arn = create_portal_role(org.endpoint, org.management_id, account.external_id)
    wrong = admin_client.post(
        reverse("cloud:connect", kwargs={"account_id": account.pk}),
        {"role_arn": "arn:aws:iam::000000000000:role/x"},
        **HTMX,
    )
    assert wrong.status_code == 422
    assert "Check the Role ARN failed" in wrong.content.decode()
    connected = admin_client.post(
        reverse("cloud:connect", kwargs={"account_id": account.pk}), {"role_arn": arn}, **HTMX
    )
    assert connected.status_code == 200
    assert "<progress" in connected.content.decode()
    _run_jobs()
    job_url = re.search(r'hx-get="(/administration/accounts/jobs/\d+/)"', connected.content.decode()).group(1)
    done = admin_client.get(job_url, **HTMX).content.decode()
    assert "25 member account(s) found" in done
    msp = admin_client.get(reverse("cloud:msp")).content.decode()
    assert org.management_id in msp
    assert 'aria-label="Actions for account ' + org.management_id + '"' in msp
    assert "Manage Customer Accounts" in msp


def test_manage_customer_accounts_link_create_customer_finish_remove(admin_client, admin, management):
    run_sync.call(
        __import__("cloudmsp.cloud.services.sync", fromlist=["sync_start"])
        .sync_start(actor=admin, account=management)
        .pk
    )
    page = admin_client.get(reverse("cloud:members", kwargs={"account_id": management.pk})).content.decode()
    assert 'aria-label="Select all accounts on this page"' in page
    members = list(CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id")[:3])
    ids = [str(a.pk) for a in members]
    empty = admin_client.get(reverse("cloud:link"), **HTMX).content.decode()
    assert "Select one or more accounts" in empty
    window = admin_client.get(reverse("cloud:link"), {"accounts": ids}, **HTMX).content.decode()
    assert "Link to Customer" in window
    assert "Select a customer to associate with the accounts" in window
    assert "Create Customer" in window
    create = admin_client.get(reverse("cloud:link_create_customer"), {"accounts": ids}, **HTMX).content.decode()
    for label in ("Company name", "First name", "Last name", "Email"):
        assert label in create
    created = admin_client.post(
        reverse("cloud:link_create_customer"),
        {
            "accounts": ids,
            "company_name": "Wayne Enterprises",
            "first_name": "Bruce",
            "last_name": "Wayne",
            "email": "bruce@wayne.example",
        },
        **HTMX,
    ).content.decode()
    customer = Customer.objects.for_tenant(admin.tenant).get(company_name="Wayne Enterprises")
    assert f'<option value="{customer.pk}" selected>' in created
    assert created.count('name="accounts"') == 3
    finish = admin_client.post(reverse("cloud:link"), {"accounts": ids, "customer": customer.pk}, **HTMX)
    assert finish.status_code == 200
    assert "3 account(s) linked to Wayne Enterprises" in finish.content.decode()
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).count() == 3
    confirm = admin_client.get(reverse("cloud:unlink"), {"accounts": ids[:2]}, **HTMX).content.decode()
    assert "Remove Account from Customer" in confirm
    assert ">Remove</button>" in confirm
    admin_client.post(reverse("cloud:unlink"), {"accounts": ids[:2]}, **HTMX)
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).count() == 1


def test_onboard_account_add_then_remove_role_ok(admin_client, admin, org, management):
    from cloudmsp.cloud.services.sync import sync_start

    run_sync.call(sync_start(actor=admin, account=management).pk)
    member = CloudAccount.objects.for_tenant(admin.tenant).filter(parent=management).order_by("account_id").first()
    page = admin_client.get(reverse("cloud:members", kwargs={"account_id": management.pk})).content.decode()
    assert "Onboard Account" in page
    window = admin_client.get(reverse("cloud:onboard", kwargs={"account_id": member.pk}), **HTMX).content.decode()
    assert "Onboard Member Account" in window
    assert member.external_id in window
    assert "CloudMSPAccess" in window
    add = admin_client.post(
        reverse("cloud:onboard", kwargs={"account_id": member.pk}),
        {"role_name": "CloudMSPAccess", "method": "automatic"},
        **HTMX,
    )
    assert "<progress" in add.content.decode()
    _run_jobs()
    member.refresh_from_db()
    assert member.onboarding_status == OnboardingStatus.ONBOARDED
    assert "CloudMSPAccess" in org.iam_roles(member.account_id)
    page = admin_client.get(reverse("cloud:members", kwargs={"account_id": management.pk})).content.decode()
    assert "Remove Role ARN" in page
    confirm = admin_client.get(reverse("cloud:remove_role", kwargs={"account_id": member.pk}), **HTMX).content.decode()
    assert ">Ok</button>" in confirm
    done = admin_client.post(reverse("cloud:remove_role", kwargs={"account_id": member.pk}), **HTMX).content.decode()
    assert "The role was deleted in AWS." in done
    member.refresh_from_db()
    assert member.role_arn == ""
    assert "CloudMSPAccess" not in org.iam_roles(member.account_id)


def test_manual_onboarding_needs_an_arn(admin_client, admin, management):
    member = CloudAccountFactory(
        tenant=admin.tenant, category="msp", kind="member", parent=management, external_id="cmsp-x"
    )
    response = admin_client.post(
        reverse("cloud:onboard", kwargs={"account_id": member.pk}),
        {"role_name": "CloudMSPAccess", "method": "manual"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Paste the Role ARN" in response.content.decode()


def test_non_msp_list_and_association(admin_client, admin, customer):
    account = CloudAccountFactory(tenant=admin.tenant, name="customer-own")
    page = admin_client.get(reverse("cloud:non_msp")).content.decode()
    assert "customer-own" in page
    assert "Associate Account to Customer" in page
    admin_client.post(reverse("cloud:link"), {"accounts": [account.pk], "customer": customer.pk}, **HTMX)
    account.refresh_from_db()
    assert account.customer_id == customer.pk


def test_customer_user_cannot_reach_account_management(client_for, customer_user):
    client = client_for(customer_user)
    assert client.get(reverse("cloud:accounts")).status_code == 403
    assert client.get(reverse("cloud:msp")).status_code == 403


def test_account_lists_filter_on_the_aws_state_and_badge_it(admin_client, admin):
    mgmt = CloudAccountFactory(tenant=admin.tenant, category="msp", kind="management")
    active = CloudAccountFactory(tenant=admin.tenant, category="msp", kind="member", parent=mgmt, name="still-on")
    closed = CloudAccountFactory(
        tenant=admin.tenant, category="msp", kind="member", parent=mgmt, name="gone-away", aws_state="CLOSED"
    )
    CloudAccount.objects.for_tenant(admin.tenant).filter(pk=closed.pk).update(aws_state="CLOSED")

    for path in (reverse("cloud:accounts"), reverse("cloud:members", kwargs={"account_id": mgmt.pk})):
        everything = admin_client.get(path).content.decode()
        assert "still-on" in everything
        assert "gone-away" in everything
        assert '<span class="badge bad" title="AWS: Closed; it cannot be onboarded">Closed</span>' in everything
        assert '<select name="aws_state"' in everything
        only_closed = admin_client.get(path, {"aws_state": "CLOSED", "q": "go"}).content.decode()
        assert "gone-away" in only_closed
        assert "still-on" not in only_closed
        assert '<option value="CLOSED" selected>' in only_closed
        none = admin_client.get(path, {"aws_state": "SUSPENDED"}).content.decode()
        assert "gone-away" not in none
        assert "the AWS state filter" in none
        ignored = admin_client.get(path, {"aws_state": "<script>"}).content.decode()  # not a state: no filter
        assert "gone-away" in ignored
        assert "still-on" in ignored

    members = admin_client.get(reverse("cloud:members", kwargs={"account_id": mgmt.pk})).content.decode()
    assert "Onboard Account: not possible while the account is closed in AWS." in members
    assert members.count(">Onboard Account</a>") == 1  # the active one only
    assert active.aws_state == "ACTIVE"


def test_validating_a_working_role_says_so_once(admin_client, management):
    """Issue 15, defect 5: "The role of 111122223333 works. The role works." """
    response = admin_client.post(
        reverse("cloud:validate", kwargs={"account_id": management.pk}), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert f"The role of {management.account_id} works." in html
    assert "The role works." not in html


def test_removing_accounts_that_had_no_customer_says_nothing_was_removed(admin_client, admin):
    """Issue 15, defect 7: removing an account with no customer reported success ("0 changed")."""
    from tests.factories import CustomerFactory

    customer = CustomerFactory(tenant=admin.tenant)
    free = CloudAccountFactory(tenant=admin.tenant)
    owned = CloudAccountFactory(tenant=admin.tenant, customer=customer)
    url = reverse("cloud:unlink")
    html = admin_client.post(url, {"accounts": [free.pk]}, HTTP_HX_REQUEST="true").content.decode()
    assert "The account was not assigned to a customer, so nothing was removed." in html
    html = admin_client.post(url, {"accounts": [free.pk, owned.pk]}, HTTP_HX_REQUEST="true").content.decode()
    assert "1 account removed from its customer. 1 of them had no customer." in html


def test_non_msp_account_with_a_role_offers_remove_role_arn(admin_client, admin):
    from cloudmsp.audit.models import AuditEvent

    arn = "arn:aws:iam::444455556666:role/CustomerMade"
    linked = CloudAccountFactory(
        tenant=admin.tenant, name="linked-one", role_arn=arn, onboarding_status=OnboardingStatus.ONBOARDED
    )
    CloudAccountFactory(tenant=admin.tenant, name="no-role-yet")
    remove_url = reverse("cloud:remove_role", kwargs={"account_id": linked.pk})
    page = admin_client.get(reverse("cloud:non_msp")).content.decode()
    assert page.count("Remove Role ARN") == 1  # the account without a role offers none
    assert f'hx-get="{remove_url}"' in page

    confirm = admin_client.get(remove_url, **HTMX).content.decode()
    assert "Remove Role ARN" in confirm
    assert "stays in AWS" in confirm
    assert ">Ok</button>" in confirm
    linked.refresh_from_db()
    assert linked.role_arn == arn  # asking is not doing

    done = admin_client.post(remove_url, **HTMX).content.decode()
    assert "the Role ARN is removed" in done
    assert "stays in AWS" in done
    linked.refresh_from_db()
    assert (linked.role_arn, linked.onboarding_status) == ("", OnboardingStatus.NOT_ONBOARDED)
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.remove_role").count() == 1
    page = admin_client.get(reverse("cloud:non_msp")).content.decode()
    assert "Remove Role ARN" not in page


def test_onboard_window_keeps_each_methods_parts_apart(admin_client, admin, management):
    """app.css shows `.method-manual` only while Manual is checked and `.method-automatic` only
    while Automatic is: the window must put each part in its box and check the right radio."""
    member = CloudAccountFactory(
        tenant=admin.tenant, category="msp", kind="member", parent=management, external_id="cmsp-y"
    )
    url = reverse("cloud:onboard", kwargs={"account_id": member.pk})

    def parts(html: str) -> tuple[str, str, str]:
        manual = html.split('<div class="method-manual">', 1)[1]
        checked = re.search(r'<input type="radio" name="method" value="(\w+)"[^>]*checked', html)
        return html.split('<div class="method-manual">', 1)[0], manual, checked.group(1) if checked else ""

    before, manual, checked = parts(admin_client.get(url, **HTMX).content.decode())
    assert checked == "automatic"
    assert 'class="method-automatic"' in before
    assert 'name="role_arn"' in manual
    assert "Trust policy" in manual
    assert "CloudFormation template" in manual
    assert 'name="role_arn"' not in before
    assert "Trust policy" not in before

    refused = admin_client.post(url, {"role_name": "CloudMSPAccess", "method": "manual"}, **HTMX)
    assert refused.status_code == 422
    _, manual, checked = parts(refused.content.decode())
    assert checked == "manual"
    assert "Paste the Role ARN" in manual
