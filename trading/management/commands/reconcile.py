import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from trading.services import broker_reconcile


class Command(BaseCommand):
    help = "Compare orders, fills and positions with the broker, repair what can be repaired, print the report."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(broker_reconcile(now=timezone.now()).as_dict()))
