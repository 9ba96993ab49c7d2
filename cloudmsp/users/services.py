"""Writes on users: invitation, activation, profile, disable and delete."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from cloudmsp.audit.services import audit_record, snapshot, update_with_audit
from cloudmsp.core.errors import ApplicationError, NotFound, PermissionDenied
from cloudmsp.core.text import email_key, normalize
from cloudmsp.core.validation import save_or_conflict, validate_model
from cloudmsp.customers.models import Customer
from cloudmsp.customers.selectors import customer_get
from cloudmsp.tenancy.access import Actor, parse_id, require_tenant_admin
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.tenancy.selectors import tenant_get
from cloudmsp.users import sessions, two_factor
from cloudmsp.users.models import ApiToken, User
from cloudmsp.users.tokens import activation_token, activation_url
from cloudmsp.web.columns import TABLES, with_hidden_columns

PROFILE_FIELDS = ("first_name", "last_name", "phone")
EDITABLE_FIELDS = ("email", "first_name", "last_name", "phone", "is_active")
_DUPLICATE = "A user with this email already exists."
_FIELD_FOR_CODE = {"duplicate_email": "email", "role_mismatch": "role"}


def _clean_text(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in fields:
        if key not in data or data[key] is None:
            continue
        value = data[key]
        if isinstance(value, str):
            value = normalize(value)
            if key == "email":
                value = value.lower()
        out[key] = value
    return out


def _send_link(user: User, *, subject: str, intro: str) -> str:
    link = activation_url(user)
    body = (
        f"Hello {user.full_name or user.email},\n\n{intro}\n\n{link}\n\n"
        f"The link expires in {settings.PASSWORD_RESET_TIMEOUT // 3600} hours.\n"
    )
    # Sent only once the user row is committed, so a rolled-back invitation sends nothing.
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return link


def user_create(
    *,
    actor: Actor,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    tenant_id: object = None,
    customer_id: object = None,
    password: str | None = None,
) -> tuple[User, str | None]:
    """Create a user and, unless a password is given, invite it with an activation link, which
    is returned (and emailed). System administrators create tenant administrators of the tenant
    `tenant_id`; tenant administrators create tenant administrators and customer users (of the
    customer `customer_id`) in their own tenant. Ids out of the actor's reach, missing or out of
    place are refused on their field (ValidationError), as is a role the actor may not give."""
    tenant, customer = _placement(actor=actor, role=role, tenant_id=tenant_id, customer_id=customer_id)
    return _create_user(
        actor=actor,
        role=role,
        tenant=tenant,
        customer=customer,
        data={"email": email, "first_name": first_name, "last_name": last_name, "phone": phone},
        password=password,
    )


def _placement(*, actor: Actor, role: str, tenant_id: object, customer_id: object) -> tuple[Tenant, Customer | None]:
    """The tenant and customer a new user goes in, fetched through the access helpers."""
    errors: dict[str, list[str]] = {}
    tenant = _tenant_placement(actor, tenant_id, errors)
    customer: Customer | None = None
    if role == Role.CUSTOMER_USER and not actor.is_sysadmin:
        if customer_id is None:
            errors["customer"] = ["Choose the customer."]
        else:
            try:
                customer = customer_get(actor=actor, customer_id=customer_id)
            except NotFound as exc:
                errors["customer"] = [exc.message]
    elif customer_id is not None:
        # Refused rather than ignored, so a mistaken (or foreign) id never passes silently.
        errors["customer"] = ["Only customer users belong to a customer."]
    if errors:
        raise ValidationError(errors)
    if actor.is_sysadmin and role != Role.TENANT_ADMIN:
        raise ValidationError({"role": ["A system administrator creates tenant administrators."]})
    if not actor.is_sysadmin and role not in (Role.TENANT_ADMIN, Role.CUSTOMER_USER):
        raise ValidationError({"role": ["Choose tenant administrator or customer user."]})
    assert tenant is not None
    return tenant, customer


def _tenant_placement(actor: Actor, tenant_id: object, errors: dict[str, list[str]]) -> Tenant | None:
    """A system administrator names the tenant; a tenant administrator's is its own."""
    if not actor.is_sysadmin:
        tenant = require_tenant_admin(actor)
        if tenant_id not in (None, tenant.pk):
            errors["tenant"] = ["You can only create users in your own tenant."]
        return tenant
    if tenant_id is None:
        errors["tenant"] = ["Choose the tenant."]
        return None
    try:
        return tenant_get(actor=actor, tenant_id=tenant_id)
    except NotFound as exc:
        errors["tenant"] = [exc.message]
        return None


