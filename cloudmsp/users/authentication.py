"""`Authorization: Token <secret>`. Only a SHA-256 digest of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, override

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from cloudmsp.users.auth import EmailBackend
from cloudmsp.users.models import ApiToken, User


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and never stored."""
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=secret[:8], digest=digest(secret))
    return token, secret


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as: Authorization: Token <token>.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = ApiToken.objects.select_related("user", "user__tenant").filter(digest=digest(secret)).first()
        if token is None or not EmailBackend().user_can_authenticate(token.user):
            raise exceptions.AuthenticationFailed("The token is not valid.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    @override
    def authenticate_header(self, request: Request) -> Any:
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes `Authorization: Token <token>` in the OpenAPI schema."""

    target_class = "cloudmsp.users.authentication.TokenAuthentication"
    name = "tokenAuth"

    @override
    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Send "Token <token>"; get a token from POST /api/v1/auth/token/.',
        }
