"""The account's trading state is risk's record now (risk 0005 copied it there)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0004_paper_broker_tif_trailing_bracket"),
        ("risk", "0005_trading_state_owned_by_risk"),
    ]

    operations = [
        migrations.RemoveField(model_name="account", name="trading_state"),
    ]
