"""ADMINISTRATION > Webhooks and the delivery log, and each administrator's email preferences."""

from __future__ import annotations

from typing import Any, override

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloudmsp.core.errors import ApplicationError
from cloudmsp.notifications import selectors, services
from cloudmsp.notifications.forms import EmailPreferencesForm, WebhookForm
from cloudmsp.notifications.models import EMAIL_KINDS, DeliveryState, EventType, Webhook
from cloudmsp.tenancy.access import actor_of, require_tenant_admin
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.crud import PanelCrud, Scope
from cloudmsp.web.helpers import list_context, list_filter, list_params, render_htmx
from cloudmsp.web.ratelimit import rate_limit


class WebhookPages(PanelCrud[Webhook]):
    namespace = "notifications"
    name_prefix = "webhook_"
    route = "webhooks/"
    pk_kwarg = "webhook_id"
    template = "notifications/webhooks.html"
    event = "webhooks-changed"
    label = "webhooks"
    singular = "webhook"
    section = "administration"
    orderings = selectors.WEBHOOK_ORDERINGS
    default_ordering = "created_at"
    form_class = WebhookForm
    create_note = "The signing secret is shown once, after you create the webhook."

    @override
    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
        require_tenant_admin(actor_of(request.user))
        return {}

    @override
    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        return selectors.webhook_list(actor=actor_of(request.user), search=search, ordering=ordering)

    @override
    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> Webhook:
        return selectors.webhook_get(actor=actor_of(request.user), webhook_id=pk)

    @override
    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[Webhook, dict[str, Any]]:
        webhook, secret = services.webhook_create(actor=actor_of(request.user), **data)
        # Shown once, by the details panel that follows (htmx) or the page a browser without
        # JavaScript is redirected to: kept in the session until then.
        request.session[_secret_key(webhook.pk)] = secret
        return webhook, {}

    @override
    def update(self, request: HttpRequest, scope: Scope, obj: Webhook, data: dict[str, Any]) -> Webhook:
        return services.webhook_update(actor=actor_of(request.user), webhook=obj, **data)

    @override
    def delete(self, request: HttpRequest, scope: Scope, obj: Webhook) -> None:
        services.webhook_delete(actor=actor_of(request.user), webhook=obj)

    def delete_impact(self, obj: Webhook) -> list[str]:
        logged = obj.deliveries.count()
        return [f"It gets no more events; its {logged} logged deliver{'y' if logged == 1 else 'ies'} go with it."]

    @method_decorator(never_cache)  # the answer shows the new webhook's secret
    def create_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return super().create_view(request, **kwargs)

    @method_decorator(never_cache)  # after a create without JavaScript, it shows the secret
    def detail_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return super().detail_view(request, **kwargs)

    @override
    def _detail_context(self, request: HttpRequest, scope: Scope, obj: Webhook, **extra: Any) -> dict[str, Any]:
        latest = selectors.delivery_list(actor=actor_of(request.user), webhook=obj.pk)[:5]
        extra.setdefault("secret", request.session.pop(_secret_key(obj.pk), ""))
        event_labels = [EventType(e).label for e in obj.events if e in EventType.values]
        return {**super()._detail_context(request, scope, obj, **extra), "latest": latest, "event_labels": event_labels}


def _secret_key(webhook_id: int) -> str:
    return f"cloudmsp-webhook-secret-{webhook_id}"


webhook_pages = WebhookPages()


@require_POST
@rate_limit("webhook_test")
@tenant_admin_page
def webhook_test(request: HttpRequest, admin: Admin, webhook_id: int) -> HttpResponse:
    webhook = selectors.webhook_get(actor=admin.actor, webhook_id=webhook_id)
    delivery = services.webhook_send_test(actor=admin.actor, webhook=webhook)
    return render_htmx(
        request,
        "notifications/_sent.html",
        {"message": f"Test event sent (delivery {delivery.pk}); its outcome appears in the delivery log."},
        trigger={"webhooks-changed": {}},
    )


@require_GET
@tenant_admin_page
def delivery_log(request: HttpRequest, admin: Admin) -> HttpResponse:
    params = list_params(request, default_ordering="-created_at", allowed=selectors.DELIVERY_ORDERINGS)
    state = list_filter(request, "state", "State", DeliveryState.choices)
    event_type = list_filter(request, "event_type", "Event", EventType.choices)
    webhooks = list(selectors.webhook_list(actor=admin.actor))
    webhook = list_filter(request, "webhook", "Webhook", [(str(w.pk), w.url[:60]) for w in webhooks])
    filters = [state, event_type, webhook]
    qs = selectors.delivery_list(
        actor=admin.actor,
        search=params.search,
        ordering=params.ordering,
        state=state.value,
        event_type=event_type.value,
        webhook=webhook.value,
    )
    context = {
        **list_context(request, params=params, qs=qs, target="delivery-table", label="deliveries", filters=filters),
        "has_webhooks": bool(webhooks),
    }
    return render_htmx(request, "notifications/deliveries.html", context, partial="table")


@require_POST
@rate_limit("webhook_test")
@tenant_admin_page
def delivery_resend(request: HttpRequest, admin: Admin, delivery_id: int) -> HttpResponse:
    delivery = selectors.delivery_get(actor=admin.actor, delivery_id=delivery_id)
    try:
        again = services.delivery_resend(actor=admin.actor, delivery=delivery)
    except ApplicationError as exc:
        return render_htmx(request, "notifications/_sent.html", {"message": exc.message, "error": True}, status=400)
    return render_htmx(
        request,
        "notifications/_sent.html",
        {"message": f"Sent again as delivery {again.pk}."},
        trigger={"deliveries-changed": {}},
    )


@require_http_methods(["GET", "POST"])
@tenant_admin_page
def email_preferences(request: HttpRequest, admin: Admin) -> HttpResponse:
    """Which notification emails this administrator gets (all kinds unless opted out)."""
    saved = False
    if request.method == "POST":
        form = EmailPreferencesForm(request.POST)
        if form.is_valid():
            services.email_preferences_set(actor=admin.actor, wanted=form.cleaned_data["kinds"])
            saved = True
    opted_out = services.email_opt_outs(request.user)
    if request.method != "POST" or saved:
        form = EmailPreferencesForm(initial={"kinds": [k.value for k in EMAIL_KINDS if k.value not in opted_out]})
    status = 200 if request.method != "POST" or saved else 422
    return render_htmx(
        request,
        "notifications/preferences.html",
        {"section": "profile", "form": form, "saved": saved},
        status=status,
    )
