"""Row-level security for web requests: see cloudmsp.tenancy.rls."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

from cloudmsp.tenancy import rls


class RowLevelSecurityMiddleware:
    """Runs each request with the database scope of its signed-in user (a tenant's users see
    only their tenant's rows, even through a query that forgets the tenant), and leaves the
    connection without it when the request ends. First in MIDDLEWARE, so that every other
    middleware's queries run in the request's scope too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with rls.request_scope(request):
            response = self.get_response(request)
        if (
            isinstance(response, StreamingHttpResponse)
            and not response.is_async
            and not isinstance(response, FileResponse)
        ):
            # Streamed content is produced after this method returns: keep it in the scope.
            response.streaming_content = _in_scope(request, response.streaming_content)
        return response


def _in_scope(request: HttpRequest, content: Iterable[bytes]) -> Iterator[bytes]:
    with rls.request_scope(request):
        yield from content
