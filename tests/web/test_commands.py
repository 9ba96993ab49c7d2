import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cloudmsp.demo.seed import seed_demo
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User

pytestmark = pytest.mark.django_db


def test_create_sysadmin_is_idempotent(capsys):
    call_command("create_sysadmin", "root@example.com")
    out = capsys.readouterr().out
    assert "Activation link" in out
    call_command("create_sysadmin", "ROOT@example.com")
    assert "already exists" in capsys.readouterr().out
    assert User.unscoped.filter(role=Role.SYSADMIN).count() == 1


def test_create_tenant_with_password_then_again(capsys):
    call_command("create_tenant", "Blue MSP", "--admin", "boss@blue.test", "--password", "a-long-pass-77x")
    call_command("create_tenant", "blue msp", "--admin", "boss@blue.test")
    assert Tenant.objects.count() == 1
    boss = User.unscoped.get(email="boss@blue.test")
    assert boss.check_password("a-long-pass-77x")
    assert "already exists" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "--admin", "a@b.test"], "blank"),
        (["X", "--admin", "not-an-email"], "valid email"),
        (["X", "--admin", "a@b.test", "--password", "short"], "too short"),
    ],
)
def test_create_tenant_fails_clearly_and_leaves_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_tenant", *args)
    assert not Tenant.objects.exists()


def test_create_tenant_refuses_an_email_used_elsewhere():
    call_command("create_sysadmin", "root@example.com")
    with pytest.raises(CommandError, match="another user"):
        call_command("create_tenant", "Y", "--admin", "root@example.com")
    assert not Tenant.objects.exists()


def test_seed_demo_is_idempotent_and_logins_work(client):
    logins = seed_demo()
    seed_demo()
    assert [login.email for login in logins] == ["sysadmin@demo.test", "admin@demo.test", "user@demo.test"]
    assert Tenant.objects.filter(name="Demo MSP").count() == 1
    for login in logins:
        # Through the sign-in page: django-axes checks every sign-in against its request.
        client.post(reverse("users:login"), {"username": login.email, "password": login.password})
        assert "_auth_user_id" in client.session, login.email
        client.post(reverse("users:logout"))
    user = User.unscoped.get(email="user@demo.test")
    assert user.customer.company_name == "Acme Corporation"
