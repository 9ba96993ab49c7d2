"""The users' own pages: signing in, activation and password reset, the profile, API tokens and
two-factor authentication. Pages that can show a secret (a new API token, the two-factor secret
being set up, an activation link's page) are sent with `Cache-Control: no-store` (`never_cache`),
so that no browser or proxy cache keeps them."""

from __future__ import annotations

import functools
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cloudmsp.api.throttling import LoginEmailThrottle, LoginIPThrottle, ResetEmailThrottle, ResetIPThrottle
from cloudmsp.core.errors import ApplicationError
from cloudmsp.users import lockout, selectors, services, sessions, signin, tasks, two_factor
from cloudmsp.users.access import user_of
from cloudmsp.users.forms import (
    ApiTokenForm,
    CodeForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    SetPasswordForm,
)
from cloudmsp.users.models import User
from cloudmsp.web.columns import TABLES
from cloudmsp.web.helpers import apply_errors, htmx_redirect, render_htmx, safe_next
from cloudmsp.web.ratelimit import rate_limit


# A plain request rate per email and per address (429), before and apart from the lockout
# after failed passwords.
@method_decorator(rate_limit(LoginIPThrottle, LoginEmailThrottle), name="dispatch")
class LoginView(auth_views.LoginView):
    """Email and password; a user with two-factor authentication then gives a code
    (`login_verify`) before the session is signed in. Failures count towards the lockout."""

    form_class = LoginForm
    template_name = "users/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self, request: HttpRequest | None = None) -> str:
        request = request or self.request
        return safe_next(request, super().get_redirect_url(request))

    def form_valid(self, form: Form) -> HttpResponse:
        user = form.get_user()  # type: ignore[attr-defined]
        if two_factor.has_device(user):
            signin.pending_start(self.request, user=user, next_url=self.get_redirect_url())
            return HttpResponseRedirect(reverse("users:login_verify"))
        return super().form_valid(form)  # type: ignore[arg-type]

    def form_invalid(self, form: Form) -> HttpResponse:
        response = super().form_invalid(form)  # type: ignore[arg-type]
        if getattr(form, "locked", False):
            return _locked(response, form.retry_after)  # type: ignore[attr-defined]
        return response


BACKEND = "cloudmsp.users.auth.EmailBackend"


def _locked(response: HttpResponse, seconds: int) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(seconds)
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code of the user's authenticator app."""
    pending = signin.pending_get(request)
    if pending is None:
        signin.pending_clear(request)
        return redirect("users:login")
    user, next_url = pending
    form = CodeForm(request.POST or None)
    form.fields["code"].widget.attrs["autofocus"] = True
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            attempt = signin.signin_code(request=request, user=user, code=form.cleaned_data["code"])
            if attempt.user is not None:
                signin.pending_clear(request)
                auth_login(request, attempt.user, backend=BACKEND)
                return redirect(next_url)
            if attempt.locked:
                signin.pending_clear(request)
                form.add_error(None, attempt.message)
                response = TemplateResponse(request, "users/login_verify.html", {"form": form, "locked": True})
                return _locked(response, attempt.retry_after)
            form.add_error("code", attempt.message)
    return TemplateResponse(request, "users/login_verify.html", {"form": form}, status=status)


