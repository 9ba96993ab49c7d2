"""The CSV import pages (SPEC 10): upload a file, see its diff (created, changed, unchanged,
errors by line), then Apply.

Apply does not trust the page: the uploaded file is kept server-side, in the cache, under the
user and the kind of import (one pending file each, compressed, for PENDING_SECONDS), with a
random token that the Apply form carries; Apply runs the service again on that file, so it is
validated again against the data as it is then, and all or nothing, and only if it would make
exactly the changes the page showed (the plans' fingerprints match). An expired or replaced
upload asks for the file again. (With several web processes the cache must be shared: Redis,
as production's REDIS_URL sets it.)
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from cloudmsp.core.csvfiles import ImportDiff, ImportRefused
from cloudmsp.core.errors import ConflictError
from cloudmsp.web.helpers import apply_errors, render_htmx

PENDING_SECONDS = 30 * 60
EXPIRED = "This upload has expired or was replaced; upload the file again."
CHANGED = (
    "Someone changed these accounts or customers since the file was checked, so it would no longer "
    "make the changes shown; nothing was applied. Upload the file again to see what it would do now."
)


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, with a header line.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit: int = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(f"The file is larger than {limit // (1024 * 1024)} MB.")
        return upload


class ApplyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


@dataclass(frozen=True)
class ImportPage:
    """One import page: which service runs the file (`service(actor=, data=, dry_run=)`), its
    title, the columns it reads (shown as help) and the page to go back to (a URL name)."""

    kind: str
    title: str
    service: Callable[..., ImportDiff]
    columns: str
    back: str
    back_label: str
    section: str = "administration"

    def _key(self, request: HttpRequest) -> str:
        return f"csv-import:{self.kind}:{getattr(request.user, 'pk', '')}"

    def render(self, request: HttpRequest, actor: Any) -> HttpResponse:
        """GET: the upload form; POST with a file: its diff; POST with a token: apply it."""
        context: dict[str, Any] = {"page": self, "section": self.section, "form": UploadForm()}
        status = 200
        if request.method == "POST" and "token" in request.POST:
            status = self._apply(request, actor, context)
        elif request.method == "POST":
            status = self._check(request, actor, context)
        return render_htmx(request, "web/import.html", context, status=status)

    def _check(self, request: HttpRequest, actor: Any, context: dict[str, Any]) -> int:
        form = UploadForm(request.POST, request.FILES)
        context["form"] = form
        if not form.is_valid():
            return 422
        data = form.cleaned_data["file"].read()
        try:
            diff = self.service(actor=actor, data=data, dry_run=True)
        except ValidationError as exc:
            apply_errors(form, exc)
            return 422
        context["diff"] = diff
        if not diff.error_count:
            token = secrets.token_urlsafe(24)
            pending = {"token": token, "data": zlib.compress(data), "plan": diff.fingerprint}
            cache.set(self._key(request), pending, PENDING_SECONDS)
            context["apply_form"] = ApplyForm(initial={"token": token})
        return 200

    def _apply(self, request: HttpRequest, actor: Any, context: dict[str, Any]) -> int:
        form = ApplyForm(request.POST)
        pending = cache.get(self._key(request))
        if (
            not form.is_valid()
            or not pending
            or not secrets.compare_digest(pending["token"], form.cleaned_data["token"])
        ):
            context["error"] = EXPIRED
            return 409
        data = zlib.decompress(pending["data"])
        try:
            # "Applies exactly these changes": if the data changed since the check, so that the
            # file would now change something else, nothing is applied.
            recheck = self.service(actor=actor, data=data, dry_run=True)
            if recheck.error_count:
                raise ImportRefused(recheck)
            if recheck.fingerprint != pending.get("plan"):
                context["error"] = CHANGED
                return 409
            diff = self.service(actor=actor, data=data, dry_run=False)
        except ImportRefused as exc:
            context["diff"], context["error"] = exc.diff, exc.message
            return 400
        except ConflictError as exc:
            context["error"] = exc.message
            return 409
        except ValidationError as exc:  # e.g. a customer created meanwhile under one of the names
            context["error"] = " ".join(exc.messages)
            return 409
        cache.delete(self._key(request))
        context["diff"] = diff
        return 200
