# A generated column's expression cannot be altered in place: dropped and added again.

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cloud', '0002_search_and_sort_indexes'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='cloudaccount',
            name='search_text',
        ),
        migrations.AddField(
            model_name='cloudaccount',
            name='search_text',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Upper(django.db.models.functions.text.Concat('account_id', models.Value('\n'), 'name', models.Value('\n'), 'email', models.Value('\n'), 'ou_path')), output_field=models.TextField()),
        ),
    ]
