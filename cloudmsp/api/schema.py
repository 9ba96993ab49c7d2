"""The OpenAPI schema: every operation documents the error answers any API view can give, in
the API's one error format, besides the ones its view documents itself (409, 429, ...)."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from cloudmsp.api.serializers import ErrorSerializer

ERRORS = {
    400: "Bad input: `detail` says what is wrong and `errors` which field, and why.",
    404: "No such object within your reach, no such page of a list, or no such endpoint.",
}
BODY_ERRORS = {
    413: "The request body is larger than the API reads (API_MAX_BODY_BYTES, 4 MiB by default).",
}
AUTH_ERRORS = {
    401: "No valid credentials: sign in, or send `Authorization: Token <token>`.",
    403: "Your role does not allow this (or, with a session, the CSRF token is missing).",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(ERRORS)
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            errors.update(AUTH_ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            errors.update(BODY_ERRORS)
        for code, description in sorted(errors.items()):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), str(code), direction=direction
                )
        return responses
