"""How HTML views get their actor and its tenant, the way the API's ScopedViewSet does: one
decorator checks the role and hands the view a typed `Admin` (or `Actor`), so no view repeats
the check or reads `request.user` itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from cloudmsp.tenancy.access import Actor, actor_of, require_tenant_admin
from cloudmsp.tenancy.models import Tenant

P = ParamSpec("P")


@dataclass(frozen=True)
class Admin:
    """A tenant administrator at work: who, and in which tenant."""

    actor: Actor
    tenant: Tenant


def tenant_admin_page[**P, R: HttpResponseBase](
    view: Callable[Concatenate[HttpRequest, Admin, P], R],
) -> Callable[Concatenate[HttpRequest, P], R]:
    """The view runs for a tenant administrator only (PermissionDenied otherwise, which the
    pages answer 403 and the audit log records), with `admin` as its second argument."""

    @wraps(view)
    def page(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R:
        actor = actor_of(request.user)
        return view(request, Admin(actor, require_tenant_admin(actor)), *args, **kwargs)

    return page


def signed_in_page[**P](
    view: Callable[Concatenate[HttpRequest, Actor, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """The view runs with the signed-in actor as its second argument, whatever its role."""

    @wraps(view)
    def page(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        return view(request, actor_of(request.user), *args, **kwargs)

    return page
