from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from cloudmsp.core.errors import ApplicationError, NotFound, PermissionDenied
from cloudmsp.core.signals import access_denied


class ApplicationErrorMiddleware:
    """Turn the project's errors raised by HTML views into pages, and record refused attempts.
    The API has its own exception handler doing the same in JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exc, ApplicationError):
            return None
        if isinstance(exc, (NotFound, PermissionDenied)):
            access_denied.send(
                sender=ApplicationErrorMiddleware,
                actor=getattr(request, "user", None),
                action=f"{request.method} {request.path}"[:64],
                message=exc.message,
                target=str(exc.extra.get("target", request.path)),
            )
        response = TemplateResponse(
            request, "web/error.html", {"status": exc.status, "message": exc.message}, status=exc.status
        )
        if getattr(request, "htmx", False):
            # Show the message where the page expects errors instead of swapping the target.
            response["HX-Retarget"] = "#flash"
            response["HX-Reswap"] = "innerHTML"
            response.template_name = "web/error.html#message"
        return response
