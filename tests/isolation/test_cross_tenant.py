"""Tenant isolation, generated from the URL configuration.

Every route whose URL names a tenant-owned object is requested, with every method, by the
administrator of tenant alpha with the ids of objects of two foreign tenants (bravo, charlie),
and must answer 404 — exactly as for an id that exists nowhere — without changing anything.
A URL kwarg the suite does not know fails `test_every_route_kwarg_is_known`, so a new route
cannot ship without coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User
from tests.isolation.conftest import TRIED
from tests.isolation.support import (
    METHODS,
    PUBLIC_SAMPLES,
    Route,
    TenantData,
    UnknownKwarg,
    World,
    all_routes,
    assert_unchanged,
    kwarg_kind,
    leaked,
    missing_id,
    snapshot,
)

pytestmark = pytest.mark.django_db

ROUTES = all_routes()
TENANT_OWNED_KINDS = {
    "customer",
    "user",
    "audit_event",
    "cloud_account",
    "job",
    "api_token",
    "webhook",
    "webhook_delivery",
    "assignment_rule",
}

# Every (route, method, foreign tenant) pair, plus the nested and same-tenant variants, is one
# request; the floor catches a generator that silently stops finding routes.
MIN_OBJECT_ROUTES = 17
MIN_COMBINATIONS = 450


def _kinds(route: Route) -> dict[str, str] | None:
    try:
        return {k: kwarg_kind(route, k) for k in route.kwargs}
    except UnknownKwarg:
        return None


def tenant_owned_routes() -> list[Route]:
    out = []
    for route in ROUTES:
        kinds = _kinds(route)
        if kinds and any(kind in TENANT_OWNED_KINDS for kind in kinds.values()):
            out.append(route)
    return out


OBJECT_ROUTES = tenant_owned_routes()


# Which ids to try --------------------------------------------------------------------------


# The attribute of TenantData holding alpha's (or a foreign tenant's) object of each kind.
OBJECT_OF_KIND = {
    "customer": "customer1",
    "cloud_account": "account",
    "job": "job",
    "audit_event": "event",
    "api_token": "token",
    "webhook": "webhook",
    "webhook_delivery": "delivery",
    "assignment_rule": "rule",
}


def own_id(route: Route, kwarg: str, kind: str, world: World) -> int:
    """An id of alpha's that the route accepts, used beside a foreign id in nested routes."""
    a = world.a
    if kind == "user":
        if "customer_id" in route.kwargs:
            return a.cuser1.pk  # a user of customer1, the own customer used in nested routes
        return a.admin2.pk
    if kind not in OBJECT_OF_KIND:
        raise AssertionError(f"no own object for {kind}")
    return getattr(a, OBJECT_OF_KIND[kind]).pk


def own_candidates(route: Route, kwarg: str, kind: str, world: World) -> list[int]:
    """alpha's objects of this kind; a route may accept only some (a member account, say)."""
    a = world.a
    if kind == "cloud_account":
        return [a.account.pk, a.management.pk, a.member.pk]
    return [own_id(route, kwarg, kind, world)]


def foreign_ids(kind: str, t: TenantData) -> list[tuple[str, int]]:
    if kind == "customer":
        return [("customer", t.customer1.pk)]
    if kind == "user":
        return [("customer user", t.cuser1.pk), ("tenant admin", t.admin.pk)]
    if kind == "cloud_account":
        return [
            ("standalone account", t.account.pk),
            ("management account", t.management.pk),
            ("member account", t.member.pk),
        ]
    if kind == "job":
        return [("job", t.job.pk)]
    if kind == "audit_event":
        return [("audit event", t.event.pk)]
    if kind == "api_token":
        return [("administrator's API token", t.token.pk)]
    if kind == "webhook":
        return [("webhook", t.webhook.pk)]
    if kind == "webhook_delivery":
        return [("webhook delivery", t.delivery.pk)]
    if kind == "assignment_rule":
        return [("assignment rule", t.rule.pk)]
    raise AssertionError(f"no foreign object for {kind}")


