from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from cloudmsp.users import views
from cloudmsp.users.pages import tenant_admin_pages

urlpatterns = [
    path("login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("activate/<str:uidb64>/<str:token>/", views.activate, name="activate"),
    path("forgot-password/", views.forgot_password, name="forgot_password"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("profile/tokens/", views.token_create, name="token_create"),
    path("profile/tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("profile/two-factor/", views.two_factor_setup, name="two_factor"),
    path("profile/two-factor/confirm/", views.two_factor_confirm, name="two_factor_confirm"),
    path("profile/two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
    path("profile/columns/", views.columns_choose, name="columns"),
    *tenant_admin_pages.urls(),
]
