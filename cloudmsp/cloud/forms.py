from django import forms

from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.services.onboarding import ONBOARD_METHODS
from cloudmsp.core.text import validate_plain_text


class AccountAddForm(forms.Form):
    account_id = forms.CharField(
        label="Account ID",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "123456789012"}),
    )
    # The rules (plain text; the account id's) are the service's, which reports them all at once.
    name = forms.CharField(label="Name", max_length=200)


class AccountEditForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, validators=[validate_plain_text])


class ConnectForm(forms.Form):
    role_arn = forms.CharField(
        label="Role ARN",
        max_length=2048,
        widget=forms.TextInput(
            attrs={"placeholder": "arn:aws:iam::123456789012:role/CloudMSPAccess", "autocomplete": "off"}
        ),
    )


class OnboardForm(forms.Form):
    role_name = forms.CharField(label="Role name", max_length=64, initial=provider_for().default_role_name)
    method = forms.ChoiceField(label="Method", choices=ONBOARD_METHODS, initial="automatic", widget=forms.RadioSelect)
    role_arn = forms.CharField(label="Role ARN (manual method)", max_length=2048, required=False)


class LinkForm(forms.Form):
    customer = forms.TypedChoiceField(label="Select a customer to associate with the accounts", coerce=int)
