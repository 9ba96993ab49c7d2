"""Fixtures of the authentication tests: request-rate limits off (the lockout is tested on its
own), and TOTP codes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


@pytest.fixture(autouse=True)
def _no_request_rate_limits(settings: Any) -> None:
    """Sign-in also has plain request-rate limits (tested with the API throttles); they are off
    here so that what answers is the lockout after failed attempts, and nothing else."""
    limits = getattr(settings, "RATE_LIMITS", None)
    if isinstance(limits, dict):
        settings.RATE_LIMITS = {**limits, "login_email": None, "login_ip": None}


def current_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def totp_code(device: TOTPDevice) -> str:
    """The current code, with the device made ready to accept it: a code is accepted only once,
    and after a wrong one the device makes the next wait a moment."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    return current_code(device)


def wrong_code(device: TOTPDevice) -> str:
    """A well-formed code that is none of those the device accepts now (tolerance ±1 step)."""
    valid = set()
    for steps in (-1, 0, 1):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + steps * device.step
        valid.add(f"{totp.token():06d}")
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
