from django import forms

from cloudmsp.customers.models import Customer
from cloudmsp.customers.services import CUSTOMER_FIELDS
from cloudmsp.web.forms import ServiceModelForm


class CustomerForm(ServiceModelForm[Customer]):
    """Parses and checks field formats; the service applies the rules (uniqueness, tenant)."""

    class Meta:
        model = Customer
        fields = list(CUSTOMER_FIELDS)
        labels = {"zip_code": "Zip", "address2": "Address 2"}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class CustomerQuickForm(CustomerForm):
    """The Create Customer window of the Link to Customer dialog: the four fields only."""

    class Meta(CustomerForm.Meta):
        fields = ["company_name", "first_name", "last_name", "email"]
