from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from cloudmsp.core.errors import ApplicationError
from cloudmsp.users import services
from cloudmsp.users.forms import (
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    SetPasswordForm,
)
from cloudmsp.users.models import User
from cloudmsp.web.helpers import apply_errors


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "users/login.html"
    redirect_authenticated_user = True


@login_not_required
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Set a password from an activation or reset link, then sign in."""
    user = services.user_from_link(uidb64=uidb64, token=token)
    if user is None:
        return TemplateResponse(request, "users/activate.html", {"invalid": True}, status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_set_password_from_link(
                uidb64=uidb64, token=token, password=form.cleaned_data["password"]
            )
        except (ValidationError, ApplicationError) as exc:
            apply_errors(form, exc)
        else:
            auth_login(request, user, backend="cloudmsp.users.auth.EmailBackend")
            messages.success(request, "Your password is set. Welcome to cloudmsp.")
            return redirect("web:home")
    status = 422 if request.method == "POST" else 200
    return TemplateResponse(request, "users/activate.html", {"form": form, "target_user": user}, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"], base_url=request.build_absolute_uri("/"))
        return TemplateResponse(request, "users/forgot_password.html", {"sent": True})
    status = 422 if request.method == "POST" else 200
    return TemplateResponse(request, "users/forgot_password.html", {"form": form}, status=status)


def _profile_initial(user: User) -> dict[str, str]:
    return {"first_name": user.first_name, "last_name": user.last_name, "phone": user.phone}


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(request.POST or None, initial=_profile_initial(user))
    pw_form = PasswordChangeForm(prefix="pw")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.profile_update(actor=user, data=form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("users:profile")
        status = 422
    return TemplateResponse(request, "users/profile.html", {"form": form, "pw_form": pw_form}, status=status)


@require_http_methods(["POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    pw_form = PasswordChangeForm(request.POST, prefix="pw")
    if pw_form.is_valid():
        try:
            services.password_change(
                actor=user,  # type: ignore[arg-type]
                old_password=pw_form.cleaned_data["old_password"],
                new_password=pw_form.cleaned_data["password"],
            )
        except ValidationError as exc:
            apply_errors(pw_form, exc)
        else:
            update_session_auth_hash(request, user)  # type: ignore[arg-type]
            messages.success(request, "Your password is changed.")
            return redirect("users:profile")
    form = ProfileForm(initial=_profile_initial(user))
    return TemplateResponse(request, "users/profile.html", {"form": form, "pw_form": pw_form}, status=422)
