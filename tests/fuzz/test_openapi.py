"""Schemathesis against the project's own OpenAPI schema (/api/v1/schema/), through the WSGI
application, as a tenant administrator with an API token: every operation is sent generated
requests, valid and invalid ones, and every answer must be no server error, with a status code,
content type and body the schema documents.

Bounded for the normal suite (`max_examples` per operation, derandomized so that a run is
repeatable); `FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 pytest tests/fuzz` explores further. AWS is never
reached: the client factory fails as an unreachable endpoint would.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from botocore.exceptions import EndpointConnectionError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cloudmsp.cloud.models import Category, Job, JobKind, JobState, Kind, OnboardingStatus
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.providers.aws import operations
from cloudmsp.cloud.services.rules import rule_create
from cloudmsp.notifications.services import webhook_create, webhook_send_test
from cloudmsp.users.authentication import token_issue
from config.wsgi import application
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, UserFactory
from tests.fuzz.conftest import CASES

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

#: Ids of rows that exist, by the collection of the path, so that generated ids hit real rows
#: as well as missing ones. Filled for each test by the `world` fixture.
KNOWN: dict[str, list[int]] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    collection = context.operation.path.split("/")[3]  # /api/v1/<collection>/{id}/...
    ids = KNOWN.get(collection)
    if not ids or not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(ids).map(lambda i: {**path_parameters, "id": i}))


class AwsUnreachable:
    """Stands in for cloud.providers.aws.operations.client: every AWS call fails as if the endpoint could
    not be reached, and is counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, service: str, credentials: Any = None) -> Any:
        self.calls += 1
        raise EndpointConnectionError(endpoint_url=f"https://{service}.invalid")


@pytest.fixture
def world(admin, customer, settings, monkeypatch):
    """A tenant with a bit of everything, rate limits off (the fuzzer is not an abuser) and AWS
    out of reach."""
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.PORTAL_AWS_ACCOUNT_ID = "123456789012"
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_NEW_ROLE_WAIT_SECONDS = 0
    monkeypatch.setattr(aws_client, "sleep", lambda _seconds: None)
    unreachable = AwsUnreachable()
    monkeypatch.setattr(operations, "client", unreachable)
    # Requests go through the WSGI application itself, whose end-of-request signal would close
    # the test's database connection; Django's test client disconnects it the same way.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)

    tenant = admin.tenant
    other = CustomerFactory(tenant=tenant)
    user = CustomerUserFactory(customer=customer)
    colleague = UserFactory(tenant=tenant)
    management = CloudAccountFactory(
        tenant=tenant,
        category=Category.MSP,
        kind=Kind.MANAGEMENT,
        account_id="111122223333",
        role_arn="arn:aws:iam::111122223333:role/CloudMSPPortal",
        external_id="cmsp-fuzz-management",
        onboarding_status=OnboardingStatus.ONBOARDED,
    )
    members = [
        CloudAccountFactory(
            tenant=tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=management,
            customer=customer if i == 0 else None,
            external_id=f"cmsp-fuzz-member-{i}",
        )
        for i in range(3)
    ]
    onboarded = members[1]
    onboarded.role_arn = f"arn:aws:iam::{onboarded.account_id}:role/CloudMSPAccess"
    onboarded.role_created_by_portal = True
    onboarded.onboarding_status = OnboardingStatus.ONBOARDED
    onboarded.save()
    standalone = CloudAccountFactory(tenant=tenant, customer=other, external_id="cmsp-fuzz-standalone")
    job = Job.objects.create(tenant=tenant, kind=JobKind.SYNC, account=management, state=JobState.SUCCEEDED)
    token, _ = token_issue(user=admin, name="spare")
    webhook, _secret = webhook_create(actor=admin, url="https://hooks.fuzz.test/in")
    delivery = webhook_send_test(actor=admin, webhook=webhook)
    rule = rule_create(actor=admin, data={"name": "fuzz rule", "customer": customer.pk, "name_glob": "fuzz-*"})
    KNOWN.clear()
    KNOWN.update(
        {
            "customers": [customer.pk, other.pk],
            "users": [admin.pk, user.pk, colleague.pk],
            "cloud-accounts": [management.pk, *(m.pk for m in members), standalone.pk],
            "jobs": [job.pk],
            "tokens": [token.pk],
            "tenants": [tenant.pk],
            "webhooks": [webhook.pk],
            "webhook-deliveries": [delivery.pk],
            "assignment-rules": [rule.pk],
        }
    )
    yield unreachable
    KNOWN.clear()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, admin, world):
    # A fresh token for every case: a case may well revoke the caller's own token.
    _, secret = token_issue(user=admin, name="fuzz")
    CASES[f"{case.meta.phase.name.value} {case.meta.generation.mode.value}"] += 1
    case.call_and_validate(headers={"Authorization": f"Token {secret}"}, checks=CHECKS)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # Found by the fuzzer: a path with a newline fell through to the HTML 404 page, and a
        # POST to an unknown API path got the HTML page of a CSRF refusal.
        ("get", "/api/v1/jobs/1%0A/"),
        ("delete", "/api/v1/cloud-accounts/%0A/"),
        ("post", "/api/v1/users/%C2%84/send-activation/"),
        ("patch", "/api/v1/cloud-accounts/x/"),
    ],
)
def test_unknown_api_paths_answer_json_404(admin, method, path):
    from django.test import Client

    _, secret = token_issue(user=admin, name="fuzz")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Token {secret}"})
    response = getattr(client, method)(path, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "errors": {}}


