from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from cloudmsp.cloud.providers.base import ProviderError

# What an administrator should do, by AWS error code.
_ADVICE = {
    "AccessDenied": "AWS refused access. Check that the role's trust policy names the portal's AWS account "
    "and this external id, and that the role has the permissions the portal needs.",
    "AccessDeniedException": "AWS refused access. Check the role's permissions.",
    "InvalidClientTokenId": "The portal's own AWS credentials are not valid.",
    "ExpiredToken": "The temporary AWS credentials expired; try again.",
    "ExpiredTokenException": "The temporary AWS credentials expired; try again.",
    "NoSuchEntity": "The role does not exist (it may have been deleted in AWS).",
    "EntityAlreadyExists": "A role with this name already exists in the account.",
    "Throttling": "AWS is throttling requests; try again in a minute.",
    "ThrottlingException": "AWS is throttling requests; try again in a minute.",
    "TooManyRequestsException": "AWS is throttling requests; try again in a minute.",
    "AWSOrganizationsNotInUseException": "This account is not the management account of an AWS Organization.",
    "AccountNotFoundException": "The account is not in the organization.",
    "InvalidToken": "The organization's accounts changed while they were being listed; run the sync again.",
    "MalformedPolicyDocument": "AWS rejected the policy document.",
    "RegionDisabledException": "STS is disabled in this region for the account.",
}

ACCESS_DENIED_CODES = {"AccessDenied", "AccessDeniedException"}
THROTTLING_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}


class AwsError(ProviderError):
    """A failed AWS step; `code` is AWS's error code when there is one."""

    @property
    def access_denied(self) -> bool:
        return self.code in ACCESS_DENIED_CODES


def translate(step: str, exc: Exception) -> AwsError:
    """Turn a botocore exception into an AwsError that says which step failed and why."""
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        aws_text = str(err.get("Message", "")).strip()
        advice = _ADVICE.get(code, "")
        text = " ".join(part for part in (advice, f"(AWS said: {code}{': ' if aws_text else ''}{aws_text})") if part)
        return AwsError(step, text, code=code)
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return AwsError(step, "AWS did not answer in time; try again.", code="Timeout")
    if isinstance(exc, EndpointConnectionError):
        return AwsError(step, "The AWS endpoint could not be reached; check the network.", code="Unreachable")
    if isinstance(exc, ConnectionClosedError):
        return AwsError(step, "The connection to AWS closed before it answered; try again.", code="Unreachable")
    if isinstance(exc, NoCredentialsError):
        return AwsError(step, "The portal has no AWS credentials configured.", code="NoCredentials")
    if isinstance(exc, BotoCoreError):
        return AwsError(step, f"AWS call failed: {exc}", code=type(exc).__name__)
    raise exc