def same_tenant_out_of_reach(route: Route, kind: str, world: World) -> list[tuple[str, int]]:
    """Ids in alpha's own tenant (or in no tenant) that this route must still not reach."""
    a = world.a
    out: list[tuple[str, int]] = []
    if kind == "user":
        out.append(("a system administrator", world.sysadmin.pk))
        if "customer_id" in route.kwargs:
            out += [("a user of another own customer", a.cuser2.pk), ("an own tenant admin", a.admin2.pk)]
        elif route.name.startswith("users:admin_"):
            out.append(("an own customer user", a.cuser1.pk))
    if kind == "api_token":
        out.append(("a fellow administrator's API token", a.token2.pk))
    return out


@dataclass(frozen=True)
class Case:
    label: str
    kwargs: dict[str, Any]
    foreign: str  # which tenant the out-of-reach id belongs to ("alpha" for same-tenant cases)
    out_of_reach: tuple[str, ...]  # the kwargs carrying an out-of-reach id


def _public(route: Route) -> dict[str, Any]:
    return {k: PUBLIC_SAMPLES[k] for k, kind in (_kinds(route) or {}).items() if kind == "public"}


def cases(route: Route, world: World) -> list[Case]:
    kinds = {k: v for k, v in (_kinds(route) or {}).items() if v in TENANT_OWNED_KINDS}
    own = {**_public(route), **{k: own_id(route, k, kind, world) for k, kind in kinds.items()}}
    out: list[Case] = []
    for t in world.foreign:
        if len(kinds) > 1:
            # Everything foreign (a coherent foreign parent and child) ...
            coherent = {**own, **{k: foreign_ids(kind, t)[0][1] for k, kind in kinds.items()}}
            out.append(Case(f"{t.key}: all foreign", coherent, t.key, tuple(kinds)))
        # ... and each kwarg foreign on its own, beside own ids for the others.
        for k, kind in kinds.items():
            for label, pk in foreign_ids(kind, t):
                extra = f" beside own {', '.join(o for o in kinds if o != k)}" if len(kinds) > 1 else ""
                out.append(Case(f"{t.key}: foreign {label} as {k}{extra}", {**own, k: pk}, t.key, (k,)))
    for k, kind in kinds.items():
        for label, pk in same_tenant_out_of_reach(route, kind, world):
            out.append(Case(f"alpha: {label} as {k}", {**own, k: pk}, "alpha", (k,)))
    return out


# Requests ------------------------------------------------------------------------------------

# A body that would change something on any entity if a lookup were missed.
HIJACK = {
    "company_name": "Hijacked Co",
    "name": "Hijacked MSP",
    "first_name": "Mallory",
    "last_name": "Intruder",
    "email": "mallory@intruder.test",
    "phone": "+1 555 0100",
    "city": "Nowhere",
    "is_active": False,
    "tenant": 0,
    "customer": 0,
}


def send(actor: Any, route: Route, method: str, kwargs: dict[str, Any], *, htmx: bool) -> Any:
    url = route.url(**kwargs)
    data = None if method in ("GET", "DELETE") else HIJACK
    if route.is_api:
        return actor.api(method, url, data)
    form = None if data is None else {k: ("" if v is False else v) for k, v in data.items()}
    return actor.page(method, url, form, htmx=htmx)


def describe(response: Any) -> str:
    exc = getattr(response, "exc_info", None)
    body = response.content[:300].decode(errors="replace")
    return f"status {response.status_code}{f' ({exc[1]!r})' if exc else ''}: {body}"


# Tests -----------------------------------------------------------------------------------------


def test_every_route_kwarg_is_known():
    """A URL kwarg the suite cannot make objects for fails here: teach support.py about it."""
    unknown = []
    for route in ROUTES:
        for kwarg in route.kwargs:
            try:
                kwarg_kind(route, kwarg)
            except UnknownKwarg as exc:
                unknown.append(str(exc))
    assert not unknown, "\n".join(unknown)


