from __future__ import annotations

from django import forms

from cloudmsp.notifications.models import EMAIL_KINDS, EventType

EVENT_CHOICES = [(t.value, f"{t.value} — {t.label}") for t in EventType if t != EventType.TEST]


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2048,
        help_text="An https:// address that accepts POST requests.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/cloudmsp", "autocomplete": "off"}),
    )
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to get every event.",
    )
    enabled = forms.BooleanField(required=False, initial=True)


class EmailPreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="Email me when",
        choices=[(k.value, k.label) for k in EMAIL_KINDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
