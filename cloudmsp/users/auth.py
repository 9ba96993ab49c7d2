from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Email login; users of a disabled tenant, disabled users and users who have not yet set a
    password cannot sign in, and their existing sessions end at their next request."""

    def user_can_authenticate(self, user: Any) -> bool:
        if not getattr(user, "is_active", False):
            return False
        tenant_id = getattr(user, "tenant_id", None)
        return not (tenant_id is not None and not user.tenant.is_active)

    def get_user(self, user_id: int) -> Any:
        from cloudmsp.users.models import User

        try:
            user = User.unscoped.select_related("tenant", "customer").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