def test_the_generator_finds_enough_routes_and_combinations(world):
    combos = sum(len(cases(route, world)) for route in OBJECT_ROUTES) * len(METHODS)
    TRIED["planned route x method x foreign-id combinations"] = combos
    TRIED["tenant-owned routes"] = len(OBJECT_ROUTES)
    assert len(OBJECT_ROUTES) >= MIN_OBJECT_ROUTES, [r.name for r in OBJECT_ROUTES]
    assert combos >= MIN_COMBINATIONS


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=str)
def test_foreign_ids_answer_404_and_change_nothing(world, alpha, route, method, request):
    tried = 0
    for case in cases(route, world):
        foreign = world.tenants[case.foreign]
        context = f"{method} {route.pattern} [{case.label}] {case.kwargs}"
        before = snapshot()
        response = send(alpha, route, method, case.kwargs, htmx=case.foreign == "charlie")
        after = snapshot()
        tried += 1

        # Indistinguishable from an id that exists nowhere.
        missing = send(
            alpha, route, method, {**case.kwargs, **dict.fromkeys(case.out_of_reach, missing_id())}, htmx=False
        )
        assert response.status_code == missing.status_code, (
            f"{context}: {describe(response)} vs missing {describe(missing)}"
        )
        if response.status_code == 405:
            # The route does not serve this method at all, whatever the id: the same request with
            # own ids (rolled back) must say so too.
            with transaction.atomic():
                own = send(alpha, route, method, cases_own_kwargs(route, world), htmx=False)
                transaction.set_rollback(True)
            assert own.status_code == 405, f"{context}: 405 for a foreign id but {describe(own)} for an own one"
        else:
            assert response.status_code == 404, f"{context}: {describe(response)}"
        assert_unchanged(before, after, actor=world.a.admin, context=context)
        if case.foreign != "alpha":
            assert not leaked(response.content.decode(errors="replace"), foreign.markers()), context
    TRIED[f"cross-tenant requests ({'api' if route.is_api else 'pages'})"] += tried
    request.node.user_properties.append(("cross_tenant_requests", tried))


def cases_own_kwargs(route: Route, world: World) -> dict[str, Any]:
    kinds = _kinds(route) or {}
    own = {k: own_id(route, k, kind, world) for k, kind in kinds.items() if kind in TENANT_OWNED_KINDS}
    return {**_public(route), **own}


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=str)
def test_own_ids_are_reachable_so_the_404s_mean_something(world, alpha, route):
    """The same routes answer alpha's own ids, so the 404s above are about the tenant: some own
    object answers a GET with 200 (or, for POST-only routes, a POST with neither 404 nor 405)."""
    kinds = {k: v for k, v in (_kinds(route) or {}).items() if v in TENANT_OWNED_KINDS}
    combos: list[dict[str, Any]] = [_public(route)]
    for k, kind in kinds.items():
        combos = [{**c, k: pk} for c in combos for pk in own_candidates(route, k, kind, world)]
    seen = []
    for kwargs in combos:
        response = send(alpha, route, "GET", kwargs, htmx=True)
        if response.status_code == 405:
            with transaction.atomic():
                response = send(alpha, route, "POST", kwargs, htmx=True)
                transaction.set_rollback(True)
            if response.status_code not in (404, 405) and response.status_code < 500:
                return
        elif response.status_code == 200:
            return
        seen.append(f"{kwargs}: {describe(response)}")
    raise AssertionError(f"{route.name}: no own object is reachable:\n" + "\n".join(seen))


# Lists, searches and filters -------------------------------------------------------------------

SEARCHES = [
    # (what, url, query parameter, kind of rows listed)
    ("customers page", "/customers/", "q", "customer"),
    ("customer users page", "/customers/{customer}/users/", "q", "user"),
    ("administrators page", "/administrators/", "q", "user"),
    ("audit page", "/audit/", "q", "audit_event"),
    ("customers api", "/api/v1/customers/", "search", "customer"),
    ("users api", "/api/v1/users/", "search", "user"),
    ("audit api", "/api/v1/audit-events/", "search", "audit_event"),
    ("accounts page", "/administration/accounts/", "q", "cloud_account"),
    ("msp accounts page", "/administration/accounts/aws/msp/", "q", "cloud_account"),
    ("non-msp accounts page", "/administration/accounts/aws/non-msp/", "q", "cloud_account"),
    ("member accounts page", "/administration/accounts/aws/msp/{management}/accounts/", "q", "cloud_account"),
    ("cloud accounts api", "/api/v1/cloud-accounts/", "search", "cloud_account"),
]
#: How list pages name their rows (`<tr id="customer-12">`).
ROW_ID_PREFIX = {"customer": "customer", "user": "user", "cloud_account": "account", "audit_event": "event"}


