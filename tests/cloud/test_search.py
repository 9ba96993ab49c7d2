"""The account search's token index (cloudmsp.cloud.search, cloud migrations 0013-0014): kept by the
database for every kind of write, split the same way by PostgreSQL's SQL and SQLite's Python
function, found by prefix and equality, read through its index under row-level security, and
never across tenants."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cloudmsp.cloud import search, selectors
from cloudmsp.cloud.models import AccountSearchToken, Category, CloudAccount, Kind
from cloudmsp.core.queries import insert_rows
from cloudmsp.tenancy import rls
from tests.factories import CloudAccountFactory, CustomerFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

# Any text a database keeps (PostgreSQL refuses NUL), punctuation and odd Unicode included.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=90)


def stored_tokens(tenant: Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for account_id, token in AccountSearchToken.objects.for_tenant(tenant).values_list("account_id", "token"):
        found.setdefault(account_id, []).append(token)
    return {k: sorted(v) for k, v in found.items()}


def expected_tokens(tenant: Any) -> dict[int, list[str]]:
    rows = CloudAccount.objects.for_tenant(tenant).values_list("pk", "account_id", "search_text")
    return {pk: search.row_tokens(account_id, text) for pk, account_id, text in rows}


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(names=st.lists(TEXT, min_size=1, max_size=6), emails=st.lists(TEXT, min_size=1, max_size=3), seed=st.integers())
def test_the_tokens_follow_every_write_and_both_databases_split_alike(names, emails, seed):
    rnd = random.Random(seed)
    tenant, other = TenantFactory(), TenantFactory()
    payer = CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, name=names[0])
    accounts = [CloudAccountFactory(tenant=tenant, name=name, email=rnd.choice(emails)) for name in names]
    CloudAccount.unscoped.bulk_create(
        [
            CloudAccount(
                tenant=other, category=Category.NON_MSP, kind=Kind.STANDALONE, account_id=f"{n:012d}", name=name
            )
            for n, name in enumerate(names)
        ]
    )
    insert_rows(  # as discovery writes members
        CloudAccount,
        [{"account_id": f"7{n:011d}", "name": name, "ou_path": rnd.choice(names)} for n, name in enumerate(names)],
        common={"tenant_id": tenant.pk, "category": Category.MSP, "kind": Kind.MEMBER, "parent_id": payer.pk},
    )
    assert stored_tokens(tenant) == expected_tokens(tenant)
    changed = rnd.choice(accounts)
    changed.name, changed.ou_path = rnd.choice(names)[::-1], rnd.choice(emails)
    changed.save()
    CloudAccount.objects.for_tenant(tenant).filter(kind=Kind.MEMBER).update(email=rnd.choice(emails))
    CloudAccount.objects.for_tenant(tenant).filter(pk=accounts[0].pk).update(account_id="123456789012")
    CloudAccount.objects.for_tenant(tenant).filter(kind=Kind.MEMBER).update(health="broken")  # not searched
    CloudAccount.objects.for_tenant(tenant).filter(pk=accounts[-1].pk).delete()
    assert stored_tokens(tenant) == expected_tokens(tenant)
    assert stored_tokens(other) == expected_tokens(other)


def test_row_tokens():
    assert search.row_tokens("555566667777", "555566667777\nMEMBER-0-01\nAWS+0-1@BENCH.EXAMPLE\n/ROOT/PROD") == [
        "0-01",
        "0-1@BENCH.EXAMPLE",
        "01",
        "1@BENCH.EXAMPLE",
        "555566667777",
        "AWS+0-1@BENCH.EXAMPLE",
        "BENCH.EXAMPLE",
        "EXAMPLE",
        "MEMBER-0-01",
        "PROD",
        "ROOT/PROD",
        "~777766665555",
    ]
    assert search.row_tokens("", "Ü" * 100) == ["Ü" * search.TOKEN_LENGTH]
    assert search.row_tokens("", "A " + "B" * 70) == ["A " + "B" * 62, "B" * 64]
    assert search.row_tokens("", "%%--") == []
    assert search.row_tokens("", "X\n\nX") == ["X"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prod", search.Lookup("prod")),
        ("7777", search.Lookup("7777", reversed_digits="7777")),
        ("-prod", search.Lookup("prod", complete=False)),
        ("member-1-00", search.Lookup("member-1-00")),
        ("Payer 1", search.Lookup("Payer 1")),
        ("%%", None),
        ("a" * 70, search.Lookup("a" * 64, complete=False)),
        ("1" * 70, search.Lookup("1" * 64, reversed_digits="1" * 63, complete=False)),
    ],
)
def test_lookup(text, expected):
    assert search.lookup(text) == expected


@pytest.fixture
def fleet(admin, customer):
    t = admin.tenant
    return {
        "prod": CloudAccountFactory(tenant=t, account_id="555566667777", name="Production Web", ou_path="Root/Prod"),
        "repro": CloudAccountFactory(tenant=t, name="reproduction", email="ops@shop.example"),
        "acme": CloudAccountFactory(tenant=t, name="Data lake", customer=customer),
        "odd": CloudAccountFactory(tenant=t, name="Dev_100% ÉTÉ <b>x</b>"),
    }


def _found(admin, fleet, text: str) -> set[str]:
    names = {a.pk: n for n, a in fleet.items()}
    return {names[a.pk] for a in selectors.account_list(actor=admin, search=text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prod", {"prod"}),  # words by their beginning: not "reproduction"
        ("PRODUCTION", {"prod"}),
        ("production web", {"prod"}),  # several words: a substring
        ("duction web", set()),  # the search begins a word
        ("ion", set()),
        ("5555", {"prod"}),
        ("7777", {"prod"}),
        ("6666", set()),
        ("shop.example", {"repro"}),
        ("@shop", {"repro"}),
        ("acme", {"acme"}),  # its customer
        ("100% É", {"odd"}),  # (SQLite upper-cases ASCII only)
        ("<b>x", {"odd"}),
        ("%", {"odd"}),  # punctuation only: scanned
        ("%%", set()),
        ("web prod", set()),  # the words in another order are not the text
        ("' OR 1=1 --", set()),
    ],
)
def test_what_a_search_finds(admin, fleet, text, expected):
    assert _found(admin, fleet, text) == expected


def test_a_search_never_finds_another_tenants_accounts(admin, fleet):
    other = TenantFactory()
    CloudAccountFactory(tenant=other, account_id="555566667778", name="Production Web")
    CustomerFactory(tenant=other, company_name="Production Customer")
    assert [a.pk for a in selectors.account_list(actor=admin, search="production")] == [fleet["prod"].pk]
    foreign_admin = UserFactory(tenant=other, email="admin@other.test")
    assert [a.account_id for a in selectors.account_list(actor=foreign_admin, search="5555")] == ["555566667778"]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_token_index_is_read_under_row_level_security(admin, fleet):
    """Equality and ranges on text are leakproof: PostgreSQL reads the index with the tenant and
    the token as its conditions, where a LIKE on the accounts could only be a scan."""
    qs = selectors.account_list(actor=admin, search="production web")
    with rls.tenant_scope(admin.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT NOT rolbypassrls AND NOT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (True,)
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    token_index = AccountSearchToken._meta.indexes[0].name
    assert f"using {token_index}" in plan.lower(), plan
    assert (
        f"(tenant_id = {admin.tenant.pk}) AND (token >= 'PRODUCTION WEB'::text) AND (token < 'PRODUCTION WEB" in plan
    ), plan
    assert [a.pk for a in qs] == [fleet["prod"].pk]


def test_a_search_of_common_words_reads_only_its_own_accounts(admin, django_assert_max_num_queries):
    """ "member-1-00" is one range of the index: the accounts where it begins a word, never all those
    with "member" (every account here) intersected with those with "1" and "00"."""
    for m in range(3):
        for n in range(4):
            CloudAccountFactory(tenant=admin.tenant, name=f"member-{m}-{n:02d}", email=f"ops+{m}-{n}@acme.example")
    found = selectors.account_list(actor=admin, search="member-1-00")
    with django_assert_max_num_queries(1):
        assert [a.name for a in found] == ["member-1-00"]
    assert len(selectors.account_list(actor=admin, search="member-1-0")) == 4
    assert len(selectors.account_list(actor=admin, search="1-00")) == 1  # a word inside the name
    assert len(selectors.account_list(actor=admin, search="-1-00")) == 1  # leading punctuation: checked
    assert len(selectors.account_list(actor=admin, search="ember-1-00")) == 0  # not at a word's start
    assert len(selectors.account_list(actor=admin, search="ops+2")) == 4
    tokens = AccountSearchToken.objects.for_tenant(admin.tenant).filter(token__startswith="MEMBER-1-00")
    assert tokens.count() == 1
