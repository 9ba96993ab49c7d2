"""The project's own errors. Services raise these; views and the API turn them into responses."""

from django.core.exceptions import ValidationError

__all__ = ["ApplicationError", "ConflictError", "NotFound", "PermissionDenied", "ValidationError"]


class ApplicationError(Exception):
    """A failure the caller can act on; `message` is shown to the user as it is."""

    status = 400

    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    """The object does not exist *for this actor*: foreign and missing ids look the same."""

    status = 404


class PermissionDenied(ApplicationError):
    status = 403


class ConflictError(ApplicationError):
    status = 409
