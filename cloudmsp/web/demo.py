"""The demo data `make demo` seeds: one tenant with customers and the three logins of SPEC 6.
Idempotent: running it again leaves existing rows as they are."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.services import audit_record
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.users.models import Role, User

DEMO_TENANT = "Demo MSP"
LOGINS = (
    ("System administrator", "sysadmin@demo.test", "demo-sysadmin"),
    ("Tenant administrator", "admin@demo.test", "demo-admin"),
    ("Customer user", "user@demo.test", "demo-user"),
)
CUSTOMERS = (
    ("Acme Corporation", "Ada", "Lovelace", "ada@acme.example", "United Kingdom", "London"),
    ("Globex Inc", "Hank", "Scorpio", "hank@globex.example", "United States", "Cypress Creek"),
    ("Initech", "Bill", "Lumbergh", "bill@initech.example", "United States", "Austin"),
    ("Umbrella GmbH", "Alice", "Abernathy", "alice@umbrella.example", "Germany", "Berlin"),
    ("Stark Industries", "Pepper", "Potts", "pepper@stark.example", "United States", "Malibu"),
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


def _ensure_user(email: str, password: str, **fields: object) -> None:
    if User.unscoped.filter(email=email).exists():
        return
    user = User(email=email, activated_at=timezone.now(), **fields)  # type: ignore[arg-type]
    # The demo passwords are fixed by the specification and shorter than the password rules
    # require of real users, so they are set directly rather than through the service.
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(actor=None, action="user.create", obj=user, changes={"email": [None, email]})


@transaction.atomic
def seed_demo() -> list[DemoLogin]:
    tenant, _ = Tenant.objects.get_or_create(name=DEMO_TENANT)
    customers = []
    for company, first, last, email, country, city in CUSTOMERS:
        customer = Customer.objects.for_tenant(tenant).filter(company_name=company).first()
        if customer is None:
            customer = Customer.objects.create(
                tenant=tenant,
                company_name=company,
                first_name=first,
                last_name=last,
                email=email,
                country=country,
                city=city,
            )
            audit_record(actor=None, action="customer.create", obj=customer)
        customers.append(customer)
    (_sys_role, sys_email, sys_pw), (_adm_role, adm_email, adm_pw), (_cu_role, cu_email, cu_pw) = LOGINS
    _ensure_user(sys_email, sys_pw, role=Role.SYSADMIN, first_name="Sam", last_name="Sysadmin")
    _ensure_user(adm_email, adm_pw, role=Role.TENANT_ADMIN, tenant=tenant, first_name="Dana", last_name="Admin")
    _ensure_user(
        cu_email,
        cu_pw,
        role=Role.CUSTOMER_USER,
        tenant=tenant,
        customer=customers[0],
        first_name="Uma",
        last_name="User",
    )
    return [DemoLogin(*login) for login in LOGINS]