def _search_terms(t: TenantData) -> list[str]:
    return [
        t.customer1.company_name,
        t.customer1.email,
        t.customer2.company_name,
        t.admin.email,
        t.admin2.email,
        t.cuser1.email,
        t.cuser1.first_name,
        t.tenant.name,
        t.key,
        f"{t.key.title()}ville",
        f"{t.key.title()} secret note",
        "customer.update",
        t.account.name,
        t.account.account_id,
        t.management.name,
        t.member.account_id,
        t.customer1.company_name[:4],
    ]


def _rows_of(kind: str, t: TenantData) -> set[int]:
    if kind == "customer":
        return {t.customer1.pk, t.customer2.pk}
    if kind == "user":
        return {u.pk for u in (t.admin, t.admin2, t.pending_admin, t.cuser1, t.cuser2, t.pending_cuser)}
    if kind == "cloud_account":
        return {t.account.pk, t.management.pk, t.member.pk}
    return {t.event.pk}


def _result_ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(("what", "url", "param", "kind"), SEARCHES, ids=[s[0] for s in SEARCHES])
def test_lists_never_show_a_foreign_row_even_searching_its_exact_name(world, alpha, what, url, param, kind):
    url = url.format(customer=world.a.customer1.pk, management=world.a.management.pk)
    n = 0
    for t in world.foreign:
        for term in [*_search_terms(t), ""]:
            if url.startswith("/api/"):
                response = alpha.api("GET", url, {param: term})
            else:
                response = alpha.page("GET", url, {param: term})
            n += 1
            assert response.status_code == 200, f"{what} {term!r}: {describe(response)}"
            text = response.content.decode()
            if url.startswith("/api/"):
                assert not _result_ids(response) & _rows_of(kind, t), f"{what} {term!r}"
                assert all(_row_tenant_ok(row, world) for row in response.json()["results"]), f"{what} {term!r}"
            else:
                # The search box echoes the term; nothing else of the foreign tenant may show.
                text = text.replace(term, "") if term else text
                row_ids = {f'id="{ROW_ID_PREFIX[kind]}-{pk}"' for pk in _rows_of(kind, t)}
                assert not [r for r in row_ids if r in text], f"{what} {term!r}"
            assert not leaked(text, [m for m in t.markers() if m.lower() not in term.lower()]), f"{what} {term!r}"
    TRIED["list/search requests"] += n


def _row_tenant_ok(row: dict[str, Any], world: World) -> bool:
    a = world.a
    if "tenant" in row and row["tenant"] is not None:
        return row["tenant"] == a.tenant.pk
    if "company_name" in row:
        return Customer.unscoped.get(pk=row["id"]).tenant_id == a.tenant.pk
    return True


def test_audit_filters_never_reach_foreign_events(world, alpha):
    for t in world.foreign:
        for params in (
            {"actor": t.admin.email},
            {"object_id": str(t.customer1.pk)},
            {"object_type": "customer", "action": "customer.update"},
            {"outcome": "success"},
        ):
            response = alpha.api("GET", "/api/v1/audit-events/", params)
            assert response.status_code == 200, describe(response)
            assert t.event.pk not in _result_ids(response), params
            assert not leaked(response.content.decode(), t.markers()), params


