"""The base of every domain API view: BaseViewSet's authentication, roles, rate limits and list
parameters, with the signed-in actor typed (as tenancy.pages does for the pages)."""

from __future__ import annotations

from cloudmsp.api.base import BaseViewSet
from cloudmsp.tenancy.access import Actor, actor_of


class ScopedViewSet(BaseViewSet):
    @property
    def actor(self) -> Actor:
        return actor_of(self.request.user)
