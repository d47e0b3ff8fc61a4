"""The account's trading state moves from trading.Account to risk's RiskState (one owner for every scope)."""

from django.db import migrations, models


def states_copy(apps, schema_editor):
    Account = apps.get_model("trading", "Account")
    RiskState = apps.get_model("risk", "RiskState")
    for account_id, state in Account.objects.values_list("pk", "trading_state"):
        RiskState.objects.update_or_create(account_id=account_id, strategy=None, defaults={"trading_state": state})


def states_restore(apps, schema_editor):
    Account = apps.get_model("trading", "Account")
    RiskState = apps.get_model("risk", "RiskState")
    for account_id, state in RiskState.objects.filter(strategy=None).values_list("account_id", "trading_state"):
        Account.objects.filter(pk=account_id).update(trading_state=state)


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0004_stale_prices_refused_by_default"),
        ("trading", "0004_paper_broker_tif_trailing_bracket"),
    ]

    operations = [
        migrations.AlterField(
            model_name="riskstate",
            name="trading_state",
            field=models.CharField(
                default="ACTIVE",
                help_text="ACTIVE, REDUCE_ONLY or HALTED: the one record of the scope's state",
                max_length=16,
            ),
        ),
        migrations.RunPython(states_copy, states_restore),
    ]
