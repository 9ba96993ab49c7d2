"""Shared plumbing of the isolation suite: the URL configuration as a list of routes, a
three-tenant world, and snapshots of every domain table."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.audit.services import audit_record
from cloudmsp.cloud.models import Category, Job, JobKind, Kind
from cloudmsp.cloud.services.rules import rule_create
from cloudmsp.notifications.models import DeliveryState, Event, WebhookDelivery
from cloudmsp.notifications.services import webhook_create
from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import User
from tests.factories import (
    CloudAccountFactory,
    CustomerFactory,
    CustomerUserFactory,
    SysadminFactory,
    TenantFactory,
    UserFactory,
)

API_PREFIX = "api/v1/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# Routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name, as `reverse()` takes it
    pattern: str  # the full pattern, for messages
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith(API_PREFIX)

    @property
    def api_resource(self) -> str:
        """`customers` for api/v1/^customers/(?P<pk>[0-9]+)/$."""
        rest = self.pattern[len(API_PREFIX) :].lstrip("^")
        return rest.split("/", 1)[0]

    def url(self, **kwargs: Any) -> str:
        return reverse(self.name, kwargs=kwargs)

    def __str__(self) -> str:
        return self.name


def _walk(patterns: list[Any], prefix: str, namespace: str, kwargs: tuple[str, ...]) -> Iterator[Route]:
    for p in patterns:
        own = tuple(p.pattern.regex.groupindex)
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace]))
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns, kwargs + own)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield Route(name=name, pattern=prefix + str(p.pattern), kwargs=kwargs + own)


def all_routes() -> list[Route]:
    """Every route of the URL configuration, walked recursively through its includes."""
    return list(_walk(get_resolver().url_patterns, "", "", ()))


# Which URL kwargs name what ------------------------------------------------------------------

#: Kwargs that carry no object id (checked by signature or from a fixed set, not by tenant).
PUBLIC_KWARGS = {
    "uidb64": "activation/reset link: a signed token, valid for anyone holding it",
    "token": "activation/reset link: a signed token, valid for anyone holding it",
    "category": "account category of the add-account dialog: `msp` or `non-msp`",
}
#: A value for each of them, for routes that also name a tenant-owned object.
PUBLIC_SAMPLES = {"uidb64": "MQ", "token": "bad-token", "category": "msp"}

#: API resources (router prefixes) whose `pk` names a tenant-owned object, and its kind.
API_PK_KINDS = {
    "customers": "customer",
    "users": "user",
    "audit-events": "audit_event",
    "cloud-accounts": "cloud_account",
    "jobs": "job",
    "tokens": "api_token",
    "webhooks": "webhook",
    "webhook-deliveries": "webhook_delivery",
    "assignment-rules": "assignment_rule",
}
#: API resources that belong to the installation, not to a tenant (system administrators).
API_SYSTEM_RESOURCES = {"tenants"}
#: URL namespaces of the system administrator's pages (tenants and their administrators).
SYSTEM_NAMESPACES = {"tenants"}

#: Page kwargs naming tenant-owned objects, and their kind.
PAGE_KWARG_KINDS = {
    "customer_id": "customer",
    "user_id": "user",
    "cloud_account_id": "cloud_account",
    "account_id": "cloud_account",
    "job_id": "job",
    "token_id": "api_token",
    "webhook_id": "webhook",
    "delivery_id": "webhook_delivery",
    "rule_id": "assignment_rule",
}


class UnknownKwarg(LookupError):
    pass


def is_system_route(route: Route) -> bool:
    if route.is_api:
        return route.api_resource in API_SYSTEM_RESOURCES
    return route.name.split(":", 1)[0] in SYSTEM_NAMESPACES


def kwarg_kind(route: Route, kwarg: str) -> str:
    """The kind of object `kwarg` names on `route`: a tenant-owned kind, "system" (installation
    objects, covered by the role matrix) or "public". Anything else raises UnknownKwarg, so that a
    new route cannot ship without being covered here."""
    if kwarg in PUBLIC_KWARGS:
        return "public"
    if is_system_route(route):
        return "system"
    if route.is_api:
        if kwarg == "pk" and route.api_resource in API_PK_KINDS:
            return API_PK_KINDS[route.api_resource]
    elif kwarg in PAGE_KWARG_KINDS:
        return PAGE_KWARG_KINDS[kwarg]
    raise UnknownKwarg(
        f"{route.pattern} ({route.name}): the isolation suite does not know what `{kwarg}` names. "
        "Teach tests/isolation/support.py (PAGE_KWARG_KINDS / API_PK_KINDS / ...) and the world "
        "builder how to make one of those objects in each tenant."
    )


# The world: three tenants with a bit of everything ----------------------------------------------

TENANT_KEYS = ("alpha", "bravo", "charlie")


@dataclass
class TenantData:
    key: str
    tenant: Any
    admin: Any  # the tenant administrator acting in the tests (alpha)
    admin2: Any  # a second, activated administrator
    pending_admin: Any  # an administrator who has not yet set a password
    customer1: Any
    customer2: Any
    cuser1: Any  # customer user of customer1
    cuser2: Any  # customer user of customer2
    pending_cuser: Any  # customer user of customer1, not yet activated
    account: Any  # standalone (Non-MSP) cloud account of customer1
    management: Any  # MSP management account
    member: Any  # member account of `management`, unassigned
    job: Any  # a sync job of `management`
    event: Any  # an audit event
    token: Any = None  # an API token of `admin` (tokens are their user's alone)
    token2: Any = None  # an API token of `admin2`
    webhook: Any = None  # a webhook, with
    delivery: Any = None  # one failed delivery of an event to it
    rule: Any = None  # an assignment rule giving accounts to customer1

    def markers(self) -> list[str]:
        """Strings that identify this tenant's rows; none may appear in another tenant's pages."""
        return [
            self.tenant.name,
            self.customer1.company_name,
            self.customer2.company_name,
            self.customer1.email,
            self.admin.email,
            self.admin2.email,
            self.cuser1.email,
            self.cuser2.email,
            self.account.name,
            self.account.account_id,
            self.management.name,
            self.management.account_id,
            self.member.account_id,
            *([self.webhook.url] if self.webhook else []),
            *([self.rule.name] if self.rule else []),
        ]


@dataclass
class World:
    sysadmin: Any
    tenants: dict[str, TenantData] = field(default_factory=dict)

    @property
    def a(self) -> TenantData:
        return self.tenants["alpha"]

    @property
    def foreign(self) -> list[TenantData]:
        return [self.tenants["bravo"], self.tenants["charlie"]]


def build_world() -> World:
    world = World(sysadmin=SysadminFactory(email="root@install.test", first_name="Root", last_name="Admin"))
    for n, key in enumerate(TENANT_KEYS):
        title = key.title()
        tenant = TenantFactory(name=f"{title} MSP")
        admin = UserFactory(tenant=tenant, email=f"admin@{key}.test", first_name=f"{title}first")
        admin2 = UserFactory(tenant=tenant, email=f"second-admin@{key}.test", first_name=f"{title}second")
        pending_admin = UserFactory(tenant=tenant, email=f"pending-admin@{key}.test", activated_at=None)
        c1 = CustomerFactory(
            tenant=tenant, company_name=f"{title} Widgets", email=f"contact@{key}-widgets.test", last_name=title
        )
        c2 = CustomerFactory(tenant=tenant, company_name=f"{title} Gadgets", email=f"contact@{key}-gadgets.test")
        cuser1 = CustomerUserFactory(customer=c1, email=f"user1@{key}-widgets.test", first_name=f"{title}user")
        cuser2 = CustomerUserFactory(customer=c2, email=f"user2@{key}-gadgets.test")
        pending_cuser = CustomerUserFactory(customer=c1, email=f"pending@{key}-widgets.test", activated_at=None)
        account = CloudAccountFactory(
            tenant=tenant, customer=c1, name=f"{key}-prod-account", account_id=f"{n + 1}{n + 1}0000000001"
        )
        management = CloudAccountFactory(
            tenant=tenant,
            category=Category.MSP,
            kind=Kind.MANAGEMENT,
            name=f"{key}-payer",
            account_id=f"{n + 1}{n + 1}0000000002",
        )
        member = CloudAccountFactory(
            tenant=tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=management,
            name=f"{key}-member",
            account_id=f"{n + 1}{n + 1}0000000003",
        )
        job = Job.unscoped.create(tenant=tenant, kind=JobKind.SYNC, account=management, created_by=admin)
        event = audit_record(
            actor=admin,
            action="customer.update",
            obj=c1,
            changes={"city": ["", f"{title}ville"]},
            message=f"{title} secret note",
        )
        world.tenants[key] = TenantData(
            key,
            tenant,
            admin,
            admin2,
            pending_admin,
            c1,
            c2,
            cuser1,
            cuser2,
            pending_cuser,
            account,
            management,
            member,
            job,
            event,
        )
        world.tenants[key].token = token_issue(user=admin, name=f"{title} admin token")[0]
        world.tenants[key].token2 = token_issue(user=admin2, name=f"{title} second token")[0]
        webhook, _secret = webhook_create(actor=admin, url=f"https://hooks.{key}.test/{title}-receiver")
        hook_event = Event.unscoped.create(tenant=tenant, type="test", payload={"type": "test"})
        world.tenants[key].webhook = webhook
        world.tenants[key].rule = rule_create(
            actor=admin, data={"name": f"{title} rule", "customer": c1.pk, "name_glob": f"{key}-*"}
        )
        world.tenants[key].delivery = WebhookDelivery.unscoped.create(
            tenant=tenant,
            webhook=webhook,
            event=hook_event,
            state=DeliveryState.FAILED,
            status_code=500,
            due_at=hook_event.created_at,
            window_ends_at=hook_event.created_at,
            attempted_at=hook_event.created_at,
        )
    return world


def missing_id() -> int:
    """An id no row has (and no row will get during a test)."""
    return 10**15 + 7


# Snapshots ---------------------------------------------------------------------------------------


def domain_models() -> list[Any]:
    """Every model of the project's own apps (future apps included)."""
    return sorted(
        (m for m in apps.get_models() if m.__module__.startswith("cloudmsp.")),
        key=lambda m: m._meta.label,
    )


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, dict[Any, tuple[Any, ...]]]

    def summary(self) -> dict[str, tuple[int, str]]:
        """Per table: the row count and a hash of every value."""
        return {
            label: (len(rows), hashlib.sha256(repr(sorted(rows.items(), key=repr)).encode()).hexdigest()[:16])
            for label, rows in self.rows.items()
        }


