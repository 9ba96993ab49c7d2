"""Auto-assignment rules (SPEC 10). A rule names a customer and conditions (all must hold); rules
are tried by priority and the first whose conditions an account meets is the account's rule, so a
later rule never takes an account an earlier one matches. Without `override_manual` a rule only
assigns accounts that have no customer; with it, it also moves accounts already assigned.

Matching is one SQL condition per rule (the name pattern a LIKE, core.queries.IGlob) (services never loop over accounts): a preview is two
counts and a sample, an apply five statements whatever the number of accounts, and the sync runs
the enabled rules over the accounts it has just inserted, in its own transaction."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.db.models.lookups import Exact, IsNull
from django.utils import timezone

from cloudmsp.audit.services import audit_record
from cloudmsp.cloud.models import AssignmentRule, CloudAccount, Job, JobKind, Kind, OwnershipCause
from cloudmsp.cloud.selectors import ou_under
from cloudmsp.cloud.services.association import set_customer
from cloudmsp.cloud.services.jobs import job_enqueue, job_finish, job_start
from cloudmsp.core.errors import ApplicationError, ConflictError
from cloudmsp.core.queries import JsonKeyText
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, in_tenant, not_found, parse_id, require_tenant_admin
from cloudmsp.tenancy.models import Tenant

CONDITIONS = ("ou_path_prefix", "name_glob", "email_domain", "tag_key", "tag_value", "management_account")
FIELDS = ("name", "priority", "customer", "enabled", "override_manual", *CONDITIONS)
MAX_RULES = 500
SAMPLE = 20
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


# Matching ---------------------------------------------------------------------------------------


def rule_condition(rule: AssignmentRule) -> Q:
    """The rule's conditions as one filter over CloudAccount (all of them must hold)."""
    q = Q()
    if rule.ou_path_prefix:
        q &= ou_under(rule.ou_path_prefix)
    if rule.name_glob:
        q &= Q(name__iglob=rule.name_glob)  # core.queries: a LIKE, never a backtracking regex
    if rule.email_domain:
        q &= Q(email__iendswith="@" + rule.email_domain)
    if rule.tag_key:
        tag = JsonKeyText("tags", rule.tag_key)
        # The key's presence is part of the condition, so that an account without the tag is
        # FALSE, never NULL: excluding an earlier rule's condition (rule_matches) keeps it.
        q &= Q(IsNull(tag, False))
        if rule.tag_value:
            q &= Q(Exact(tag, rule.tag_value))
    if rule.management_account_id:
        q &= Q(parent_id=rule.management_account_id)
    return q


def _earlier(rule: AssignmentRule) -> list[AssignmentRule]:
    """The enabled rules tried before `rule` (an unsaved rule comes after its equals)."""
    rules = AssignmentRule.objects.for_tenant(rule.tenant_id).filter(enabled=True).exclude(pk=rule.pk)
    before = Q(priority__lt=rule.priority)
    if rule.pk:
        before |= Q(priority=rule.priority, pk__lt=rule.pk)
    else:
        before |= Q(priority=rule.priority)
    return list(rules.filter(before))


def assignable(tenant_id: int) -> QuerySet[CloudAccount]:
    """The accounts rules assign: every account of the tenant but the MSP (management) accounts."""
    return CloudAccount.objects.for_tenant(tenant_id).exclude(kind=Kind.MANAGEMENT)


def rule_matches(
    rule: AssignmentRule, base: QuerySet[CloudAccount], earlier: list[AssignmentRule] | None = None
) -> QuerySet[CloudAccount]:
    """The accounts of `base` whose rule is `rule`: they meet its conditions and none of the
    enabled rules tried before it (`earlier`, read when not given)."""
    matched = base.filter(rule_condition(rule))
    for earlier_rule in _earlier(rule) if earlier is None else earlier:
        matched = matched.exclude(rule_condition(earlier_rule))
    return matched


def rule_changes(rule: AssignmentRule, matched: QuerySet[CloudAccount]) -> QuerySet[CloudAccount]:
    """Those of the matched accounts applying the rule would change."""
    changing = matched.exclude(customer_id=rule.customer_id)
    return changing if rule.override_manual else changing.filter(customer__isnull=True)


