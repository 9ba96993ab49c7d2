"""The local AWS emulator of the demo: moto in server mode on loopback, seeded with an AWS
Organization (a management account and a few dozen members in several OUs) and the role the
portal needs. Account ids are deterministic, so a restarted demo finds the same accounts again.
Demo and tests only: production talks to AWS."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.providers.aws import policies
from cloudmsp.cloud.providers.aws.client import Credentials

MANAGEMENT_ACCOUNT = "111122223333"
PORTAL_ACCOUNT = "123456789012"  # moto's default identity: the portal's own account
PORTAL_ROLE = "CloudMSPPortal"
OUS = {
    "Production": ["Web", "Data"],
    "Development": [],
    "Sandbox": [],
}
TEAMS = ["web", "api", "data", "ml", "billing", "search", "mobile", "ops", "edge"]
ENVIRONMENTS = ["prod", "staging", "dev", "sandbox"]
MEMBER_COUNT = 36
# Members of the demo organization that are not plain ACTIVE accounts created in it, by index.
LIFECYCLE = {5: "SUSPENDED", 11: "PENDING_CLOSURE", 17: "CLOSED", 23: "INVITED", 29: "CONTROL_TOWER"}


def is_emulator(endpoint: str) -> bool:
    from urllib.error import URLError
    from urllib.request import urlopen

    try:
        with urlopen(f"{endpoint}/moto-api/", timeout=2) as response:  # noqa: S310 (loopback http)
            return bool(response.status == 200)
    except (URLError, OSError):
        return False


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


class _Ids:
    """Deterministic member account ids, so that a restarted emulator recreates the same ones."""

    def __init__(self, seed: int = 4566) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (deterministic on purpose, not a secret)

    def __call__(self) -> str:
        return f"{self.rng.randrange(10**11, 10**12):012d}"


# The emulator's administrator: a session of this name assumes any role, as an account's owner
# with its root credentials would set an account up. Only the demo's and the tests' set-up use it;
# the portal's own sessions are checked like AWS checks them.
ADMIN_SESSION = "emulator-admin"
CHAINED_SESSION_LIMIT = 3600


def behave_like_aws_today() -> None:
    """Small patches that make moto answer as AWS does today where the portal depends on it.
    Idempotent; they apply to every moto server of this process (the demo's, the tests').

    - Organizations' account `Status` was retired on 2026-09-09, so it leaves the answers
      (ListAccounts, DescribeAccount, ...), which then carry `State` only.
    - AssumeRole is refused (AccessDenied) unless the role exists and its trust policy lets the
      caller in, with the external id it asks for, and (for a role's session) the caller's own
      policies allow sts:AssumeRole on it; a role chained from another role's session gets at
      most one hour, and no session outlasts the role's MaxSessionDuration.
    - Organizations' ListTagsForResource answers in pages (TAG_PAGE tags, then a NextToken), as
      AWS may: moto gives every tag at once.
    - Organizations' ListAccounts gives each account its `Paths` in the organization
      ("o-.../r-.../ou-.../111122223333/"), as AWS does today: moto has none."""
    import warnings

    _drop_retired_status()
    _page_tags()
    _account_paths()
    _check_assume_role()
    # STS's service model has no AccessDenied shape (AWS answers it all the same).
    warnings.filterwarnings("ignore", message=r".*code AccessDenied does not match an error shape")


def _drop_retired_status() -> None:
    from moto.organizations import models as org_models

    account = org_models.FakeAccount
    if getattr(account, "_cloudmsp_patched", False):
        return
    original = account.describe

    def describe(self: Any) -> dict[str, Any]:
        answer = original(self)
        answer.pop("Status", None)
        return answer

    account.describe = describe  # type: ignore[method-assign]
    account._cloudmsp_patched = True  # type: ignore[attr-defined]


def _account_paths() -> None:
    from moto.organizations import models as org_models

    backend = org_models.OrganizationsBackend
    if getattr(backend, "_cloudmsp_account_paths", False):
        return
    original: Any = backend.list_accounts  # moto's types call them FakeAccounts: they are dicts

    def list_accounts(self: Any, **kwargs: Any) -> Any:
        accounts: list[dict[str, Any]]
        accounts, token = original(self, **kwargs)
        # Only the page's accounts: an organization of 10,000 would otherwise add a dict of them
        # all to every call, a cost of the emulator's own that AWS's answers do not have.
        page = {answer["Id"] for answer in accounts}
        parent_of = {account.id: account.parent_id for account in self.accounts if account.id in page}
        parent_of.update({ou.id: ou.parent_id for ou in self.ou})
        for answer in accounts:
            chain, node = [answer["Id"]], parent_of.get(answer["Id"])
            while node and len(chain) < 10:  # up to the root (OUs nest five deep at most)
                chain.append(node)
                node = parent_of.get(node)
            answer["Paths"] = [f"{self.org.id if self.org else ''}/{'/'.join(reversed(chain))}/"]
        return accounts, token

    backend.list_accounts = list_accounts  # type: ignore[method-assign,assignment]
    backend._cloudmsp_account_paths = True  # type: ignore[attr-defined]


TAG_PAGE = 10


def _page_tags() -> None:
    from moto.organizations import models as org_models

    backend = org_models.OrganizationsBackend
    if getattr(backend, "_cloudmsp_paged_tags", False):
        return
    original = backend.list_tags_for_resource

    def list_tags_for_resource(self: Any, **kwargs: Any) -> dict[str, Any]:
        token = kwargs.pop("NextToken", None) or "0"
        tags = original(self, **kwargs)["Tags"]
        start = int(token) if token.isdigit() else 0
        answer: dict[str, Any] = {"Tags": tags[start : start + TAG_PAGE]}
        if start + TAG_PAGE < len(tags):
            answer["NextToken"] = str(start + TAG_PAGE)
        return answer

    backend.list_tags_for_resource = list_tags_for_resource  # type: ignore[method-assign]
    backend._cloudmsp_paged_tags = True  # type: ignore[attr-defined]


def _check_assume_role() -> None:
    from moto.sts.responses import TokenResponse

    if getattr(TokenResponse, "_cloudmsp_patched", False):
        return
    original = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        if self._get_param("RoleSessionName") != ADMIN_SESSION:
            _refuse_unless_trusted(
                caller_account=self.current_account,
                caller_role=_caller_role(self),
                role_arn=self._get_param("RoleArn") or "",
                external_id=self._get_param("ExternalId"),
                duration=self._get_int_param("DurationSeconds", 3600),
            )
        return original(self)

    TokenResponse.assume_role = assume_role  # type: ignore[method-assign]
    TokenResponse._cloudmsp_patched = True  # type: ignore[attr-defined]


def _caller_role(response: Any) -> str | None:
    """The ARN of the role whose session signed the request, or None for an account's own keys."""
    from moto.sts.models import sts_backends

    backend = sts_backends[response.current_account][response.partition]
    assumed = backend.get_assumed_role_from_access_key(response.get_access_key())
    return None if assumed is None else str(assumed.role_arn)


def _refuse_unless_trusted(
    *, caller_account: str, caller_role: str | None, role_arn: str, external_id: str | None, duration: int
) -> None:
    from moto.sts.exceptions import STSClientError, STSValidationError

    caller = caller_role or f"arn:aws:iam::{caller_account}:user/portal"
    denied = STSClientError(
        "AccessDenied", f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    role = _role_at(role_arn)
    if role is None:
        raise denied
    partition = role_arn.split(":")[1]
    trust = _document(role.assume_role_policy_document)
    principals = {f"arn:{partition}:iam::{caller_account}:root", caller_account, "*"}
    if caller_role:
        principals.add(caller_role)
    matches = [s for s in _statements(trust) if _names(s, principals) and _conditions_hold(s, external_id)]
    if not any(s.get("Effect") == "Allow" for s in matches) or any(s.get("Effect") == "Deny" for s in matches):
        raise denied
    if caller_role and not _role_may_assume(caller_role, role_arn):
        raise denied
    if caller_role and duration > CHAINED_SESSION_LIMIT:
        raise STSValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    if duration > int(role.max_session_duration or 3600):
        raise STSValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")


def _role_may_assume(caller_role: str, role_arn: str) -> bool:
    """Whether the calling role's own policies (inline and attached) allow sts:AssumeRole on
    `role_arn`: AWS needs both sides, the caller's permission and the target's trust."""
    from fnmatch import fnmatchcase

    role = _role_at(caller_role)
    if role is None:  # a session of a role deleted since
        return False
    documents = [_document(d) for d in role.policies.values()]
    for policy in role.managed_policies.values():
        version = next((v for v in policy.versions if v.is_default), None)
        if version is not None:
            documents.append(_document(version.document))
    for statement in (s for d in documents for s in _statements(d)):
        if statement.get("Effect") != "Allow" or not _allows_assume_role(statement):
            continue
        if any(fnmatchcase(role_arn, pattern) for pattern in _as_list(statement.get("Resource", []))):
            return True
    return False


def _role_at(arn: str) -> Any:
    """The emulator's role object at `arn`, or None when there is no such role."""
    from moto.iam.models import iam_backends

    parts = arn.split(":")
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return None
    try:
        return iam_backends[parts[4]][parts[1]].get_role(parts[5].rsplit("/", 1)[-1])
    except Exception:  # moto's NotFoundException: the role does not exist
        return None


def _document(value: str | dict[str, Any]) -> dict[str, Any]:
    """A policy document as moto keeps it (JSON text or already parsed)."""
    return json.loads(value) if isinstance(value, str) else value


def _allows_assume_role(statement: dict[str, Any]) -> bool:
    """Whether a statement's Action covers sts:AssumeRole (action names are case-insensitive)."""
    return bool({a.lower() for a in _as_list(statement.get("Action", []))} & {"sts:assumerole", "sts:*", "*"})


def _statements(trust: dict[str, Any]) -> list[dict[str, Any]]:
    statements = trust.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names(statement: dict[str, Any], principals: set[str]) -> bool:
    if not _allows_assume_role(statement):
        return False
    principal = statement.get("Principal", {})
    names = _as_list(principal) if principal == "*" else _as_list(principal.get("AWS", []))
    return any(name in principals for name in names)


def _conditions_hold(statement: dict[str, Any], external_id: str | None) -> bool:
    """The sts:ExternalId condition (StringEquals or StringLike; another operator on it is
    refused); conditions on other keys are not modelled."""
    from fnmatch import fnmatchcase

    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if key.lower() != "sts:externalid":
                continue
            if external_id is None:
                return False
            if operator == "StringEquals" and external_id not in _as_list(expected):
                return False
            if operator == "StringLike" and not any(fnmatchcase(external_id, e) for e in _as_list(expected)):
                return False
            if operator not in ("StringEquals", "StringLike"):
                return False  # not modelled: refused, never granted by mistake
    return True


def start(host: str, port: int) -> Any:
    """Start moto in a background thread of this process; returns the server (call .stop())."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.organizations import utils as org_utils

    behave_like_aws_today()
    org_utils.make_random_account_id = _Ids()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


# The emulator's own dummy keys: moto answers them as the portal's account.
_EMULATOR_KEYS = Credentials("testing", "testing", "", datetime.max.replace(tzinfo=UTC))


def _client(endpoint: str, service: str, account: str | None = None) -> Any:
    """A client in `account` of the emulator, through the provider's client factory (the only
    code that imports boto3)."""
    if account in (None, PORTAL_ACCOUNT):
        return aws_client.client(service, _EMULATOR_KEYS, endpoint_url=endpoint)
    sts = aws_client.client("sts", _EMULATOR_KEYS, endpoint_url=endpoint)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{policies.DEFAULT_ORG_ACCESS_ROLE}", RoleSessionName=ADMIN_SESSION
    )["Credentials"]
    assumed = Credentials(
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], _EMULATOR_KEYS.expiration
    )
    return aws_client.client(service, assumed, endpoint_url=endpoint)


# Account lifecycles moto's API cannot produce (it has no invitations, and CloseAccount goes
# straight to SUSPENDED): set on the emulator's own objects, so only for a server running in this
# process (the demo's and the tests').


def _organization(master: str) -> Any:
    from moto.organizations.models import organizations_backends

    return organizations_backends[master]["aws"]


def set_account_state(account_id: str, state: str, *, master: str = MANAGEMENT_ACCOUNT) -> None:
    """Put a member account in a lifecycle `State` (PENDING_CLOSURE, CLOSED, SUSPENDED, ...)."""
    account = _organization(master).get_account_by_id(account_id)
    account.state = account.status = state


def make_invited(endpoint: str, account_id: str, *, master: str = MANAGEMENT_ACCOUNT) -> None:
    """Make a member look invited rather than created: JoinedMethod INVITED and no organization
    access role (an invited account has none unless its owner made one)."""
    _organization(master).get_account_by_id(account_id).joined_method = "INVITED"
    iam = _client(endpoint, "iam", account_id)
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        iam.delete_role(RoleName=policies.DEFAULT_ORG_ACCESS_ROLE)


def move_account(account_id: str, *, source: str, destination: str) -> None:
    """Move a member from the organization of `source` to that of `destination` (as leaving one
    and accepting the other's invitation would), into its root, as an invited account."""
    from moto.organizations.models import organizations_backends

    old, new = _organization(source), _organization(destination)
    account = old.get_account_by_id(account_id)
    old.accounts.remove(account)
    account.organization_id, account.master_account_id = new.org.id, new.org.master_account_id
    account.parent_id, account.joined_method = new.org.root_id, "INVITED"
    new.accounts.append(account)
    organizations_backends.master_accounts[account_id] = (destination, "aws")


@dataclass
class SeededOrg:
    management_id: str
    members: list[str] = field(default_factory=list)
    created: bool = False


def seed_organization(endpoint: str, *, members: int = MEMBER_COUNT) -> SeededOrg:
    """Create the demo organization unless it exists."""
    org = _client(endpoint, "organizations", MANAGEMENT_ACCOUNT)
    try:
        org.describe_organization()
    except org.exceptions.AWSOrganizationsNotInUseException:
        pass
    else:
        ids = [a["Id"] for a in org.list_accounts()["Accounts"] if a["Id"] != MANAGEMENT_ACCOUNT]
        return SeededOrg(MANAGEMENT_ACCOUNT, ids)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    parents: list[str] = [root]
    for name, children in OUS.items():
        ou = org.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]["Id"]
        parents.append(ou)
        for child in children:
            parents.append(org.create_organizational_unit(ParentId=ou, Name=child)["OrganizationalUnit"]["Id"])
    seeded = SeededOrg(MANAGEMENT_ACCOUNT, created=True)
    for i in range(members):
        name = f"{TEAMS[i % len(TEAMS)]}-{ENVIRONMENTS[(i // len(TEAMS)) % len(ENVIRONMENTS)]}"
        extra = {"RoleName": policies.CONTROL_TOWER_ROLE} if LIFECYCLE.get(i) == "CONTROL_TOWER" else {}
        status = org.create_account(Email=f"aws+{name}@demo-msp.example", AccountName=name, **extra)[
            "CreateAccountStatus"
        ]
        account_id = status["AccountId"]
        target = parents[i % len(parents)]
        if target != root:
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=target)
        seeded.members.append(account_id)
    _seed_lifecycles(endpoint, org, seeded.members)
    return seeded


