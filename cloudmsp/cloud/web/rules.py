"""ADMINISTRATION > Assignment rules (SPEC 10): the list, a rule's panel with its preview, and
applying it."""

from __future__ import annotations

from typing import Any, override

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from cloudmsp.cloud import selectors
from cloudmsp.cloud.forms import AssignmentRuleForm
from cloudmsp.cloud.models import AssignmentRule, Kind
from cloudmsp.cloud.services import rules
from cloudmsp.customers.selectors import customer_choices
from cloudmsp.tenancy.access import actor_of, require_tenant_admin
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.crud import PanelCrud, Scope
from cloudmsp.web.helpers import apply_errors, render_htmx
from cloudmsp.web.ratelimit import rate_limit


class RulePages(PanelCrud[AssignmentRule]):
    namespace = "cloud"
    name_prefix = "rule_"
    route = "rules/"
    pk_kwarg = "rule_id"
    template = "cloud/rules.html"
    event = "rules-changed"
    label = "rules"
    singular = "assignment rule"
    section = "administration"
    orderings = selectors.RULE_ORDERINGS
    default_ordering = "priority"
    form_class = AssignmentRuleForm
    preview_create_view = "cloud:rule_preview"
    preview_edit_view = "cloud:rule_preview_saved"
    create_note = (
        "Preview shows which accounts the rule would assign before you save it; nothing changes until you apply it."
    )

    @override
    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
        require_tenant_admin(actor_of(request.user))
        return {}

    @override
    def make_form(self, request: HttpRequest, form_class: type[forms.BaseForm], **kwargs: Any) -> forms.BaseForm:
        return rule_form(request, **kwargs)

    @override
    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        return selectors.rule_list(actor=actor_of(request.user), search=search, ordering=ordering)

    @override
    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> AssignmentRule:
        return selectors.rule_get(actor=actor_of(request.user), rule_id=pk)

    @override
    def initial(self, obj: AssignmentRule) -> dict[str, Any]:
        return {
            **{f: getattr(obj, f) for f in rules.FIELDS if f not in ("customer", "management_account")},
            "customer": obj.customer_id,
            "management_account": obj.management_account_id,
        }

    @override
    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[AssignmentRule, dict[str, Any]]:
        rule = rules.rule_create(actor=actor_of(request.user), data=data)
        return rule, {"tag_syncs": rule.tag_syncs}

    @override
    def update(self, request: HttpRequest, scope: Scope, obj: AssignmentRule, data: dict[str, Any]) -> AssignmentRule:
        return rules.rule_update(actor=actor_of(request.user), rule=obj, data=data)

    @override
    def delete(self, request: HttpRequest, scope: Scope, obj: AssignmentRule) -> None:
        rules.rule_delete(actor=actor_of(request.user), rule=obj)

    def delete_impact(self, obj: AssignmentRule) -> list[str]:
        return [f"Accounts it assigned keep their customer; new accounts are no longer assigned to {obj.customer}."]

    @override
    def _detail_context(self, request: HttpRequest, scope: Scope, obj: AssignmentRule, **extra: Any) -> dict[str, Any]:
        found = rules.rule_preview(actor=actor_of(request.user), rule=obj, data={})
        return {**super()._detail_context(request, scope, obj, **extra), "preview": found}


rule_pages = RulePages()


def rule_form(request: HttpRequest, **kwargs: Any) -> AssignmentRuleForm:
    actor = actor_of(request.user)
    form = AssignmentRuleForm(**kwargs)
    msp = selectors.account_list(actor=actor, ordering="name", filters={"kind": Kind.MANAGEMENT})
    form.with_choices(
        list(customer_choices(actor=actor).values_list("pk", "company_name")),
        [
            (pk, f"{name} ({account_id})" if name else account_id)
            for pk, name, account_id in msp.values_list("pk", "name", "account_id")
        ],
    )
    return form


@require_POST
@rate_limit("bulk")
@tenant_admin_page
def rule_preview(request: HttpRequest, admin: Admin, rule_id: int | None = None) -> HttpResponse:
    """What the rule in the create or edit form would do, saving nothing."""
    rule = selectors.rule_get(actor=admin.actor, rule_id=rule_id) if rule_id else None
    form = rule_form(request, data=request.POST)
    found = None
    if form.is_valid():
        try:
            found = rules.rule_preview(actor=admin.actor, data=form.cleaned_data, rule=rule)
        except ValidationError as exc:
            apply_errors(form, exc)
    errors = [
        f"{form.fields[field].label}: {message}" if field in form.fields else message
        for field, messages in form.errors.items()
        for message in messages
    ]
    return render_htmx(request, "cloud/rules.html", {"preview": found, "preview_errors": errors}, partial="preview")


@require_POST
@rate_limit("bulk")
@tenant_admin_page
def rule_apply(request: HttpRequest, admin: Admin, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=admin.actor, rule_id=rule_id)
    job = rules.rule_apply_start(actor=admin.actor, rule=rule)
    ctx = {"job": job, "title": f"Applying the rule “{rule.name}”"}
    return render_htmx(request, "cloud/job.html", ctx, partial="dialog")
