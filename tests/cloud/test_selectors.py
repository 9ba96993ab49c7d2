"""cloudmsp/cloud/selectors.py: who sees which cloud accounts, the account lists with their
search, filters and sorts, the MSP list's member counts, a customer's accounts, jobs, and the
selection state of bulk dialogs."""

from __future__ import annotations

import pytest

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Job, JobKind, JobState, Kind, OnboardingStatus
from cloudmsp.core.errors import NotFound, PermissionDenied
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _management(tenant, **kwargs) -> CloudAccount:
    return CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, **kwargs)


def _member(parent: CloudAccount, **kwargs) -> CloudAccount:
    return CloudAccountFactory(tenant=parent.tenant, category=Category.MSP, kind=Kind.MEMBER, parent=parent, **kwargs)


def _ids(qs) -> list[int]:
    return [a.pk for a in qs]


@pytest.fixture
def foreign_account() -> CloudAccount:
    """An account of another tenant, assigned to a customer of that tenant."""
    tenant = TenantFactory()
    return CloudAccountFactory(tenant=tenant, customer=CustomerFactory(tenant=tenant, company_name="Acme"))


# accounts_visible_to --------------------------------------------------------------------------


def test_a_tenant_admin_sees_every_account_of_its_tenant(admin, customer, foreign_account):
    mine = [CloudAccountFactory(tenant=admin.tenant), CloudAccountFactory(tenant=admin.tenant, customer=customer)]
    assert sorted(_ids(selectors.accounts_visible_to(admin))) == sorted(a.pk for a in mine)


def test_a_customer_user_sees_the_accounts_of_its_customer_only(customer_user, customer, foreign_account):
    own = CloudAccountFactory(tenant=customer.tenant, customer=customer)
    other_customer = CustomerFactory(tenant=customer.tenant)
    CloudAccountFactory(tenant=customer.tenant, customer=other_customer)
    CloudAccountFactory(tenant=customer.tenant)  # not assigned
    assert _ids(selectors.accounts_visible_to(customer_user)) == [own.pk]


def test_a_sysadmin_sees_no_account(sysadmin, admin, django_assert_num_queries):
    CloudAccountFactory(tenant=admin.tenant)
    with django_assert_num_queries(0):
        assert list(selectors.accounts_visible_to(sysadmin)) == []


# account_list ---------------------------------------------------------------------------------


def test_list_searches_id_name_email_ou_and_customer_case_insensitively(admin, customer, foreign_account):
    by_id = CloudAccountFactory(tenant=admin.tenant, account_id="555566667777")
    by_name = CloudAccountFactory(tenant=admin.tenant, name="Production Web")
    by_email = CloudAccountFactory(tenant=admin.tenant, email="billing@webshop.test")
    by_ou = CloudAccountFactory(tenant=admin.tenant, ou_path="Root/Prod/WEB")
    by_customer = CloudAccountFactory(
        tenant=admin.tenant, customer=CustomerFactory(tenant=admin.tenant, company_name="Webbers")
    )
    CloudAccountFactory(tenant=admin.tenant, name="Unrelated", customer=customer)

    def found(search: str) -> set[int]:
        return set(_ids(selectors.account_list(actor=admin, search=search)))

    assert found("web") == {by_name.pk, by_email.pk, by_ou.pk, by_customer.pk}
    # An account id by its first or its last digits (the token index: cloudmsp.cloud.search).
    assert found("  5555  ") == found("7777") == found("555566667777") == {by_id.pk}
    assert found("ACME") == {a.pk for a in CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer)}
    assert found("no such thing") == set()
    assert len(found("")) == 6


def test_list_search_never_matches_across_two_fields(admin):
    CloudAccountFactory(tenant=admin.tenant, name="Alpha", email="beta@example.com")
    assert list(selectors.account_list(actor=admin, search="alphabeta")) == []
    assert len(selectors.account_list(actor=admin, search="alpha")) == 1


