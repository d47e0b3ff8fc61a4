"""Persistence for strategies and the signals their producers send."""

from django.conf import settings
from django.db import models

from strategies.core.generators import STRATEGY_TYPES
from strategies.core.lifecycle import StrategyStatus
from trading.models import MONEY, QUANTITY


class Strategy(models.Model):
    # The types and statuses are the pure core's (strategies.core.generators, strategies.core.lifecycle).
    StrategyType = models.TextChoices("StrategyType", [(name, name) for name in STRATEGY_TYPES])
    Status = models.TextChoices("Status", [(s.value, s.value) for s in StrategyStatus])

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="strategies")
    account = models.ForeignKey("trading.Account", on_delete=models.PROTECT, related_name="strategies")
    name = models.CharField(max_length=64)
    strategy_type = models.CharField(max_length=20, choices=StrategyType.choices)
    configuration = models.JSONField(default=dict, blank=True)
    capital = models.DecimalField(**MONEY)
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # The number of the StrategyVersion now in force; orders, signals and trades record the one that made them.
    version = models.PositiveIntegerField(default=1)
    performance_metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deployed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Deleting keeps the row (its signals, orders and events point at it and are the audit trail): it is
    # marked deleted, leaves every list and frees its name.
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=models.Q(deleted_at__isnull=True),
                name="strategy_unique_name_per_owner",
            )
        ]

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
    # The producer as the Strategy Analyzer names it when metadata.model is absent: the API key's name (or its
    # visible prefix) the signal came through; blank from a person's session or a built-in generator.
    producer_name = models.CharField(max_length=64, blank=True)
    # A built-in generator's exit (strategies.runner): the order closes the strategy's whole position in the
    # symbol, sized to it and with no bracket, whatever the sizing would buy. Never set from REST.
    closes_position = models.BooleanField(default=False)
    strategy_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    violations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["producer", "external_id"], name="signal_unique_per_producer")]

    def __str__(self) -> str:
        return f"{self.external_id} {self.signal_type} {self.symbol}"


class StrategyVersion(models.Model):
    """One configuration of a strategy: version 1 at creation, a new number for every change."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    configuration = models.JSONField(default=dict, blank=True)
    capital = models.DecimalField(**MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200, blank=True)
    # {field: [before, after]} for capital and name, {"parameters": {name: {"before", "after"}}} for parameters.
    diff = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["strategy", "number"]
        constraints = [models.UniqueConstraint(fields=["strategy", "number"], name="strategy_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.strategy} v{self.number}"


class StrategyPerformance(models.Model):
    """The Strategy Analyzer's latest figures for a strategy: metrics and the daily equity curve."""

    strategy = models.OneToOneField(Strategy, on_delete=models.CASCADE, related_name="performance")
    version = models.PositiveIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    # [{"day": "2026-09-01", "equity": "100000.00", "drawdown": "0"}, ...], oldest first.
    equity = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"performance of {self.strategy}"


class StrategyTrade(models.Model):
    """A closed round trip of a strategy (strategies.core.metrics.ClosedTrade), rebuilt from its fills."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="closed_trades")
    version = models.PositiveIntegerField(null=True, blank=True)
    symbol = models.CharField(max_length=16)
    side = models.CharField(max_length=4)
    quantity = models.DecimalField(**QUANTITY)
    entry_at = models.DateTimeField()
    exit_at = models.DateTimeField(db_index=True)
    entry_price = models.DecimalField(**MONEY)
    exit_price = models.DecimalField(**MONEY)
    pnl = models.DecimalField(**MONEY)
    return_fraction = models.DecimalField(max_digits=20, decimal_places=10)
    commission = models.DecimalField(**MONEY)
    model = models.CharField(max_length=128, blank=True)
    confidence = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["exit_at", "id"]

    def __str__(self) -> str:
        return f"{self.strategy} {self.side} {self.quantity} {self.symbol} {self.pnl}"
