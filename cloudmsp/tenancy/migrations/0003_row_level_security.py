# Row-level security on every tenant-owned table (PostgreSQL only; a no-op on SQLite).
# See cloudmsp/tenancy/rls.py for the policies and how the application sets the tenant.

from django.db import migrations

from cloudmsp.tenancy.rls import TenantRowLevelSecurity


class Migration(migrations.Migration):

    dependencies = [
        ('tenancy', '0002_tenant_require_admin_2fa'),
        ('users', '0001_initial'),
        ('customers', '0001_initial'),
        ('cloud', '0001_initial'),
        ('audit', '0001_initial'),
    ]

    operations = [
        # A tenant's users see their own tenant's row only.
        TenantRowLevelSecurity('tenancy_tenant', column='id'),
        # System administrators have no tenant: reached only through the bypass.
        TenantRowLevelSecurity('users_user'),
        TenantRowLevelSecurity('customers_customer'),
        TenantRowLevelSecurity('cloud_cloudaccount'),
        TenantRowLevelSecurity('cloud_job'),
        # Installation-level events have no tenant: reached only through the bypass.
        TenantRowLevelSecurity('audit_auditevent'),
    ]
