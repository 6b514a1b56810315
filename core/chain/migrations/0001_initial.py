"""The chain indexer's models, taken over from the wallets app (now core/signing).

State only: the tables exist already (wallets 0002 and 0003 created them) and keep their
names, so nothing in the database changes. The wallets app forgets the models in its 0004.
Content types follow the models, so admins' permissions on them carry over.
"""

from django.db import migrations, models

MOVED = ("chaincursor", "chainblock", "chainlog", "reconciliationrun")


def content_types_to_chain(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label="chain", model__in=MOVED)
                .values_list("model", flat=True))
    ContentType.objects.filter(app_label="wallets", model__in=set(MOVED) - taken).update(
        app_label="chain")


def content_types_to_wallets(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label="wallets", model__in=MOVED)
                .values_list("model", flat=True))
    ContentType.objects.filter(app_label="chain", model__in=set(MOVED) - taken).update(
        app_label="wallets")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('wallets', '0003_reconciliationrun'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ChainCursor',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('chain_id', models.BigIntegerField(unique=True)),
                        ('next_block', models.BigIntegerField()),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'wallets_chaincursor',
                    },
                ),
                migrations.CreateModel(
                    name='ChainBlock',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('chain_id', models.BigIntegerField()),
                        ('number', models.BigIntegerField()),
                        ('hash', models.CharField(max_length=66)),
                    ],
                    options={
                        'db_table': 'wallets_chainblock',
                        'constraints': [models.UniqueConstraint(fields=('chain_id', 'number'), name='wallets_one_hash_per_block')],
                    },
                ),
                migrations.CreateModel(
                    name='ChainLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('chain_id', models.BigIntegerField()),
                        ('block_number', models.BigIntegerField(db_index=True)),
                        ('block_hash', models.CharField(max_length=66)),
                        ('block_time', models.DateTimeField()),
                        ('tx_hash', models.CharField(db_index=True, max_length=66)),
                        ('log_index', models.PositiveIntegerField()),
                        ('contract', models.CharField(max_length=32)),
                        ('name', models.CharField(db_index=True, max_length=48)),
                        ('args', models.JSONField()),
                        ('applied_at', models.DateTimeField(blank=True, null=True)),
                        ('problem', models.CharField(blank=True, max_length=255)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'wallets_chainlog',
                        'ordering': ['chain_id', 'block_number', 'log_index'],
                        'constraints': [models.UniqueConstraint(fields=('chain_id', 'tx_hash', 'log_index'), name='wallets_log_stored_once')],
                    },
                ),
                migrations.CreateModel(
                    name='ReconciliationRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('started_at', models.DateTimeField(db_index=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('block_number', models.BigIntegerField(blank=True, help_text='Chain state compared: the last indexed block.', null=True)),
                        ('loans_checked', models.PositiveIntegerField(default=0)),
                        ('differences_count', models.PositiveIntegerField(default=0)),
                        ('differences', models.JSONField(blank=True, default=list, help_text='[{loan_id, chain_loan_id, field, lender_id, ledger, chain}], the first few thousand.')),
                        ('ok', models.BooleanField(default=False)),
                    ],
                    options={
                        'db_table': 'wallets_reconciliationrun',
                        'ordering': ['-started_at', '-pk'],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_chain, content_types_to_wallets),
    ]
