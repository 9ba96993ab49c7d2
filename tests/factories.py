"""Factories for the domain. Rows are created through the unscoped managers, as fixtures."""

from __future__ import annotations

import factory
from django.utils import timezone

from cloudmsp.cloud.models import Category, CloudAccount, Kind
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User

PASSWORD = "correct-horse-battery-9"


class TenantFactory(factory.django.DjangoModelFactory[Tenant]):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    company_name = factory.Sequence(lambda n: f"Company {n}")
    first_name = "Grace"
    last_name = "Hopper"
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Linus"
    last_name = "Torvalds"
    role = Role.TENANT_ADMIN
    tenant = factory.SubFactory(TenantFactory)
    activated_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class SysadminFactory(UserFactory):
    role = Role.SYSADMIN
    tenant = None


class CustomerUserFactory(UserFactory):
    role = Role.CUSTOMER_USER
    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")


class CloudAccountFactory(factory.django.DjangoModelFactory[CloudAccount]):
    class Meta:
        model = CloudAccount

    tenant = factory.SubFactory(TenantFactory)
    category = Category.NON_MSP
    kind = Kind.STANDALONE
    account_id = factory.Sequence(lambda n: f"{100000000000 + n:012d}")
    name = factory.Sequence(lambda n: f"account-{n}")
