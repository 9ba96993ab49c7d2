"""The API's URL scaffolding: the schema and docs, the JSON 404 for unknown paths, and the
authentication it does itself. Which endpoints exist is wiring, decided in config/urls.py."""

from typing import Any

from django.urls import URLPattern, URLResolver, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from cloudmsp.api.errors import unknown_endpoint


def _api_authenticates(patterns: list[Any]) -> list[URLPattern | URLResolver]:
    """The API authenticates with its own classes (token or session) and answers 401/403 in
    JSON, so Django's login-redirect middleware must leave it alone."""
    for p in patterns:
        if isinstance(p, URLPattern):
            p.callback.login_required = False  # type: ignore[attr-defined]
    return patterns


def api_urlpatterns(router: SimpleRouter, *extra: URLPattern) -> list[URLPattern | URLResolver]:
    """The API's routes: `extra` paths, the schema and its docs, the router's endpoints, and last
    a JSON 404 for every other path."""
    return _api_authenticates(
        [
            *extra,
            path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
            path(
                "docs/",
                SpectacularSwaggerSplitView.as_view(
                    url_name="api-schema", permission_classes=[], template_name="api/swagger_ui.html"
                ),
                name="api-docs",
            ),
            *router.urls,
            # Last: only paths ending in a slash, so Django still redirects a missing trailing
            # slash. [\s\S], not `.`: a path with a newline in it is an unknown endpoint too.
            re_path(r"^[\s\S]*/\Z", unknown_endpoint),
        ]
    )
