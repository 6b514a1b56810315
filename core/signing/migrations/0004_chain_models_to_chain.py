"""The chain indexer's models now belong to the chain app (core/chain, its 0001 takes them
over): the wallets app forgets them, state only, so their tables stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('chain', '0001_initial'),
        ('wallets', '0003_reconciliationrun'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='ChainCursor'),
                migrations.DeleteModel(name='ChainBlock'),
                migrations.DeleteModel(name='ChainLog'),
                migrations.DeleteModel(name='ReconciliationRun'),
            ],
        ),
    ]