def test_list_search_by_customer_stays_within_what_the_actor_sees(customer_user, customer):
    own = CloudAccountFactory(tenant=customer.tenant, customer=customer, name="ours")
    CloudAccountFactory(
        tenant=customer.tenant, customer=CustomerFactory(tenant=customer.tenant, company_name="Acme Two")
    )
    assert _ids(selectors.account_list(actor=customer_user, search="acme")) == [own.pk]


def test_list_filters(admin, customer):
    payer = _management(admin.tenant, account_id="100000000001")
    member_onboarded = _member(payer, customer=customer, onboarding_status=OnboardingStatus.ONBOARDED)
    member_closed = _member(payer, aws_state=AwsState.CLOSED)
    standalone = CloudAccountFactory(tenant=admin.tenant, customer=customer)
    other_payer = _management(admin.tenant)
    other_member = _member(other_payer)

    def listed(**filters) -> set[int]:
        return set(_ids(selectors.account_list(actor=admin, filters=filters)))

    assert listed(kind=Kind.MANAGEMENT) == {payer.pk, other_payer.pk}
    assert listed(category=Category.NON_MSP) == {standalone.pk}
    assert listed(parent=payer.pk) == {member_onboarded.pk, member_closed.pk}
    assert listed(parent=str(other_payer.pk)) == {other_member.pk}
    assert listed(customer=customer.pk) == {member_onboarded.pk, standalone.pk}
    assert listed(customer="none") == {payer.pk, member_closed.pk, other_payer.pk, other_member.pk}
    assert listed(onboarding_status=OnboardingStatus.ONBOARDED) == {member_onboarded.pk}
    assert listed(aws_state=AwsState.CLOSED) == {member_closed.pk}
    assert listed(kind=Kind.MEMBER, parent=payer.pk, aws_state=AwsState.ACTIVE) == {member_onboarded.pk}


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "none", "1.5", str(2**63)])
def test_list_with_an_unusable_parent_or_customer_id_lists_nothing(admin, customer, bad):
    payer = _management(admin.tenant)
    _member(payer, customer=customer)
    for key in ("parent", "customer"):
        if key == "customer" and bad == "none":
            continue  # "none" means unassigned
        assert list(selectors.account_list(actor=admin, filters={key: bad})) == []


def test_list_ignores_unknown_filters_and_empty_values(admin):
    accounts = CloudAccountFactory.create_batch(3, tenant=admin.tenant)
    qs = selectors.account_list(actor=admin, filters={"tenant": 999, "role_arn": "x", "kind": "", "customer": None})
    assert sorted(_ids(qs)) == sorted(a.pk for a in accounts)


def test_list_does_not_reach_another_tenants_accounts_through_a_filter(admin, foreign_account):
    CloudAccountFactory(tenant=admin.tenant)
    assert list(selectors.account_list(actor=admin, filters={"customer": foreign_account.customer_id})) == []


def test_list_orderings(admin):
    b = CloudAccountFactory(tenant=admin.tenant, account_id="200000000000", name="Bravo")
    a = CloudAccountFactory(tenant=admin.tenant, account_id="300000000000", name="alpha")
    c = CloudAccountFactory(
        tenant=admin.tenant,
        account_id="100000000000",
        name="Charlie",
        customer=CustomerFactory(tenant=admin.tenant, company_name="Zulu"),
    )
    d = CloudAccountFactory(
        tenant=admin.tenant,
        account_id="400000000000",
        name="Delta",
        customer=CustomerFactory(tenant=admin.tenant, company_name="Able"),
    )

    def order(ordering: str) -> list[int]:
        return _ids(selectors.account_list(actor=admin, ordering=ordering))

    assert order("account_id") == [c.pk, b.pk, a.pk, d.pk]
    assert order("-account_id") == [d.pk, a.pk, b.pk, c.pk]
    assert order("-created_at") == [d.pk, c.pk, a.pk, b.pk]
    assert order("not-a-field") == order("account_id")  # unknown: the default
    customers = order("customer")
    assert customers[-2:] == [d.pk, c.pk] or customers[:2] == [d.pk, c.pk]  # nulls first or last by database
    assert [pk for pk in customers if pk in (a.pk, b.pk)] == [b.pk, a.pk]  # then by account id


