"""The tenant dashboard (issue 15; cloudmsp/cloud/web/dashboard.py and its selectors): every
count links to the list that shows exactly those accounts, another tenant's accounts are never
counted, and the page costs the same number of queries whatever the number of accounts."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Health, Job, JobKind, JobState, Kind
from cloudmsp.cloud.models import OnboardingStatus as Onb
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, TenantFactory

pytestmark = pytest.mark.django_db

ROLE = "arn:aws:iam::{}:role/CloudMSPPortal"
# A count and its link on the dashboard: <a href="URL"><strong>N</strong> <span>label</span></a>.
TILE = re.compile(r'<a href="([^"]+)"(?: class="[^"]*")?><strong>(\d+)</strong> <span>([^<]+)</span>')


def _account(tenant, name: str, **kwargs) -> CloudAccount:
    role = kwargs.pop("with_role", False)
    account = CloudAccountFactory(tenant=tenant, name=name, **kwargs)
    if role:
        account.role_arn = ROLE.format(account.account_id)
        account.save(update_fields=["role_arn"])
    return account


def _estate(tenant) -> dict[str, CloudAccount]:
    """An MSP account with four members (one onboarded), and three Non-MSP accounts."""
    customer = CustomerFactory(tenant=tenant)
    mgmt = _account(tenant, "zq-mgmt", category=Category.MSP, kind=Kind.MANAGEMENT, customer=customer, with_role=True)
    mgmt.health = Health.HEALTHY
    mgmt.onboarding_status = Onb.ONBOARDED
    mgmt.save()
    member = {"tenant": tenant, "category": Category.MSP, "kind": Kind.MEMBER, "parent": mgmt}
    return {
        "mgmt": mgmt,
        "m1": _account(name="zq-m1", onboarding_status=Onb.ONBOARDED, customer=customer, with_role=True, **member),
        "m2": _account(name="zq-m2", aws_state=AwsState.SUSPENDED, **member),
        "m3": _account(name="zq-m3", onboarding_status=Onb.FAILED, **member),
        "m4": _account(name="zq-m4", **member),
        "s1": _account(tenant, "zq-s1", customer=customer, with_role=True, health=Health.BROKEN),
        "s2": _account(tenant, "zq-s2", aws_state=AwsState.CLOSED),
        "s3": _account(tenant, "zq-s3", with_role=True, health=Health.BROKEN, onboarding_status=Onb.ONBOARDED),
    }


def _names_on(client, url: str) -> set[str]:
    """The estate's account names a list page shows (its first 100 rows)."""
    joiner = "&" if "?" in url else "?"
    body = client.get(f"{url}{joiner}per_page=100").content.decode()
    return set(re.findall(r"\bzq-[a-z0-9]+\b", body))


def test_the_administrators_home_is_the_dashboard(admin_client):
    response = admin_client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Dashboard · cloudmsp</title>" in body
    assert "<h1>Dashboard</h1>" in body
    nav = body[body.index('<nav aria-label="Main"') : body.index("</nav>")]
    assert f'<a href="{reverse("web:home")}" aria-current="page">Dashboard</a>' in nav


def test_every_count_links_to_the_list_of_exactly_those_accounts(admin, admin_client):
    estate = _estate(admin.tenant)
    body = admin_client.get("/").content.decode()
    tiles = {label: (htmllib.unescape(url), int(n)) for url, n, label in TILE.findall(body)}
    expected = {
        "in all": 8,
        "with no customer": 5,
        "broken roles": 2,
        "Active": 6,
        "Suspended": 1,
        "Closed": 1,
        "Pending activation": 0,
        "Onboarded": 3,
        "Failed": 1,
        "Not onboarded": 4,
        "Healthy": 1,
        "Broken": 2,
        "Never checked": 1,
    }
    assert {label: n for label, (_url, n) in tiles.items() if label in expected} == expected
    for label, (url, n) in tiles.items():
        shown = _names_on(admin_client, url)
        assert len(shown) == n, (label, url, shown)
    assert _names_on(admin_client, tiles["with no customer"][0]) == {"zq-m2", "zq-m3", "zq-m4", "zq-s2", "zq-s3"}
    assert _names_on(admin_client, tiles["broken roles"][0]) == {"zq-s1", "zq-s3"}
    assert tiles["broken roles"][0] == reverse("cloud:health") + "?health=broken"
    assert estate["mgmt"].account_id in body


