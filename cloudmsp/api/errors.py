"""Every API error is JSON `{"detail": ..., "errors": {field: [...]}}`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cloudmsp.core.errors import ApplicationError, NotFound, PermissionDenied
from cloudmsp.core.signals import access_denied


def _text(value: Any) -> str:
    """A message JSON can carry. Some messages echo the input back ('"x" is not a valid
    choice.'), and a lone surrogate in it would make rendering the error fail with a 500."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key in (NON_FIELD_ERRORS, "non_field_errors") else str(key)
            if isinstance(value, dict):
                for sub, msgs in _field_errors(value).items():
                    out[f"{name}.{sub}"] = msgs
            elif isinstance(value, list):
                _list_errors(name, value, out)
            else:
                out[name] = [_text(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [_text(d) for d in detail]}
    return {}


def _list_errors(name: str, value: list[Any], out: dict[str, list[str]]) -> None:
    """A field's list of errors: messages stay on the field, nested objects' go to `name.sub`."""
    flat: list[str] = []
    for item in value:
        if isinstance(item, dict):
            for sub, msgs in _field_errors(item).items():
                out[f"{name}.{sub}"] = msgs
        else:
            flat.append(_text(item))
    if flat:
        out[name] = flat


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, ApplicationError):
        if isinstance(exc, (NotFound, PermissionDenied)) and request is not None:
            access_denied.send(
                sender=exception_handler,
                actor=getattr(request, "user", None),
                action=f"api {request.method} {request.path}"[:64],
                message=exc.message,
                target=str(exc.extra.get("target", request.path)),
            )
        return Response({"detail": exc.message, "errors": {}}, status=exc.status)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    if isinstance(exc, exceptions.PermissionDenied) and request is not None:
        access_denied.send(
            sender=exception_handler,
            actor=getattr(request, "user", None),
            action=f"api {request.method} {request.path}"[:64],
            message=str(exc.detail),
            target=request.path,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        response.data = {"detail": "The request has errors; see `errors`.", "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": _text(detail), "errors": {}}
    return response


@csrf_exempt  # like every API view: a POST here is a 404, not the HTML page of a CSRF refusal
def unknown_endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:  # noqa: ARG001 (a view)
    """Paths under the API that name no endpoint (or an id that is not a number) answer 404 in
    the same JSON as every other error, not with the HTML page."""
    return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)
