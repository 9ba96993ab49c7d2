from __future__ import annotations

import re
from html import escape as html_escape
from typing import Any

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from cloudmsp.web.columns import TABLES, shown_columns

register = template.Library()

_ICONS = {
    "trash": (
        '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" '
        'stroke="currentColor" stroke-width="2"><path d="M3 6h18M8 6V4h8v2m-9 0 1 14h8l1-14"/></svg>'
    ),
    "dots": (
        '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="currentColor">'
        '<circle cx="12" cy="5" r="2"/><circle cx="12" cy="12" r="2"/><circle cx="12" cy="19" r="2"/></svg>'
    ),
    "copy": (
        '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" '
        'stroke="currentColor" stroke-width="2"><rect x="9" y="9" width="11" height="11" rx="2"/>'
        '<path d="M5 15V5a2 2 0 0 1 2-2h8"/></svg>'
    ),
    "close": (
        '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" '
        'stroke="currentColor" stroke-width="2"><path d="M6 6l12 12M18 6 6 18"/></svg>'
    ),
}


@register.simple_tag
def icon(name: str) -> SafeString:
    return SafeString(_ICONS[name])


def escape_text(value: Any) -> str:
    """`value` as text, HTML-escaped (what django.utils.html.escape does, without its lazy-string
    wrapper: the tables' rows call this for every cell)."""
    return html_escape(str(value))


@register.simple_tag
def copy_button(value: Any, what: str, copy_label: str = "") -> SafeString:
    """A button that copies `value` (app.js, data-copy-text) and says "Copied"; named
    "Copy <what> <value>", or "Copy <copy_label>" when given."""
    # f-strings over escape_text() rather than format_html: a table calls this for every row.
    label, shown = escape_text(copy_label or f"{what} {value}"), escape_text(what)
    return SafeString(
        f'<button type="button" class="copy-button" data-copy-text="{escape_text(value)}" aria-label="Copy {label}" '
        f'title="Copy {shown}">{_ICONS["copy"]}</button>'
    )


@register.simple_tag
def copyable(value: Any, what: str) -> SafeString:
    """A value with a button that copies it (`what`: "account id")."""
    return SafeString(
        f'<span class="copyable"><span class="copy-value">{escape_text(value)}</span>{copy_button(value, what)}</span>'
    )


_PK_SENTINEL = 987654321
_PK_PATHS: dict[tuple[str, Any, str, str], tuple[str, str]] = {}


@register.simple_tag
def url_for_pk(name: str, kwarg: str, pk: int) -> str:
    """reverse(name, kwargs={kwarg: pk}) for the rows of a table: the pattern is reversed once
    (per URLconf and script prefix) and the pk put in its place, which is what reverse() would
    build, at a twentieth of its cost. In a template: `{% url_for_pk "customers:detail" "customer_id" c.pk %}`."""
    key = (get_script_prefix(), get_urlconf(), name, kwarg)
    parts = _PK_PATHS.get(key)
    if parts is None:
        path = reverse(name, kwargs={kwarg: _PK_SENTINEL})
        before, _, after = path.partition(str(_PK_SENTINEL))
        parts = _PK_PATHS[key] = (before, after)
    return f"{parts[0]}{int(pk)}{parts[1]}"


@register.simple_tag(takes_context=True)
def sort_th(context: template.Context, label: str, key: str) -> SafeString:
    """A sortable column header: a link toggling between ascending and descending, announcing
    the current direction through aria-sort."""
    params = context["params"]
    current = params.ordering
    if current == key:
        nxt, aria, arrow = f"-{key}", "ascending", " ▲"
    elif current == f"-{key}":
        nxt, aria, arrow = key, "descending", " ▼"
    else:
        nxt, aria, arrow = key, "none", ""
    request = context["request"]
    query = request.GET.copy()
    query["sort"] = nxt
    query.pop("page", None)
    url = f"{context['list_url']}?{query.urlencode()}"
    return format_html(
        '<th scope="col" aria-sort="{}"><a href="{}" hx-get="{}" hx-target="#{}" hx-swap="outerHTML" '
        'hx-push-url="true">{}{}</a></th>',
        aria,
        url,
        url,
        context["target"],
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def columns_shown(context: template.Context, table: str) -> dict[str, bool]:
    """`{% columns_shown "customers" as cols %}`: each optional column of the table -> whether the
    signed-in user shows it (`{% if cols.email %}`)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return shown_columns(getattr(user, "preferences", None), table)


@register.simple_tag(takes_context=True)
def column_choices(context: template.Context, table: str) -> list[tuple[str, str, bool]]:
    """The column chooser's rows: (key, header, shown) for each optional column of the table."""
    shown = columns_shown(context, table)
    known = TABLES.get(table)
    return [(key, label, shown[key]) for key, label in (known.columns.items() if known else [])]


@register.simple_tag(takes_context=True)
def crud_url(context: template.Context, view: str, obj: Any = None) -> str:
    """The URL of one of the current PanelCrud's views (`detail`, `delete`, ...) for `obj`."""
    scope = {"url_kwargs": context.get("url_kwargs", {})}
    return str(context["crud"].url(view, scope, obj))


@register.filter
def minutes(value: int) -> str:
    """An interval in minutes as people say it: "minute", "15 minutes", "6 hours", "day"."""
    n = int(value)
    for size, unit in ((24 * 60, "day"), (60, "hour")):
        if n and n % size == 0:
            count = n // size
            return unit if count == 1 else f"{count} {unit}s"
    return "minute" if n == 1 else f"{n} minutes"


@register.filter
def failed_first(rows: Any) -> list[Any]:
    """Result rows (dicts with `ok`) with the failures first, each group in its order."""
    rows = list(rows or [])
    return [r for r in rows if not r.get("ok")] + [r for r in rows if r.get("ok")]


@register.filter
def has_required(form: Any) -> bool:
    """Whether a form has a visible required field (its form then says what the asterisk means)."""
    return any(bound.field.required for bound in form.visible_fields())


_BREAK_AFTER = re.compile(r"([/@])")


@register.filter(is_safe=True)
def breakable(value: Any) -> SafeString:
    """Text (an ARN, an email) that may wrap after / and @ but never inside a word."""
    text = escape_text("" if value is None else value)
    return SafeString(f'<span class="breakable">{_BREAK_AFTER.sub(r"\1<wbr>", text)}</span>')
