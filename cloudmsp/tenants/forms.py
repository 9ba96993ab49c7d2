from cloudmsp.tenancy.models import Tenant
from cloudmsp.web.forms import ServiceModelForm


class TenantCreateForm(ServiceModelForm[Tenant]):
    class Meta:
        model = Tenant
        fields = ["name"]


class TenantEditForm(TenantCreateForm):
    class Meta(TenantCreateForm.Meta):
        fields = ["name", "is_active", "require_admin_2fa"]
        labels = {
            "is_active": "Active (its users can sign in)",
            "require_admin_2fa": "Require two-factor authentication for its administrators",
        }
