"""The documents the portal asks administrators to create: the trust policy, the project's own
least-privilege inline policies, and a CloudFormation template that creates the role."""

from __future__ import annotations

import json
from typing import Any

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
]

INLINE_POLICY_NAME = "CloudMSPReadOnly"
DEFAULT_ROLE_NAME = "CloudMSPAccess"
DEFAULT_ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
OWNER_TAG = "cloudmsp:managed-by"  # on every role the portal creates: installation id:tenant id
CONTROL_TOWER_ROLE = "AWSControlTowerExecution"  # what Control Tower's Account Factory creates instead


def trust_policy(*, portal_account_id: str, external_id: str, partition: str = "aws") -> dict[str, Any]:
    """Trust the portal's AWS account, only with this external id."""
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
                "Resource": f"arn:{partition}:iam::*:role/{org_access_role}",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def cloudformation_template(
    *, portal_account_id: str, external_id: str, role_name: str = DEFAULT_ROLE_NAME, management: bool
) -> str:
    """A template (JSON, which CloudFormation accepts) creating the role and its inline policy."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Role that lets the cloudmsp portal read this account (created for cloudmsp).",
        "Resources": {
            "CloudMSPRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "AssumeRolePolicyDocument": trust_policy(
                        portal_account_id=portal_account_id, external_id=external_id
                    ),
                    "Policies": [
                        {"PolicyName": INLINE_POLICY_NAME, "PolicyDocument": access_policy(management=management)}
                    ],
                },
            }
        },
        "Outputs": {
            "RoleArn": {"Description": "Paste this into cloudmsp", "Value": {"Fn::GetAtt": ["CloudMSPRole", "Arn"]}}
        },
    }
    return json.dumps(template, indent=2)


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
