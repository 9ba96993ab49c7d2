"""insert_rows: many rows in few statements, as bulk_create would write them."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from cloudmsp.cloud.models import Category, CloudAccount, Job, Kind
from cloudmsp.core import queries
from cloudmsp.core.queries import insert_rows

pytestmark = pytest.mark.django_db

ODD_NAMES = ["Ünïcødé 🚀 ﷽", "<script>alert(1)</script>", "'; DROP TABLE cloud_cloudaccount; --", "tab\tand\u200bzero"]


def _rows(count: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"account_id": f"{100000000000 + start + i}", "name": ODD_NAMES[i % len(ODD_NAMES)], "email": f"m{i}@x.test"}
        for i in range(count)
    ]


def _common(tenant) -> dict[str, object]:
    return {"tenant_id": tenant.pk, "category": Category.NON_MSP, "kind": Kind.STANDALONE}


def test_rows_are_written_with_shared_per_row_default_and_generated_values(tenant):
    with CaptureQueriesContext(connection) as queries_run:
        assert insert_rows(CloudAccount, _rows(7), common=_common(tenant)) == 7
    assert len(queries_run) == 1
    written = list(CloudAccount.objects.for_tenant(tenant).order_by("account_id"))
    assert [a.account_id for a in written] == [f"{100000000000 + i}" for i in range(7)]
    for i, account in enumerate(written):
        assert account.name == ODD_NAMES[i % len(ODD_NAMES)]  # stored verbatim
        assert account.email == f"m{i}@x.test"
        assert (account.category, account.kind, account.parent_id) == (Category.NON_MSP, Kind.STANDALONE, None)
        # Defaults, as a model instance would have them.
        blank = CloudAccount()
        for field in ("provider", "aws_state", "org_access_role", "onboarding_status", "role_arn", "customer_id"):
            assert getattr(account, field) == getattr(blank, field), field
        assert account.role_created_by_portal is False
        assert account.created_at is not None
        assert account.created_at == account.updated_at
        # Upper-cased by the database (SQLite's UPPER() changes only ASCII letters).
        assert account.search_text.startswith(f"{account.account_id}\n")
        assert account.search_text.endswith(f"\nM{i}@X.TEST\n")
        assert account.search_text.upper() == f"{account.account_id}\n{account.name}\n{account.email}\n".upper()
    assert len({a.created_at for a in written}) == 1


def test_large_inserts_are_chunked_on_postgresql_and_one_executemany_on_sqlite(tenant, monkeypatch):
    monkeypatch.setattr(queries, "INSERT_CHUNK", 4)
    with CaptureQueriesContext(connection) as queries_run:
        insert_rows(CloudAccount, _rows(10), common=_common(tenant))
    assert len(queries_run) == (3 if connection.vendor == "postgresql" else 1)
    assert CloudAccount.objects.for_tenant(tenant).count() == 10


def test_nothing_to_insert_runs_no_query(tenant):
    with CaptureQueriesContext(connection) as queries_run:
        assert insert_rows(CloudAccount, [], common=_common(tenant)) == 0
    assert len(queries_run) == 0


@pytest.mark.parametrize(
    ("rows", "common", "error"),
    [
        ([{"account_id": "100000000001"}, {"name": "x"}], {}, ValueError),  # rows that differ
        ([{"account_id": "100000000001", "name": "a"}, {"name": "b", "account_id": "1"}], {}, ValueError),
        ([{}], {}, ValueError),  # no per-row field
        ([{"acount_id": "100000000001"}], {}, FieldDoesNotExist),
        ([{"account_id": "100000000001"}], {"tenant": 1}, FieldDoesNotExist),  # attnames only
        ([{"account_id": "100000000001"}], {"id": 5}, FieldDoesNotExist),  # the database numbers rows
        ([{"account_id": "100000000001"}], {"account_id": "100000000002"}, ValueError),  # given twice
    ],
)
def test_malformed_calls_are_refused_before_anything_is_written(tenant, rows, common, error):
    with pytest.raises(error):
        insert_rows(CloudAccount, rows, common={**_common(tenant), **common})
    assert not CloudAccount.objects.for_tenant(tenant).exists()


def test_a_field_with_a_per_row_default_must_be_given(tenant, admin):
    from cloudmsp.notifications.models import Event

    with pytest.raises(ValueError, match="event_id"):
        insert_rows(Event, [{"type": "test"}], common={"tenant_id": tenant.pk})
    # An empty dict or list is the same for every row: shared, or given.
    job = {"tenant_id": tenant.pk, "kind": "sync", "created_by_id": admin.pk}
    insert_rows(Job, [{"state": "queued"}, {"state": "running"}], common=job)
    insert_rows(Job, [{"state": "queued", "params": {"n": 1}, "result": {}}], common=job)
    assert list(Job.objects.for_tenant(tenant).order_by("id").values_list("state", "params")) == [
        ("queued", {}),
        ("running", {}),
        ("queued", {"n": 1}),
    ]


def test_a_failing_row_writes_none_of_the_rows(tenant):
    rows = _rows(3)
    rows[2]["account_id"] = rows[0]["account_id"]  # the same account twice in a tenant
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(CloudAccount, rows, common=_common(tenant))
    assert not CloudAccount.objects.for_tenant(tenant).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not enforce a column's length")
def test_a_value_longer_than_its_column_is_refused_not_cut_short(tenant):
    rows = _rows(2)
    rows[1]["name"] = "x" * 201
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(CloudAccount, rows, common=_common(tenant))
    assert not CloudAccount.objects.for_tenant(tenant).exists()


def test_the_in_values_lookup_matches_the_given_ids_as_one_parameter_on_keys_and_foreign_keys(tenant):
    insert_rows(CloudAccount, _rows(5), common=_common(tenant))
    ids = sorted(CloudAccount.objects.for_tenant(tenant).values_list("pk", flat=True))
    wanted = [ids[0], ids[3], 10**15]
    with CaptureQueriesContext(connection) as ctx:
        found = sorted(
            CloudAccount.objects.for_tenant(tenant).filter(pk__in_values=wanted).values_list("pk", flat=True)
        )
    assert found == [ids[0], ids[3]]
    sql = ctx.captured_queries[0]["sql"]
    assert ("= ANY(" if connection.vendor == "postgresql" else "json_each(") in sql
    job = Job.objects.create(tenant=tenant, kind="sync", account_id=ids[1])
    assert list(Job.objects.for_tenant(tenant).filter(account__in_values=[ids[1]])) == [job]
    assert not Job.objects.for_tenant(tenant).filter(account__in_values=[]).exists()
    # An empty list on a text column (an import whose every line is wrong) is no error either.
    assert not CloudAccount.objects.for_tenant(tenant).filter(account_id__in_values=[]).exists()
    assert CloudAccount.objects.for_tenant(tenant).filter(account_id__in_values=["100000000000"]).count() == 1
    many = list(range(1, 40_000))  # far above SQLite's limit on bound parameters
    assert CloudAccount.objects.for_tenant(tenant).filter(pk__in_values=many).count() == 5


@pytest.mark.parametrize(
    ("glob", "pattern"),
    [("a*b?c", "a%b_c"), ("50%_off", "50\\%\\_off"), ("back\\slash", "back\\\\slash"), ("**a***", "%a%")],
)
def test_like_pattern_escapes_everything_but_the_wildcards(glob, pattern):
    assert queries.like_pattern(glob) == pattern


def test_iglob_matches_case_folded_with_like_wildcards_escaped(tenant):
    names = ["Acme-Prod", "acme_dev", "acme%x", "other", "a" * 200]
    insert_rows(CloudAccount, [{**r, "name": n} for r, n in zip(_rows(5), names, strict=True)], common=_common(tenant))
    found = CloudAccount.objects.for_tenant(tenant)

    def names_of(glob: str) -> set[str]:
        return set(found.filter(name__iglob=glob).values_list("name", flat=True))

    assert names_of("ACME-*") == {"Acme-Prod"}
    assert names_of("acme_*") == {"acme_dev"}
    assert names_of("acme%*") == {"acme%x"}
    assert names_of("acme?dev") == {"acme_dev"}
    assert names_of("*") == set(names)
    # A pattern that would make a regular expression backtrack: a plain no-match here.
    assert names_of("*a*a*a*a*a*a*a*a*a*a*b") == set()


@pytest.mark.django_db
def test_in_values_selects_exactly_the_given_ids_or_texts(admin):
    from cloudmsp.core.queries import in_values
    from tests.factories import CloudAccountFactory

    accounts = CloudAccountFactory.create_batch(4, tenant=admin.tenant)
    mine = CloudAccount.objects.for_tenant(admin.tenant)
    assert sorted(
        mine.filter(in_values("pk", [accounts[0].pk, accounts[2].pk, 10**12])).values_list("pk", flat=True)
    ) == [
        accounts[0].pk,
        accounts[2].pk,
    ]
    assert not mine.filter(in_values("pk", [])).exists()
    wanted = [accounts[1].account_id, "'; DROP TABLE x; --"]
    assert list(mine.filter(in_values("account_id", wanted)).values_list("pk", flat=True)) == [accounts[1].pk]