def create_tenant_admin_unchecked(*, tenant: Tenant, email: str, password: str | None) -> tuple[User, str | None]:
    """For operations commands run on the server (no signed-in actor)."""
    return _create_user(
        actor=None, role=Role.TENANT_ADMIN, tenant=tenant, customer=None, data={"email": email}, password=password
    )


def _create_user(
    *,
    actor: Actor | None,
    role: str,
    tenant: Tenant | None,
    customer: Customer | None,
    data: dict[str, Any],
    password: str | None,
) -> tuple[User, str | None]:
    user = User(
        role=role, tenant=tenant, customer=customer, **_clean_text(data, ("email", "first_name", "last_name", "phone"))
    )
    if password:
        _check_password(password, user)
        user.set_password(password)
        user.activated_at = timezone.now()
    else:
        user.set_unusable_password()
    validate_model(user, field_for_code=_FIELD_FOR_CODE)
    link = None
    with transaction.atomic():
        save_or_conflict(user.save, field="email", message=_DUPLICATE)
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            changes={
                k: [None, v]
                for k, v in snapshot(user, ("email", "role", "first_name", "last_name", "customer")).items()
                if v
            },
        )
        if not password:
            link = _send_link(
                user,
                subject="Your cloudmsp account",
                intro="An account was created for you. Set your password here:",
            )
    return user, link


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None


def user_update(*, actor: Actor, user: User, data: dict[str, Any]) -> User:
    """Change email, names, phone or the active flag of a user the actor manages."""
    if user.pk == actor.pk and data.get("is_active") is False:
        raise ValidationError({"is_active": ["You cannot disable yourself."]})

    def disabled(changes: dict[str, list[Any]]) -> None:
        if "is_active" in changes and not user.is_active:
            sessions.end_sessions(user)

    update_with_audit(
        actor=actor,
        obj=user,
        values=_clean_text(data, EDITABLE_FIELDS),
        fields=EDITABLE_FIELDS,
        action="user.update",
        field_for_code=_FIELD_FOR_CODE,
        unique_field="email",
        duplicate_message=_DUPLICATE,
        after_save=disabled,
    )
    return user


def user_delete(*, actor: Actor, user: User) -> None:
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot delete yourself.")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="user.delete",
            obj=user,
            changes={"email": [user.email, None], "role": [user.role, None]},
        )
        sessions.end_sessions(user)
        user.delete()


def user_send_activation(*, actor: Actor, user: User) -> str:
    """Send (again) the activation link of a user who has not yet set a password."""
    if user.activated:
        raise ApplicationError("This user has already set a password; they can use “Forgot password?” instead.")
    if not user.is_active:
        raise ApplicationError("This user is disabled; enable it before sending a new link.")
    with transaction.atomic():
        audit_record(actor=actor, action="user.send_activation", obj=user)
        return _send_link(
            user,
            subject="Your cloudmsp account",
            intro="Here is a new link to set your password:",
        )


def user_from_link(*, uidb64: str, token: str) -> User | None:
    """The user a valid, unexpired activation or reset link is for, or None."""
    try:
        pk = parse_id(force_str(urlsafe_base64_decode(uidb64)))
    except ValueError:  # not base64, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return None
    if pk is None:
        return None
    user = User.unscoped.filter(pk=pk).select_related("tenant").first()
    if user is None or not user.is_active or not activation_token.check_token(user, token):
        return None
    return user


def user_set_password_from_link(*, uidb64: str, token: str, password: str) -> User:
    """Activate (or reset) an account through its link: sets the password, marks the user
    activated, and invalidates the link and every other session of the user."""
    user = user_from_link(uidb64=uidb64, token=token)
    if user is None:
        raise ApplicationError("This link is invalid or has expired. Ask for a new one.")
    _check_password(password, user)
    with transaction.atomic():
        first = user.activated_at is None
        user.set_password(password)
        if first:
            user.activated_at = timezone.now()
        user.save(update_fields=["password", "activated_at", "updated_at"])
        sessions.end_sessions(user)
        audit_record(actor=user, action="user.activate" if first else "user.reset_password", obj=user)
    # Whoever holds the link owns the email: failed sign-ins no longer lock it.
    AxesProxyHandler.reset_attempts(username=email_key(user.email))
    return user


