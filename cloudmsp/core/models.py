from typing import Any, ClassVar

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class DatabaseMaintainedFields(models.Model):
    """A model with fields the database keeps up to date itself (triggers: cloudmsp.core.triggers),
    named in `database_maintained`. A new row gets their defaults; `save()` of a loaded instance
    never writes them back, so a value read before a concurrent change cannot overwrite it."""

    database_maintained: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and not f.generated and f.name not in self.database_maintained
            ]
        super().save(*args, **kwargs)