def test_user_list_filtered_by_a_foreign_customer_shows_nothing(world, alpha):
    missing = alpha.api("GET", "/api/v1/users/", {"customer": missing_id()})
    for t in world.foreign:
        response = alpha.api("GET", "/api/v1/users/", {"customer": t.customer1.pk})
        # Exactly as for a customer that exists nowhere.
        assert response.status_code == missing.status_code, describe(response)
        assert response.status_code in (200, 404)
        assert not leaked(response.content.decode(), t.markers())
        if response.status_code == 200:
            assert response.json()["results"] == []


def test_counts_never_include_foreign_rows(world, alpha):
    a = world.a
    body = alpha.api("GET", "/api/v1/customers/").json()
    assert body["count"] == Customer.unscoped.filter(tenant=a.tenant).count()
    counts = {row["id"]: (row["user_count"], row["account_count"]) for row in body["results"]}
    assert counts[a.customer1.pk] == (2, 1)
    users = alpha.api("GET", "/api/v1/users/").json()
    assert users["count"] == User.unscoped.filter(tenant=a.tenant).count()


def test_customer_user_home_search_never_shows_other_accounts(world, actor_for):
    cu = actor_for(world.a.cuser1)
    for t in world.foreign:
        for term in (t.account.name, t.account.account_id, ""):
            response = cu.page("GET", "/", {"q": term})
            assert response.status_code == 200
            text = response.content.decode().replace(term, "") if term else response.content.decode()
            assert t.account.name not in text
            assert t.account.account_id not in text
    # Nor the accounts of another customer of its own tenant.
    world.a.customer2.cloud_accounts.create(
        tenant=world.a.tenant, category="non_msp", kind="standalone", account_id="999999999999", name="gadget-acc"
    )
    text = cu.page("GET", "/", {"q": "gadget"}).content.decode()
    assert "999999999999" not in text


# Smuggled tenant and customer ids ---------------------------------------------------------------


def _foreign_counts(world: World) -> dict[str, tuple[int, int]]:
    return {
        t.key: (Customer.unscoped.filter(tenant=t.tenant).count(), User.unscoped.filter(tenant=t.tenant).count())
        for t in world.foreign
    }


def test_tenant_smuggled_into_customer_create_is_ignored(world, alpha):
    before = _foreign_counts(world)
    b = world.tenants["bravo"]
    page = alpha.page(
        "POST",
        "/customers/new/",
        {
            "company_name": "Smuggled Page Co",
            "first_name": "S",
            "last_name": "P",
            "email": "s@p.test",
            "tenant": b.tenant.pk,
            "tenant_id": b.tenant.pk,
        },
    )
    assert page.status_code == 303, describe(page)
    api = alpha.api(
        "POST",
        "/api/v1/customers/",
        {
            "company_name": "Smuggled Api Co",
            "first_name": "S",
            "last_name": "A",
            "email": "s@a.test",
            "tenant": b.tenant.pk,
            "tenant_id": b.tenant.pk,
        },
    )
    assert api.status_code in (201, 400), describe(api)
    assert "tenant" not in api.json()
    for name in ("Smuggled Page Co", "Smuggled Api Co"):
        created = Customer.unscoped.filter(company_name=name)
        assert all(c.tenant_id == world.a.tenant.pk for c in created), name
    assert Customer.unscoped.filter(company_name="Smuggled Page Co", tenant=world.a.tenant).exists()
    assert _foreign_counts(world) == before


def test_tenant_smuggled_into_customer_update_is_ignored(world, alpha):
    b = world.tenants["bravo"]
    c = world.a.customer1
    for method in ("PUT", "PATCH"):
        response = alpha.api(
            method,
            f"/api/v1/customers/{c.pk}/",
            {
                "company_name": c.company_name,
                "first_name": "X",
                "last_name": "Y",
                "email": "x@y.test",
                "tenant": b.tenant.pk,
                "tenant_id": b.tenant.pk,
            },
        )
        assert response.status_code in (200, 400), describe(response)
        c.refresh_from_db()
        assert c.tenant_id == world.a.tenant.pk
    page = alpha.page(
        "POST",
        f"/customers/{c.pk}/edit/",
        {
            "company_name": c.company_name,
            "first_name": "X",
            "last_name": "Y",
            "email": "x@y.test",
            "tenant": b.tenant.pk,
        },
    )
    assert page.status_code == 303, describe(page)
    c.refresh_from_db()
    assert c.tenant_id == world.a.tenant.pk


