"""The AWS operations the portal performs, each a plain function returning plain data."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import unquote

from cloudmsp.cloud.providers.aws import policies
from cloudmsp.cloud.providers.aws.client import Credentials, call, client, credential_cache
from cloudmsp.cloud.providers.aws.errors import AwsError
from cloudmsp.cloud.providers.base import DiscoveredAccount

SESSION_NAME = "cloudmsp"
SESSION_SECONDS = 3600
PAGE_SIZE = 20  # ListAccounts: AWS's own maximum page, set explicitly (emulators don't cap it)


def portal_account_id() -> str:
    """The AWS account of the portal's own identity."""
    from django.conf import settings

    if settings.PORTAL_AWS_ACCOUNT_ID:
        return str(settings.PORTAL_AWS_ACCOUNT_ID)
    ident = call("Read the portal's AWS identity", lambda: client("sts").get_caller_identity())
    return str(ident["Account"])


def assume_role(
    role_arn: str,
    external_id: str | None,
    *,
    via: Credentials | None = None,
    use_cache: bool = True,
    step: str = "Assume the role",
) -> Credentials:
    """Temporary credentials for `role_arn`, from the portal's identity or from `via`."""
    key = (role_arn, external_id or "", "" if via is None else via.access_key_id)
    if use_cache:
        cached = credential_cache.get(key)
        if cached is not None:
            return cached
    # One hour: the longest a session from another role's session (role chaining) may last.
    kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME, "DurationSeconds": SESSION_SECONDS}
    if external_id:
        kwargs["ExternalId"] = external_id
    answer = call(step, lambda: client("sts", via).assume_role(**kwargs))
    c = answer["Credentials"]
    expiration = c.get("Expiration") or datetime.now(UTC) + timedelta(hours=1)
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    creds = Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], expiration)
    if use_cache:
        credential_cache.put(key, creds)
    return creds


def caller_account(creds: Credentials) -> str:
    ident = call("Check the role's account (GetCallerIdentity)", lambda: client("sts", creds).get_caller_identity())
    return str(ident["Account"])


