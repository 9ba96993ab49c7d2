"""Who may call what: (route, method, role) -> status, for every route of the URL configuration.

Roles: the system administrator, tenant alpha's administrator, a customer user of alpha's
customer1, and an anonymous caller. Pages send anonymous callers to /login/; the API answers 401.
A route missing from MATRIX (or a stale entry) fails `test_every_route_is_in_the_matrix`.
Each role's request runs in a savepoint that is rolled back, so every role sees the same world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cloudmsp.users.tokens import activation_token
from tests.factories import PASSWORD
from tests.isolation.conftest import TRIED, Actor
from tests.isolation.support import LOGIN_RE, METHODS, World, all_routes, assert_unchanged, is_system_route, snapshot

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to /login/?next=...
ROLES = ("sysadmin", "tenant_admin", "customer_user", "anonymous")
Expect = tuple[int | str, int | str, int | str, int | str]  # in the order of ROLES
Ref = Callable[[World], Any]

NEW_PASSWORD = "a-Brand-new-passphrase-42"


def _id(path: str) -> Ref:
    """`alpha.customer1` -> that object's pk, resolved against the world of each test."""

    def resolve(world: World) -> Any:
        key, attr = path.split(".")
        return getattr(world.tenants[key], attr).pk

    return resolve


def _activation(path: str) -> dict[str, Ref]:
    def user(world: World) -> Any:
        key, attr = path.split(".")
        return getattr(world.tenants[key], attr)

    return {
        "uidb64": lambda w: urlsafe_base64_encode(force_bytes(user(w).pk)),
        "token": lambda w: activation_token.make_token(user(w)),
    }


@dataclass(frozen=True)
class Row:
    methods: dict[str, Expect]
    kwargs: dict[str, Ref] = field(default_factory=dict)
    bodies: dict[str, Callable[[World], dict[str, Any]]] = field(default_factory=dict)
    #: What every other method answers.
    other: Expect | None = None
    api: bool = False
    path: str = ""  # for unnamed routes: a concrete path that reaches them


# Shorthands: the expectation for methods a route does not serve.
PAGE_405: Expect = (405, 405, 405, LOGIN)  # sign-in first, then 405
PUBLIC_405: Expect = (405, 405, 405, 405)
API_405: Expect = (405, 405, 405, 401)

# Staff pages of a tenant administrator.
TA_PAGE: Expect = (403, 200, 403, LOGIN)
TA_POST: Expect = (403, 303, 403, LOGIN)
# Pages of the system administrator.
SA_PAGE: Expect = (200, 403, 403, LOGIN)
SA_POST: Expect = (303, 403, 403, LOGIN)