def test_list_orders_equal_names_by_id(admin):
    first, second, third = (CloudAccountFactory(tenant=admin.tenant, name="Same") for _ in range(3))
    assert _ids(selectors.account_list(actor=admin, ordering="name")) == [first.pk, second.pk, third.pk]
    assert _ids(selectors.account_list(actor=admin, ordering="-name")) == [third.pk, second.pk, first.pk]


def test_list_reads_a_page_with_customers_and_parents_in_one_query(admin, customer, django_assert_num_queries):
    payer = _management(admin.tenant)
    for _ in range(5):
        _member(payer, customer=customer)
    with django_assert_num_queries(1):
        rows = [
            (a.account_id, a.customer.company_name if a.customer else "", a.parent.account_id if a.parent else "")
            for a in selectors.account_list(actor=admin, search="1")[:50]
        ]
    assert len(rows) == 6
    assert sum(1 for r in rows if r[1] == "Acme" and r[2] == payer.account_id) == 5


# account_get ----------------------------------------------------------------------------------


def test_get_returns_an_account_the_actor_sees(admin, customer_user, customer, django_assert_num_queries):
    account = CloudAccountFactory(tenant=admin.tenant, customer=customer)
    with django_assert_num_queries(1):
        got = selectors.account_get(actor=admin, account_id=str(account.pk))
        assert got.customer.company_name == "Acme"
    assert selectors.account_get(actor=customer_user, account_id=account.pk) == account


def test_get_another_tenants_account_is_not_found_like_a_missing_one(admin, foreign_account):
    errors = []
    for account_id in (foreign_account.pk, 10**12):
        with pytest.raises(NotFound) as exc:
            selectors.account_get(actor=admin, account_id=account_id)
        errors.append(exc.value)
    assert [e.message for e in errors] == ["Cloud account not found."] * 2
    assert errors[0].extra == {"target": f"Cloud account #{foreign_account.pk}"}
    assert errors[1].extra == {"target": f"Cloud account #{10**12}"}


@pytest.mark.parametrize("account_id", ["abc", "", None, 0, -1, True, "1 OR 1=1", "\u0661"])
def test_get_with_an_unusable_id_is_not_found(admin, account_id):
    CloudAccountFactory(tenant=admin.tenant)
    with pytest.raises(NotFound):
        selectors.account_get(actor=admin, account_id=account_id)


def test_get_by_a_customer_user_of_another_customers_account_is_not_found(customer_user, customer):
    other = CloudAccountFactory(tenant=customer.tenant, customer=CustomerFactory(tenant=customer.tenant))
    with pytest.raises(NotFound):
        selectors.account_get(actor=customer_user, account_id=other.pk)


def test_get_with_a_kind_only_finds_that_kind(admin):
    payer = _management(admin.tenant)
    assert selectors.account_get(actor=admin, account_id=payer.pk, kind=Kind.MANAGEMENT) == payer
    with pytest.raises(NotFound):
        selectors.account_get(actor=admin, account_id=payer.pk, kind=Kind.MEMBER)


# msp_account_list -----------------------------------------------------------------------------


def test_msp_list_counts_members_and_onboarded_members(admin, django_assert_num_queries):
    big = _management(admin.tenant, account_id="100000000001")
    for status in [OnboardingStatus.ONBOARDED] * 2 + [OnboardingStatus.FAILED, OnboardingStatus.NOT_ONBOARDED]:
        _member(big, onboarding_status=status)
    empty = _management(admin.tenant, account_id="100000000002")
    CloudAccountFactory(tenant=admin.tenant)  # stand-alone: not listed
    with django_assert_num_queries(1):
        rows = [(a.pk, a.member_count, a.onboarded_count) for a in selectors.msp_account_list(actor=admin)]
    assert rows == [(big.pk, 4, 2), (empty.pk, 0, 0)]


