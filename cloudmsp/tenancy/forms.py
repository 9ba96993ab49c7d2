from cloudmsp.tenancy.models import Tenant
from cloudmsp.web.forms import ServiceModelForm


class TenantCreateForm(ServiceModelForm[Tenant]):
    class Meta:
        model = Tenant
        fields = ["name"]


class TenantEditForm(TenantCreateForm):
    class Meta(TenantCreateForm.Meta):
        fields = ["name", "is_active"]
        labels = {"is_active": "Active (its users can sign in)"}
