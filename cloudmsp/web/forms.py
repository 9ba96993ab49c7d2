from typing import Any

from django import forms


class ServiceModelForm[M: Any](forms.ModelForm[M]):
    """Fields (labels, widgets, per-field validators) come from the model; the model's rules
    (uniqueness, constraints, tenant) are applied once, by the service the view calls with
    `cleaned_data`. So the form builds no instance and runs no model validation itself."""

    def _post_clean(self) -> None:
        pass