def _seed_lifecycles(endpoint: str, org: Any, members: list[str]) -> None:
    """A few members as real organizations have them: closed, suspended, invited (LIFECYCLE)."""
    for index, kind in LIFECYCLE.items():
        if index >= len(members):
            continue
        account_id = members[index]
        if kind == "SUSPENDED":
            org.close_account(AccountId=account_id)
        elif kind == "INVITED":
            make_invited(endpoint, account_id)
        elif kind != "CONTROL_TOWER":
            set_account_state(account_id, kind)


def ensure_role(
    endpoint: str, account_id: str, role_name: str, external_id: str, *, management: bool, owner: str = ""
) -> str:
    """Create (or re-create after a restart) a role the portal can assume in `account_id`; with
    `owner`, tagged as the portal's own (cloudmsp:managed-by)."""
    iam = _client(endpoint, "iam", account_id)
    arn = f"arn:aws:iam::{account_id}:role/{role_name}"
    try:
        iam.get_role(RoleName=role_name)
        return arn
    except iam.exceptions.NoSuchEntityException:
        pass
    trust = policies.trust_policy(portal_account_id=PORTAL_ACCOUNT, external_id=external_id)
    tags = [{"Key": policies.OWNER_TAG, "Value": owner}] if owner else []
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tags)
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName=policies.INLINE_POLICY_NAME,
        PolicyDocument=json.dumps(policies.access_policy(management=management)),
    )
    return arn


