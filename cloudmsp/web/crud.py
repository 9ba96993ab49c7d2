"""The page pattern of help page 004, written once: a list with search, sort and pagination; a
"+" button opening a create dialog; a name that opens a details panel on the right with an edit
mode; a trash can icon that asks before deleting. Each entity subclasses `PanelCrud` and says
what it lists and which services it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods

from cloudmsp.core.concurrency import hold_version, version_of
from cloudmsp.core.errors import ApplicationError, ConflictError
from cloudmsp.web.helpers import (
    PER_PAGE_CHOICES,
    apply_errors,
    htmx_redirect,
    list_params,
    paginate,
    render_htmx,
)

Scope = dict[str, Any]


class PanelCrud[M: Model]:
    #: URL names are `<prefix>list`, `<prefix>detail`, ... inside the app's namespace.
    namespace: ClassVar[str]
    name_prefix: ClassVar[str] = ""
    #: Path below the app's root, e.g. "customers/" or "customers/<id:customer_id>/users/".
    route: ClassVar[str]
    pk_kwarg: ClassVar[str]
    template: ClassVar[str]
    event: ClassVar[str]
    label: ClassVar[str]  # "customers"
    singular: ClassVar[str]  # "customer"
    section: ClassVar[str]
    orderings: ClassVar[dict[str, Any]]
    default_ordering: ClassVar[str]
    form_class: ClassVar[type[forms.BaseForm]]
    create_form_class: ClassVar[type[forms.BaseForm] | None] = None
    create_note: ClassVar[str] = ""

    # What each entity says --------------------------------------------------------------
    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:  # noqa: ARG002 (a hook)
        """Resolve parent objects from the URL (raising NotFound when out of reach)."""
        return {}

    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        raise NotImplementedError

    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> M:
        raise NotImplementedError

    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[M, dict[str, Any]]:
        """Create; returns the object and extra context for the details panel."""
        raise NotImplementedError

    def update(self, request: HttpRequest, scope: Scope, obj: M, data: dict[str, Any]) -> M:
        raise NotImplementedError

    def delete(self, request: HttpRequest, scope: Scope, obj: M) -> None:
        raise NotImplementedError

    def delete_impact(self, obj: M) -> list[str]:  # noqa: ARG002 (a hook)
        """Sentences saying what goes with the object, shown in the confirmation."""
        return []

    def make_form(self, request: HttpRequest, form_class: type[forms.BaseForm], **kwargs: Any) -> forms.BaseForm:  # noqa: ARG002 (a hook)
        """The form of a create or edit panel (a hook for forms whose choices depend on the user)."""
        return form_class(**kwargs)

    def initial(self, obj: M) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.form_class.base_fields}  # type: ignore[attr-defined]

    # Plumbing ---------------------------------------------------------------------------
    def url(self, view: str, scope: Scope, obj: M | None = None) -> str:
        kwargs = dict(scope.get("url_kwargs", {}))
        if obj is not None:
            kwargs[self.pk_kwarg] = obj.pk
        return reverse(f"{self.namespace}:{self.name_prefix}{view}", kwargs=kwargs)

    def context(self, request: HttpRequest, scope: Scope, **extra: Any) -> dict[str, Any]:
        params = list_params(request, default_ordering=self.default_ordering, allowed=self.orderings)
        ctx: dict[str, Any] = {
            **scope,
            "crud": self,
            "section": self.section,
            "params": params,
            "per_page_choices": PER_PAGE_CHOICES,
            "list_url": self.url("list", scope),
            "create_url": self.url("create", scope),
            "target": f"{self.singular.replace(' ', '-')}-table",
            "label": self.label,
        }
        if "page" not in extra:
            qs = self.queryset(request, scope, params.search, params.ordering)
            ctx["page"] = paginate(qs, params)
        ctx.update(extra)
        return ctx

    def _detail_context(self, request: HttpRequest, scope: Scope, obj: M, **extra: Any) -> dict[str, Any]:  # noqa: ARG002 (a hook)
        return {
            "object": obj,
            "edit_url": self.url("edit", scope, obj),
            "delete_url": self.url("delete", scope, obj),
            "detail_url": self.url("detail", scope, obj),
            **extra,
        }

    def list_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponseBase:  # a CSV export streams
        scope = self.scope(request, kwargs)
        return render_htmx(request, self.template, self.context(request, scope), partial="table")

    def detail_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        pk = kwargs.pop(self.pk_kwarg)
        scope = self.scope(request, kwargs)
        obj = self.get_object(request, scope, pk)
        detail = self._detail_context(request, scope, obj)
        if getattr(request, "htmx", False):
            return render_htmx(request, self.template, {**scope, "crud": self, **detail}, partial="details")
        return render_htmx(request, self.template, self.context(request, scope, panel="details", **detail))

    def edit_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        pk = kwargs.pop(self.pk_kwarg)
        scope = self.scope(request, kwargs)
        obj = self.get_object(request, scope, pk)
        # The version the form was loaded with travels in a hidden field; saving is refused if
        # someone else changed the object since (update_with_audit), and the panel says so.
        version = version_of(obj.updated_at) if hasattr(obj, "updated_at") else ""
        conflict = ""
        if request.method == "POST":
            form = self.make_form(request, self.form_class, data=request.POST)
            version = request.POST.get("version", "")[:64]
            if form.is_valid():
                try:
                    hold_version(obj, version)
                    obj = self.update(request, scope, obj, form.cleaned_data)
                except ConflictError as exc:
                    conflict = exc.message
                    obj = self.get_object(request, scope, obj.pk)  # as it is now, not as attempted
                except (ValidationError, ApplicationError) as exc:
                    apply_errors(form, exc)
                else:
                    obj = self.get_object(request, scope, obj.pk)
                    if not getattr(request, "htmx", False):
                        return htmx_redirect(request, self.url("detail", scope, obj))
                    return render_htmx(
                        request,
                        self.template,
                        {**scope, "crud": self, **self._detail_context(request, scope, obj, saved=True)},
                        partial="details",
                        trigger={self.event: {}},
                    )
            status = 409 if conflict else 422
        else:
            form = self.make_form(request, self.form_class, initial=self.initial(obj))
            status = 200
        detail = self._detail_context(request, scope, obj, form=form, version=version, conflict=conflict)
        if getattr(request, "htmx", False):
            return render_htmx(
                request, self.template, {**scope, "crud": self, **detail}, partial="edit_form", status=status
            )
        return render_htmx(
            request, self.template, self.context(request, scope, panel="edit_form", **detail), status=status
        )

    def create_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        scope = self.scope(request, kwargs)
        form_class = self.create_form_class or self.form_class
        if request.method == "POST":
            form = self.make_form(request, form_class, data=request.POST)
            if form.is_valid():
                try:
                    obj, extra = self.create(request, scope, form.cleaned_data)
                except (ValidationError, ApplicationError) as exc:
                    apply_errors(form, exc)
                else:
                    obj = self.get_object(request, scope, obj.pk)
                    if not getattr(request, "htmx", False):
                        return htmx_redirect(request, self.url("detail", scope, obj))
                    response = render_htmx(
                        request,
                        self.template,
                        {**scope, "crud": self, **self._detail_context(request, scope, obj, created=True, **extra)},
                        partial="details",
                        trigger={self.event: {}, "close-modal": {}},
                    )
                    response["HX-Retarget"] = "#details-panel"
                    response["HX-Reswap"] = "innerHTML"
                    return response
            status = 422
        else:
            form = self.make_form(request, form_class)
            status = 200
        ctx = {**scope, "crud": self, "form": form, "create_url": self.url("create", scope)}
        if getattr(request, "htmx", False):
            return render_htmx(request, self.template, ctx, partial="create_form", status=status)
        return render_htmx(
            request, self.template, self.context(request, scope, panel="create_form", **ctx), status=status
        )

    def delete_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        pk = kwargs.pop(self.pk_kwarg)
        scope = self.scope(request, kwargs)
        obj = self.get_object(request, scope, pk)
        error = None
        if request.method == "POST":
            done = f"{self.singular[:1].upper()}{self.singular[1:]} “{obj}” deleted."
            try:
                self.delete(request, scope, obj)
            except ApplicationError as exc:
                error = exc.message
            else:
                if not getattr(request, "htmx", False):
                    messages.success(request, done)
                    return htmx_redirect(request, self.url("list", scope))
                # The panel is cleared and the message lands in the flash area (out of band).
                response = render(request, "web/_flash_oob.html", {"message": done})
                response["HX-Retarget"] = "#details-panel"
                response["HX-Reswap"] = "innerHTML"
                response["HX-Trigger"] = f'{{"{self.event}": {{}}, "close-modal": {{}}}}'
                return response
        ctx = {
            **scope,
            "crud": self,
            **self._detail_context(request, scope, obj),
            "impact": self.delete_impact(obj),
            "error": error,
        }
        status = 409 if error else 200
        if getattr(request, "htmx", False):
            return render_htmx(request, "web/confirm_delete.html", ctx, partial="dialog", status=status)
        return render_htmx(request, "web/confirm_delete.html", {**self.context(request, scope), **ctx}, status=status)

    def urls(self) -> list[URLPattern]:
        def view(fn: Callable[..., HttpResponseBase], methods: list[str]) -> Callable[..., HttpResponseBase]:
            return require_http_methods(methods)(fn)

        one = f"{self.route}<id:{self.pk_kwarg}>/"
        p = self.name_prefix
        return [
            path(self.route, view(self.list_view, ["GET"]), name=f"{p}list"),
            path(f"{self.route}new/", view(self.create_view, ["GET", "POST"]), name=f"{p}create"),
            path(one, view(self.detail_view, ["GET"]), name=f"{p}detail"),
            path(f"{one}edit/", view(self.edit_view, ["GET", "POST"]), name=f"{p}edit"),
            path(f"{one}delete/", view(self.delete_view, ["GET", "POST"]), name=f"{p}delete"),
        ]
