"""The documents the portal asks administrators to create: the trust policy, the project's own
least-privilege inline policies, and the CloudFormation templates that create the role (in one
account, or as a StackSet in every member account of an organization)."""

from __future__ import annotations

import json
from typing import Any

import yaml

# Read-only access for a member or stand-alone account: enough to identify the account, read
# its own role, and read cost and inventory data. No write permission, no data-plane access.
READ_ONLY_ACTIONS = [
    "sts:GetCallerIdentity",
    "iam:GetRole",
    "iam:ListAccountAliases",
    "account:GetContactInformation",
    "ce:GetCostAndUsage",
    "ce:GetDimensionValues",
    "ce:GetTags",
    "cur:DescribeReportDefinitions",
    "tag:GetResources",
    "ec2:DescribeRegions",
    "ec2:DescribeInstances",
    "rds:DescribeDBInstances",
    "s3:ListAllMyBuckets",
    "cloudwatch:GetMetricData",
]

# A management (payer) account additionally lets the portal read the organization and, for
# automatic onboarding, assume the organization access role in member accounts.
MANAGEMENT_EXTRA_ACTIONS = [
    "organizations:DescribeOrganization",
    "organizations:DescribeAccount",
    "organizations:DescribeOrganizationalUnit",
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListParents",
    "organizations:ListRoots",
    "organizations:ListTagsForResource",  # the accounts' tags, for the assignment rules
]

INLINE_POLICY_NAME = "CloudMSPReadOnly"
DEFAULT_ROLE_NAME = "CloudMSPAccess"
DEFAULT_ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
OWNER_TAG = "cloudmsp:managed-by"  # on every role the portal creates: installation id:tenant id
CONTROL_TOWER_ROLE = "AWSControlTowerExecution"  # what Control Tower's Account Factory creates instead


def trust_policy(
    *, portal_account_id: str, external_id: str | dict[str, str], partition: str = "aws"
) -> dict[str, Any]:
    """Trust the portal's AWS account, only with this external id (or, in a template, a
    CloudFormation expression that gives it)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{portal_account_id}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def access_policy(
    *, management: bool, org_access_role: str = DEFAULT_ORG_ACCESS_ROLE, partition: str = "aws"
) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {"Sid": "CloudMSPReadOnly", "Effect": "Allow", "Action": READ_ONLY_ACTIONS, "Resource": "*"}
    ]
    if management:
        statements.append(
            {"Sid": "CloudMSPOrganizationRead", "Effect": "Allow", "Action": MANAGEMENT_EXTRA_ACTIONS, "Resource": "*"}
        )
        statements.append(
            {
                "Sid": "CloudMSPOnboardMembers",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                # The organization access role, else Control Tower's (provider._member_access).
                "Resource": [
                    f"arn:{partition}:iam::*:role/{name}"
                    for name in dict.fromkeys([org_access_role, CONTROL_TOWER_ROLE])
                ],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _yaml(template: dict[str, Any]) -> str:
    return str(yaml.safe_dump(template, sort_keys=False, width=10_000, allow_unicode=False))


def _role_resource(*, role_name: str, trust: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": role_name,
            "AssumeRolePolicyDocument": trust,
            "Policies": [{"PolicyName": INLINE_POLICY_NAME, "PolicyDocument": policy}],
        },
    }


def cloudformation_template(
    *,
    portal_account_id: str,
    external_id: str,
    role_name: str = DEFAULT_ROLE_NAME,
    management: bool,
    org_access_role: str = DEFAULT_ORG_ACCESS_ROLE,
) -> str:
    """A CloudFormation template (YAML) creating the role and its inline policy in one account."""
    return _yaml(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "Role that lets the cloudmsp portal read this account (created for cloudmsp).",
            "Resources": {
                "CloudMSPRole": _role_resource(
                    role_name=role_name,
                    trust=trust_policy(portal_account_id=portal_account_id, external_id=external_id),
                    policy=access_policy(management=management, org_access_role=org_access_role),
                )
            },
            "Outputs": {
                "RoleArn": {
                    "Description": "Paste this into cloudmsp",
                    "Value": {"Fn::GetAtt": ["CloudMSPRole", "Arn"]},
                }
            },
        }
    )


def stackset_template(*, portal_account_id: str, external_id_prefix: str, role_name: str = DEFAULT_ROLE_NAME) -> str:
    """A template for a CloudFormation StackSet deployed from the management account to the
    organization (service-managed permissions, automatic deployment): the portal's member role
    in every member account, each requiring its own external id, `<prefix>-<account id>`, which
    is the id the portal gives the organization's members."""
    trust = trust_policy(
        portal_account_id=portal_account_id,
        external_id={"Fn::Sub": member_external_id(external_id_prefix, "${AWS::AccountId}")},
    )
    return _yaml(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "StackSet: the role that lets the cloudmsp portal read each member account of the "
            "organization (created for cloudmsp). Deploy it with service-managed permissions to the "
            "organization's root or OUs, with automatic deployment on, so new accounts get it too.",
            "Resources": {
                "CloudMSPRole": _role_resource(role_name=role_name, trust=trust, policy=access_policy(management=False))
            },
            "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["CloudMSPRole", "Arn"]}}},
        }
    )


def member_external_id(prefix: str, account_id: str) -> str:
    """The external id of a member account, as the StackSet template derives it."""
    return f"{prefix}-{account_id}"


def trust_requires_external_id(document: dict[str, Any] | str, *, external_id: str) -> bool:
    """True when every statement that allows sts:AssumeRole requires exactly this external id."""
    doc: dict[str, Any] = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowing = [s for s in statements if s.get("Effect") == "Allow" and _mentions_assume_role(s.get("Action", []))]
    if not allowing:
        return False
    for s in allowing:
        condition = s.get("Condition", {})
        values = condition.get("StringEquals", {}).get("sts:ExternalId")
        if isinstance(values, list):
            values = values[0] if len(values) == 1 else None
        if values != external_id:
            return False
    return True


def _mentions_assume_role(actions: str | list[str]) -> bool:
    if isinstance(actions, str):
        actions = [actions]
    return any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