@pytest.mark.parametrize(
    "smuggled",
    [
        pytest.param(lambda b: {"role": Role.TENANT_ADMIN, "tenant": b.tenant.pk}, id="admin-in-foreign-tenant"),
        pytest.param(
            lambda b: {"role": Role.CUSTOMER_USER, "customer": b.customer1.pk}, id="customer-user-of-foreign-customer"
        ),
        pytest.param(
            lambda b: {"role": Role.CUSTOMER_USER, "customer": b.customer1.pk, "tenant": b.tenant.pk},
            id="customer-user-of-foreign-customer-and-tenant",
        ),
        pytest.param(lambda _b: {"role": Role.SYSADMIN}, id="sysadmin-role"),
    ],
)
def test_api_user_create_refuses_foreign_tenant_or_customer(world, alpha, smuggled):
    b = world.tenants["bravo"]
    before = snapshot()
    body = {"email": "smuggled@intruder.test", "first_name": "S", **smuggled(b)}
    response = alpha.api("POST", "/api/v1/users/", body)
    assert response.status_code == 400, describe(response)
    payload = response.json()
    assert payload["detail"], payload
    assert payload["errors"], payload
    assert not leaked(response.content.decode(), b.markers())
    assert not User.unscoped.filter(email="smuggled@intruder.test").exists()
    assert_unchanged(before, snapshot(), actor=world.a.admin)


def test_customer_smuggled_into_page_user_create_is_ignored(world, alpha):
    b = world.tenants["bravo"]
    a = world.a
    response = alpha.page(
        "POST",
        f"/customers/{a.customer1.pk}/users/new/",
        {"email": "page-smuggled@alpha.test", "customer": b.customer1.pk, "tenant": b.tenant.pk, "role": "sysadmin"},
    )
    assert response.status_code == 303, describe(response)
    user = User.unscoped.get(email="page-smuggled@alpha.test")
    assert (user.tenant_id, user.customer_id, user.role) == (a.tenant.pk, a.customer1.pk, Role.CUSTOMER_USER)
    response = alpha.page(
        "POST",
        "/administrators/new/",
        {"email": "admin-smuggled@alpha.test", "tenant": b.tenant.pk, "customer": b.customer1.pk, "role": "sysadmin"},
    )
    assert response.status_code == 303, describe(response)
    user = User.unscoped.get(email="admin-smuggled@alpha.test")
    assert (user.tenant_id, user.customer_id, user.role) == (a.tenant.pk, None, Role.TENANT_ADMIN)


def test_tenant_and_customer_smuggled_into_api_user_update_are_ignored(world, alpha):
    b = world.tenants["bravo"]
    user = world.a.cuser1
    for method in ("PUT", "PATCH"):
        response = alpha.api(
            method,
            f"/api/v1/users/{user.pk}/",
            {
                "email": user.email,
                "tenant": b.tenant.pk,
                "customer": b.customer1.pk,
                "role": Role.TENANT_ADMIN,
                "tenant_id": b.tenant.pk,
                "customer_id": b.customer1.pk,
            },
        )
        assert response.status_code in (200, 400), describe(response)
        user.refresh_from_db()
        assert (user.tenant_id, user.customer_id, user.role) == (
            world.a.tenant.pk,
            world.a.customer1.pk,
            Role.CUSTOMER_USER,
        )


@pytest.mark.parametrize("param", ["tenant", "tenant_id", "customer", "customer_id"])
def test_tenant_or_customer_in_query_strings_never_widens_a_list(world, alpha, param):
    b = world.tenants["bravo"]
    value = b.tenant.pk if param.startswith("tenant") else b.customer1.pk
    for url in ("/customers/", "/administrators/", "/audit/", f"/customers/{world.a.customer1.pk}/users/"):
        response = alpha.page("GET", url, {param: value})
        assert response.status_code == 200, f"{url}: {describe(response)}"
        assert not leaked(response.content.decode(), b.markers()), url
    for url in ("/api/v1/customers/", "/api/v1/users/", "/api/v1/audit-events/", "/api/v1/cloud-accounts/"):
        response = alpha.api("GET", url, {param: value})
        assert response.status_code in (200, 400, 404), f"{url}: {describe(response)}"
        assert not leaked(response.content.decode(), b.markers()), url


