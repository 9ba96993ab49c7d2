"""Shared assertions for the API tests."""

from __future__ import annotations

from typing import Any

API = "/api/v1"


def url(path: str) -> str:
    """`url("customers/3/")` -> "/api/v1/customers/3/"."""
    return f"{API}/{path.lstrip('/')}"


def assert_error(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is a JSON error in the API's one format, with messages for `fields`
    (and only those, when any are named)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["errors"], dict)
    for messages in body["errors"].values():
        assert isinstance(messages, list)
        assert messages
        assert all(isinstance(m, str) and m for m in messages)
    if fields:
        assert set(body["errors"]) == set(fields), body["errors"]
    return body


def ids(response: Any) -> list[int]:
    """The ids of a page of results, in order."""
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]