def snapshot() -> Snapshot:
    rows: dict[str, dict[Any, tuple[Any, ...]]] = {}
    for model in domain_models():
        # The base manager sees every row (the scoped `objects` managers would refuse).
        values = model._base_manager.order_by("pk").values_list()
        rows[model._meta.label] = {r[0]: tuple(r) for r in values}
    return Snapshot(rows)


_AUDIT = AuditEvent._meta.label
_AUDIT_FIELDS = [f.attname for f in AuditEvent._meta.concrete_fields]


#: The audit events of a refused sign-in (cloudmsp.users.signin): nobody is signed in yet, and
#: they are filed in the tenant of the user whose email was tried, or in none.
SIGN_IN_REFUSALS = frozenset({"auth.login_failed", "auth.login_locked"})


def assert_unchanged(
    before: Snapshot, after: Snapshot, *, actor: Any = None, context: str = "", sign_in: bool = False
) -> None:
    """Nothing changed in any domain table, except for audit events recording refused attempts
    by `actor`, which must land in the actor's own tenant (never a foreign one), and, with
    `sign_in`, those of refused sign-ins."""
    if before.summary() == after.summary():
        return
    for label in before.rows:
        old, new = before.rows[label], after.rows.get(label, {})
        if label != _AUDIT:
            assert old == new, f"{context}: table {label} changed: {_diff(old, new)}"
            continue
        assert all(new.get(pk) == row for pk, row in old.items()), f"{context}: existing audit events changed"
        for pk in set(new) - set(old):
            event = dict(zip(_AUDIT_FIELDS, new[pk], strict=True))
            if sign_in and event["action"] in SIGN_IN_REFUSALS:
                owner = User.unscoped.filter(email__iexact=event["object_repr"]).first()
                assert event["actor_id"] is None, f"{context}: {event}"
                assert event["outcome"] in (Outcome.FAILED, Outcome.DENIED), f"{context}: {event}"
                assert event["tenant_id"] == (owner.tenant_id if owner else None), f"{context}: {event}"
                continue
            assert actor is not None, f"{context}: an audit event was written: {event}"
            assert event["outcome"] == Outcome.DENIED, f"{context}: a non-denied audit event was written: {event}"
            assert event["tenant_id"] == actor.tenant_id, f"{context}: denied event filed in another tenant: {event}"
            assert event["actor_id"] == actor.pk, f"{context}: denied event of another actor: {event}"
    assert set(before.rows) == set(after.rows)


def _diff(old: dict[Any, Any], new: dict[Any, Any]) -> str:
    gone = [old[k] for k in old.keys() - new.keys()]
    added = [new[k] for k in new.keys() - old.keys()]
    changed = [(old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]]
    return f"removed={gone[:3]} added={added[:3]} changed={changed[:3]}"


def leaked(body: str, markers: list[str]) -> list[str]:
    low = body.lower()
    return [m for m in markers if m and m.lower() in low]


LOGIN_RE = re.compile(r"^/login/(\?|$)")