# Checking a rule's fields -----------------------------------------------------------------------


def _text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    return "" if value is None else str(value).strip()


def _clean_conditions(rule: AssignmentRule, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for field in ("ou_path_prefix", "name_glob"):
        if field in data:
            setattr(rule, field, _text(data, field))
    for field in ("tag_key", "tag_value"):  # AWS tags may begin or end with spaces: kept
        if field in data:
            setattr(rule, field, "" if data[field] is None else str(data[field]))
    rule.ou_path_prefix = rule.ou_path_prefix.rstrip("/")
    if "email_domain" in data:
        rule.email_domain = _text(data, "email_domain").lower().removeprefix("@")
    if rule.email_domain and not _DOMAIN.match(rule.email_domain):
        errors["email_domain"] = ["Give a domain such as example.com."]
    if rule.tag_value and not rule.tag_key:
        errors["tag_key"] = ["A tag value needs its tag key."]
    conditions = [getattr(rule, f) for f in ("ou_path_prefix", "name_glob", "email_domain", "tag_key", "tag_value")]
    if not any(conditions) and not rule.management_account_id and "management_account" not in errors:
        errors.setdefault("__all__", []).append(
            "Give at least one condition: OU path prefix, name pattern, email domain, tag or MSP account."
        )


def _reference(qs: QuerySet[Any], raw: object, kind: str, field: str, errors: dict[str, list[str]]) -> Any:
    """The object of `qs` (already the tenant's) whose id is `raw` (an id or an object), or None
    with an error on `field`: a foreign id reads exactly like a missing one."""
    raw_id = getattr(raw, "pk", raw)
    pk = parse_id(raw_id)
    found = qs.filter(pk=pk).first() if pk else None
    if found is None:
        errors[field] = [not_found(kind, raw_id).message]
    return found


def _clean_references(tenant: Tenant, rule: AssignmentRule, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """The customer and the MSP account, looked up within the tenant only."""
    if "customer" in data:
        customer = _reference(Customer.objects.for_tenant(tenant), data["customer"], "Customer", "customer", errors)
        if customer is not None:
            rule.customer = customer
    elif not rule.customer_id:
        errors["customer"] = ["Choose the customer the rule assigns accounts to."]
    if data.get("management_account") not in (None, ""):
        msp = CloudAccount.objects.for_tenant(tenant).filter(kind=Kind.MANAGEMENT)
        account = _reference(msp, data["management_account"], "MSP account", "management_account", errors)
        if account is not None:
            rule.management_account = account
    elif "management_account" in data:
        rule.management_account = None


def rule_build(*, tenant: Tenant, data: dict[str, Any], rule: AssignmentRule | None = None) -> AssignmentRule:
    """`rule` (or a new, unsaved rule of `tenant`) with `data`'s fields set and checked; a
    ValidationError names every field that is wrong."""
    rule = rule or AssignmentRule(tenant=tenant)
    errors: dict[str, list[str]] = {}
    if "name" in data:
        rule.name = _text(data, "name")
    for flag in ("enabled", "override_manual"):
        if flag in data:
            setattr(rule, flag, bool(data[flag]))
    if "priority" in data:
        rule.priority = data["priority"]
    _clean_references(tenant, rule, data, errors)
    _clean_conditions(rule, data, errors)
    try:
        rule.full_clean(exclude=["tenant", "customer", "management_account", "created_by", *errors])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return rule


# Rules ------------------------------------------------------------------------------------------


def _own(actor: Actor, rule: AssignmentRule) -> Tenant:
    tenant = require_tenant_admin(actor)
    if not in_tenant(rule, tenant):
        raise not_found("Assignment rule", rule.pk)
    return tenant


def _described(rule: AssignmentRule) -> dict[str, Any]:
    return {f: getattr(rule, f"{f}_id" if f in ("customer", "management_account") else f) for f in FIELDS}


def _read_tags(actor: Actor, tenant: Tenant) -> int:
    """When the first rule matching on a tag appears, the accounts' tags have never been read
    (the sync reads them only while such a rule exists): start a sync of every connected MSP
    account to read them. Returns how many started (one already running counts)."""
    from cloudmsp.cloud.services.sync import sync_start  # the sync runs the rules: imported late

    if AssignmentRule.objects.for_tenant(tenant).exclude(tag_key="").count() != 1:
        return 0
    started = 0
    for management in CloudAccount.objects.for_tenant(tenant).filter(kind=Kind.MANAGEMENT):
        if not management.is_onboarded:
            continue
        with contextlib.suppress(ConflictError):
            sync_start(actor=actor, account=management)
        started += 1
    return started


def rule_create(*, actor: Actor, data: dict[str, Any]) -> AssignmentRule:
    """A new rule. Nothing is assigned until it is applied or a sync adds accounts; the first
    rule on a tag starts the syncs that read the tags (`_read_tags`)."""
    tenant = require_tenant_admin(actor)
    rule = rule_build(tenant=tenant, data=data)
    rule.created_by_id = actor.pk
    with transaction.atomic():
        if AssignmentRule.objects.for_tenant(tenant).count() >= MAX_RULES:
            raise ApplicationError(f"A tenant can have at most {MAX_RULES} assignment rules.")
        rule.save()
        audit_record(
            actor=actor,
            action="assignment_rule.create",
            obj=rule,
            changes={k: [None, v] for k, v in _described(rule).items() if v not in ("", None)},
        )
        if rule.tag_key:
            rule.tag_syncs = _read_tags(actor, tenant)
    return rule


def rule_update(*, actor: Actor, rule: AssignmentRule, data: dict[str, Any]) -> AssignmentRule:
    tenant = _own(actor, rule)
    before = _described(rule)
    rule = rule_build(tenant=tenant, data=data, rule=rule)
    after = _described(rule)
    changes = {k: [before[k], after[k]] for k in FIELDS if before[k] != after[k]}
    if changes:
        with transaction.atomic():
            rule.save()
            audit_record(actor=actor, action="assignment_rule.update", obj=rule, changes=changes)
            if "tag_key" in changes and not before["tag_key"]:
                rule.tag_syncs = _read_tags(actor, tenant)
    return rule


def rules_deleted_with(*, actor: Actor | None, customer: Any = None, management: CloudAccount | None = None) -> int:
    """Audit the rules that go with a deleted customer or MSP account (the database deletes them
    with it), in the deleting transaction. Returns how many."""
    going = AssignmentRule.objects.for_tenant((customer or management).tenant_id)  # type: ignore[union-attr]
    going = going.filter(customer=customer) if customer is not None else going.filter(management_account=management)
    what = f"customer {customer}" if customer is not None else f"MSP account {management}"
    count = 0
    for rule in going:
        audit_record(
            actor=actor,
            action="assignment_rule.delete",
            obj=rule,
            changes={"name": [rule.name, None]},
            message=f"Deleted with its {what}.",
        )
        count += 1
    return count


def rule_delete(*, actor: Actor, rule: AssignmentRule) -> None:
    _own(actor, rule)
    with transaction.atomic():
        audit_record(actor=actor, action="assignment_rule.delete", obj=rule, changes={"name": [rule.name, None]})
        rule.delete()


@dataclass(frozen=True)
class Preview:
    matched: int
    would_change: int
    sample: list[dict[str, Any]]


def rule_preview(*, actor: Actor, data: dict[str, Any], rule: AssignmentRule | None = None) -> Preview:
    """What saving and applying the rule `data` describes (or `rule` changed by `data`) would do,
    without saving anything: how many accounts are its, how many it would assign or move, and
    the first of those."""
    tenant = require_tenant_admin(actor)
    if rule is not None:
        _own(actor, rule)
        rule = AssignmentRule.objects.for_tenant(tenant).get(pk=rule.pk)  # a copy: nothing saved
    draft = rule_build(tenant=tenant, data=data, rule=rule)
    matched = rule_matches(draft, assignable(tenant.pk))
    changing = rule_changes(draft, matched)
    rows = changing.order_by("account_id").values(
        "id", "account_id", "name", "ou_path", "customer_id", "customer__company_name"
    )[:SAMPLE]
    sample = [
        {
            "id": r["id"],
            "account_id": r["account_id"],
            "name": r["name"],
            "ou_path": r["ou_path"],
            "customer": r["customer_id"],
            "customer_name": r["customer__company_name"] or "",
        }
        for r in rows
    ]
    return Preview(matched=matched.count(), would_change=changing.count(), sample=sample)


def rule_apply_start(*, actor: Actor, rule: AssignmentRule) -> Job:
    """Apply the rule to every account that is its, as a job (202 in the API)."""
    tenant = _own(actor, rule)
    with transaction.atomic():
        job = Job.objects.create(
            tenant=tenant, kind=JobKind.APPLY_RULE, created_by_id=actor.pk, params={"rule": rule.pk}
        )
        audit_record(actor=actor, action="assignment_rule.apply", obj=rule, changes={"job": [None, job.pk]})
        job_enqueue(job)
    return job


def _assign(*, rule: AssignmentRule, actor: Any, changing: QuerySet[CloudAccount], now: datetime) -> int:
    """Assign the changing accounts to the rule's customer: the rows are locked first (a
    concurrent manual change waits or is waited for), then audited and recorded in the ownership
    history with the rule as the cause, all set-based."""
    ids = list(changing.order_by("pk").select_for_update().values_list("pk", flat=True))
    if not ids:
        return 0
    return set_customer(
        actor=actor,
        tenant_id=rule.tenant_id,
        ids=ids,
        customer=rule.customer,
        action="cloud_account.associate",
        cause=OwnershipCause.RULE,
        message=f"By assignment rule #{rule.pk} “{rule.name}”.",
        now=now,
    )


def rule_apply(job: Job) -> dict[str, Any]:
    """The job body: one all-or-nothing change. A rule deleted or disabled meanwhile changes
    nothing and says so."""
    job_start(job)
    rule = (
        AssignmentRule.objects.for_tenant(job.tenant_id)
        .select_related("customer")
        .filter(pk=parse_id(job.params.get("rule")) or 0)
        .first()
    )
    if rule is None or not rule.enabled:
        job_finish(job, error="The rule was deleted or disabled before it could be applied; nothing changed.")
        return {}
    try:
        with transaction.atomic():
            matched = rule_matches(rule, assignable(rule.tenant_id))
            changing = rule_changes(rule, matched)
            changed = _assign(rule=rule, actor=job.created_by, changing=changing, now=timezone.now())
            result = {"rule": rule.pk, "matched": matched.count(), "changed": changed}
            job_finish(job, result=result)
    except DatabaseError as exc:  # nothing was changed: the transaction rolled back
        job_finish(job, error=f"The rule could not be applied, nothing changed: {str(exc)[:300]}")
        return {}
    return result


def rules_apply_discovered(*, management: CloudAccount, since: datetime, actor: Any, now: datetime) -> int:
    """Run the tenant's enabled rules in the sync's transaction: over the accounts of
    `management`'s organization created since `since` (this sync's), and for rules that
    override manual assignments over all the organization's accounts. Returns how many
    accounts were assigned or moved."""
    organization = CloudAccount.objects.for_tenant(management.tenant_id).filter(parent=management)
    new = organization.filter(created_at__gte=since)
    rules = list(
        AssignmentRule.objects.for_tenant(management.tenant_id).filter(enabled=True).select_related("customer")
    )
    if not rules or not (new.exists() or any(r.override_manual for r in rules)):
        return 0
    changed = 0
    for position, rule in enumerate(rules):
        matched = rule_matches(rule, organization if rule.override_manual else new, rules[:position])
        changed += _assign(rule=rule, actor=actor, changing=rule_changes(rule, matched), now=now)
    return changed


def rules_need_tags(tenant_id: int) -> bool:
    """Whether the sync reads the accounts' tags: only while a rule matches on one."""
    return AssignmentRule.objects.for_tenant(tenant_id).exclude(tag_key="").exists()