def role_trust_policy(creds: Credentials, role_name: str) -> dict[str, Any] | None:
    """The role's trust policy, or None when the role may not read itself."""
    try:
        role = call("Read the role's trust policy", lambda: client("iam", creds).get_role(RoleName=role_name))
    except AwsError as exc:
        if exc.access_denied:
            return None
        raise
    document = role["Role"]["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return dict(document)


def assume_with_wrong_external_id_refused(role_arn: str) -> bool:
    """On real AWS a role that requires our external id refuses any other."""
    try:
        assume_role(
            role_arn, "wrong-" + secrets.token_hex(16), use_cache=False, step="Check the external id is enforced"
        )
    except AwsError as exc:
        if exc.access_denied:
            return True
        raise
    return False


def organization_master(creds: Credentials) -> str:
    org = call(
        "Read the organization (DescribeOrganization)", lambda: client("organizations", creds).describe_organization()
    )
    return str(org["Organization"]["MasterAccountId"])


def _pages(
    fn: Any, key: str, step: str, counter: list[int], *, page_size: int | None = PAGE_SIZE, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        size = {"MaxResults": page_size} if page_size else {}
        args = {**kwargs, **size, **({"NextToken": token} if token else {})}
        page: dict[str, Any] = call(step, partial(fn, **args))
        counter[0] += 1
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


@dataclass
class ListingStats:
    list_accounts_calls: int = 0
    other_calls: int = 0


def organization_accounts(creds: Credentials, stats: ListingStats | None = None) -> Iterator[DiscoveredAccount]:
    """Every account of the organization (ListAccounts, MaxResults=20, following every
    NextToken), each with its OU path ("Root/Prod/Web"). Calls are made one at a time.

    The OU tree is walked first (ListOrganizationalUnitsForParent: one call per OU). Each
    account's place in it comes from its `Paths` ("o-.../r-.../ou-.../111122223333/"), which
    ListAccounts answers today; only when an account comes without them (an older endpoint) are
    the accounts of every root and OU listed too (ListAccountsForParent), which reads the whole
    organization a second time."""
    stats = stats or ListingStats()
    org = client("organizations", creds)
    other = [0]
    paths = _ou_paths(org, other)
    parent_of_account: dict[str, str] | None = None
    calls = [0]
    for acct in _pages(org.list_accounts, "Accounts", "List the organization's accounts (ListAccounts)", calls):
        parent = _parent_in_paths(acct)
        if parent is None:
            if parent_of_account is None:
                parent_of_account = _parents_of_accounts(org, list(paths), other)
            parent = parent_of_account.get(acct["Id"], "")
        yield DiscoveredAccount(
            account_id=acct["Id"],
            name=acct.get("Name", ""),
            email=acct.get("Email", ""),
            state=account_state(acct),
            ou_path=paths.get(parent, ""),
            joined_method=str(acct.get("JoinedMethod") or ""),
            joined_at=_aware(acct.get("JoinedTimestamp")),
        )
        stats.list_accounts_calls = calls[0]
    stats.list_accounts_calls = calls[0]
    stats.other_calls = other[0]


def _ou_paths(org: Any, counter: list[int]) -> dict[str, str]:
    """Each root's and OU's id -> its path of names ("Root/Prod/Web")."""
    paths: dict[str, str] = {}
    stack = [
        (r["Id"], r.get("Name") or "Root")
        for r in _pages(org.list_roots, "Roots", "List the organization roots", counter)
    ]
    while stack:
        parent_id, path = stack.pop()
        paths[parent_id] = path
        for ou in _pages(
            org.list_organizational_units_for_parent,
            "OrganizationalUnits",
            "List organizational units",
            counter,
            ParentId=parent_id,
        ):
            stack.append((ou["Id"], f"{path}/{ou['Name']}"))
    return paths


def _parent_in_paths(acct: dict[str, Any]) -> str | None:
    """The id of the root or OU an account is in, from the first of its `Paths`
    ("o-aa11/r-ab12/ou-ab12-11111111/111122223333/": ou-ab12-11111111); None without Paths."""
    for path in acct.get("Paths") or []:
        parts = [part for part in str(path).split("/") if part]
        if parts and parts[-1] == acct.get("Id"):
            parts.pop()
        if len(parts) >= 2 and parts[-1].startswith(("r-", "ou-")):
            return parts[-1]
    return None


def _parents_of_accounts(org: Any, parents: list[str], counter: list[int]) -> dict[str, str]:
    """Account id -> the root or OU it is in, from ListAccountsForParent on each of `parents`."""
    found: dict[str, str] = {}
    for parent_id in parents:
        for acct in _pages(
            org.list_accounts_for_parent, "Accounts", "List accounts of an OU", counter, ParentId=parent_id
        ):
            found[acct["Id"]] = parent_id
    return found


def account_tags(
    creds: Credentials,
    account_ids: list[str],
    *,
    concurrency: int,
    stats: ListingStats,
    progress: Callable[[int], None] | None = None,
) -> dict[str, dict[str, str]]:
    """Each account's tags (ListTagsForResource, which takes no page size: every NextToken is
    followed), `concurrency` accounts at a time, one client per thread; `progress` is called in
    the caller's thread with the number read so far. An account that left the organization
    meanwhile (TargetNotFoundException) has none; AccessDenied (a role without
    organizations:ListTagsForResource) is raised."""
    local = threading.local()
    lock = threading.Lock()

    def one(account_id: str) -> tuple[str, dict[str, str]]:
        org = getattr(local, "org", None)
        if org is None:
            org = local.org = client("organizations", creds)
        calls = [0]
        pages = _pages(
            org.list_tags_for_resource,
            "Tags",
            "Read an account's tags (ListTagsForResource)",
            calls,
            page_size=None,
            ResourceId=account_id,
        )
        try:
            tags = {str(t["Key"]): str(t.get("Value", "")) for t in pages}
        except AwsError as exc:
            if exc.code != "TargetNotFoundException":
                raise
            tags = {}
        with lock:
            stats.other_calls += calls[0]
        return account_id, tags

    found: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, 64))) as pool:
        for account_id, tags in pool.map(one, account_ids):
            found[account_id] = tags
            if progress is not None:
                progress(len(found))
    return found


