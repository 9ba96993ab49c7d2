# The account id rule moved to the provider (validators are not in the database): no SQL.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cloud', '0004_account_id_ascii_digits'),
    ]

    operations = [
        migrations.AlterField(
            model_name='cloudaccount',
            name='account_id',
            field=models.CharField(max_length=12),
        ),
    ]