def test_msp_list_does_not_count_rows_of_another_tenant(admin):
    payer = _management(admin.tenant)
    _member(payer)
    other_tenant = TenantFactory()
    CloudAccountFactory(tenant=other_tenant, category=Category.MSP, kind=Kind.MEMBER, parent=payer)
    [row] = selectors.msp_account_list(actor=admin)
    assert (row.member_count, row.onboarded_count) == (1, 0)


def test_msp_list_searches_and_sorts(admin):
    a = _management(admin.tenant, account_id="100000000001", name="Payer A")
    b = _management(admin.tenant, account_id="100000000002", name="Payer B")
    _member(a, name="Payer A member")
    assert _ids(selectors.msp_account_list(actor=admin, ordering="-account_id")) == [b.pk, a.pk]
    assert _ids(selectors.msp_account_list(actor=admin, search="payer b")) == [b.pk]


def test_msp_list_is_for_tenant_admins_only(customer_user):
    with pytest.raises(PermissionDenied):
        selectors.msp_account_list(actor=customer_user)


# customer_accounts ----------------------------------------------------------------------------


def test_customer_accounts_are_the_customers_own(admin, customer):
    own = [
        CloudAccountFactory(tenant=admin.tenant, customer=customer, account_id="300000000000", name="web"),
        CloudAccountFactory(tenant=admin.tenant, customer=customer, account_id="100000000000", name="Data"),
    ]
    CloudAccountFactory(tenant=admin.tenant, customer=CustomerFactory(tenant=admin.tenant))
    CloudAccountFactory(tenant=admin.tenant)
    assert _ids(selectors.customer_accounts(customer=customer)) == [own[1].pk, own[0].pk]
    assert _ids(selectors.customer_accounts(customer=customer, ordering="-name")) == [own[0].pk, own[1].pk]
    assert _ids(selectors.customer_accounts(customer=customer, ordering="name")) == [own[1].pk, own[0].pk]
    assert _ids(selectors.customer_accounts(customer=customer, ordering="created_at")) == [own[1].pk, own[0].pk]


def test_customer_accounts_search_by_id_or_name(admin, customer):
    web = CloudAccountFactory(tenant=admin.tenant, customer=customer, account_id="300000000000", name="Web shop")
    data = CloudAccountFactory(tenant=admin.tenant, customer=customer, account_id="100000000009", name="Data")
    CloudAccountFactory(tenant=admin.tenant, account_id="100000000008", name="web elsewhere")
    assert _ids(selectors.customer_accounts(customer=customer, search="WEB")) == [web.pk]
    assert _ids(selectors.customer_accounts(customer=customer, search="0009")) == [data.pk]
    assert _ids(selectors.customer_accounts(customer=customer, search="0000")) == [data.pk, web.pk]
    assert _ids(selectors.customer_accounts(customer=customer, search="nothing")) == []


# job_get, latest_job --------------------------------------------------------------------------


def _job(account: CloudAccount, kind: str = JobKind.SYNC, **kwargs) -> Job:
    return Job.objects.create(tenant_id=account.tenant_id, kind=kind, account=account, **kwargs)


def test_job_get_returns_the_tenants_job_with_its_account(admin, django_assert_num_queries):
    account = _management(admin.tenant)
    job = _job(account)
    with django_assert_num_queries(1):
        got = selectors.job_get(actor=admin, job_id=str(job.pk))
        assert got.account.account_id == account.account_id
    assert got == job


@pytest.mark.parametrize("job_id", ["foreign", 10**12, "abc", 0, None])
def test_job_get_out_of_reach_is_not_found(admin, job_id):
    if job_id == "foreign":
        job_id = _job(_management(TenantFactory())).pk
    with pytest.raises(NotFound) as exc:
        selectors.job_get(actor=admin, job_id=job_id)
    assert exc.value.message == "Job not found."
    assert exc.value.extra == {"target": f"Job #{job_id}"}


