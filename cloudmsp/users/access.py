"""The signed-in user itself, for the pages that act on the user (profile, password, tokens,
two-factor). Pages that act on others take the Actor from tenancy.pages."""

from __future__ import annotations

from cloudmsp.core.errors import PermissionDenied
from cloudmsp.users.models import User


def user_of(user: object) -> User:
    """`request.user` as a User; PermissionDenied for an anonymous visitor (the login
    middleware sends those to sign in before such a page runs)."""
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user