def test_onboarding_progress_per_msp_account_is_a_bar_with_its_words(admin, admin_client):
    estate = _estate(admin.tenant)
    empty = _account(admin.tenant, "zq-empty-org", category=Category.MSP, kind=Kind.MANAGEMENT)
    body = admin_client.get("/").content.decode()
    members = reverse("cloud:members", kwargs={"account_id": estate["mgmt"].pk})
    assert f'<progress value="1" max="4" aria-labelledby="msp-{estate["mgmt"].pk}"' in body
    assert 'aria-valuetext="1 of 4 member accounts onboarded"' in body
    assert f'<a href="{members}?onboarding_status=onboarded">1 of 4 onboarded</a> (25%)' in body
    # (The members page names its MSP account in its heading.)
    assert _names_on(admin_client, f"{members}?onboarding_status=onboarded") - {"zq-mgmt"} == {"zq-m1"}
    assert _names_on(admin_client, f"{members}?onboarding_status=not_onboarded") - {"zq-mgmt"} == {"zq-m2", "zq-m4"}
    # An organization with no member yet: an empty bar, not a division by zero.
    assert f'<progress value="0" max="1" aria-labelledby="msp-{empty.pk}"' in body
    assert "0 of 0" not in body
    assert 'aria-valuetext="no member accounts yet"' in body


def test_another_tenants_accounts_jobs_and_events_are_never_counted(admin, admin_client):
    _estate(admin.tenant)
    other = TenantFactory()
    other_estate = _estate(other)
    for name in ("zq-x1", "zq-x2"):
        _account(other, name, with_role=True, health=Health.BROKEN)
    Job.unscoped.create(tenant=other, kind=JobKind.SYNC, account=other_estate["mgmt"], state=JobState.FAILED)
    AuditEvent.unscoped.create(tenant=other, action="customer.delete", object_repr="Other Corp")
    body = admin_client.get("/").content.decode()
    tiles = {label: int(n) for _url, n, label in TILE.findall(body)}
    assert (tiles["in all"], tiles["broken roles"], tiles["with no customer"]) == (8, 2, 5)
    assert other_estate["mgmt"].account_id not in body
    assert "zq-x1" not in body
    assert "Other Corp" not in body
    assert "No jobs yet" in body
    counts = selectors.dashboard_counts(actor=admin)
    assert counts["total"] == 8
    assert [a.pk for a in selectors.dashboard_msp_progress(actor=admin)] == [
        a.pk for a in CloudAccount.unscoped.filter(tenant=admin.tenant, kind=Kind.MANAGEMENT)
    ]


def test_recent_jobs_and_audit_events_link_to_what_they_are(admin, admin_client):
    estate = _estate(admin.tenant)
    job = Job.unscoped.create(tenant=admin.tenant, kind=JobKind.SYNC, account=estate["mgmt"], state=JobState.FAILED)
    AuditEvent.unscoped.create(
        tenant=admin.tenant,
        action="cloudaccount.update",
        object_type="cloudaccount",
        object_id=str(estate["s1"].pk),
        object_repr="zq-s1 renamed",
        actor_email=admin.email,
    )
    AuditEvent.unscoped.create(tenant=admin.tenant, action="customer.create", object_type="customer", object_id="999")
    body = admin_client.get("/").content.decode()
    assert (
        f'<a href="{reverse("cloud:job", kwargs={"job_id": job.pk})}">Organization sync of {estate["mgmt"].account_id}</a>'
        in body
    )
    assert '<span class="badge bad">Failed</span>' in body
    jobs = reverse("cloud:jobs")
    assert f'<a href="{jobs}?state=failed"><strong>1</strong> failed</a>' in body
    assert f'<a href="{jobs}?state=running" class="dash-zero"><strong>0</strong> running</a>' in body
    listed = admin_client.get(f"{jobs}?state=failed").content.decode()
    assert listed.count('<tr id="job-row-') == 1
    assert f'id="job-row-{job.pk}"' in listed
    audit_url = f"{reverse('audit:list')}?object_type=cloudaccount&amp;object_id={estate['s1'].pk}"
    assert f'<a href="{audit_url}"><code>cloudaccount.update</code>' in body
    log = admin_client.get(htmllib.unescape(audit_url)).content.decode()
    assert "zq-s1 renamed" in log
    assert "customer.create" not in log
    assert "Only the events of cloudaccount" in log