@never_cache
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
@rate_limit(ResetIPThrottle, ResetEmailThrottle)
def forgot_password(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link. The answer is the same for every email, and so is the work done
    before it: the request only hands the email to the task worker, which looks it up and
    sends the link (`services.password_reset_send`)."""
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tasks.password_reset_send.enqueue(email=form.cleaned_data["email"], client_address=lockout.client_ip(request))
        return TemplateResponse(request, "users/forgot_password.html", {"sent": True})
    status = 422 if request.method == "POST" else 200
    return TemplateResponse(request, "users/forgot_password.html", {"form": form}, status=status)


def _profile_initial(user: User) -> dict[str, str]:
    return {"first_name": user.first_name, "last_name": user.last_name, "phone": user.phone}


def _profile_page(request: HttpRequest, *, status: int = 200, partial: str | None = None, **forms: Any) -> HttpResponse:
    """The profile page (or, for htmx, one of its sections) with the given forms filled in."""
    user = user_of(request.user)
    ctx = {
        "form": ProfileForm(initial=_profile_initial(user)),
        "pw_form": PasswordChangeForm(prefix="pw"),
        "token_form": ApiTokenForm(),
        "code_form": CodeForm(),
        "tokens": selectors.api_token_list(actor=user),
        "two_factor": two_factor.state(user),
        "next": reverse("users:profile"),
        **forms,
    }
    return render_htmx(request, "users/profile.html", ctx, partial=partial, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = user_of(request.user)
    form = ProfileForm(request.POST or None, initial=_profile_initial(user))
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
    return _profile_page(request, form=form, status=status)


@never_cache
@require_http_methods(["POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = user_of(request.user)
    pw_form = PasswordChangeForm(request.POST, prefix="pw")
    if pw_form.is_valid():
        try:
            services.password_change(
                actor=user,
                old_password=pw_form.cleaned_data["old_password"],
                new_password=pw_form.cleaned_data["password"],
                keep_session_key=request.session.session_key,
            )
        except ValidationError as exc:
            apply_errors(pw_form, exc)
        else:
            sessions.keep_signed_in(request, user)
            messages.success(
                request, "Your password is changed. Your other sessions are signed out and your API tokens revoked."
            )
            return redirect("users:profile")
    return _profile_page(request, pw_form=pw_form, status=422)


# API tokens -------------------------------------------------------------------------------------


@never_cache
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Create an API token; its secret is in this answer only."""
    user = user_of(request.user)
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.api_token_create(actor=user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _profile_page(request, partial="api_tokens", new_token=token, new_secret=secret)
    return _profile_page(request, partial="api_tokens", token_form=form, status=422)


@never_cache
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """GET: the confirmation; POST: revoke. Only one's own tokens exist here (others are 404)."""
    user = user_of(request.user)
    token = selectors.api_token_get(actor=user, token_id=token_id)
    if request.method == "POST":
        services.api_token_revoke(actor=user, token=token)
        if getattr(request, "htmx", False):
            response = _profile_page(request, partial="api_tokens", revoked=token)
            response["HX-Trigger"] = '{"close-modal": {}}'
            return response
        messages.success(request, f"The API token “{token.name}” is revoked.")
        return htmx_redirect(request, reverse("users:profile"))
    return render_htmx(request, "users/revoke_token.html", {"token": token}, partial="dialog")


# Two-factor authentication ----------------------------------------------------------------------


def _next(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get("next")) or reverse("users:profile")


def _two_factor_page(request: HttpRequest, *, code_form: CodeForm | None = None, status: int = 200) -> HttpResponse:
    user = user_of(request.user)
    ctx = {
        "two_factor": two_factor.state(user),
        "code_form": code_form or CodeForm(),
        "next": reverse("users:two_factor"),
    }
    return TemplateResponse(request, "users/two_factor.html", ctx, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """GET: the state of two-factor authentication; POST: start setting it up (a new secret)."""
    if request.method == "POST":
        try:
            two_factor.two_factor_begin(actor=user_of(request.user))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return htmx_redirect(request, _next(request))
    return _two_factor_page(request)


def _with_code(request: HttpRequest, action: Any, done: str) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            action(actor=user_of(request.user), code=form.cleaned_data["code"])
        except (ValidationError, ApplicationError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done)
            return htmx_redirect(request, _next(request))
    return _two_factor_page(request, code_form=form, status=422)


@never_cache
@require_POST
def two_factor_confirm(request: HttpRequest) -> HttpResponse:
    return _with_code(
        request,
        functools.partial(two_factor.two_factor_confirm, keep_session_key=request.session.session_key),
        "Two-factor authentication is on: signing in now also asks for a code from your app. "
        "Your other sessions are signed out and your API tokens revoked.",
    )


@never_cache
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    return _with_code(request, two_factor.two_factor_remove, "Two-factor authentication is off.")


@never_cache
@require_POST
def columns_choose(request: HttpRequest) -> HttpResponse:
    """Save which optional columns of a table the signed-in user sees (the Columns chooser above
    the table). htmx: an empty answer that makes the table reload itself; otherwise back to the
    page (`next`). An unknown table or column: 400 with the reason."""
    user = user_of(request.user)
    table = request.POST.get("table", "")[:64]
    shown = [value[:64] for value in request.POST.getlist("shown")]
    try:
        services.user_choose_columns(user=user, table=table, shown=shown)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        if getattr(request, "htmx", False):
            return HttpResponse(escape(message), status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    if getattr(request, "htmx", False):
        response = HttpResponse("")
        response["HX-Trigger"] = json.dumps({TABLES[table].event: {}})
        return response
    return htmx_redirect(request, _next(request))
