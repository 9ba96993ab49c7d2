"""No credentials or tokens in the logs or in the database.

One session of real use (sign in, an API token, an authenticated API call, an activation link,
connecting an AWS account and syncing it through the emulator) runs with ALL log output captured
through the production logging configuration at DEBUG, AWS SDK included; then neither the logs
nor any text column of any table may hold a password, a token secret, an activation token, a
session key (logs) or AWS temporary credentials.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.test import Client

from cloudmsp.cloud.models import Job
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.services import sync
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import ApiToken
from tests.cloud.conftest import create_portal_role
from tests.core.support import captured_logs
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "A-long-new-passphrase-8472"


def _database_text() -> str:
    """Every text, binary and JSON value of every table, as one string."""
    values: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes):
                        values.append(bytes(value).decode("utf-8", "replace"))
                    elif isinstance(value, dict | list):
                        values.append(json.dumps(value))
                    elif isinstance(value, str):
                        values.append(value)
    return "\n".join(values)


def test_no_credentials_in_logs_or_database(org, admin, customer):
    json_api = {"content_type": "application/json"}
    with captured_logs() as logs:
        # Sign in on the web.
        browser = Client()
        response = browser.post("/login/", {"username": admin.email, "password": PASSWORD})
        assert response.status_code == 302, response.content[:300]
        admin_session = browser.cookies["sessionid"].value
        assert browser.get("/customers/").status_code == 200

        # An API token, then authenticated API calls (one with a wrong token).
        api = Client(raise_request_exception=False)
        response = api.post("/api/v1/auth/token/", {"email": admin.email, "password": PASSWORD}, **json_api)
        assert response.status_code == 200, response.content
        token = response.json()["token"]
        auth = {"Authorization": f"Token {token}"}
        wrong = api.get("/api/v1/customers/", headers={"Authorization": f"Token {token[::-1]}"})
        assert wrong.status_code == 401
        response = api.post(
            "/api/v1/users/",
            {"email": "newcomer@acme.test", "role": Role.CUSTOMER_USER, "customer": customer.pk},
            headers=auth,
            **json_api,
        )
        assert response.status_code == 201, response.content

        # The activation link: a refused password first (a 4xx that Django logs with the path),
        # then a good one, which signs the newcomer in.
        path = urlparse(response.json()["activation_link"]).path
        activation_token = path.rstrip("/").rsplit("/", 1)[-1]
        newcomer = Client()
        assert newcomer.get(path).status_code == 200
        refused = newcomer.post(path, {"password": "short", "password_again": "short"})
        assert refused.status_code == 422
        response = newcomer.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
        assert response.status_code == 302, response.content[:300]
        newcomer_session = newcomer.cookies["sessionid"].value

        # Connect the organization's management account (moto) and sync it.
        response = api.post(
            "/api/v1/cloud-accounts/",
            {"category": "msp", "account_id": org.management_id, "name": "Payer"},
            headers=auth,
            **json_api,
        )
        assert response.status_code == 201, response.content
        account = response.json()
        arn = create_portal_role(org.endpoint, org.management_id, account["external_id"])
        response = api.post(
            f"/api/v1/cloud-accounts/{account['id']}/connect/", {"role_arn": arn}, headers=auth, **json_api
        )
        assert response.status_code == 200, response.content
        response = api.post(f"/api/v1/cloud-accounts/{account['id']}/sync/", headers=auth)
        assert response.status_code == 202, response.content
        job = Job.unscoped.get(pk=response.json()["id"])
        sync.organization_sync(job)
        job.refresh_from_db()
        assert job.state == "succeeded", job.error

    aws_credentials = list(aws_client.credential_cache._items.values())
    assert aws_credentials  # the portal did assume the role
    aws_secrets = [s for c in aws_credentials for s in (c.secret_access_key, c.session_token)]

    # The logs: all of them, parsed, with the request lines and the AWS SDK's debug output.
    records = logs.records()
    loggers = {r["logger"] for r in records}
    assert {"cloudmsp.access", "django.request", "botocore.endpoint", "botocore.parsers"} <= loggers
    assert "[redacted]" in logs.text  # the scrubber had something to do
    in_logs = {
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "API token": token,
        "activation token": activation_token,
        "admin session key": admin_session,
        "newcomer session key": newcomer_session,
        **{f"AWS secret {i}": s for i, s in enumerate(aws_secrets)},
    }
    leaked = [name for name, secret in in_logs.items() if secret in logs.text]
    assert leaked == []

    # The database: the token only as a digest, no password in clear, no AWS credentials.
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert ApiToken.objects.filter(digest=digest).exists()
    text = _database_text()
    # The scan sees every tenant's rows (row-level security does not hide them from it).
    assert digest in text
    assert all(s in text for s in (customer.company_name, "newcomer@acme.test", arn, org.members[0]))
    in_database = {
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "API token": token,
        "activation token": activation_token,
        **{f"AWS secret {i}": s for i, s in enumerate(aws_secrets)},
        **{f"AWS access key {i}": c.access_key_id for i, c in enumerate(aws_credentials)},
    }
    leaked = [name for name, secret in in_database.items() if secret in text]
    assert leaked == []
