"""The demo data `make demo` seeds: one tenant with customers and the three logins of SPEC 6.
Idempotent: running it again leaves existing rows as they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.services import audit_record
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User

DEMO_TENANT = "Demo MSP"
DEMO_VALIDATION_MINUTES = 1
DEMO_SYNC_MINUTES = 10
# A customer's member account onboarded with a role, to break in the emulator (README).
DEMO_CUSTOMER_ROLE = "CloudMSPAccess"
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
    user = User(email=email, activated_at=timezone.now(), **fields)
    # The demo passwords are fixed by the specification and shorter than the password rules
    # require of real users, so they are set directly rather than through the service.
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(actor=None, action="user.create", obj=user, changes={"email": [None, email]})


@transaction.atomic
def seed_demo() -> list[DemoLogin]:
    tenant, created = Tenant.objects.get_or_create(name=DEMO_TENANT)
    if created:
        # The demo's short schedule (SPEC 9): a broken role shows within a minute or two.
        tenant.validation_interval_minutes = DEMO_VALIDATION_MINUTES
        tenant.sync_interval_minutes = DEMO_SYNC_MINUTES
        tenant.save(update_fields=["validation_interval_minutes", "sync_interval_minutes"])
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


DEMO_PAYER_NAME = "Demo Payer (management account)"
DEMO_ASSIGNMENTS = {"Acme Corporation": 4, "Globex Inc": 3, "Initech": 2}


def seed_demo_aws(endpoint: str) -> str:
    """Seed the emulator's organization and connect it as the demo tenant's MSP account, with
    its members discovered and a few assigned to customers. Roles the database knows about are
    re-created in the emulator after a restart. Returns a one-line summary."""
    from cloudmsp.cloud.models import CloudAccount, Job, JobKind, Kind
    from cloudmsp.cloud.services.accounts import account_connect, account_create
    from cloudmsp.cloud.services.association import accounts_associate
    from cloudmsp.cloud.services.onboarding import role_owner
    from cloudmsp.cloud.services.sync import organization_sync
    from cloudmsp.demo import emulator

    admin = User.unscoped.get(email="admin@demo.test")
    tenant = admin.tenant
    assert tenant is not None
    org = emulator.seed_organization(endpoint)
    payer = CloudAccount.objects.for_tenant(tenant).filter(account_id=org.management_id).first()
    if payer is None:
        payer = account_create(actor=admin, category="msp", account_id=org.management_id, name=DEMO_PAYER_NAME)
    arn = emulator.ensure_role(endpoint, org.management_id, emulator.PORTAL_ROLE, payer.external_id, management=True)
    # Roles the portal created or registered before a restart of the emulator.
    for account in CloudAccount.objects.for_tenant(tenant).exclude(role_arn="").exclude(pk=payer.pk):
        emulator.ensure_role(
            endpoint,
            account.account_id,
            account.role_name,
            account.external_id,
            management=account.kind == Kind.MANAGEMENT,
            owner=role_owner(account) if account.role_created_by_portal else "",
        )
    if not payer.is_onboarded or payer.role_arn != arn:
        result = account_connect(actor=admin, account=payer, role_arn=arn)
        if not result.ok:
            return f"Could not connect the demo MSP account: {result.step} failed: {result.message}"
    members = CloudAccount.objects.for_tenant(tenant).filter(parent=payer)
    if not members.exists():
        job = Job.objects.create(tenant=tenant, kind=JobKind.SYNC, account=payer, created_by=admin)
        organization_sync(job)
        job.refresh_from_db()
        if job.error:
            return f"Could not discover the demo organization: {job.error}"
        if not members.filter(customer__isnull=False).exists():
            free = list(members.order_by("account_id").values_list("pk", flat=True))
            for company, count in DEMO_ASSIGNMENTS.items():
                customer = Customer.objects.for_tenant(tenant).filter(company_name=company).first()
                if customer is not None and free:
                    accounts_associate(actor=admin, customer=customer, account_ids=free[:count])
                    free = free[count:]
    onboarded = _onboard_a_customer_account(endpoint, admin, tenant)
    return (
        f"AWS emulator: organization {org.management_id} with {len(org.members)} member accounts, "
        f"connected as the MSP account of {tenant.name}"
        + (
            f"; {onboarded.account_id} ({onboarded.customer}) onboarded with the role {DEMO_CUSTOMER_ROLE}."
            if onboarded
            else "."
        )
    )


def _onboard_a_customer_account(endpoint: str, admin: User, tenant: Tenant) -> Any:
    """Acme's first active member account, onboarded with a role registered by its ARN (made here
    in the emulator from the account's template), unless one of its accounts already is."""
    from cloudmsp.cloud.models import AwsState, CloudAccount, Kind
    from cloudmsp.cloud.services.onboarding import onboard_manual
    from cloudmsp.demo import emulator

    acme = CloudAccount.objects.for_tenant(tenant).filter(
        kind=Kind.MEMBER, customer__company_name="Acme Corporation", aws_state=AwsState.ACTIVE
    )
    done = acme.exclude(role_arn="").select_related("customer").first()
    if done is not None:
        return done
    account = acme.select_related("customer").order_by("account_id").first()
    if account is None:
        return None
    arn = emulator.ensure_role(endpoint, account.account_id, DEMO_CUSTOMER_ROLE, account.external_id, management=False)
    result = onboard_manual(actor=admin, account=account, role_arn=arn)
    return account if result.ok else None
