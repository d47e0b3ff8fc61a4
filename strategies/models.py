"""Persistence for strategies and the signals their producers send."""

from django.conf import settings
from django.db import models

from trading.models import MONEY


class Strategy(models.Model):
    class StrategyType(models.TextChoices):
        EXTERNAL_AI = "EXTERNAL_AI", "External AI signals"
        MOMENTUM = "MOMENTUM"
        MEAN_REVERSION = "MEAN_REVERSION"

    class Status(models.TextChoices):
        DRAFT = "DRAFT"
        RUNNING = "RUNNING"
        PAUSED = "PAUSED"
        STOPPED = "STOPPED"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="strategies")
    account = models.ForeignKey("trading.Account", on_delete=models.PROTECT, related_name="strategies")
    name = models.CharField(max_length=64)
    strategy_type = models.CharField(max_length=20, choices=StrategyType.choices)
    configuration = models.JSONField(default=dict, blank=True)
    capital = models.DecimalField(**MONEY)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT, db_index=True)
    performance_metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deployed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "strategies"
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="strategy_unique_name_per_owner")]

    def __str__(self) -> str:
        return self.name


class TradingSignal(models.Model):
    class SignalType(models.TextChoices):
        BUY = "BUY"
        SELL = "SELL"
        HOLD = "HOLD"

    class Status(models.TextChoices):
        RECEIVED = "received"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        EXECUTED = "executed"
        RECORDED = "recorded", "recorded (HOLD: no order)"
        FAILED = "failed", "failed at the broker"

    producer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signals")
    external_id = models.CharField(max_length=128, help_text="The producer's own id, unique per producer")
    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="signals")
    symbol = models.CharField(max_length=16)
    instrument = models.ForeignKey(
        "trading.Instrument", null=True, blank=True, on_delete=models.PROTECT, related_name="signals"
    )
    signal_type = models.CharField(max_length=4, choices=SignalType.choices)
    confidence_score = models.DecimalField(max_digits=7, decimal_places=6)
    target_price = models.DecimalField(null=True, blank=True, **MONEY)
    stop_loss = models.DecimalField(null=True, blank=True, **MONEY)
    take_profit = models.DecimalField(null=True, blank=True, **MONEY)
    position_size = models.DecimalField(max_digits=7, decimal_places=6)
    expires_at = models.DateTimeField()
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    violations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["producer", "external_id"], name="signal_unique_per_producer")]

    def __str__(self) -> str:
        return f"{self.external_id} {self.signal_type} {self.symbol}"
