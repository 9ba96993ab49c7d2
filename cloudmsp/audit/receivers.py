"""The audit app's answers to what the shared bases announce (connected in AuditConfig.ready)."""

from __future__ import annotations

from typing import Any

from cloudmsp.audit.services import audit_denied


def record_access_denied(*, actor: Any, action: str, message: str, target: str = "", **_: Any) -> None:
    """core.signals.access_denied: a refused request of a signed-in user becomes an audit event."""
    audit_denied(actor=actor, action=action, message=message, target=target)
