from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("strategies", "0005_signal_producer_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="tradingsignal",
            name="closes_position",
            field=models.BooleanField(default=False),
        ),
    ]
