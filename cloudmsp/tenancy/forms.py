from django import forms

from cloudmsp.tenancy.models import Tenant


class TenantCreateForm(forms.ModelForm[Tenant]):
    class Meta:
        model = Tenant
        fields = ["name"]

    def validate_unique(self) -> None:
        # Uniqueness is the service's rule (reported on the name field).
        pass


class TenantEditForm(TenantCreateForm):
    class Meta(TenantCreateForm.Meta):
        fields = ["name", "is_active"]
        labels = {"is_active": "Active (its users can sign in)"}
