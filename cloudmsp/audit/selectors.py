from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.text import capfirst

from cloudmsp.audit.models import AuditEvent
from cloudmsp.tenancy.access import Actor, require_tenant_admin

AUDIT_ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "action": ("action", "-created_at", "-id"),
    "-action": ("-action", "-created_at", "-id"),
    "actor_email": ("actor_email", "-created_at", "-id"),
    "-actor_email": ("-actor_email", "-created_at", "-id"),
}


def audit_event_list(
    *,
    actor: Actor,
    search: str = "",
    ordering: str = "-created_at",
    actor_email: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The audit trail of the actor's tenant, newest first, with optional filters."""
    tenant = require_tenant_admin(actor)
    qs = AuditEvent.objects.for_tenant(tenant)
    if actor_email:
        qs = qs.filter(actor_email__iexact=actor_email.strip())
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(action__icontains=search)
            | Q(actor_email__icontains=search)
            | Q(object_repr__icontains=search)
            | Q(message__icontains=search)
        )
    return qs.order_by(*AUDIT_ORDERINGS.get(ordering, AUDIT_ORDERINGS["-created_at"]))


# The audit log's page: names instead of ids --------------------------------------------------


@dataclass(frozen=True)
class ChangeLine:
    """One changed field of an event, as the audit log shows it."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    """An event with its object type as a label and its changes readable."""

    event: AuditEvent
    object_label: str
    changes: list[ChangeLine]


@cache
def _models_by_name() -> dict[str, type[models.Model]]:
    """The portal's models by model name (what `AuditEvent.object_type` holds)."""
    found: dict[str, type[models.Model]] = {}
    for config in apps.get_app_configs():
        if config.name.startswith("cloudmsp."):
            for model in config.get_models():
                found.setdefault(model._meta.model_name or "", model)
    return found


def _field(model: type[models.Model] | None, name: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _target(model: type[models.Model] | None, name: str) -> type[models.Model] | None:
    """The model whose ids a changed field `name` holds: a foreign key's, or the model of that
    name (`job`: the job started)."""
    field = _field(model, name)
    if field is not None:
        related = field.related_model if field.many_to_one else None
        return related if isinstance(related, type) else None
    return _models_by_name().get(name)


_ACRONYMS = {"arn": "ARN", "aws": "AWS", "id": "ID", "ou": "OU", "url": "URL"}


def _label(words: str) -> str:
    """A field's name as a label: "role arn" -> "Role ARN"."""
    return capfirst(" ".join(_ACRONYMS.get(w.lower(), w) for w in words.split(" ")))


def _object_label(object_type: str) -> str:
    model = _models_by_name().get(object_type)
    if model is not None:
        return capfirst(str(model._meta.verbose_name))
    return capfirst(object_type.replace("_", " "))


def _names(wanted: dict[type[models.Model], set[int]], tenant_id: int) -> dict[tuple[type[models.Model], int], str]:
    """One query per model: the name of every id wanted, within the tenant."""
    names: dict[tuple[type[models.Model], int], str] = {}
    for model, ids in wanted.items():
        qs = model._base_manager.filter(pk__in=ids)
        if _field(model, "tenant") is not None:
            qs = qs.filter(tenant_id=tenant_id)
        names.update({(model, obj.pk): str(obj) for obj in qs})
    return names


def _text(value: Any, field: models.Field[Any, Any] | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def audit_rows(events: Iterable[AuditEvent], *, tenant_id: int) -> list[AuditRow]:
    """The events of a page of the audit log, readable: the object type as a label, each
    changed field by its label, choices by their label, and the ids a change holds (a customer,
    a job) by the name of what they point at, "#id (deleted)" when it is gone. A fixed number
    of queries whatever the page's size: one per kind of object pointed at."""
    events = list(events)
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    for event in events:
        model = _models_by_name().get(event.object_type)
        for name, pair in _pairs(event):
            target = _target(model, name)
            if target is not None:
                wanted[target].update(v for v in pair if _is_id(v))
    names = _names(wanted, tenant_id)

    def shown(model: type[models.Model] | None, name: str, value: Any) -> str:
        target = _target(model, name)
        if target is not None and _is_id(value):
            return names.get((target, value), f"#{value} (deleted)")
        return _text(value, _field(model, name))

    rows = []
    for event in events:
        model = _models_by_name().get(event.object_type)
        lines = []
        for name, pair in _pairs(event):
            field = _field(model, name)
            label = _label(str(field.verbose_name) if field is not None else name.replace("_", " "))
            lines.append(ChangeLine(label, shown(model, name, pair[0]), shown(model, name, pair[1])))
        rows.append(AuditRow(event=event, object_label=_object_label(event.object_type), changes=lines))
    return rows


def _pairs(event: AuditEvent) -> list[tuple[str, tuple[Any, Any]]]:
    """(field, (before, after)) of an event's changes; a value that is not a pair is an after."""
    changes = event.changes if isinstance(event.changes, dict) else {}
    out = []
    for name, pair in changes.items():
        if isinstance(pair, list) and len(pair) == 2:
            out.append((str(name), (pair[0], pair[1])))
        else:
            out.append((str(name), (None, pair)))
    return out
