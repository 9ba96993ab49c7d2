from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Concat, Left, StrIndex, Substr, Upper
from django.db.models.lookups import Exact

from cloudmsp.cloud import search as search_index
from cloudmsp.cloud.models import (
    AccountSearchToken,
    AssignmentRule,
    AwsState,
    CloudAccount,
    Health,
    HealthCheck,
    Job,
    JobState,
    Kind,
    OnboardingStatus,
    OwnershipInterval,
)
from cloudmsp.core.errors import NotFound
from cloudmsp.core.queries import id_set
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, not_found, parse_id, require_tenant_admin

ACCOUNT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "account_id": ("account_id", "id"),
    "-account_id": ("-account_id", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "customer": ("customer__company_name", "account_id", "id"),
    "-customer": ("-customer__company_name", "-account_id", "-id"),
    "onboarding_status": ("onboarding_status", "account_id", "id"),
    "-onboarding_status": ("-onboarding_status", "-account_id", "-id"),
    "aws_state": ("aws_state", "account_id", "id"),
    "-aws_state": ("-aws_state", "-account_id", "-id"),
    "ou_path": ("ou_path", "account_id", "id"),
    "-ou_path": ("-ou_path", "-account_id", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    # Broken first ("broken" < "healthy" < "unknown"), the longest broken first.
    "health": ("health", "health_since", "account_id", "id"),
    "-health": ("-health", "-health_since", "-account_id", "-id"),
}
FILTERS = ("category", "kind", "parent", "customer", "onboarding_status", "aws_state", "health", "ou")


def ou_under(path: str) -> Q:
    """The accounts in the OU at `path` ("Root/Production") or below it, not "Root/ProductionX";
    case-sensitive on both databases (SQLite's LIKE, and so startswith, folds ASCII case)."""
    below = path + "/"
    return Q(ou_path=path) | Q(Exact(Substr("ou_path", 1, len(below)), below))


def accounts_visible_to(actor: Actor) -> QuerySet[CloudAccount]:
    """A tenant administrator sees every account of its tenant; a customer user, the accounts
    assigned to its customer; anyone else, none."""
    if actor.is_authenticated and actor.is_tenant_admin and actor.tenant_id:
        return CloudAccount.objects.for_tenant(actor.tenant_id)
    if actor.is_authenticated and actor.is_customer_user and actor.tenant_id and actor.customer_id:
        return CloudAccount.objects.for_tenant(actor.tenant_id).filter(customer_id=actor.customer_id)
    return CloudAccount.unscoped.none()


def account_list(
    *,
    actor: Actor,
    search: str = "",
    ordering: str = "account_id",
    filters: dict[str, Any] | None = None,
) -> QuerySet[CloudAccount]:
    """Accounts the actor can see, with search (account id, name, email, OU, customer) and the
    filters of the API (`category`, `kind`, `parent`, `customer`, `onboarding_status`, `aws_state`,
    `health`, and `ou`: an organizational unit path and everything below it)."""
    qs = accounts_visible_to(actor).select_related("customer", "parent")
    for key, value in (filters or {}).items():
        if key not in FILTERS or value in (None, ""):
            continue
        if key in ("parent", "customer"):
            if value == "none" and key == "customer":
                qs = qs.filter(customer__isnull=True)
                continue
            pk = parse_id(value)
            qs = qs.filter(**{f"{key}_id": pk}) if pk else qs.none()
        elif key == "ou":
            qs = qs.filter(ou_under(str(value).rstrip("/")))
        else:
            qs = qs.filter(**{key: value})
    search = search.strip()
    if search and actor.tenant_id:
        qs = qs.filter(_search_match(actor.tenant_id, search))
    return qs.order_by(*ACCOUNT_ORDERINGS.get(ordering, ACCOUNT_ORDERINGS["account_id"]))


def _token_condition(lookup: search_index.Lookup) -> Q:
    # upper-cased by the database, as search_text was, and cut as the tokens are
    value = Left(Upper(Value(lookup.text)), search_index.TOKEN_LENGTH)
    found = Q(token__gte=value, token__lt=Concat(value, Value(search_index.TOP)))
    if lookup.reversed_digits:
        reversed_id = search_index.REVERSED + lookup.reversed_digits
        found |= Q(token__gte=reversed_id, token__lt=reversed_id + search_index.TOP)
    return found


def _search_match(tenant_id: int, search: str) -> Q:
    """The accounts of the tenant that a search finds (cloudmsp.cloud.search): those with a token
    that begins with the search, one range of the token index (checked again as a substring when
    the search began with punctuation or was longer than a token), and those of the customers
    whose company name contains it (a few thousand rows, matched first). One set of ids, so that
    both kinds of match are index lookups rather than a condition on every account."""
    customers = Customer.objects.for_tenant(tenant_id).filter(company_name__icontains=search).values("pk")
    lookup = search_index.lookup(search)
    if lookup is None:  # punctuation only: no word to look up, the accounts are scanned
        # upper-cased as the column is
        return Q(search_text__contains=Upper(Value(search))) | Q(customer_id__in=customers)
    by_customer = CloudAccount.objects.for_tenant(tenant_id).filter(customer_id__in=customers).values("pk")
    ids = AccountSearchToken.objects.for_tenant(tenant_id).filter(_token_condition(lookup)).values("account_id")
    if lookup.complete:
        return Q(pk__in=ids.union(by_customer))
    # The substring check as a position, not a LIKE: the planner estimates a LIKE with a long
    # pattern to keep a handful of rows and would scan every account with it, before the tokens.
    by_text = (
        CloudAccount.objects.for_tenant(tenant_id)
        .alias(found_at=StrIndex("search_text", Upper(Value(search))))
        .filter(found_at__gt=0, pk__in=ids)
    )
    return Q(pk__in=by_text.values("pk").union(by_customer))


def account_ids_matching(*, actor: Actor, search: str = "", filters: dict[str, Any], limit: int) -> list[int]:
    """The ids of the tenant's accounts that the list with this search and these filters shows
    (all its pages), in id order, in one statement; at most `limit` + 1, so that a caller can
    tell "more than `limit`" without reading them all. For tenant administrators: what "all N
    accounts matching this filter" acts on, re-evaluated on the server, never ids from a client."""
    require_tenant_admin(actor)
    qs = account_list(actor=actor, search=search, filters=filters)
    return list(qs.order_by("pk").values_list("pk", flat=True)[: limit + 1])


def msp_account_list(*, actor: Actor, search: str = "", ordering: str = "account_id") -> QuerySet[CloudAccount]:
    """Management accounts with how many members they have and how many are onboarded: the
    counters the database keeps on each management account (`member_count`, `onboarded_count`,
    migration 0012), so a page reads 50 rows whatever the size of the organizations."""
    require_tenant_admin(actor)
    return account_list(actor=actor, search=search, ordering=ordering, filters={"kind": Kind.MANAGEMENT})


def account_get(*, actor: Actor, account_id: object, kind: str | None = None) -> CloudAccount:
    pk = parse_id(account_id)
    account = None
    if pk is not None:
        qs = accounts_visible_to(actor).select_related("customer", "parent")
        if kind:
            qs = qs.filter(kind=kind)
        account = qs.filter(pk=pk).first()
    if account is None:
        raise not_found("Cloud account", account_id)
    return account


def selection_state(rows: Iterable[tuple[int, int | None]]) -> str:
    """A token of which customer each account has, from (id, customer_id) rows in id order:
    equal tokens, same assignment. Bulk changes compare it to refuse acting on a stale view."""
    digest = hashlib.sha256()
    for pk, customer_id in rows:
        digest.update(f"{pk}:{customer_id or ''};".encode())
    return digest.hexdigest()[:32]


def account_selection_state(*, actor: Actor, account_ids: Iterable[object]) -> str:
    """The `selection_state` of the actor's accounts among `account_ids`, as a dialog that acts
    on them shows them (ids that are not valid or out of reach are left out)."""
    tenant = require_tenant_admin(actor)
    ids = sorted({pk for pk in map(parse_id, account_ids) if pk is not None})
    rows = CloudAccount.objects.for_tenant(tenant).filter(pk__in=id_set(ids)).order_by("pk")
    return selection_state(rows.values_list("pk", "customer_id"))


def job_get(*, actor: Actor, job_id: object) -> Job:
    tenant = require_tenant_admin(actor)
    pk = parse_id(job_id)
    job = Job.objects.for_tenant(tenant).select_related("account").filter(pk=pk).first() if pk else None
    if job is None:
        raise NotFound("Job not found.", extra={"target": f"Job #{str(job_id)[:40]}"})
    return job


def latest_job(*, actor: Actor, account: CloudAccount, kind: str) -> Job | None:
    tenant = require_tenant_admin(actor)
    return Job.objects.for_tenant(tenant).filter(account=account, kind=kind).order_by("-created_at", "-id").first()


CUSTOMER_ACCOUNT_ORDERINGS = {
    "account_id": ("account_id", "id"),
    "-account_id": ("-account_id", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}


def customer_accounts(
    *, customer: Customer, search: str = "", ordering: str = "account_id", health: str = ""
) -> QuerySet[CloudAccount]:
    """A customer's own accounts (the customer fetched through customers.selectors.customer_get),
    searched by account id or name, and of one health if `health` is given."""
    qs = CloudAccount.objects.for_tenant(customer.tenant_id).filter(customer=customer)
    if health:
        qs = qs.filter(health=health)
    if search:
        qs = qs.filter(account_id__contains=search) | qs.filter(name__icontains=search)
    return qs.order_by(*CUSTOMER_ACCOUNT_ORDERINGS.get(ordering, CUSTOMER_ACCOUNT_ORDERINGS["account_id"]))


def account_health_checks(*, actor: Actor, account: CloudAccount) -> QuerySet[HealthCheck]:
    """The checks of an account (fetched by account_get: within the actor's reach), newest first."""
    return HealthCheck.objects.for_tenant(actor.tenant_id or 0).filter(account=account).order_by("-checked_at", "-id")


def account_health_timeline(*, actor: Actor, account: CloudAccount, limit: int = 50) -> list[HealthCheck]:
    """The checks that changed the account's health, newest first."""
    return list(account_health_checks(actor=actor, account=account).exclude(changed_from="")[:limit])


def health_list(
    *, actor: Actor, search: str = "", ordering: str = "health", health: str = ""
) -> QuerySet[CloudAccount]:
    """The Health page: every account with a role, broken ones first (tenant administrators)."""
    require_tenant_admin(actor)
    qs = account_list(actor=actor, search=search, ordering=ordering, filters={"health": health})
    return qs.exclude(role_arn="")


def health_counts(*, actor: Actor) -> dict[str, int]:
    """How many of the tenant's roles are broken, healthy and never checked."""
    tenant = require_tenant_admin(actor)
    return _count_by(CloudAccount.objects.for_tenant(tenant).exclude(role_arn=""), "health", Health.values)


def _count_by(qs: QuerySet[Any], field: str, values: list[str]) -> dict[str, int]:
    """{value: how many rows of `qs` have it} for every one of `values` (0 when none), in one query."""
    counts = dict.fromkeys(values, 0)
    counts.update(dict(qs.values_list(field).annotate(n=Count("id")).order_by()))
    return counts


def latest_tenant_job(*, actor: Actor, kind: str) -> Job | None:
    """The tenant's latest scheduled job of `kind` that concerns no single account (scheduled
    validation; a bulk validation an administrator started is not one)."""
    tenant = require_tenant_admin(actor)
    qs = Job.objects.for_tenant(tenant).filter(kind=kind, account=None, params__scheduled=True)
    return qs.order_by("-created_at", "-id").first()


def account_ownership(*, actor: Actor, account: CloudAccount) -> QuerySet[OwnershipInterval]:
    """The account's ownership intervals, the current one first."""
    tenant = require_tenant_admin(actor)
    return (
        OwnershipInterval.objects.for_tenant(tenant)
        .filter(account=account)
        .order_by(F("valid_to").desc(nulls_first=True), F("valid_from").desc(nulls_last=True), "-id")
    )


def customer_ownership_history(*, actor: Actor, customer: Customer, limit: int = 50) -> list[OwnershipInterval]:
    """The ownership intervals of a customer (fetched through customer_get): which accounts it
    owned when, the newest first; one statement."""
    tenant = require_tenant_admin(actor)
    qs = OwnershipInterval.objects.for_tenant(tenant).filter(customer=customer).select_related("account")
    order = (F("valid_from").desc(nulls_last=True), "-id")
    return list(qs.order_by(*order)[:limit])


def ownership_during(*, actor: Actor, start: datetime, end: datetime) -> QuerySet[OwnershipInterval]:
    """Every interval of the tenant that overlaps [start, end): who owned what in that period."""
    tenant = require_tenant_admin(actor)
    return (
        OwnershipInterval.objects.for_tenant(tenant)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lt=end), Q(valid_to__isnull=True) | Q(valid_to__gt=start))
        .select_related("account")
        .order_by("account__account_id", F("valid_from").asc(nulls_first=True), "id")
    )


