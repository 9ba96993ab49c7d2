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


class AssignmentRuleForm(forms.Form):
    """An auto-assignment rule (SPEC 10). The customer and MSP account choices are the tenant's,
    set by the page (`with_choices`); the service checks every field again."""

    name = forms.CharField(label="Name", max_length=200)
    customer = forms.TypedChoiceField(label="Assign to customer", coerce=int)
    priority = forms.IntegerField(
        label="Priority", min_value=0, max_value=1_000_000, initial=100, help_text="Lower runs first; first match wins."
    )
    ou_path_prefix = forms.CharField(
        label="OU path prefix",
        max_length=1000,
        required=False,
        help_text="Accounts in this OU or below it.",
        widget=forms.TextInput(attrs={"placeholder": "Root/Production", "autocomplete": "off"}),
    )
    name_glob = forms.CharField(
        label="Account name pattern",
        max_length=200,
        required=False,
        help_text="* matches any characters, ? one; not case-sensitive.",
        widget=forms.TextInput(attrs={"placeholder": "acme-*", "autocomplete": "off"}),
    )
    email_domain = forms.CharField(
        label="Email domain",
        max_length=253,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "acme.example", "autocomplete": "off"}),
    )
    tag_key = forms.CharField(label="AWS tag key", max_length=128, required=False)
    tag_value = forms.CharField(
        label="AWS tag value", max_length=256, required=False, help_text="Empty: any value of the key."
    )
    management_account = forms.TypedChoiceField(
        label="MSP account", coerce=int, required=False, empty_value=None, help_text="Only its members."
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    override_manual = forms.BooleanField(
        label="Also move accounts already assigned to another customer", required=False
    )

    def with_choices(self, customers: list[tuple[int, str]], msp_accounts: list[tuple[int, str]]) -> None:
        self.fields["customer"].choices = [("", "Choose a customer"), *customers]  # type: ignore[attr-defined]
        self.fields["management_account"].choices = [("", "Any"), *msp_accounts]  # type: ignore[attr-defined]
