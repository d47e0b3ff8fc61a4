"""The role groups trader, operations and viewer with their permissions; users that had none become traders."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def roles_create(apps, schema_editor):
    from accounts.roles import OPERATIONS, TRADER, roles_ensure

    # Permissions are made after the last migration; the groups need this app's now.
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True  # a migration's app stub has none; create_permissions asks
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    roles_ensure(apps)
    group_model = apps.get_model("auth", "Group")
    user_model = apps.get_model("auth", "User")
    trader, operations = group_model.objects.get(name=TRADER), group_model.objects.get(name=OPERATIONS)
    # Before roles every signed-in user could trade and staff could operate: they keep what they had.
    for user in user_model.objects.filter(groups__isnull=True):
        user.groups.add(*([trader, operations] if user.is_staff else [trader]))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_keys_expiry_rate_limit_grants"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