def test_every_operation_documents_the_error_answers():
    raw = schema.raw_schema
    for path, operations_ in raw["paths"].items():
        for method, operation in operations_.items():
            codes = set(operation["responses"])
            assert {"400", "404"} <= codes, (method, path)
            if operation.get("security") != [{}] and path != "/api/v1/auth/token/":
                assert {"401", "403"} <= codes, (method, path)
            for code in codes - {"200", "201", "202", "204"}:
                content = operation["responses"][code]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Error"}, (method, path, code)


# The bodies of an outside attack (issue 10): every operation that takes a JSON body is sent each
# of them and must answer as its schema says. 10,000-deep nesting answered 500 (RecursionError);
# non-ASCII digits in a number were read as that number, so they must now be refused by field;
# CR/LF in text (which broke a page's redirect, not the API) stays a guard.
CRLF = "x\r\nSet-Cookie: a=1"
FULLWIDTH_ONE = "\uff11"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema.raw_schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations_with_bodies() -> list[tuple[str, str]]:
    found = []
    for path, operations_ in schema.raw_schema["paths"].items():
        for method, operation in operations_.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append((method.upper(), path))
    return found


def _body_fields(method: str, path: str) -> dict[str, str]:
    """The documented fields of the operation's body, with their JSON types."""
    operation = schema.raw_schema["paths"][path][method.lower()]
    body = _resolve(operation["requestBody"]["content"]["application/json"]["schema"])
    return {name: _resolve(prop).get("type", "string") for name, prop in body.get("properties", {}).items()}


def _attack_body(method: str, path: str, kind: str) -> dict[str, Any]:
    """Every documented field of the body, filled with the attack of `kind`: CR/LF in text,
    non-ASCII digits where a number or an id is expected."""
    value = CRLF if kind == "crlf" else FULLWIDTH_ONE
    return {name: [value] if type_ == "array" else value for name, type_ in _body_fields(method, path).items()}


def _path_parameters(path: str) -> dict[str, Any]:
    collection = path.split("/")[3]
    return {"id": KNOWN[collection][0]} if "{id}" in path else {}


@pytest.mark.parametrize(("method", "path"), _operations_with_bodies())
@pytest.mark.parametrize("kind", ["crlf", "digits"])
def test_attack_bodies_answer_as_documented(admin, world, method, path, kind):
    _, secret = token_issue(user=admin, name="fuzz")
    case = schema[path][method].Case(
        path_parameters=_path_parameters(path), body=_attack_body(method, path, kind), media_type="application/json"
    )
    response = case.call_and_validate(headers={"Authorization": f"Token {secret}"}, checks=CHECKS)
    assert response.status_code < 500
    numbers = {name for name, type_ in _body_fields(method, path).items() if type_ == "integer"}
    if kind == "digits" and numbers and response.status_code not in (403, 404):
        assert response.status_code == 400, response.text
        assert numbers <= set(response.json()["errors"]), response.text


@pytest.mark.parametrize(("method", "path"), _operations_with_bodies())
def test_deeply_nested_bodies_are_a_400(admin, world, method, path):
    from django.test import Client

    from tests.api.helpers import assert_error

    _, secret = token_issue(user=admin, name="fuzz")
    real_path = path.replace("{id}", str(_path_parameters(path).get("id", "")))
    response = Client(headers={"Authorization": f"Token {secret}"}).generic(
        method, real_path, "[" * 10000 + "]" * 10000, content_type="application/json"
    )
    if response.status_code == 403:  # refused for the role before the body is read (tenants)
        assert_error(response, 403)
    else:
        assert_error(response, 400)
        assert "nested" in response.json()["detail"]
