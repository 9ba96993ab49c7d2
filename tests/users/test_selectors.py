"""cloudmsp.users.selectors: which users an actor manages, and whose API tokens it sees (its own)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from cloudmsp.core.errors import NotFound
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import ApiToken, User
from cloudmsp.users.selectors import api_token_get, api_token_list, user_get, user_list, users_manageable_by
from tests.factories import CustomerFactory, CustomerUserFactory, SysadminFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _emails(qs) -> list[str]:
    return [u.email for u in qs]


@pytest.fixture
def population(tenant, admin, customer_user, sysadmin):
    """Two tenants, each with administrators and customer users, and two system administrators."""
    other_tenant = TenantFactory(name="Other MSP")
    return {
        "second_admin": UserFactory(tenant=tenant, email="second@home.test"),
        "second_user": CustomerUserFactory(customer=customer_user.customer, email="second@acme.test"),
        "other_admin": UserFactory(tenant=other_tenant, email="admin@other.test"),
        "other_user": CustomerUserFactory(customer=CustomerFactory(tenant=other_tenant), email="user@other.test"),
        "other_sysadmin": SysadminFactory(email="root2@install.test"),
    }


# users_manageable_by ----------------------------------------------------------------------------


def test_sysadmin_manages_the_tenant_administrators_of_every_tenant(sysadmin, admin, population):
    assert set(users_manageable_by(sysadmin)) == {admin, population["second_admin"], population["other_admin"]}


def test_tenant_admin_manages_every_user_of_its_tenant_only(admin, customer_user, population):
    assert set(users_manageable_by(admin)) == {
        admin,
        customer_user,
        population["second_admin"],
        population["second_user"],
    }


def test_customer_users_and_anonymous_manage_nobody(customer_user, population):
    assert list(users_manageable_by(customer_user)) == []
    assert list(users_manageable_by(AnonymousUser())) == []


# user_list --------------------------------------------------------------------------------------


def test_list_filters_by_role(admin, customer_user, population):
    assert _emails(user_list(actor=admin, role=Role.TENANT_ADMIN)) == ["admin@home.test", "second@home.test"]
    assert _emails(user_list(actor=admin, role=Role.CUSTOMER_USER)) == ["second@acme.test", "user@acme.test"]
    assert _emails(user_list(actor=admin, role=Role.SYSADMIN)) == []


def test_list_filters_by_customer(admin, customer_user, population):
    other_customer = CustomerFactory(tenant=admin.tenant)
    mine = CustomerUserFactory(customer=other_customer, email="mine@other-customer.test")
    assert _emails(user_list(actor=admin, customer=customer_user.customer)) == ["second@acme.test", "user@acme.test"]
    assert list(user_list(actor=admin, customer=other_customer)) == [mine]
    # Another tenant's customer filters to nobody: the tenant scope comes first.
    foreign_customer = population["other_user"].customer
    assert list(user_list(actor=admin, customer=foreign_customer)) == []


def test_list_filters_by_tenant_within_reach(sysadmin, admin, population):
    other_tenant_id = population["other_admin"].tenant_id
    assert _emails(user_list(actor=sysadmin, tenant_id=other_tenant_id)) == ["admin@other.test"]
    assert _emails(user_list(actor=sysadmin, tenant_id=admin.tenant_id)) == ["admin@home.test", "second@home.test"]
    # A tenant administrator naming another tenant reaches nobody there.
    assert list(user_list(actor=admin, tenant_id=other_tenant_id)) == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("HOME.TEST", ["admin@home.test", "grace@home.test"]),
        ("  grace  ", ["grace@home.test"]),
        ("hopp", ["grace@home.test"]),
        ("torvalds", ["admin@home.test", "user@acme.test"]),
        ("", ["admin@home.test", "grace@home.test", "user@acme.test"]),
        ("other.test", []),
    ],
)
def test_list_search_covers_email_and_names(admin, customer_user, tenant, search, expected):
    UserFactory(tenant=tenant, email="grace@home.test", first_name="Grace", last_name="Hopper")
    UserFactory(email="someone@other.test", first_name="Grace", last_name="Hopper")  # another tenant
    assert _emails(user_list(actor=admin, search=search)) == expected


def test_list_orderings_and_the_fallback(tenant):
    now = timezone.now()
    rows = [("b@x.test", "Zoe", "Adams", 1), ("c@x.test", "Amy", "Cole", 0), ("a@x.test", "Max", "Bell", 2)]
    users = {}
    for email, first, last, days_ago in rows:
        user = UserFactory(tenant=tenant, email=email, first_name=first, last_name=last)
        User.unscoped.filter(pk=user.pk).update(created_at=now - timedelta(days=days_ago))
        users[email] = user
    actor = users["a@x.test"]
    b, c, a = users["b@x.test"], users["c@x.test"], users["a@x.test"]
    assert list(user_list(actor=actor)) == [a, b, c]
    assert list(user_list(actor=actor, ordering="-email")) == [c, b, a]
    assert list(user_list(actor=actor, ordering="first_name")) == [c, a, b]
    assert list(user_list(actor=actor, ordering="-last_name")) == [c, a, b]
    assert list(user_list(actor=actor, ordering="created_at")) == [a, b, c]
    assert list(user_list(actor=actor, ordering="-created_at")) == [c, b, a]
    assert list(user_list(actor=actor, ordering="password")) == [a, b, c]  # not offered: by email


def test_list_is_one_query_with_tenant_and_customer(admin, customer_user, population, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = [(u.email, u.tenant.name, u.customer.company_name if u.customer else "") for u in user_list(actor=admin)]
    assert rows == [
        ("admin@home.test", "Home MSP", ""),
        ("second@acme.test", "Home MSP", "Acme"),
        ("second@home.test", "Home MSP", ""),
        ("user@acme.test", "Home MSP", "Acme"),
    ]


# user_get ---------------------------------------------------------------------------------------


def test_get_a_user_in_reach(admin, customer_user, sysadmin, population):
    assert user_get(actor=admin, user_id=str(customer_user.pk)) == customer_user
    assert user_get(actor=sysadmin, user_id=population["other_admin"].pk) == population["other_admin"]


def test_get_across_tenants_reads_like_a_missing_user(admin, population):
    with pytest.raises(NotFound) as foreign:
        user_get(actor=admin, user_id=population["other_user"].pk)
    with pytest.raises(NotFound) as missing:
        user_get(actor=admin, user_id=10**12)
    assert foreign.value.message == missing.value.message == "User not found."
    with pytest.raises(NotFound):
        user_get(actor=admin, user_id=population["other_admin"].pk)


def test_get_outside_the_role_is_not_found(admin, customer_user, sysadmin, population):
    with pytest.raises(NotFound):  # a system administrator manages tenant administrators only
        user_get(actor=sysadmin, user_id=customer_user.pk)
    with pytest.raises(NotFound):
        user_get(actor=sysadmin, user_id=population["other_sysadmin"].pk)
    with pytest.raises(NotFound):  # nor does a tenant administrator reach a system administrator
        user_get(actor=admin, user_id=sysadmin.pk)
    with pytest.raises(NotFound):  # a customer user manages nobody, not even itself
        user_get(actor=customer_user, user_id=customer_user.pk)


@pytest.mark.parametrize("raw", ["abc", "", "0", "-1", "1.0", "\uff11", None, True, 2**63], ids=repr)
def test_get_of_a_malformed_id_is_not_found(admin, raw, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(NotFound):
        user_get(actor=admin, user_id=raw)


def test_get_is_one_query_with_tenant_and_customer(admin, customer_user, django_assert_num_queries):
    with django_assert_num_queries(1):
        got = user_get(actor=admin, user_id=customer_user.pk)
        assert (got.tenant.name, got.customer.company_name) == ("Home MSP", "Acme")


# api_token_list / api_token_get -----------------------------------------------------------------


def test_tokens_listed_are_only_the_actors_own_whatever_the_role(admin, sysadmin, customer_user):
    mine, _ = token_issue(user=admin, name="mine")
    token_issue(user=customer_user, name="my customer user's")
    token_issue(user=sysadmin, name="the system administrator's")
    token_issue(user=UserFactory(tenant=admin.tenant), name="a colleague's")
    assert list(api_token_list(actor=admin)) == [mine]
    assert [t.name for t in api_token_list(actor=sysadmin)] == ["the system administrator's"]
    assert [t.name for t in api_token_list(actor=customer_user)] == ["my customer user's"]
    assert list(api_token_list(actor=AnonymousUser())) == []


def test_token_search_by_name_or_start_of_prefix(admin):
    deploy, _ = token_issue(user=admin, name="Deploy pipeline")
    backup, _ = token_issue(user=admin, name="nightly backup")
    assert list(api_token_list(actor=admin, search="  PIPE ")) == [deploy]
    assert list(api_token_list(actor=admin, search=backup.prefix[:5])) == [backup]
    assert list(api_token_list(actor=admin, search="zzz-none")) == []


def test_token_orderings_and_the_fallback(admin):
    now = timezone.now()
    tokens = {}
    for name, days_ago, used_days_ago in (("beta", 2, 0), ("alpha", 1, None), ("gamma", 0, 5)):
        token, _ = token_issue(user=admin, name=name)
        last_used = None if used_days_ago is None else now - timedelta(days=used_days_ago)
        ApiToken.objects.filter(pk=token.pk).update(created_at=now - timedelta(days=days_ago), last_used_at=last_used)
        tokens[name] = token
    a, b, g = tokens["alpha"], tokens["beta"], tokens["gamma"]
    assert list(api_token_list(actor=admin)) == [g, a, b]
    assert list(api_token_list(actor=admin, ordering="created")) == [b, a, g]
    assert list(api_token_list(actor=admin, ordering="name")) == [a, b, g]
    assert list(api_token_list(actor=admin, ordering="-name")) == [g, b, a]
    # The never-used token comes last on both databases (PostgreSQL sorts NULLs first descending).
    assert list(api_token_list(actor=admin, ordering="-last_used")) == [b, g, a]
    assert list(api_token_list(actor=admin, ordering="digest")) == [g, a, b]  # not offered: newest first


def test_get_own_token(admin):
    token, _ = token_issue(user=admin, name="ci")
    assert api_token_get(actor=admin, token_id=str(token.pk)) == token


def test_get_someone_elses_token_is_not_found(admin, sysadmin, customer_user):
    theirs, _ = token_issue(user=customer_user, name="theirs")
    for actor in (admin, sysadmin):  # not even their administrator, nor the system administrator
        with pytest.raises(NotFound) as exc:
            api_token_get(actor=actor, token_id=theirs.pk)
        assert exc.value.message == "API token not found."
    assert api_token_get(actor=customer_user, token_id=theirs.pk) == theirs


@pytest.mark.parametrize("raw", ["abc", "", "0", "-1", None, True, 2**63, "missing"], ids=repr)
def test_get_token_of_a_malformed_or_missing_id_is_not_found(admin, raw):
    token, _ = token_issue(user=admin, name="ci")
    token_id = token.pk + 1000 if raw == "missing" else raw
    with pytest.raises(NotFound):
        api_token_get(actor=admin, token_id=token_id)
