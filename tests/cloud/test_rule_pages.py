"""ADMINISTRATION > Assignment rules in the test client: create with a preview, the panel, apply."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cloudmsp.cloud.models import AssignmentRule, Category, CloudAccount, Job, JobKind, JobState, Kind
from cloudmsp.cloud.services.rules import rule_create
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def production(admin):
    management = CloudAccountFactory(tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT, name="Payer")
    for i, path in enumerate(["Root/Production", "Root/Production/Web", "Root/Dev"]):
        CloudAccountFactory(
            tenant=admin.tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=management,
            ou_path=path,
            name=f"member-{i}",
        )
    return CustomerFactory(tenant=admin.tenant, company_name="Production Co"), management


def _form(customer, **fields) -> dict[str, object]:
    return {"name": "Prod", "customer": customer.pk, "priority": 10, "enabled": "on", **fields}


def test_the_empty_list_says_what_a_rule_is_for(admin_client):
    html = admin_client.get(reverse("cloud:rule_list")).content.decode()
    assert "No rules yet" in html
    assert "Root/Production" in html


def test_the_create_form_offers_the_tenants_customers_and_msp_accounts(admin_client, admin, production):
    customer, management = production
    html = admin_client.get(reverse("cloud:rule_create"), **HTMX).content.decode()
    assert f'<option value="{customer.pk}">Production Co</option>' in html
    assert f'<option value="{management.pk}">Payer ({management.account_id})</option>' in html
    assert reverse("cloud:rule_preview") in html
    assert "Preview" in html


def test_preview_shows_what_the_unsaved_rule_would_change(admin_client, admin, production):
    customer, _ = production
    answer = admin_client.post(reverse("cloud:rule_preview"), _form(customer, ou_path_prefix="Root/Production"), **HTMX)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "<strong>2</strong> accounts match this rule" in html
    assert "member-0" in html
    assert "member-1" in html
    assert "member-2" not in html
    assert not AssignmentRule.objects.for_tenant(admin.tenant).exists()


def test_preview_of_a_rule_without_conditions_says_what_to_fix(admin_client, production):
    customer, _ = production
    html = admin_client.post(reverse("cloud:rule_preview"), _form(customer), **HTMX).content.decode()
    assert "Fix these to see the preview" in html
    assert "Give at least one condition" in html


def test_create_then_the_panel_previews_and_applies(admin_client, admin, production, run_tasks, commit):
    customer, _ = production
    created = admin_client.post(reverse("cloud:rule_create"), _form(customer, ou_path_prefix="Root/Production"))
    assert created.status_code == 303
    rule = AssignmentRule.objects.for_tenant(admin.tenant).get()
    panel = admin_client.get(reverse("cloud:rule_detail", kwargs={"rule_id": rule.pk}), **HTMX).content.decode()
    assert "Apply now to 2 accounts" in panel
    assert "OU under <code>Root/Production</code>" in panel
    with commit():
        dialog = admin_client.post(reverse("cloud:rule_apply", kwargs={"rule_id": rule.pk}), **HTMX)
    assert dialog.status_code == 200
    assert "Applying the rule “Prod”" in dialog.content.decode()
    run_tasks()
    job = Job.objects.for_tenant(admin.tenant).get(kind=JobKind.APPLY_RULE)
    assert job.state == JobState.SUCCEEDED
    progress = admin_client.get(reverse("cloud:job", kwargs={"job_id": job.pk}), **HTMX).content.decode()
    assert "2 account(s) assigned or moved" in progress
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer).count() == 2


def test_a_field_error_is_shown_next_to_its_field(admin_client, admin, production):
    customer, _ = production
    answer = admin_client.post(reverse("cloud:rule_create"), _form(customer, email_domain="not a domain"), **HTMX)
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "Give a domain such as example.com." in html
    assert 'aria-invalid="true"' in html


def test_the_edit_form_previews_the_changed_rule(admin_client, admin, production):
    customer, _ = production
    rule = rule_create(actor=admin, data={"name": "Dev", "customer": customer.pk, "ou_path_prefix": "Root/Dev"})
    edit = admin_client.get(reverse("cloud:rule_edit", kwargs={"rule_id": rule.pk}), **HTMX).content.decode()
    preview_url = reverse("cloud:rule_preview_saved", kwargs={"rule_id": rule.pk})
    assert preview_url in edit
    html = admin_client.post(preview_url, _form(customer, ou_path_prefix="Root/Production/Web"), **HTMX).content
    assert "<strong>1</strong> account matches this rule" in html.decode()
    rule.refresh_from_db()
    assert rule.ou_path_prefix == "Root/Dev"
