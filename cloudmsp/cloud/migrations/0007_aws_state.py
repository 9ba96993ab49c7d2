"""`aws_status` becomes `aws_state`, after the AWS Organizations field it now holds (`State`;
`Status` was retired on 2026-09-09). A rename: no row is rewritten and its index is
rebuilt under its new name."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cloud", "0006_account_state_and_joining"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="cloudaccount", name="cloud_cloud_tenant__a01a22_idx"),
        migrations.RenameField(model_name="cloudaccount", old_name="aws_status", new_name="aws_state"),
        migrations.AddIndex(
            model_name="cloudaccount",
            index=models.Index(fields=["tenant", "aws_state", "account_id"], name="cloud_cloud_tenant__ee52e9_idx"),
        ),
    ]