def test_the_dashboard_costs_the_same_queries_for_three_accounts_or_sixty(
    admin, admin_client, django_assert_num_queries
):
    estate = _estate(admin.tenant)
    Job.unscoped.create(tenant=admin.tenant, kind=JobKind.SYNC, account=estate["mgmt"], state=JobState.SUCCEEDED)
    AuditEvent.unscoped.create(tenant=admin.tenant, action="customer.create", object_repr="Acme")
    admin_client.get("/")  # the session's first read
    with django_assert_num_queries(QUERIES):
        assert admin_client.get("/").status_code == 200
    for n in range(52):
        _account(admin.tenant, f"zq-more{n}", parent=estate["mgmt"], kind=Kind.MEMBER, category=Category.MSP)
    for _ in range(3):
        _account(admin.tenant, "zq-org", category=Category.MSP, kind=Kind.MANAGEMENT)
    with django_assert_num_queries(QUERIES):
        assert admin_client.get("/").status_code == 200


# The session and the user (2), the counts (1), the MSP accounts' bars (1), the jobs (1), the
# jobs by state (1), the audit events (1).
QUERIES = 7


def test_each_dashboard_selector_is_one_query(admin, django_assert_num_queries):
    _estate(admin.tenant)
    calls = (selectors.dashboard_counts, selectors.dashboard_msp_progress, selectors.recent_jobs, selectors.job_counts)
    for call in calls:
        with django_assert_num_queries(1):
            call(actor=admin)


def test_a_new_tenant_is_told_how_to_add_its_first_msp_account(admin_client):
    body = admin_client.get("/").content.decode()
    assert "Add your first MSP account" in body
    assert f'<a href="{reverse("cloud:msp")}">Account Management &rsaquo; AWS &rsaquo; MSP</a>' in body
    assert "<strong>Add MSP account</strong>" in body
    assert "<progress" not in body


def test_the_dashboard_is_for_tenant_administrators_only(customer_user, sysadmin, client_for):
    assert client_for(sysadmin).get("/")["Location"] == reverse("tenants:list")
    body = client_for(customer_user).get("/").content.decode()
    assert "<h1>Dashboard</h1>" not in body
    assert ">Dashboard</a>" not in body


def test_a_customer_users_home_counts_its_accounts_by_health_with_links(customer, client_for):
    user = CustomerUserFactory(customer=customer)
    _account(customer.tenant, "zq-c1", customer=customer, with_role=True, health=Health.BROKEN)
    _account(customer.tenant, "zq-c2", customer=customer, with_role=True, health=Health.HEALTHY)
    _account(customer.tenant, "zq-c3", customer=customer)
    _account(customer.tenant, "zq-other", with_role=True, health=Health.BROKEN)  # no customer
    _account(customer.tenant, "zq-neighbour", customer=CustomerFactory(tenant=customer.tenant), health=Health.BROKEN)
    client = client_for(user)
    body = client.get("/").content.decode()
    assert '<a href="/?health=broken"><strong>1</strong> broken</a>' in body
    assert '<a href="/?health=healthy"><strong>1</strong> healthy</a>' in body
    assert '<a href="/?health=unknown"><strong>1</strong> never checked</a>' in body
    assert _names_on(client, "/?health=broken") == {"zq-c1"}
    assert _names_on(client, "/?health=unknown") == {"zq-c3"}
    assert _names_on(client, "/") == {"zq-c1", "zq-c2", "zq-c3"}
    assert '<span class="badge bad">Broken' in body
    assert selectors.customer_health_counts(customer=customer) == {"broken": 1, "healthy": 1, "unknown": 1}


def test_admin_only_counts_are_refused_to_others(customer_user):
    from cloudmsp.core.errors import PermissionDenied

    calls = (selectors.dashboard_counts, selectors.dashboard_msp_progress, selectors.recent_jobs, selectors.job_counts)
    for call in calls:
        with pytest.raises(PermissionDenied):
            call(actor=customer_user)
