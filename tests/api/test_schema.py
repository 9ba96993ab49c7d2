"""The OpenAPI 3 document and the interactive docs."""

import pytest
import yaml
from openapi_spec_validator import validate

from tests.api.helpers import url

pytestmark = pytest.mark.django_db

# SPEC section 5: the resources that exist so far, with their operations.
EXPECTED = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/tenants/": {"get", "post"},
    "/api/v1/tenants/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/users/": {"get", "post"},
    "/api/v1/users/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/users/{id}/send-activation/": {"post"},
    "/api/v1/customers/": {"get", "post"},
    "/api/v1/customers/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/audit-events/": {"get"},
    "/api/v1/audit-events/{id}/": {"get"},
    "/api/v1/cloud-accounts/": {"get", "post"},
    "/api/v1/cloud-accounts/{id}/": {"get", "patch", "delete"},
    "/api/v1/cloud-accounts/{id}/setup/": {"get"},
    "/api/v1/cloud-accounts/{id}/connect/": {"post"},
    "/api/v1/cloud-accounts/{id}/validate/": {"post"},
    "/api/v1/cloud-accounts/{id}/sync/": {"post"},
    "/api/v1/cloud-accounts/{id}/onboard/": {"post"},
    "/api/v1/cloud-accounts/{id}/remove-role/": {"post"},
    "/api/v1/cloud-accounts/associate/": {"post"},
    "/api/v1/cloud-accounts/disassociate/": {"post"},
    "/api/v1/jobs/{id}/": {"get"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def schema(anon):
    response = anon.get(url("schema/"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    return yaml.safe_load(response.content)


def test_schema_is_a_valid_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_schema_has_the_spec_paths_and_operations(schema):
    paths = schema["paths"]
    for path, methods in EXPECTED.items():
        assert path in paths, path
        assert set(paths[path]) & HTTP_METHODS == methods, path


def test_list_parameters_are_documented(schema):
    def params(path):
        return {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}

    for path in (
        "/api/v1/tenants/",
        "/api/v1/users/",
        "/api/v1/customers/",
        "/api/v1/audit-events/",
        "/api/v1/cloud-accounts/",
    ):
        assert {"page", "page_size", "search", "ordering"} <= params(path), path
    assert {"category", "kind", "parent", "customer", "onboarding_status", "aws_state"} <= params(
        "/api/v1/cloud-accounts/"
    )
    assert {"customer", "role"} <= params("/api/v1/users/")
    assert {"actor", "action", "object_type", "object_id", "outcome", "since", "until"} <= params(
        "/api/v1/audit-events/"
    )


def test_customer_counts_are_read_only_in_the_schema(schema):
    components = schema["components"]["schemas"]
    customer = components["Customer"]["properties"]
    assert customer["account_count"].get("readOnly") is True
    assert customer["user_count"].get("readOnly") is True
    request = components.get("CustomerRequest", {}).get("properties", {})
    assert "account_count" not in request
    assert "company_name" in request


def test_token_auth_is_described(schema):
    schemes = schema["components"]["securitySchemes"].values()
    assert any(s.get("name") == "Authorization" or s.get("scheme") for s in schemes)


def test_schema_as_json(anon):
    response = anon.get(url("schema/"), {"format": "json"})
    assert response.status_code == 200
    validate(response.json())


def test_docs_render(anon):
    response = anon.get(url("docs/"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # The page loads its script from the same origin (the content security policy allows no
    # inline script), and that script points Swagger UI at the schema.
    assert f'<script src="{url("docs/")}?script="></script>' in html
    script = anon.get(url("docs/"), {"script": ""})
    assert script.status_code == 200
    assert url("schema/") in script.content.decode()


def test_the_schema_has_no_warnings():
    """The deployment check (CI) fails on drf-spectacular's warnings, two names for one enum say:
    its check, run here."""
    from drf_spectacular.checks import schema_check

    assert [str(w.msg) for w in schema_check(None)] == []
