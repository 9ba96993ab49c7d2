"""Activation and password-reset links.

A link is valid until it expires (settings.PASSWORD_RESET_TIMEOUT, 24 h by default) or until the
user sets a password, signs in, changes email or is disabled, whichever comes first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from cloudmsp.users.models import User


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "cloudmsp.users.tokens.ActivationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        base = super()._make_hash_value(user, timestamp)  # type: ignore[arg-type]
        return f"{base}{getattr(user, 'is_active', True)}{getattr(user, 'activated_at', '')}"


activation_token = ActivationTokenGenerator()


def activation_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("users:activate", kwargs={"uidb64": uid, "token": activation_token.make_token(user)})


def activation_url(user: User) -> str:
    """The link, on `settings.PORTAL_BASE_URL`: never on the Host of the request that asked for
    it, which the client chooses (any port of an allowed host passes ALLOWED_HOSTS)."""
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{activation_path(user)}"