def password_reset_send(*, email: str, client_address: str | None) -> bool:
    """Email a reset link if an active user has this email, and audit the request in the user's
    tenant with no actor (whoever asked is anonymous) and the address it came from. Returns
    whether a link was sent. Run by the task worker (`users.tasks.password_reset_send`), after
    the forgot-password page has answered: the page does the same work for every email, so its
    timing cannot tell which ones have an account."""
    user = User.unscoped.filter(email__iexact=normalize(email), is_active=True).first()
    if user is None:
        return False
    with transaction.atomic():
        audit_record(
            actor=None,
            action="user.forgot_password",
            obj=user,
            message=f"A password reset link was asked for (from {client_address or 'an unknown address'}).",
        )
        _send_link(
            user,
            subject="Reset your cloudmsp password",
            intro="Someone asked to reset your password. If it was you, choose a new one here:",
        )
    return True


def profile_update(*, actor: User, data: dict[str, Any]) -> User:
    """A user's own names and phone."""
    update_with_audit(
        actor=actor,
        obj=actor,
        values=_clean_text(data, PROFILE_FIELDS),
        fields=PROFILE_FIELDS,
        action="user.profile_update",
    )
    return actor


def password_change(*, actor: User, old_password: str, new_password: str, keep_session_key: str | None = None) -> None:
    """Change one's own password. Every other session of the user ends (the one with
    `keep_session_key` stays) and every API token is revoked: whoever knew the old password
    may have made one."""
    if not actor.check_password(old_password):
        raise ValidationError({"old_password": ["Your current password is not correct."]})
    _check_password(new_password, actor)
    with transaction.atomic():
        actor.set_password(new_password)
        actor.save(update_fields=["password", "updated_at"])
        sessions.end_sessions(actor, keep_session_key=keep_session_key)
        audit_record(actor=actor, action="user.password_change", obj=actor)


def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """A new API token of the actor's own, named `name`. The secret is returned this once; only
    its SHA-256 digest is stored. Refused while the actor's tenant requires two-factor
    authentication of them and they have not set it up: a token would outlive the requirement."""
    from cloudmsp.users.authentication import token_issue

    if two_factor.must_enrol(actor):
        raise PermissionDenied(
            "Your organization requires two-factor authentication: set it up before creating API tokens."
        )

    name = normalize(name or "")
    probe = ApiToken(user=actor, name=name, prefix="x", digest="x")
    try:
        probe.full_clean(exclude=["user", "prefix", "digest"])
    except ValidationError as exc:
        raise ValidationError({"name": exc.message_dict.get("name", exc.messages)}) from None
    with transaction.atomic():
        token, secret = token_issue(user=actor, name=name)
        audit_record(actor=actor, action="api_token.create", obj=token, object_repr=f"{token.name} ({token.prefix}…)")
    return token, secret


def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    """Revoke one of the actor's own tokens (fetched with `selectors.api_token_get`)."""
    if token.user_id != actor.pk:
        raise PermissionDenied("You can only revoke your own API tokens.")
    with transaction.atomic():
        audit_record(actor=actor, action="api_token.revoke", obj=token, object_repr=f"{token.name} ({token.prefix}…)")
        token.delete()


def sysadmin_ensure(*, email: str, password: str | None) -> tuple[User, bool, str | None]:
    """For operations commands: create a system administrator unless one has this email
    (idempotent). Returns the user, whether it was created and, without a password, its
    activation link."""
    existing = User.unscoped.filter(email__iexact=normalize(email)).first()
    if existing is not None:
        if not existing.is_sysadmin:
            raise ValidationError({"email": ["This email belongs to a user who is not a system administrator."]})
        return existing, False, None
    user, link = _create_user(
        actor=None, role=Role.SYSADMIN, tenant=None, customer=None, data={"email": email}, password=password
    )
    return user, True, link


def user_choose_columns(*, user: User, table: str, shown: list[str]) -> list[str]:
    """Keep which optional columns of `table` (cloudmsp.web.columns) the user sees: every one
    not in `shown` is hidden from then on, on that user's pages only. Returns the hidden ones.
    ValidationError, with a message to show, for an unknown table or column. Not audited: it
    changes what one user sees, not what anyone may do."""
    known = TABLES.get(table)
    if known is None:
        raise ValidationError(f"There is no table “{table[:50]}” with columns to choose.")
    unknown = [c for c in shown if c not in known.columns]
    if unknown:
        raise ValidationError(f"Unknown column “{unknown[0][:50]}” for this table.")
    hidden = [c for c in known.columns if c not in shown]
    with transaction.atomic():
        # Locked and read again: two pages saving their tables at once keep both choices.
        current = User.unscoped.select_for_update().values_list("preferences", flat=True).get(pk=user.pk)
        prefs = with_hidden_columns(current, table, hidden)
        User.unscoped.filter(pk=user.pk).update(preferences=prefs)
    user.preferences = prefs
    return hidden
