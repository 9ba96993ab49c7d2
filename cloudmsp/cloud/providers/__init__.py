"""The clouds the portal manages accounts in. Services ask `provider_for(account.provider)` and
depend on `base.Provider` only."""

from __future__ import annotations

from cloudmsp.cloud.providers.aws.provider import AwsProvider
from cloudmsp.cloud.providers.base import Provider

_PROVIDERS: dict[str, Provider] = {"aws": AwsProvider()}


def provider_for(name: str = "aws") -> Provider:
    """The provider of accounts whose `provider` column is `name`."""
    return _PROVIDERS[name]
