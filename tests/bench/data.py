"""Bulk data for the benchmarks: a tenant with 100,000 cloud accounts (several management
accounts of 10,000 members each), 5,000 customers with a user each, a share of the accounts
assigned and onboarded, audit events, and a second tenant so that every query must filter."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import Category, CloudAccount, Kind, OnboardingStatus
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User

BATCH = 2000
COUNTRIES = ["Germany", "France", "United States", "Japan", "Brazil", "India", "Kenya", "Canada"]


@dataclass
class Dataset:
    tenant: Tenant
    admin: User
    largest_management: CloudAccount
    accounts: int
    customers: int


def _external_id() -> str:
    return f"cmsp-{secrets.token_urlsafe(24)}"


@transaction.atomic
def build(
    *,
    name: str = "Bench MSP",
    managements: int = 10,
    members_per_management: int = 10_000,
    customers: int = 5_000,
    audit_events: int = 20_000,
    onboarded_share: float = 0.1,
    assigned_share: float = 0.8,
) -> Dataset:
    now = timezone.now()
    tenant = Tenant.objects.create(name=name)
    admin = User(
        email=f"admin@{name.lower().replace(' ', '-')}.test", role=Role.TENANT_ADMIN, tenant=tenant, activated_at=now
    )
    admin.set_password("bench-password-1")
    admin.save()
    Customer.unscoped.bulk_create(
        [
            Customer(
                tenant=tenant,
                company_name=f"Customer {i:05d} {['GmbH', 'Inc', 'Ltd', 'SA', 'KK'][i % 5]}",
                first_name=f"First{i}",
                last_name=f"Last{i}",
                email=f"contact{i}@customer{i}.example",
                country=COUNTRIES[i % len(COUNTRIES)],
                city=f"City {i % 97}",
            )
            for i in range(customers)
        ],
        batch_size=BATCH,
    )
    customer_ids = list(Customer.objects.for_tenant(tenant).order_by("id").values_list("id", flat=True))
    User.unscoped.bulk_create(
        [
            User(
                email=f"user{i}@{name.lower().replace(' ', '-')}.test",
                role=Role.CUSTOMER_USER,
                tenant=tenant,
                customer_id=cid,
                first_name=f"User{i}",
                last_name="Bench",
                password="!unusable",
            )
            for i, cid in enumerate(customer_ids)
        ],
        batch_size=BATCH,
    )
    mgmts = CloudAccount.unscoped.bulk_create(
        [
            CloudAccount(
                tenant=tenant,
                category=Category.MSP,
                kind=Kind.MANAGEMENT,
                account_id=f"9{m:03d}00000000",
                name=f"Payer {m}",
                external_id=_external_id(),
                role_arn=f"arn:aws:iam::9{m:03d}00000000:role/CloudMSPPortal",
                onboarding_status=OnboardingStatus.ONBOARDED,
            )
            for m in range(managements)
        ]
    )
    ous = ["Root", "Root/Production", "Root/Production/Web", "Root/Development", "Root/Sandbox"]
    n = 0
    for m, mgmt in enumerate(mgmts):
        rows = []
        for j in range(members_per_management):
            # 12 digits, distinct, for up to 880 organizations of up to 1,000,000,000 members: none
            # begins with 9 as the management accounts do, nor with 00 (a search for "00" would
            # then begin every account id).
            account_id = f"{(m + 10) * 10**9 + j:012d}"
            assigned = (n % 100) < assigned_share * 100
            onboarded = (n % 100) < onboarded_share * 100
            rows.append(
                CloudAccount(
                    tenant=tenant,
                    category=Category.MSP,
                    kind=Kind.MEMBER,
                    parent=mgmt,
                    account_id=account_id,
                    name=f"member-{m}-{j:05d}",
                    email=f"aws+{m}-{j}@bench.example",
                    ou_path=ous[j % len(ous)],
                    tags={"team": ["data", "web", "ops"][j % 3], "cost-center": str(j % 50)} if j % 4 == 0 else {},
                    customer_id=customer_ids[n % len(customer_ids)] if assigned else None,
                    external_id=_external_id(),
                    role_arn=f"arn:aws:iam::{account_id}:role/CloudMSPAccess" if onboarded else "",
                    role_created_by_portal=onboarded,
                    onboarding_status=OnboardingStatus.ONBOARDED if onboarded else OnboardingStatus.NOT_ONBOARDED,
                )
            )
            n += 1
        CloudAccount.unscoped.bulk_create(rows, batch_size=BATCH)
    AuditEvent.unscoped.bulk_create(
        [
            AuditEvent(
                tenant=tenant,
                actor=admin,
                actor_email=admin.email,
                action=["customer.update", "cloud_account.associate", "user.create"][i % 3],
                object_type="customer",
                object_id=str(customer_ids[i % len(customer_ids)]),
                object_repr=f"Customer {i % len(customer_ids):05d}",
                changes={"city": ["A", "B"]},
            )
            for i in range(audit_events)
        ],
        batch_size=BATCH,
    )
    return Dataset(
        tenant=tenant,
        admin=admin,
        largest_management=mgmts[0],
        accounts=managements * (members_per_management + 1),
        customers=customers,
    )