def test_job_get_is_for_tenant_admins_only(customer_user):
    job = _job(CloudAccountFactory(tenant=customer_user.tenant, customer=customer_user.customer))
    with pytest.raises(PermissionDenied):
        selectors.job_get(actor=customer_user, job_id=job.pk)


def test_latest_job_of_a_kind_for_an_account(admin):
    account = _management(admin.tenant)
    assert selectors.latest_job(actor=admin, account=account, kind=JobKind.SYNC) is None
    _job(account, state=JobState.SUCCEEDED)
    newest = _job(account, state=JobState.FAILED)
    _job(account, kind=JobKind.ONBOARD)
    _job(_management(admin.tenant))
    assert selectors.latest_job(actor=admin, account=account, kind=JobKind.SYNC) == newest


def test_latest_job_with_equal_times_takes_the_highest_id(admin):
    account = _management(admin.tenant)
    jobs = [_job(account) for _ in range(3)]
    Job.unscoped.filter(pk__in=[j.pk for j in jobs]).update(created_at=jobs[0].created_at)
    assert selectors.latest_job(actor=admin, account=account, kind=JobKind.SYNC) == jobs[-1]


# selection_state, account_selection_state -----------------------------------------------------


def test_selection_state_is_a_token_of_the_assignment():
    token = selectors.selection_state([(1, None), (2, 7)])
    assert len(token) == 32
    assert int(token, 16) >= 0  # hexadecimal
    assert selectors.selection_state([(1, None), (2, 7)]) == token
    assert selectors.selection_state(iter([(1, None), (2, 7)])) == token
    assert selectors.selection_state([(1, None), (2, 8)]) != token  # another customer
    assert selectors.selection_state([(1, 7), (2, 7)]) != token
    assert selectors.selection_state([(1, None)]) != token  # fewer accounts
    assert selectors.selection_state([(12, None)]) != selectors.selection_state([(1, 2)])  # no run-together


def test_account_selection_state_takes_the_actors_accounts_in_id_order(admin, customer, foreign_account):
    a, b = CloudAccountFactory(tenant=admin.tenant), CloudAccountFactory(tenant=admin.tenant, customer=customer)
    expected = selectors.selection_state([(a.pk, None), (b.pk, customer.pk)])
    assert selectors.account_selection_state(actor=admin, account_ids=[b.pk, str(a.pk)]) == expected
    noisy = [b.pk, a.pk, a.pk, foreign_account.pk, "abc", -1, 10**12, None]
    assert selectors.account_selection_state(actor=admin, account_ids=noisy) == expected


def test_account_selection_state_changes_with_an_assignment(admin, customer, django_assert_num_queries):
    accounts = CloudAccountFactory.create_batch(3, tenant=admin.tenant)
    ids = [a.pk for a in accounts]
    with django_assert_num_queries(1):
        before = selectors.account_selection_state(actor=admin, account_ids=ids)
    CloudAccount.objects.for_tenant(admin.tenant).filter(pk=ids[1]).update(customer=customer)
    assert selectors.account_selection_state(actor=admin, account_ids=ids) != before


def test_account_selection_state_is_for_tenant_admins_only(customer_user):
    with pytest.raises(PermissionDenied):
        selectors.account_selection_state(actor=customer_user, account_ids=[1])


def test_a_second_tenant_admin_sees_its_own_tenant_only(admin):
    other_admin = UserFactory(tenant=TenantFactory())
    mine = CloudAccountFactory(tenant=admin.tenant)
    theirs = CloudAccountFactory(tenant=other_admin.tenant)
    assert _ids(selectors.account_list(actor=admin)) == [mine.pk]
    assert _ids(selectors.account_list(actor=other_admin)) == [theirs.pk]
    customer_user = CustomerUserFactory(customer=CustomerFactory(tenant=other_admin.tenant))
    assert _ids(selectors.account_list(actor=customer_user)) == []