def account_state(acct: dict[str, Any]) -> str:
    """The account's lifecycle `State`. AWS retired `Status` on 2026-09-09 (it is absent from
    today's answers); it is read only when `State` is absent, from an older endpoint."""
    return str(acct.get("State") or acct.get("Status") or "ACTIVE")


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def create_role(
    creds: Credentials,
    *,
    role_name: str,
    trust: dict[str, Any],
    policy: dict[str, Any],
    owner: str,
) -> tuple[str, bool]:
    """Create the role, tagged `cloudmsp:managed-by` = `owner`, and its inline policy; returns
    the ARN and whether an existing role was adopted. A role of that name already there is
    adopted only when it carries our tag and no permissions but ours: a CreateRole that timed
    out after AWS had completed it (the retry then meets EntityAlreadyExists), or an earlier
    attempt's. Any other role of that name stops here, untouched. If the policy cannot be
    attached, a role created now is deleted again."""
    iam = client("iam", creds)
    adopted = False
    try:
        role = call(
            "Create the role",
            lambda: iam.create_role(
                RoleName=role_name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="Lets the cloudmsp portal read this account",
                Tags=[{"Key": policies.OWNER_TAG, "Value": owner}],
            ),
        )
    except AwsError as exc:
        if exc.code != "EntityAlreadyExists":
            raise
        role = call("Read the existing role", lambda: iam.get_role(RoleName=role_name))
        if _owner(role["Role"]) != owner or not _only_our_policies(iam, role_name):
            raise AwsError(
                "Create the role",
                f"A role named {role_name} already exists in this account and is not one this portal created "
                "(or it carries permissions the portal did not give it), so the portal leaves it alone. Choose "
                "another role name, or use the manual method with that role's ARN if it is meant for the portal.",
                code="EntityAlreadyExists",
            ) from exc
        adopted = True
        call(
            "Update the adopted role's trust policy",
            lambda: iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust)),
        )
    try:
        call(
            "Attach the role's inline policy",
            lambda: iam.put_role_policy(
                RoleName=role_name, PolicyName=policies.INLINE_POLICY_NAME, PolicyDocument=json.dumps(policy)
            ),
        )
    except AwsError:
        if not adopted:
            delete_role(creds, role_name=role_name, owner=owner)
        raise
    return str(role["Role"]["Arn"]), adopted


def _role_policies(iam: Any, role_name: str) -> tuple[list[str], list[str]]:
    """The role's inline policy names and attached policy ARNs."""
    inline = call("List the role's policies", lambda: iam.list_role_policies(RoleName=role_name))["PolicyNames"]
    attached = call("List the role's attached policies", lambda: iam.list_attached_role_policies(RoleName=role_name))
    return list(inline), [p["PolicyArn"] for p in attached.get("AttachedPolicies", [])]


def _only_our_policies(iam: Any, role_name: str) -> bool:
    """Whether the role has no permissions but the portal's own inline policy: a role tagged as
    ours that carries more is not adopted, so the portal never holds more than read access."""
    inline, attached = _role_policies(iam, role_name)
    return set(inline) <= {policies.INLINE_POLICY_NAME} and not attached


def _owner(role: dict[str, Any]) -> str | None:
    return next((t.get("Value") for t in role.get("Tags", []) if t.get("Key") == policies.OWNER_TAG), None)


def delete_role(creds: Credentials, *, role_name: str, owner: str) -> str:
    """Delete a role and its inline policies, only when its `cloudmsp:managed-by` tag is `owner`.
    Returns "deleted", "gone" (no such role) or "not_ours" (left in place)."""
    iam = client("iam", creds)
    try:
        role = call("Read the role's tags", lambda: iam.get_role(RoleName=role_name))
    except AwsError as exc:
        if exc.code == "NoSuchEntity":
            return "gone"
        raise
    if _owner(role["Role"]) != owner:
        return "not_ours"
    inline, attached = _role_policies(iam, role_name)
    for name in inline:
        call(
            "Delete the role's inline policy",
            partial(iam.delete_role_policy, RoleName=role_name, PolicyName=name),
        )
    for arn in attached:
        call("Detach a policy", partial(iam.detach_role_policy, RoleName=role_name, PolicyArn=arn))
    try:
        call("Delete the role", lambda: iam.delete_role(RoleName=role_name))
    except AwsError as exc:
        if exc.code == "NoSuchEntity":
            return "gone"
        raise
    return "deleted"
