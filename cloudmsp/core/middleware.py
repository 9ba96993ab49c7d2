"""Turn malformed requests into clear 400s instead of 500s."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_MESSAGE = "The request contains a NUL character."


class BadInputMiddleware:
    """Refuse query strings or form bodies carrying NUL bytes, which no database accepts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            if request.path.startswith("/api/"):
                # The API's errors are JSON, always.
                return JsonResponse({"detail": NUL_MESSAGE, "errors": {}}, status=400)
            return HttpResponseBadRequest(NUL_MESSAGE)
        return self.get_response(request)
