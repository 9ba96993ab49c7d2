from django import forms
from django.contrib.auth.forms import AuthenticationForm

from cloudmsp.users.models import User
from cloudmsp.web.forms import ServiceModelForm


class UserCreateForm(ServiceModelForm[User]):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "phone"]


class UserEditForm(UserCreateForm):
    class Meta(UserCreateForm.Meta):
        fields = ["email", "first_name", "last_name", "phone", "is_active"]
        labels = {"is_active": "Active (can sign in)"}


class ProfileForm(ServiceModelForm[User]):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "The email or password is not correct, or the account is not active.",
        "inactive": "This account is disabled.",
    }


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label="New password",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="New password again",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords are not the same.")
        return data


class PasswordChangeForm(SetPasswordForm):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password", "password_again"]


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
