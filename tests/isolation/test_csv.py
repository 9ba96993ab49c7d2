"""CSV imports and exports (SPEC 10) across tenants: an import naming another tenant's accounts
or customers changes nothing and says no more than it would of missing ones; an export shows
none of another tenant's rows."""

from __future__ import annotations

import pytest

from tests.isolation.conftest import TRIED
from tests.isolation.support import assert_unchanged, leaked, snapshot

pytestmark = pytest.mark.django_db


def _import(actor, path: str, body: str, dry_run: str):
    return actor.client.generic(
        "POST",
        f"/api/v1/imports/{path}/?dry_run={dry_run}",
        body.encode(),
        content_type="text/csv",
        headers={"Authorization": f"Token {actor.token}"},
    )


def test_imports_cannot_reach_another_tenants_accounts_or_customers(world, alpha):
    own = world.a
    for t in world.foreign:
        files = {
            "assignments": [
                f"account_id,customer\n{t.account.account_id},{own.customer1.company_name}\n",
                f"account_id,customer\n{own.member.account_id},{t.customer1.company_name}\n",
                f"account_id,customer\n{t.member.account_id},\n",
            ],
            # The same name as a foreign customer: a customer of alpha's own is created.
            "customers": [f"company_name,city\n{t.customer2.company_name},Nowhere\n"],
        }
        for path, bodies in files.items():
            for body in bodies:
                for dry_run in ("true", "false"):
                    before = snapshot()
                    response = _import(alpha, path, body, dry_run)
                    TRIED["csv import requests"] += 1
                    assert response.status_code in (200, 400), response.content
                    if path == "assignments":
                        assert_unchanged(before, snapshot(), actor=alpha.user, context=f"{path} {body!r}")
                    else:
                        t.customer2.refresh_from_db()
                        assert t.customer2.city != "Nowhere"
                    foreign_markers = [m for m in t.markers() if m not in body]
                    assert not leaked(response.content.decode(), foreign_markers), body


def test_exports_show_no_foreign_row(world, alpha):
    for path in ("cloud-accounts", "customers", "ownership"):
        response = alpha.api("GET", f"/api/v1/{path}/", {"format": "csv"})
        text = b"".join(response.streaming_content).decode()
        for t in world.foreign:
            assert not leaked(text, t.markers()), path
        assert world.a.customer1.company_name in text or path == "ownership"
        TRIED["csv export requests"] += 1
