"""Validating a role: the checks of SPEC 4.1, each failure naming the step that failed."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from cloudmsp.cloud.providers.aws import operations as aws
from cloudmsp.cloud.providers.aws.arn import ArnError, RoleArn, parse_role_arn
from cloudmsp.cloud.providers.aws.client import Credentials, credential_cache
from cloudmsp.cloud.providers.aws.errors import AwsError
from cloudmsp.cloud.providers.aws.policies import trust_requires_external_id
from cloudmsp.cloud.providers.base import RoleCheck


def check_role(
    *,
    account_id: str,
    role_arn: str,
    external_id: str,
    management: bool = False,
    wait_seconds: float = 0,
    sleep: Callable[[float], None] | None = None,
    fresh: bool = True,
) -> RoleCheck:
    """Check that the portal can use `role_arn` for `account_id`:

    1. the ARN parses (partition, iam, the same 12-digit account, role/...);
    2. AssumeRole with the external id succeeds (retried for `wait_seconds` while a new role
       is not yet assumable);
    3. GetCallerIdentity answers that account;
    4. the trust policy requires this external id (where the role may read itself), and on real
       AWS an AssumeRole with a wrong external id is refused;
    5. for a management account, the account is the organization's management account.

    With `fresh` (the default) AssumeRole is called anew; otherwise credentials cached for
    their lifetime are used when there are some.
    """
    try:
        arn = parse_role_arn(role_arn, account_id=account_id)
    except ArnError as exc:
        return RoleCheck(False, str(exc), step="Check the Role ARN")
    if fresh:
        credential_cache.forget(str(arn))
    try:
        creds = _assume_until_ready(str(arn), external_id, wait_seconds, sleep)
        failed = _check_assumed(creds, arn, account_id=account_id, external_id=external_id, management=management)
    except AwsError as exc:
        return RoleCheck(False, exc.message, step=exc.step)
    return (
        failed
        if isinstance(failed, RoleCheck)
        else RoleCheck(True, "The role works." + "".join(f" {n}" for n in failed))
    )


def _check_assumed(
    creds: Credentials, arn: RoleArn, *, account_id: str, external_id: str, management: bool
) -> RoleCheck | list[str]:
    """Checks 3 to 5 with the role's credentials: the failed check, or notes on a pass."""
    actual = aws.caller_account(creds)
    if actual != account_id:
        return RoleCheck(
            False,
            f"The role answered from account {actual}, not {account_id}.",
            step="Check the role's account (GetCallerIdentity)",
        )
    notes = []
    trust = aws.role_trust_policy(creds, arn.name)
    if trust is None:
        notes.append("The role may not read its own trust policy, so it was not inspected.")
    elif not trust_requires_external_id(trust, external_id=external_id):
        return RoleCheck(
            False,
            "The role's trust policy does not require this external id (sts:ExternalId). "
            "Use the trust policy shown here, so no one else can use the role.",
            step="Check the trust policy",
        )
    if settings.AWS_CHECK_WRONG_EXTERNAL_ID and not aws.assume_with_wrong_external_id_refused(str(arn)):
        return RoleCheck(
            False,
            "The role accepted a wrong external id. Add the sts:ExternalId condition to its trust policy.",
            step="Check the external id is enforced",
        )
    if management:
        master = aws.organization_master(creds)
        if master != account_id:
            return RoleCheck(
                False,
                f"This account is a member of an organization whose management account is {master}; "
                "connect the management account as the MSP account.",
                step="Check the organization",
            )
    return notes


def _assume_until_ready(
    role_arn: str, external_id: str, wait_seconds: float, sleep: Callable[[float], None] | None
) -> Credentials:
    import time

    sleeper = sleep or time.sleep
    waited = 0.0
    delay = 2.0
    while True:
        try:
            return aws.assume_role(role_arn, external_id, use_cache=True)
        except AwsError as exc:
            if not exc.access_denied or waited >= wait_seconds:
                raise
        sleeper(delay)
        waited += delay
        delay = min(delay * 1.5, 10.0)
