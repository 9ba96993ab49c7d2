"""AWS as a `Provider` (providers/base.py): the one object the services talk to."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from cloudmsp.cloud.providers.aws import operations, policies
from cloudmsp.cloud.providers.aws.arn import role_arn as make_role_arn
from cloudmsp.cloud.providers.aws.client import Credentials, credential_cache
from cloudmsp.cloud.providers.aws.errors import AwsError
from cloudmsp.cloud.providers.aws.validation import check_role
from cloudmsp.cloud.providers.base import (
    NO_ACCESS_ROLE,
    CreatedRole,
    DiscoveredAccount,
    Listing,
    ManagementRole,
    RoleCheck,
    RoleChecks,
    RoleToCheck,
)

EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException"}
ACCOUNT_ID = re.compile(r"[0-9]{12}")

# The validation threads outlive one bulk validation, and so do their boto3 sessions (client.py):
# a new pool for each run made every one of its threads build a session again.
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _validation_pool(workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"validate-{workers}")
        return pool


class AwsProvider:
    default_role_name = policies.DEFAULT_ROLE_NAME
    default_org_access_role = policies.DEFAULT_ORG_ACCESS_ROLE
    fallback_access_role = policies.CONTROL_TOWER_ROLE
    read_only_actions: Sequence[str] = policies.READ_ONLY_ACTIONS

    def validate_account_id(self, value: str) -> None:
        # [0-9], not \d: in Python \d is any script's digit, and a look-alike id in FULLWIDTH
        # DIGITs would pass.
        if not ACCOUNT_ID.fullmatch(value or ""):
            raise ValidationError({"account_id": ["An AWS account id is exactly 12 digits."]})

    def check_role(
        self,
        *,
        account_id: str,
        role_arn: str,
        external_id: str,
        management: bool = False,
        wait_seconds: float = 0,
        sleep: Callable[[float], None] | None = None,
        fresh: bool = True,
    ) -> RoleCheck:
        return check_role(
            account_id=account_id,
            role_arn=role_arn,
            external_id=external_id,
            management=management,
            wait_seconds=wait_seconds,
            sleep=sleep,
            fresh=fresh,
        )

    def check_roles(self, roles: Sequence[RoleToCheck], *, fresh: bool, concurrency: int) -> RoleChecks:
        """Threads, each with its own boto3 session; the credential cache is shared."""
        hits, misses = credential_cache.hits, credential_cache.misses

        def one(role: RoleToCheck) -> RoleCheck:
            return check_role(
                account_id=role.account_id,
                role_arn=role.role_arn,
                external_id=role.external_id,
                management=role.management,
                fresh=fresh,
            )

        results = list(_validation_pool(max(1, concurrency)).map(one, roles))
        return RoleChecks(
            results=results,
            credentials_reused=credential_cache.hits - hits,
            assume_role_calls=credential_cache.misses - misses,
        )

    def list_organization(
        self,
        *,
        role_arn: str,
        external_id: str,
        progress: Callable[[int], None] | None = None,
        tags: bool = False,
    ) -> Listing:
        """One call in flight at a time, MaxResults=20, following every NextToken. Two faults a
        second reading of the whole listing cures are retried once: cached credentials that
        expired early, and a page token AWS refused because the organization changed between two
        pages. Tags are read after the listing, AWS_CONCURRENCY accounts at a time."""
        creds = _assume_management(role_arn, external_id)
        try:
            return _read_listing(creds, progress, tags)
        except AwsError as exc:
            if exc.code in EXPIRED_CODES:
                credential_cache.forget(role_arn)
                creds = _assume_management(role_arn, external_id)
            elif not _stale_page_token(exc):
                raise
            return _read_listing(creds, progress, tags)

    def create_member_role(
        self, *, management: ManagementRole, account_id: str, role_name: str, external_id: str, owner: str
    ) -> CreatedRole:
        partition = management.role_arn.split(":")[1]
        creds, access_role = _member_access(management, account_id)
        arn, adopted = operations.create_role(
            creds,
            role_name=role_name,
            trust=policies.trust_policy(
                portal_account_id=operations.portal_account_id(), external_id=external_id, partition=partition
            ),
            policy=policies.access_policy(management=False, partition=partition),
            owner=owner,
        )
        return CreatedRole(arn=arn, access_role=access_role, adopted=adopted)

    def delete_member_role(self, *, management: ManagementRole, account_id: str, role_name: str, owner: str) -> str:
        creds, _ = _member_access(management, account_id)
        return operations.delete_role(creds, role_name=role_name, owner=owner)

    def forget_credentials(self, role_arn: str) -> None:
        credential_cache.forget(role_arn)

    def member_external_id(self, *, management_external_id: str, account_id: str) -> str:
        return policies.member_external_id(management_external_id, account_id)

    def setup_documents(
        self, *, external_id: str, management: bool, org_access_role: str = policies.DEFAULT_ORG_ACCESS_ROLE
    ) -> dict[str, Any]:
        setup: dict[str, Any] = {
            "portal_account_id": None,
            "portal_error": "",
            "external_id": external_id,
            "role_name": policies.DEFAULT_ROLE_NAME,
            "trust_policy": None,
            "access_policy": policies.access_policy(management=management, org_access_role=org_access_role),
            "cloudformation_template": None,
            "stackset_template": None,
        }
        try:
            portal = operations.portal_account_id()
        except AwsError as exc:
            setup["portal_error"] = str(exc)
            return setup
        setup["portal_account_id"] = portal
        setup["trust_policy"] = policies.trust_policy(portal_account_id=portal, external_id=external_id)
        setup["cloudformation_template"] = policies.cloudformation_template(
            portal_account_id=portal, external_id=external_id, management=management, org_access_role=org_access_role
        )
        if management:
            setup["stackset_template"] = policies.stackset_template(
                portal_account_id=portal, external_id_prefix=external_id
            )
        return setup


def _assume_management(role_arn: str, external_id: str) -> Credentials:
    return operations.assume_role(role_arn, external_id, step="Assume the management account's role")


def access_roles(management: ManagementRole) -> list[str]:
    """The roles tried, in order, to enter a member account from its management account."""
    return list(dict.fromkeys([management.org_access_role, policies.CONTROL_TOWER_ROLE]))


def _member_access(management: ManagementRole, account_id: str) -> tuple[Credentials, str]:
    """Credentials in a member account and the access role they came from: the management
    account's role, then the organization access role in the member (created with the account
    by Organizations), else AWSControlTowerExecution (Control Tower's Account Factory). An
    invited account usually has neither."""
    mgmt = _assume_management(management.role_arn, management.external_id)
    partition = management.role_arn.split(":")[1]
    tried = access_roles(management)
    for name in tried:
        try:
            creds = operations.assume_role(
                make_role_arn(account_id, name, partition=partition),
                None,
                via=mgmt,
                step=f"Assume {name} in the member account",
            )
        except AwsError as exc:
            if not exc.access_denied:
                raise
            continue
        return creds, name
    raise AwsError(
        "Enter the member account",
        f"The management account cannot enter account {account_id}: {' and '.join(tried)} are missing there or "
        "do not trust the management account. This is usual for an account that was invited into the "
        "organization rather than created in it. Use the manual method instead: download the CloudFormation "
        "template, deploy it in the account, and paste the Role ARN it outputs.",
        code=NO_ACCESS_ROLE,
    )


def _read_listing(creds: Credentials, progress: Callable[[int], None] | None, tags: bool) -> Listing:
    stats = operations.ListingStats()
    accounts: dict[str, DiscoveredAccount] = {}
    for acct in operations.organization_accounts(creds, stats):
        accounts[acct.account_id] = acct
        if progress is not None:
            progress(len(accounts))
    warnings: tuple[str, ...] = ()
    if tags:
        try:
            found = operations.account_tags(
                creds, list(accounts), concurrency=settings.AWS_CONCURRENCY, stats=stats, progress=progress
            )
        except AwsError as exc:
            if not exc.access_denied:
                raise
            # A role deployed before the portal read tags: the listing stands, the tags stay.
            warnings = (
                "The accounts' tags could not be read, so the tag rules used the tags read before: "
                "add organizations:ListTagsForResource to the MSP account's role (download its "
                f"template again). {exc}",
            )
        else:
            accounts = {k: replace(a, tags=found[k]) for k, a in accounts.items()}
    return Listing(
        accounts=accounts,
        list_accounts_calls=stats.list_accounts_calls,
        other_calls=stats.other_calls,
        warnings=warnings,
    )


def _stale_page_token(exc: AwsError) -> bool:
    """AWS refused a NextToken because the listing changed between pages (AWS Organizations:
    InvalidInputException, reason INVALID_NEXT_TOKEN; the emulator: InvalidToken)."""
    return exc.code == "InvalidToken" or (exc.code == "InvalidInputException" and "token" in exc.message.lower())