def test_foreign_parent_or_customer_filters_on_accounts_show_nothing(world, alpha):
    for t in world.foreign:
        for params in ({"parent": t.management.pk}, {"customer": t.customer1.pk}):
            response = alpha.api("GET", "/api/v1/cloud-accounts/", params)
            assert response.status_code in (200, 400, 404), describe(response)
            if response.status_code == 200:
                assert response.json()["results"] == [], params
            assert not leaked(response.content.decode(), t.markers()), params


# Bulk association: one foreign id anywhere and nothing changes ----------------------------------


def _bulk_cases(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    a, b = world.a, world.tenants["bravo"]
    return [
        ("associate to a foreign customer", "associate", {"customer": b.customer1.pk, "accounts": [a.member.pk]}),
        (
            "associate a foreign account among own ones",
            "associate",
            {"customer": a.customer2.pk, "accounts": [a.member.pk, b.member.pk]},
        ),
        ("associate only foreign accounts", "associate", {"customer": a.customer2.pk, "accounts": [b.account.pk]}),
        ("disassociate a foreign account", "disassociate", {"accounts": [a.account.pk, b.account.pk]}),
    ]


@pytest.mark.parametrize("index", range(4))
def test_bulk_association_with_a_foreign_id_changes_nothing(world, alpha, index):
    label, action, body = _bulk_cases(world)[index]
    before = snapshot()
    response = alpha.api("POST", f"/api/v1/cloud-accounts/{action}/", body)
    assert response.status_code in (400, 404), f"{label}: {describe(response)}"
    assert response.json()["detail"], label
    assert_unchanged(before, snapshot(), actor=world.a.admin, context=label)
    assert not leaked(response.content.decode(), world.tenants["bravo"].markers()), label
    # The same through the pages (Link to Customer's FINISH, Remove Account from Customer's REMOVE).
    page_url = "/administration/accounts/link/" if action == "associate" else "/administration/accounts/unlink/"
    response = alpha.page("POST", page_url, body, htmx=True)
    assert 400 <= response.status_code < 500, f"{label} (page): {describe(response)}"
    assert_unchanged(before, snapshot(), actor=world.a.admin, context=f"{label} (page)")
    assert not leaked(response.content.decode(), world.tenants["bravo"].markers()), label


# "All N accounts matching this filter": a filter naming another tenant's objects matches nothing --


@pytest.mark.parametrize("key", ["parent", "customer"])
def test_bulk_on_all_matching_a_foreign_filter_changes_and_starts_nothing(world, alpha, key):
    a = world.a
    for t in world.foreign:
        value = t.management.pk if key == "parent" else t.customer1.pk
        before = snapshot()
        for path, body in (
            ("associate", {"customer": a.customer2.pk, "filter": {key: value}}),
            ("disassociate", {"filter": {key: value}}),
            ("bulk-validate", {"filter": {key: value}}),
            ("bulk-onboard", {"filter": {key: value}}),
        ):
            response = alpha.api("POST", f"/api/v1/cloud-accounts/{path}/", body)
            assert response.status_code == 400, f"{path}: {describe(response)}"
            assert not leaked(response.content.decode(), t.markers()), path
        for page in ("link", "unlink", "bulk/validate", "bulk/onboard"):
            body = {"all_matching": "1", "match": f"{key}={value}", "customer": a.customer2.pk}
            response = alpha.page("POST", f"/administration/accounts/{page}/", body, htmx=True)
            assert 400 <= response.status_code < 500, f"{page}: {describe(response)}"
            assert not leaked(response.content.decode(), t.markers()), page
        assert_unchanged(before, snapshot(), actor=a.admin, context=f"all matching {key}={value}")
