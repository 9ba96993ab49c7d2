"""Role ARNs: `arn:<partition>:iam::<12-digit account>:role/<optional path/>name`."""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}\Z", re.ASCII)
_PATH = re.compile(r"^(/[\x21-\x7e]{1,510})?/\Z", re.ASCII)
MAX_ARN = 2048


class ArnError(ValueError):
    pass


@dataclass(frozen=True)
class RoleArn:
    partition: str
    account_id: str
    path: str
    name: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role{self.path}{self.name}"


def parse_role_arn(value: str, *, account_id: str | None = None) -> RoleArn:
    """Parse a role ARN, refusing anything else with a message that says what is wrong.
    With `account_id`, the ARN must be in that account."""
    text = (value or "").strip()
    if not text:
        raise ArnError("Paste the Role ARN, e.g. arn:aws:iam::123456789012:role/CloudMSPAccess.")
    if len(text) > MAX_ARN or not text.isascii():
        raise ArnError("This is not a Role ARN: it is too long or contains characters an ARN cannot have.")
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ArnError("A Role ARN has the form arn:aws:iam::<account id>:role/<name>.")
    _, partition, service, region, acct, resource = parts
    _check_prefix(partition, service, region, acct, account_id)
    path, name = _role_path_and_name(resource)
    return RoleArn(partition=partition, account_id=acct, path=path, name=name)


def _check_prefix(partition: str, service: str, region: str, acct: str, account_id: str | None) -> None:
    if partition not in PARTITIONS:
        raise ArnError(f"Unknown AWS partition {partition!r}: use aws, aws-cn or aws-us-gov.")
    if service != "iam":
        raise ArnError(f"This is an ARN of the {service!r} service; a Role ARN is an iam ARN.")
    if region:
        raise ArnError("IAM ARNs have no region: the part after iam must be empty (iam::).")
    if not re.fullmatch(r"[0-9]{12}", acct):
        raise ArnError("The account id in the ARN must be exactly 12 digits.")
    if account_id is not None and acct != account_id:
        raise ArnError(f"The ARN is in account {acct}, but this is account {account_id}.")


def _role_path_and_name(resource: str) -> tuple[str, str]:
    if not resource.startswith("role/"):
        raise ArnError("The ARN must name a role (…:role/<name>), not a user or another resource.")
    rest = resource[len("role") :]
    slash = rest.rfind("/")
    path, name = rest[: slash + 1], rest[slash + 1 :]
    if not _PATH.match(path):
        raise ArnError("The role path in the ARN is not valid.")
    if not _ROLE_NAME.match(name):
        raise ArnError("The role name may have up to 64 letters, digits and +=,.@_- characters.")
    return path, name


def role_arn(account_id: str, name: str, *, partition: str = "aws", path: str = "/") -> str:
    return str(RoleArn(partition=partition, account_id=account_id, path=path, name=name))