RULE_ORDERINGS: dict[str, tuple[str, ...]] = {
    "priority": ("priority", "id"),
    "-priority": ("-priority", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


def rule_list(*, actor: Actor, search: str = "", ordering: str = "priority") -> QuerySet[AssignmentRule]:
    """The tenant's assignment rules in the order they are tried (or as sorted)."""
    tenant = require_tenant_admin(actor)
    qs = AssignmentRule.objects.for_tenant(tenant).select_related("customer", "management_account")
    term = search.strip()
    if term:
        qs = qs.filter(Q(name__icontains=term) | Q(customer__company_name__icontains=term))
    return qs.order_by(*RULE_ORDERINGS.get(ordering, RULE_ORDERINGS["priority"]))


def rule_get(*, actor: Actor, rule_id: object) -> AssignmentRule:
    tenant = require_tenant_admin(actor)
    pk = parse_id(rule_id)
    rule = rule_list(actor=actor).filter(pk=pk).first() if pk else None
    if rule is None or rule.tenant_id != tenant.pk:
        raise not_found("Assignment rule", rule_id)
    return rule


# The tenant dashboard (issue 15): what an administrator sees first. A fixed number of queries
# whatever the number of accounts: one aggregate for every count, one for the MSP accounts' bars.
DASHBOARD_MSP_LIMIT = 12
DASHBOARD_RECENT = 5


def dashboard_counts(*, actor: Actor) -> dict[str, Any]:
    """The tenant's accounts counted, in one query, as the lists the dashboard links to count
    them: `total`, `unassigned` (no customer), `msp` (management accounts), `aws_state` and
    `onboarding` ({value: count} for every choice) and `health` ({value: count} of the accounts
    with a role, as the Health page lists them)."""
    tenant = require_tenant_admin(actor)
    has_role = ~Q(role_arn="")
    aggregates: dict[str, Any] = {
        "total": Count("id"),
        "unassigned": Count("id", filter=Q(customer__isnull=True)),
        "msp": Count("id", filter=Q(kind=Kind.MANAGEMENT)),
        **{f"aws_state:{v}": Count("id", filter=Q(aws_state=v)) for v in AwsState.values},
        **{f"onboarding:{v}": Count("id", filter=Q(onboarding_status=v)) for v in OnboardingStatus.values},
        **{f"health:{v}": Count("id", filter=has_role & Q(health=v)) for v in Health.values},
    }
    row = CloudAccount.objects.for_tenant(tenant).aggregate(**aggregates)
    counts: dict[str, Any] = {"aws_state": {}, "onboarding": {}, "health": {}}
    for key, value in row.items():
        group, _, choice = key.partition(":")
        if choice:
            counts[group][choice] = value or 0
        else:
            counts[key] = value or 0
    return counts


def dashboard_msp_progress(*, actor: Actor, limit: int = DASHBOARD_MSP_LIMIT) -> list[CloudAccount]:
    """The first `limit` management accounts by account id, each with `member_count` and
    `onboarded_count` (msp_account_list), in one query."""
    return list(msp_account_list(actor=actor)[:limit])


def recent_jobs(*, actor: Actor, limit: int = DASHBOARD_RECENT) -> list[Job]:
    """The tenant's latest jobs, newest first, with their accounts, in one query."""
    return list(job_list(actor=actor)[:limit])


JOB_ORDERINGS: dict[str, tuple[str, ...]] = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "kind": ("kind", "-created_at", "-id"),
    "-kind": ("-kind", "-created_at", "-id"),
    "state": ("state", "-created_at", "-id"),
    "-state": ("-state", "-created_at", "-id"),
}


def job_list(
    *, actor: Actor, search: str = "", ordering: str = "-created_at", state: str = "", kind: str = ""
) -> QuerySet[Job]:
    """The tenant's jobs (newest first unless sorted otherwise) with their accounts, of one state
    and one kind if given, searched by their account's id or name."""
    tenant = require_tenant_admin(actor)
    qs = Job.objects.for_tenant(tenant).select_related("account")
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    term = search.strip()
    if term:
        qs = qs.filter(Q(account__account_id__contains=term) | Q(account__name__icontains=term))
    return qs.order_by(*JOB_ORDERINGS.get(ordering, JOB_ORDERINGS["-created_at"]))


def job_counts(*, actor: Actor) -> dict[str, int]:
    """How many of the tenant's jobs are in each state ({state: count} for every state)."""
    tenant = require_tenant_admin(actor)
    return _count_by(Job.objects.for_tenant(tenant), "state", JobState.values)


def customer_health_counts(*, customer: Customer) -> dict[str, int]:
    """How many of a customer's accounts (customers.selectors.customer_get) are broken, healthy
    and never checked, counting every account (one without a role has never been checked)."""
    return _count_by(
        CloudAccount.objects.for_tenant(customer.tenant_id).filter(customer=customer), "health", Health.values
    )