def delete_role(endpoint: str, account_id: str, role_name: str) -> bool:
    """Delete a role (and its inline policies) in `account_id`, as a customer might by mistake.
    False when there was no such role."""
    iam = _client(endpoint, "iam", account_id)
    try:
        names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    except iam.exceptions.NoSuchEntityException:
        return False
    for name in names:
        iam.delete_role_policy(RoleName=role_name, PolicyName=name)
    iam.delete_role(RoleName=role_name)
    return True


def add_account(endpoint: str, *, name: str, ou_path: str = "Root", tags: dict[str, str] | None = None) -> str:
    """Create a member account in the demo organization, in the OU at `ou_path` ("Root/Production"),
    as an MSP creating one for a customer would; the portal finds it at its next sync. Returns its
    id. ValueError when there is no such OU."""
    org = _client(endpoint, "organizations", MANAGEMENT_ACCOUNT)
    parent = org.list_roots()["Roots"][0]["Id"]
    for part in [p for p in ou_path.split("/")[1:] if p]:
        children = org.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"]
        found = next((ou["Id"] for ou in children if ou["Name"] == part), None)
        if found is None:
            raise ValueError(f"No OU {part!r} in {ou_path!r}.")
        parent = found
    extra = {"Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]} if tags else {}
    status = org.create_account(Email=f"aws+{name}@demo-msp.example", AccountName=name, **extra)["CreateAccountStatus"]
    account_id = str(status["AccountId"])
    root = org.list_roots()["Roots"][0]["Id"]
    if parent != root:
        org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=parent)
    return account_id