# account_ids_matching (the "all N accounts matching this filter" of the bulk actions) ----------


def test_ids_matching_are_what_the_list_shows_on_every_page(admin):
    management = _management(admin.tenant)
    prod = [_member(management, ou_path="Root/Prod", name=f"prod-{i}") for i in range(3)]
    web = _member(management, ou_path="Root/Prod/Web", name="web")
    _member(management, ou_path="Root/Production", name="lookalike")
    _member(management, ou_path="Root/Dev", name="dev")
    CloudAccountFactory(tenant=admin.tenant, ou_path="Root/Prod")  # not a member of this MSP account
    ids = selectors.account_ids_matching(actor=admin, filters={"parent": management.pk, "ou": "Root/Prod/"}, limit=100)
    assert ids == sorted([*(a.pk for a in prod), web.pk])  # the OU and below it, not Root/Production
    ids = selectors.account_ids_matching(
        actor=admin, filters={"parent": management.pk, "ou": "Root/Prod/Web"}, limit=100
    )
    assert ids == [web.pk]
    ids = selectors.account_ids_matching(actor=admin, search="prod-", filters={"parent": management.pk}, limit=100)
    assert ids == sorted(a.pk for a in prod)


def test_ids_matching_stop_one_past_the_limit(admin):
    accounts = CloudAccountFactory.create_batch(5, tenant=admin.tenant)
    ids = selectors.account_ids_matching(actor=admin, filters={}, limit=3)
    assert ids == sorted(a.pk for a in accounts)[:4]


def test_ids_matching_never_reach_another_tenant(admin, foreign_account):
    CloudAccountFactory(tenant=admin.tenant)
    for filters in (
        {"parent": foreign_account.parent_id or foreign_account.pk},
        {"customer": foreign_account.customer_id},
    ):
        assert selectors.account_ids_matching(actor=admin, filters=filters, limit=10) == []
    assert foreign_account.pk not in selectors.account_ids_matching(actor=admin, filters={}, limit=10)


def test_ids_matching_are_for_tenant_admins_only(customer_user):
    with pytest.raises(PermissionDenied):
        selectors.account_ids_matching(actor=customer_user, filters={}, limit=10)


def test_the_ou_filter_takes_the_ou_and_everything_below_it(admin):
    top = CloudAccountFactory(tenant=admin.tenant, ou_path="Root/Prod")
    below = CloudAccountFactory(tenant=admin.tenant, ou_path="Root/Prod/Web")
    CloudAccountFactory(tenant=admin.tenant, ou_path="Root/Dev")
    assert set(_ids(selectors.account_list(actor=admin, filters={"ou": "Root/Prod"}))) == {top.pk, below.pk}


# customer_ownership_history ------------------------------------------------------------------------


def test_customer_ownership_history_is_the_customers_intervals_newest_first(db):
    from cloudmsp.cloud.services.association import accounts_associate, accounts_disassociate
    from cloudmsp.tenancy.access import actor_of

    tenant = TenantFactory()
    admin = actor_of(UserFactory(tenant=tenant))
    acme, other = CustomerFactory(tenant=tenant), CustomerFactory(tenant=tenant)
    first, second = CloudAccountFactory(tenant=tenant), CloudAccountFactory(tenant=tenant)
    accounts_associate(actor=admin, customer=acme, account_ids=[first.pk])
    accounts_disassociate(actor=admin, account_ids=[first.pk])
    accounts_associate(actor=admin, customer=acme, account_ids=[second.pk])
    accounts_associate(actor=admin, customer=other, account_ids=[first.pk])
    rows = selectors.customer_ownership_history(actor=admin, customer=acme)
    assert [(r.account_id, r.valid_to is None) for r in rows] == [(second.pk, True), (first.pk, False)]
    with pytest.raises(PermissionDenied):
        selectors.customer_ownership_history(actor=actor_of(CustomerUserFactory(customer=acme)), customer=acme)
