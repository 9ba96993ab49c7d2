from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from cloudmsp.users import signin
from cloudmsp.users.models import ApiToken, User
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
        "invalid_login": signin.FAILED,
        "inactive": "This account is disabled.",
    }
    #: Set when the email or the address is locked after too many failed attempts.
    locked = False
    retry_after = 0

    def clean(self) -> dict[str, Any]:
        """Check the password through the sign-in service, which counts failures and refuses a
        locked email or address (see cloudmsp.users.signin)."""
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            attempt = signin.signin_password(request=self.request, email=email, password=password)  # type: ignore[arg-type]
            if attempt.locked:
                self.locked, self.retry_after = True, attempt.retry_after
                raise ValidationError(attempt.message, code="locked")
            if attempt.user is None:
                raise self.get_invalid_login_error()
            self.user_cache = attempt.user
            self.confirm_login_allowed(attempt.user)
        return self.cleaned_data


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


class CodeForm(forms.Form):
    """A code from an authenticator app: six digits (spaces allowed, as apps show them)."""

    code = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^\s*[0-9]{3}\s?[0-9]{3}\s*$",
        max_length=20,
        error_messages={"invalid": "Enter the 6-digit code your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )


class ApiTokenForm(ServiceModelForm[ApiToken]):
    class Meta:
        model = ApiToken
        fields = ["name"]
        labels = {"name": "Token name"}
        help_texts = {"name": "What the token is for, such as “billing script”."}
