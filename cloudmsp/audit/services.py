"""The one place audit events are written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Expression, F, Value
from django.db.models.functions import Cast
from django.utils import timezone

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.core.queries import insert_select
from cloudmsp.tenancy.access import Actor


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of `fields` on `instance`, ready to compare with `changes_between`."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field whose value differs."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    obj: models.Model | None = None,
    tenant_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    message: str = "",
) -> AuditEvent:
    """Write one audit event. Call it inside the transaction of the change it records, so that
    both are kept or neither is. The tenant defaults to the object's, then to the actor's."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
        if tenant_id is None:
            tenant_id = getattr(obj, "tenant_id", None)
    if tenant_id is None and actor is not None:
        tenant_id = actor.tenant_id
    return AuditEvent.unscoped.create(
        tenant_id=tenant_id,
        actor_id=actor.pk if actor is not None and actor.pk else None,
        actor_email=actor.email if actor is not None else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        object_repr=object_repr[:300],
        changes=dict(changes or {}),
        outcome=outcome,
        message=message,
    )


@dataclass(frozen=True)
class AuditEntry:
    """One event of `audit_record_many`: what it is about, and how it went."""

    obj: models.Model
    object_repr: str = ""  # str(obj) when empty
    changes: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = Outcome.SUCCESS
    message: str = ""


def audit_record_many(*, actor: Actor | None, action: str, tenant_id: int | None, entries: Iterable[AuditEntry]) -> int:
    """`audit_record` for many objects at once: one INSERT per 500 events. Call it inside the
    transaction of the changes it records. Returns how many events were written."""
    events = [
        AuditEvent(
            tenant_id=tenant_id,
            actor_id=actor.pk if actor is not None and actor.pk else None,
            actor_email=actor.email if actor is not None else "",
            action=action,
            object_type=e.obj._meta.model_name or "",
            object_id=str(e.obj.pk)[:64],
            object_repr=(e.object_repr or str(e.obj))[:300],
            changes=dict(e.changes),
            outcome=e.outcome,
            message=e.message,
        )
        for e in entries
    ]
    AuditEvent.unscoped.bulk_create(events, batch_size=500)
    return len(events)


_SELECT_COLUMNS = (
    "created_at",
    "tenant_id",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "outcome",
    "message",
)


def audit_record_each(
    *,
    actor: Actor | None,
    action: str,
    rows: models.QuerySet[Any],
    object_repr: str,
    changes: Expression,
    message: str = "",
) -> int:
    """One event per row of `rows`, built by the database from the rows themselves in a single
    INSERT ... SELECT, whatever their number: `object_repr` names the column shown for each row,
    `changes` is an expression over the row (JSONObject). The tenant is each row's. Call it
    inside the transaction of the change, before the change (it reads the rows as they are).
    Returns how many events were written."""
    now = timezone.now()
    select = rows.annotate(
        a_created_at=Value(now, output_field=models.DateTimeField()),
        a_tenant_id=F("tenant_id"),
        a_actor_id=Value(getattr(actor, "pk", None), output_field=models.BigIntegerField()),
        a_actor_email=Value(getattr(actor, "email", "") or "", output_field=models.CharField()),
        a_action=Value(action, output_field=models.CharField()),
        a_object_type=Value(rows.model._meta.model_name, output_field=models.CharField()),
        a_object_id=Cast("pk", output_field=models.CharField()),
        a_object_repr=F(object_repr),
        a_changes=changes,
        a_outcome=Value(Outcome.SUCCESS.value, output_field=models.CharField()),
        a_message=Value(message, output_field=models.CharField()),
    ).values(*(f"a_{c}" for c in _SELECT_COLUMNS))
    return insert_select(AuditEvent, _SELECT_COLUMNS, select)


def audit_denied(*, actor: Actor | None, action: str, message: str, target: str = "") -> None:
    """Record a refused attempt. Called after the refused request's transaction has ended."""
    if actor is None or not actor.is_authenticated:
        return
    audit_record(
        actor=actor,
        action=action,
        object_repr=target[:300],
        outcome=Outcome.DENIED,
        message=message,
    )


def update_with_audit(
    *,
    actor: Actor | None,
    obj: models.Model,
    values: Mapping[str, Any],
    fields: Iterable[str],
    action: str,
    field_for_code: Mapping[str, str] | None = None,
    unique_field: str = "",
    duplicate_message: str = "",
    audit: Mapping[str, Any] | None = None,
    after_save: Callable[[dict[str, list[Any]]], None] | None = None,
) -> dict[str, list[Any]]:
    """The update every service does: set `values`, validate the model (constraint errors on
    their field), and when anything among `fields` changed, save just those columns and record
    the before/after in one transaction (`after_save` runs inside it). A unique constraint lost
    to a concurrent request becomes a ValidationError on `unique_field`. Returns the changes.

    Never overwrites someone else's change: the save happens only if the row still has the
    version (`updated_at`) that `obj` holds, that is the one loaded, or the one the client saw
    (`cloudmsp.core.concurrency.hold_version`); otherwise ConflictError (409)."""
    from cloudmsp.core.concurrency import refuse_if_changed
    from cloudmsp.core.validation import save_or_conflict, validate_model

    fields = tuple(fields)
    held = getattr(obj, "updated_at", None)
    before = snapshot(obj, fields)
    for key, value in values.items():
        setattr(obj, key, value)
    validate_model(obj, field_for_code=field_for_code)
    changes = changes_between(before, snapshot(obj, fields))
    if not changes:
        return changes

    def save() -> None:
        obj.save(update_fields=[*changes, "updated_at"])

    with transaction.atomic():
        refuse_if_changed(
            obj,
            held,
            f"Someone else changed this {obj._meta.verbose_name} after you loaded it; "
            "reload to see their changes, then try again.",
        )
        if unique_field:
            save_or_conflict(save, field=unique_field, message=duplicate_message)
        else:
            save()
        audit_record(actor=actor, action=action, obj=obj, changes=changes, **(audit or {}))
        if after_save is not None:
            after_save(changes)
    return changes
