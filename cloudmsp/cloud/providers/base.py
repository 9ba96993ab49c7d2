"""What the cloud services need from a cloud provider, and nothing more.

The services (`cloud/services/`) and selectors depend on this interface only; a provider package
(`providers/aws/`) implements it and is the only code that talks to the cloud's SDK. Every
result is plain data and every failure a `ProviderError` whose message an administrator can act
on. A new cloud is a new package implementing `Provider`, with its own tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# The code of the ProviderError raised when the management account cannot enter a member (no
# access role there trusts it: typical of an invited account, or one that moved in).
NO_ACCESS_ROLE = "NoAccessRole"


class ProviderError(Exception):
    """A failed step at the cloud. `step` names what the portal was doing ("Assume the role"),
    `message` is for the administrator, `code` is the cloud's own error code when there is one."""

    def __init__(self, step: str, message: str, *, code: str = "") -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.step} failed: {self.message}"


@dataclass(frozen=True)
class RoleCheck:
    """The outcome of checking a role: `step` names the failing check when `ok` is false."""

    ok: bool
    message: str
    step: str = ""


@dataclass(frozen=True)
class RoleToCheck:
    account_id: str
    role_arn: str
    external_id: str
    management: bool = False


@dataclass(frozen=True)
class RoleChecks:
    """Many roles checked at once, in the order asked, with how often credentials were reused."""

    results: list[RoleCheck]
    credentials_reused: int
    assume_role_calls: int


@dataclass(frozen=True)
class ManagementRole:
    """The role of a connected management account, through which member accounts are reached."""

    role_arn: str
    external_id: str
    org_access_role: str


@dataclass(frozen=True)
class CreatedRole:
    """The portal's role in a member account: its ARN, the access role the portal went in with,
    and whether a role of the portal's already there was adopted rather than created."""

    arn: str
    access_role: str
    adopted: bool = False


@dataclass(frozen=True)
class DiscoveredAccount:
    """An account of an organization. `state` is its lifecycle state (AWS: PENDING_ACTIVATION,
    ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED); `joined_method` CREATED or INVITED."""

    account_id: str
    name: str
    email: str
    state: str
    ou_path: str
    joined_method: str = ""
    joined_at: datetime | None = None
    tags: dict[str, str] | None = None  # None: not read (the listing was asked for no tags)


@dataclass(frozen=True)
class Listing:
    """A whole organization, read in full before anything is written."""

    accounts: dict[str, DiscoveredAccount]
    list_accounts_calls: int
    other_calls: int
    warnings: tuple[str, ...] = ()  # what could not be read, the listing being whole all the same


class Provider(Protocol):
    """A cloud the portal manages accounts in."""

    default_role_name: str
    default_org_access_role: str
    fallback_access_role: str  # tried when the organization access role cannot be assumed
    read_only_actions: Sequence[str]

    def validate_account_id(self, value: str) -> None:
        """Raise ValidationError (on `account_id`) unless `value` is an account id of this cloud."""
        ...

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
        """Every check of SPEC 4.1, in order; never raises for what the cloud answers."""
        ...

    def check_roles(self, roles: Sequence[RoleToCheck], *, fresh: bool, concurrency: int) -> RoleChecks:
        """`check_role` for many roles, at most `concurrency` at a time."""
        ...

    def list_organization(
        self,
        *,
        role_arn: str,
        external_id: str,
        progress: Callable[[int], None] | None = None,
        tags: bool = False,
    ) -> Listing:
        """Every account of the organization whose management account's role this is; `progress`
        is called with the number listed so far; with `tags`, each account's tags too. Raises
        ProviderError."""
        ...

    def create_member_role(
        self, *, management: ManagementRole, account_id: str, role_name: str, external_id: str, owner: str
    ) -> CreatedRole:
        """Create the portal's role in a member account, marked as `owner`'s (installation and
        tenant). Raises ProviderError, and leaves nothing behind, when a later step of the
        creation fails or a role of that name that is not `owner`'s is there."""
        ...

    def delete_member_role(self, *, management: ManagementRole, account_id: str, role_name: str, owner: str) -> str:
        """Delete the role when it is marked as `owner`'s: "deleted", "gone" (no such role) or
        "not_ours" (another's role, left in place). Raises ProviderError."""
        ...

    def forget_credentials(self, role_arn: str) -> None:
        """Drop cached credentials of a role whose reference changes or goes."""
        ...

    def member_external_id(self, *, management_external_id: str, account_id: str) -> str:
        """The external id of a member account: derived from its management account's, so that
        one StackSet template (setup document `stackset_template`) serves every member."""
        ...

    def setup_documents(self, *, external_id: str, management: bool, org_access_role: str = ...) -> dict[str, Any]:
        """The documents of the connect and onboard windows (trust and access policies, the
        templates); those naming the portal's own identity are None when it cannot be read,
        with `portal_error` saying why. A management account's policy lets it enter its members
        through `org_access_role` (and the provider's fallbacks)."""
        ...