def customer_form(w: World) -> dict[str, Any]:
    return {"company_name": "Matrix Co", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@matrix.test"}


def user_form(email: str) -> Callable[[World], dict[str, Any]]:
    return lambda _w: {"email": email, "first_name": "New", "last_name": "Person", "phone": "", "is_active": "on"}


CUSTOMER = {"customer_id": _id("alpha.customer1")}
CUSTOMER_USER = {**CUSTOMER, "user_id": _id("alpha.pending_cuser")}
ADMIN = {"user_id": _id("alpha.pending_admin")}
SYS_TENANT = {"tenant_id": _id("charlie.tenant")}
SYS_ADMIN = {**SYS_TENANT, "user_id": _id("charlie.pending_admin")}
WEBHOOK = {"webhook_id": _id("alpha.webhook")}
RULE = {"rule_id": _id("alpha.rule")}


def rule_form(w: World) -> dict[str, Any]:
    return {"name": "Matrix rule", "customer": w.a.customer2.pk, "priority": 5, "name_glob": "matrix-*"}


SCHEDULE = {"sync_interval_minutes": 1440, "validation_interval_minutes": 360, "check_retention_days": 90}

MATRIX: dict[str, Row] = {
    # Customers (help page 004), the tenant administrator's.
    "customers:list": Row({"GET": TA_PAGE}),
    "customers:create": Row({"GET": TA_PAGE, "POST": TA_POST}, bodies={"POST": customer_form}),
    "customers:detail": Row({"GET": TA_PAGE}, CUSTOMER),
    "customers:edit": Row({"GET": TA_PAGE, "POST": TA_POST}, CUSTOMER, {"POST": customer_form}),
    "customers:delete": Row({"GET": TA_PAGE, "POST": TA_POST}, CUSTOMER),
    "customers:user_list": Row({"GET": TA_PAGE}, CUSTOMER),
    "customers:user_create": Row(
        {"GET": TA_PAGE, "POST": TA_POST}, CUSTOMER, {"POST": user_form("new-user@alpha-widgets.test")}
    ),
    "customers:user_detail": Row({"GET": TA_PAGE}, CUSTOMER_USER),
    "customers:user_edit": Row(
        {"GET": TA_PAGE, "POST": TA_POST}, CUSTOMER_USER, {"POST": user_form("renamed@alpha-widgets.test")}
    ),
    "customers:user_delete": Row({"GET": TA_PAGE, "POST": TA_POST}, CUSTOMER_USER),
    "customers:user_send_activation": Row({"POST": TA_PAGE}, CUSTOMER_USER),
    # The tenant's own administrators.
    "users:admin_list": Row({"GET": TA_PAGE}),
    "users:admin_create": Row({"GET": TA_PAGE, "POST": TA_POST}, bodies={"POST": user_form("new-admin@alpha.test")}),
    "users:admin_detail": Row({"GET": TA_PAGE}, ADMIN),
    "users:admin_edit": Row({"GET": TA_PAGE, "POST": TA_POST}, ADMIN, {"POST": user_form("renamed@alpha.test")}),
    "users:admin_delete": Row({"GET": TA_PAGE, "POST": TA_POST}, ADMIN),
    "users:admin_send_activation": Row({"POST": TA_PAGE}, ADMIN),
    "audit:list": Row({"GET": TA_PAGE}),
    # ADMINISTRATION > ACCOUNT MANAGEMENT (help page 000), the tenant administrator's. Bodies
    # stop short of AWS (an unparsable ARN, a manual onboarding without ARN); AWS is offline here.
    # Every page here checks the role first (tenancy.pages.tenant_admin_page): anyone but a
    # tenant administrator gets 403 before any account is looked up.
    "cloud:accounts": Row({"GET": TA_PAGE}),
    # The CSV import pages: an empty POST is an upload form without its file (422).
    "cloud:import": Row({"GET": TA_PAGE, "POST": (403, 422, 403, LOGIN)}),
    "customers:import": Row({"GET": TA_PAGE, "POST": (403, 422, 403, LOGIN)}),
    "cloud:msp": Row({"GET": TA_PAGE}),
    "cloud:non_msp": Row({"GET": TA_PAGE}),
    "cloud:add": Row(
        {"GET": TA_PAGE, "POST": (403, 200, 403, LOGIN)},
        {"category": lambda _w: "non-msp"},
        {"POST": lambda _w: {"account_id": "444400000001", "name": "New standalone"}},
    ),
    "cloud:connect": Row(
        {"GET": TA_PAGE, "POST": (403, 422, 403, LOGIN)},
        {"account_id": _id("alpha.account")},
        {"POST": lambda _w: {"role_arn": "not-an-arn"}},
    ),
    # The world's accounts have no role yet: validating or syncing one is refused with a 400 that
    # says to connect it first (and never reaches AWS).
    "cloud:validate": Row({"POST": (403, 400, 403, LOGIN)}, {"account_id": _id("alpha.account")}),
    "cloud:sync": Row({"POST": (403, 400, 403, LOGIN)}, {"account_id": _id("alpha.management")}),
    "cloud:edit": Row(
        {"GET": TA_PAGE, "POST": (403, 200, 403, LOGIN)},
        {"account_id": _id("alpha.account")},
        {"POST": lambda _w: {"name": "Renamed account"}},
    ),
    "cloud:delete": Row({"GET": TA_PAGE, "POST": (403, 303, 403, LOGIN)}, {"account_id": _id("alpha.account")}),
    "cloud:members": Row({"GET": TA_PAGE}, {"account_id": _id("alpha.management")}),
    "cloud:template": Row({"GET": TA_PAGE}, {"account_id": _id("alpha.account")}),
    "cloud:stackset_template": Row({"GET": TA_PAGE}, {"account_id": _id("alpha.management")}),
    "cloud:onboard": Row(
        {"GET": TA_PAGE, "POST": (403, 422, 403, LOGIN)},
        {"account_id": _id("alpha.member")},
        {"POST": lambda _w: {"method": "manual", "role_name": "CloudMSPAccess", "role_arn": ""}},
    ),
    "cloud:remove_role": Row({"GET": TA_PAGE, "POST": (403, 409, 403, LOGIN)}, {"account_id": _id("alpha.member")}),
    "cloud:link": Row(
        {"GET": TA_PAGE, "POST": TA_PAGE},
        bodies={"POST": lambda w: {"accounts": [w.a.member.pk], "customer": w.a.customer1.pk}},
    ),
    "cloud:link_create_customer": Row({"GET": TA_PAGE, "POST": TA_PAGE}, bodies={"POST": customer_form}),
    "cloud:unlink": Row({"GET": TA_PAGE, "POST": TA_PAGE}, bodies={"POST": lambda w: {"accounts": [w.a.account.pk]}}),
    "cloud:job": Row({"GET": TA_PAGE}, {"job_id": _id("alpha.job")}),
    # Bulk on all matches (SPEC 10): the customer picker, bulk onboarding and validation (a job
    # each; the world's job is a sync, which has nothing to retry).
    "cloud:link_customers": Row({"GET": TA_PAGE}),
    "cloud:bulk_validate": Row(
        {"GET": TA_PAGE, "POST": TA_PAGE}, bodies={"POST": lambda w: {"accounts": [w.a.account.pk]}}
    ),
    "cloud:bulk_onboard": Row(
        {"GET": TA_PAGE, "POST": TA_PAGE},
        bodies={"POST": lambda w: {"all_matching": "1", "match": f"parent={w.a.management.pk}"}},
    ),
    "cloud:job_retry": Row({"POST": (403, 400, 403, LOGIN)}, {"job_id": _id("alpha.job")}),
    # Role health and the scheduler's intervals (SPEC 9).
    "cloud:health": Row({"GET": TA_PAGE}),
    "cloud:jobs": Row({"GET": TA_PAGE}),
    "cloud:account_health": Row({"GET": TA_PAGE}, {"account_id": _id("alpha.account")}),
    "cloud:schedule": Row(
        {"GET": TA_PAGE, "POST": (403, 200, 403, LOGIN)},
        bodies={"POST": lambda _w: SCHEDULE},
    ),
    # Assignment rules (SPEC 10): the tenant administrator's.
    "cloud:rule_list": Row({"GET": TA_PAGE}),
    "cloud:rule_create": Row({"GET": TA_PAGE, "POST": TA_POST}, bodies={"POST": rule_form}),
    "cloud:rule_detail": Row({"GET": TA_PAGE}, RULE),
    "cloud:rule_edit": Row({"GET": TA_PAGE, "POST": TA_POST}, RULE, {"POST": rule_form}),
    "cloud:rule_delete": Row({"GET": TA_PAGE, "POST": TA_POST}, RULE),
    "cloud:rule_preview": Row({"POST": TA_PAGE}, bodies={"POST": rule_form}),
    "cloud:rule_preview_saved": Row({"POST": TA_PAGE}, RULE, {"POST": rule_form}),
    "cloud:rule_apply": Row({"POST": TA_PAGE}, RULE),
    # Webhooks, the delivery log and the administrator's email preferences.
    "notifications:webhook_list": Row({"GET": TA_PAGE}),
    "notifications:webhook_create": Row(
        {"GET": TA_PAGE, "POST": TA_POST}, bodies={"POST": lambda _w: {"url": "https://hooks.matrix.test/new"}}
    ),
    "notifications:webhook_detail": Row({"GET": TA_PAGE}, WEBHOOK),
    "notifications:webhook_edit": Row(
        {"GET": TA_PAGE, "POST": TA_POST},
        WEBHOOK,
        {"POST": lambda _w: {"url": "https://hooks.matrix.test/edited", "enabled": "on"}},
    ),
    "notifications:webhook_delete": Row({"GET": TA_PAGE, "POST": TA_POST}, WEBHOOK),
    "notifications:webhook_test": Row({"POST": TA_PAGE}, WEBHOOK),
    "notifications:deliveries": Row({"GET": TA_PAGE}),
    "notifications:delivery_resend": Row({"POST": TA_PAGE}, {"delivery_id": _id("alpha.delivery")}),
    "notifications:preferences": Row(
        {"GET": TA_PAGE, "POST": (403, 200, 403, LOGIN)}, bodies={"POST": lambda _w: {"kinds": ["role.broken"]}}
    ),
    # Tenants and their administrators, the system administrator's.
    "tenants:list": Row({"GET": SA_PAGE}),
    "tenants:create": Row({"GET": SA_PAGE, "POST": SA_POST}, bodies={"POST": lambda _w: {"name": "Delta MSP"}}),
    "tenants:detail": Row({"GET": SA_PAGE}, SYS_TENANT),
    "tenants:edit": Row(
        {"GET": SA_PAGE, "POST": SA_POST}, SYS_TENANT, {"POST": lambda _w: {"name": "Charlie Two", "is_active": "on"}}
    ),
    "tenants:delete": Row({"GET": SA_PAGE, "POST": SA_POST}, SYS_TENANT),
    "tenants:admin_list": Row({"GET": SA_PAGE}, SYS_TENANT),
    "tenants:admin_create": Row(
        {"GET": SA_PAGE, "POST": SA_POST}, SYS_TENANT, {"POST": user_form("new-admin@charlie.test")}
    ),
    "tenants:admin_detail": Row({"GET": SA_PAGE}, SYS_ADMIN),
    "tenants:admin_edit": Row(
        {"GET": SA_PAGE, "POST": SA_POST}, SYS_ADMIN, {"POST": user_form("renamed@charlie.test")}
    ),
    "tenants:admin_delete": Row({"GET": SA_PAGE, "POST": SA_POST}, SYS_ADMIN),
    "tenants:admin_send_activation": Row({"POST": SA_PAGE}, SYS_ADMIN),
    # Everyone's pages.
    # Tenants for a system administrator; the dashboard, or a customer user's own accounts.
    "web:home": Row({"GET": (302, 200, 200, LOGIN)}),
    "web:healthz": Row({"GET": (200, 200, 200, 200)}, other=PUBLIC_405),
    "users:login": Row(
        # Signed-in users are sent on to their start page, whatever the method.
        # Django's FormView takes PUT as POST: with no form data, the sign-in form again.
        {"GET": (302, 302, 302, 200), "POST": (302, 302, 302, 302), "PUT": (302, 302, 302, 200)},
        bodies={"POST": lambda w: {"username": w.a.admin.email, "password": PASSWORD}},
        other=(302, 302, 302, 405),
    ),
    "users:logout": Row({"POST": (302, 302, 302, LOGIN)}),
    "users:activate": Row(
        {"GET": (200, 200, 200, 200), "POST": (302, 302, 302, 302)},
        _activation("alpha.pending_admin"),
        {"POST": lambda _w: {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}},
        other=PUBLIC_405,
    ),
    "users:forgot_password": Row(
        {"GET": (200, 200, 200, 200), "POST": (200, 200, 200, 200)},
        bodies={"POST": lambda w: {"email": w.a.admin.email}},
        other=PUBLIC_405,
    ),
    "users:profile": Row(
        {"GET": (200, 200, 200, LOGIN), "POST": (302, 302, 302, LOGIN)},
        bodies={"POST": lambda _w: {"first_name": "Renamed", "last_name": "Self", "phone": "+44 20 7946 0000"}},
    ),
    "users:password_change": Row(
        {"POST": (302, 302, 302, LOGIN)},
        bodies={
            "POST": lambda _w: {
                "pw-old_password": PASSWORD,
                "pw-password": NEW_PASSWORD,
                "pw-password_again": NEW_PASSWORD,
            }
        },
    ),
    # Sign-in's second step (no sign-in pending here: back to /login/), API tokens and two-factor
    # authentication on the profile. A token is its user's alone: anyone else's answers 404.
    "users:login_verify": Row(
        {"GET": (302, 302, 302, 302), "POST": (302, 302, 302, 302)},
        bodies={"POST": lambda _w: {"code": "123456"}},
        other=PUBLIC_405,
    ),
    # The columns a user sees in a table: their own choice, whatever their role.
    "users:columns": Row(
        {"POST": (303, 303, 303, LOGIN)}, bodies={"POST": lambda _w: {"table": "customers", "shown": ["email"]}}
    ),
    "users:token_create": Row({"POST": (200, 200, 200, LOGIN)}, bodies={"POST": lambda _w: {"name": "matrix"}}),
    "users:token_revoke": Row(
        {"GET": (404, 200, 404, LOGIN), "POST": (404, 303, 404, LOGIN)}, {"token_id": _id("alpha.token")}
    ),
    "users:two_factor": Row({"GET": (200, 200, 200, LOGIN), "POST": (303, 303, 303, LOGIN)}),
    # No set-up started and no device: the code is refused next to the field.
    "users:two_factor_confirm": Row({"POST": (422, 422, 422, LOGIN)}, bodies={"POST": lambda _w: {"code": "123456"}}),
    "users:two_factor_remove": Row({"POST": (422, 422, 422, LOGIN)}, bodies={"POST": lambda _w: {"code": "123456"}}),
    # API.
    "api-token": Row(
        {"POST": (200, 200, 200, 200)},
        bodies={"POST": lambda w: {"email": w.a.admin.email, "password": PASSWORD}},
        other=PUBLIC_405,
        api=True,
    ),
    "api-schema": Row({"GET": (200, 200, 200, 200)}, other=PUBLIC_405, api=True),
    "api-docs": Row({"GET": (200, 200, 200, 200)}, other=PUBLIC_405, api=True),
    "tenant-list": Row(
        {"GET": (200, 403, 403, 401), "POST": (201, 403, 403, 401)},
        bodies={"POST": lambda _w: {"name": "Delta MSP"}},
        api=True,
    ),
    "tenant-detail": Row(
        {
            "GET": (200, 403, 403, 401),
            "PUT": (200, 403, 403, 401),
            "PATCH": (200, 403, 403, 401),
            "DELETE": (204, 403, 403, 401),
        },
        {"pk": _id("charlie.tenant")},
        {"PUT": lambda _w: {"name": "Charlie Two", "is_active": True}, "PATCH": lambda _w: {"is_active": False}},
        api=True,
    ),
    "user-list": Row(
        {"GET": (200, 200, 403, 401), "POST": (201, 201, 403, 401)},
        bodies={"POST": lambda w: {"email": "api-new@alpha.test", "role": "tenant_admin", "tenant": w.a.tenant.pk}},
        api=True,
    ),
    "user-detail": Row(
        {
            "GET": (200, 200, 403, 401),
            "PUT": (200, 200, 403, 401),
            "PATCH": (200, 200, 403, 401),
            "DELETE": (204, 204, 403, 401),
        },
        {"pk": _id("alpha.pending_admin")},
        {
            "PUT": lambda _w: {"email": "renamed@alpha.test", "first_name": "Re", "last_name": "Named"},
            "PATCH": lambda _w: {"first_name": "Patched"},
        },
        api=True,
    ),
    "user-send-activation": Row({"POST": (200, 200, 403, 401)}, {"pk": _id("alpha.pending_admin")}, api=True),
    "customer-list": Row(
        # A customer user reads its own customer only.
        {"GET": (403, 200, 200, 401), "POST": (403, 201, 403, 401)},
        bodies={"POST": customer_form},
        api=True,
    ),
    "customer-detail": Row(
        {
            "GET": (403, 200, 200, 401),
            "PUT": (403, 200, 403, 401),
            "PATCH": (403, 200, 403, 401),
            "DELETE": (403, 204, 403, 401),
        },
        {"pk": _id("alpha.customer1")},
        {"PUT": customer_form, "PATCH": lambda _w: {"city": "Lyon"}},
        api=True,
    ),
    # Cloud accounts: customer users read their customer's accounts; the rest is the tenant
    # administrator's. The world's accounts have no role yet, so the AWS actions answer 400
    # (connect first / not an ARN) without reaching AWS.
    "cloud-account-list": Row(
        {"GET": (403, 200, 200, 401), "POST": (403, 201, 403, 401)},
        bodies={"POST": lambda _w: {"category": "non_msp", "account_id": "444400000001", "name": "New standalone"}},
        api=True,
    ),
    "cloud-account-detail": Row(
        {"GET": (403, 200, 200, 401), "PATCH": (403, 200, 403, 401), "DELETE": (403, 204, 403, 401)},
        {"pk": _id("alpha.account")},
        {"PATCH": lambda _w: {"name": "Renamed account"}},
        api=True,
    ),
    "cloud-account-setup": Row({"GET": (403, 200, 403, 401)}, {"pk": _id("alpha.account")}, api=True),
    "cloud-account-connect": Row(
        {"POST": (403, 400, 403, 401)},
        {"pk": _id("alpha.account")},
        {"POST": lambda _w: {"role_arn": "not-an-arn"}},
        api=True,
    ),
    "cloud-account-validate": Row({"POST": (403, 400, 403, 401)}, {"pk": _id("alpha.account")}, api=True),
    "cloud-account-sync": Row({"POST": (403, 400, 403, 401)}, {"pk": _id("alpha.management")}, api=True),
    "cloud-account-onboard": Row(
        {"POST": (403, 400, 403, 401)},
        {"pk": _id("alpha.member")},
        {"POST": lambda _w: {"method": "manual", "role_arn": ""}},
        api=True,
    ),
    "cloud-account-remove-role": Row({"POST": (403, 400, 403, 401)}, {"pk": _id("alpha.member")}, api=True),
    "cloud-account-associate": Row(
        {"POST": (403, 200, 403, 401)},
        bodies={"POST": lambda w: {"customer": w.a.customer1.pk, "accounts": [w.a.member.pk]}},
        api=True,
    ),
    "cloud-account-disassociate": Row(
        {"POST": (403, 200, 403, 401)}, bodies={"POST": lambda w: {"accounts": [w.a.account.pk]}}, api=True
    ),
    "cloud-account-bulk-validate": Row(
        {"POST": (403, 202, 403, 401)}, bodies={"POST": lambda w: {"accounts": [w.a.account.pk]}}, api=True
    ),
    "cloud-account-bulk-onboard": Row(
        {"POST": (403, 202, 403, 401)},
        bodies={"POST": lambda w: {"filter": {"parent": w.a.management.pk}}},
        api=True,
    ),
    "job-detail": Row({"GET": (403, 200, 403, 401)}, {"pk": _id("alpha.job")}, api=True),
    "job-retry": Row({"POST": (403, 400, 403, 401)}, {"pk": _id("alpha.job")}, api=True),
    "audit-event-list": Row({"GET": (403, 200, 403, 401)}, api=True),
    "token-list": Row(
        {"GET": (200, 200, 200, 401), "POST": (201, 201, 201, 401)},
        bodies={"POST": lambda _w: {"name": "matrix"}},
        api=True,
    ),
    "token-detail": Row(
        {"GET": (404, 200, 404, 401), "DELETE": (404, 204, 404, 401)}, {"pk": _id("alpha.token")}, api=True
    ),
    "audit-event-detail": Row({"GET": (403, 200, 403, 401)}, {"pk": _id("alpha.event")}, api=True),
    # Role health: a customer user reads its own customer's accounts' checks.
    "cloud-account-health": Row({"GET": (403, 200, 200, 401)}, {"pk": _id("alpha.account")}, api=True),
    # Ownership history (SPEC 10): the tenant administrator's.
    "cloud-account-ownership": Row({"GET": (403, 200, 403, 401)}, {"pk": _id("alpha.account")}, api=True),
    "ownership-list": Row({"GET": (403, 200, 403, 401)}, api=True),
    # CSV imports (SPEC 10): the tenant administrator's; the matrix's empty body passes the role
    # check, then is refused as an empty file (tests/api/test_imports.py sends real ones).
    "import-assignments": Row({"POST": (403, 400, 403, 401)}, api=True),
    "import-customers": Row({"POST": (403, 400, 403, 401)}, api=True),
    "schedule": Row(
        {"GET": (403, 200, 403, 401), "PUT": (403, 200, 403, 401), "PATCH": (403, 200, 403, 401)},
        bodies={"PUT": lambda _w: SCHEDULE, "PATCH": lambda _w: {"validation_interval_minutes": 30}},
        api=True,
    ),
    "assignment-rule-list": Row(
        {"GET": (403, 200, 403, 401), "POST": (403, 201, 403, 401)}, bodies={"POST": rule_form}, api=True
    ),
    "assignment-rule-detail": Row(
        {
            "GET": (403, 200, 403, 401),
            "PUT": (403, 200, 403, 401),
            "PATCH": (403, 200, 403, 401),
            "DELETE": (403, 204, 403, 401),
        },
        {"pk": _id("alpha.rule")},
        {"PUT": rule_form, "PATCH": lambda _w: {"enabled": False}},
        api=True,
    ),
    "assignment-rule-preview": Row({"POST": (403, 200, 403, 401)}, bodies={"POST": rule_form}, api=True),
    "assignment-rule-apply": Row({"POST": (403, 202, 403, 401)}, {"pk": _id("alpha.rule")}, api=True),
    "webhook-list": Row(
        {"GET": (403, 200, 403, 401), "POST": (403, 201, 403, 401)},
        bodies={"POST": lambda _w: {"url": "https://hooks.matrix.test/api", "events": ["role.broken"]}},
        api=True,
    ),
    "webhook-detail": Row(
        {
            "GET": (403, 200, 403, 401),
            "PUT": (403, 200, 403, 401),
            "PATCH": (403, 200, 403, 401),
            "DELETE": (403, 204, 403, 401),
        },
        {"pk": _id("alpha.webhook")},
        {"PUT": lambda _w: {"url": "https://hooks.matrix.test/put"}, "PATCH": lambda _w: {"enabled": False}},
        api=True,
    ),
    "webhook-test": Row({"POST": (403, 202, 403, 401)}, {"pk": _id("alpha.webhook")}, api=True),
    "webhook-delivery-list": Row({"GET": (403, 200, 403, 401)}, api=True),
    "webhook-delivery-detail": Row({"GET": (403, 200, 403, 401)}, {"pk": _id("alpha.delivery")}, api=True),
    "webhook-delivery-resend": Row({"POST": (403, 202, 403, 401)}, {"pk": _id("alpha.delivery")}, api=True),
}

#: Unnamed routes, by pattern: a concrete path reaching each and what it answers.
UNNAMED: dict[str, Row] = {
    # The API's catch-all: unknown endpoints answer 404 in JSON, to everyone.
    r"api/v1/^[\s\S]*/\Z": Row(dict.fromkeys(METHODS, (404, 404, 404, 404)), api=True, path="/api/v1/no-such-thing/"),
}

ROUTES = all_routes()


def _role_user(world: World, role: str) -> Any:
    return {
        "sysadmin": world.sysadmin,
        "tenant_admin": world.a.admin,
        "customer_user": world.a.cuser1,
        "anonymous": None,
    }[role]


def _expected(row: Row, method: str) -> Expect:
    if method in row.methods:
        return row.methods[method]
    if row.other is not None:
        return row.other
    return API_405 if row.api else PAGE_405


def test_every_route_is_in_the_matrix():
    named = {r.name for r in ROUTES if r.name}
    unnamed = {r.pattern for r in ROUTES if not r.name}
    assert not named - MATRIX.keys(), f"routes missing from MATRIX: {sorted(named - MATRIX.keys())}"
    assert not MATRIX.keys() - named, f"stale MATRIX rows: {sorted(MATRIX.keys() - named)}"
    assert not unnamed - UNNAMED.keys(), f"unnamed routes missing from UNNAMED: {sorted(unnamed - UNNAMED.keys())}"
    assert not UNNAMED.keys() - unnamed, f"stale UNNAMED rows: {sorted(UNNAMED.keys() - unnamed)}"


CELLS = [(name, method) for name in sorted(MATRIX) for method in METHODS] + [
    (pattern, method) for pattern in UNNAMED for method in METHODS
]


@pytest.mark.parametrize(("name", "method"), CELLS, ids=[f"{n}-{m}" for n, m in CELLS])
def test_role_matrix(world, name, method):
    row = MATRIX.get(name) or UNNAMED[name]
    url = row.path or reverse(name, kwargs={k: ref(world) for k, ref in row.kwargs.items()})
    body = row.bodies[method](world) if method in row.bodies else None
    wrong = []
    for role, want in zip(ROLES, _expected(row, method), strict=True):
        actor = Actor(_role_user(world, role))
        with transaction.atomic():
            send = actor.api if row.api else actor.page
            response = send(method, url, body)
            transaction.set_rollback(True)
        TRIED["role matrix requests"] += 1
        got = response.status_code
        ok = got == want or (want == LOGIN and got == 302 and bool(LOGIN_RE.match(response["Location"])))
        if not ok:
            where = f" -> {response['Location']}" if got in (301, 302, 303) else ""
            detail = response.content[:200].decode(errors="replace") if got >= 400 or got == 200 else ""
            exc = getattr(response, "exc_info", None)
            wrong.append(f"{role}: expected {want}, got {got}{where} {exc[1] if exc else ''} {detail}")
    assert not wrong, f"{method} {url}:\n" + "\n".join(wrong)


# System routes: a tenant administrator (or a customer user) gets 403/404 for any tenant -----------

SYSTEM_ROUTES = [r for r in ROUTES if r.name and is_system_route(r)]


@pytest.mark.parametrize("route", SYSTEM_ROUTES, ids=str)
def test_system_routes_refuse_tenant_users_for_every_tenant(world, route):
    """Whichever tenant the ids name — the caller's own, a foreign one, none — a tenant
    administrator or customer user is refused and nothing changes."""
    for role in ("tenant_admin", "customer_user"):
        actor = Actor(_role_user(world, role))
        for key in ("alpha", "bravo", "charlie", None):
            t = world.tenants[key] if key else None
            ids = {"tenant_id": t.tenant.pk if t else 10**15, "user_id": t.admin.pk if t else 10**15}
            ids["pk"] = ids["tenant_id"]
            url = reverse(route.name, kwargs={k: ids[k] for k in route.kwargs})
            for method in METHODS:
                before = snapshot()
                send = actor.api if route.is_api else actor.page
                response = send(method, url, {"name": "Hijacked MSP", "email": "x@intruder.test", "is_active": ""})
                TRIED["system route refusals"] += 1
                context = f"{role} {method} {url}"
                assert response.status_code in (403, 404, 405), f"{context}: {response.status_code}"
                assert_unchanged(before, snapshot(), actor=actor.user, context=context)
