"""Risk limits a trader sets, the engine's own state per scope, the kill switch and stop triggers."""

from decimal import Decimal

from django.db import models

FRACTION = {"max_digits": 7, "decimal_places": 6}
MONEY = {"max_digits": 20, "decimal_places": 6}


class RiskParameters(models.Model):
    """Fractions are of account equity (or of strategy capital at strategy level).

    A strategy's own row replaces the account's for that strategy's orders; a
    limit left empty is off. ``check_actions`` maps a check's code to ``RESIZE``
    to send the largest quantity that passes instead of refusing.
    """

    class MarketHours(models.TextChoices):
        ANY = "ANY", "any time (paper / 24h venues)"
        REGULAR = "REGULAR", "regular session only"
        EXTENDED = "EXTENDED", "regular and extended hours"

    class BreachAction(models.TextChoices):
        REDUCE_ONLY = "REDUCE_ONLY"
        HALTED = "HALTED"
        EMERGENCY_STOP = "EMERGENCY_STOP", "emergency stop (kill switch)"

    account = models.OneToOneField(
        "trading.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="risk_parameters"
    )
    strategy = models.OneToOneField(
        "strategies.Strategy", null=True, blank=True, on_delete=models.CASCADE, related_name="risk_parameters"
    )
    max_position_size = models.DecimalField(default=Decimal("0.10"), **FRACTION)
    max_position_quantity = models.DecimalField(null=True, blank=True, max_digits=20, decimal_places=6)
    max_portfolio_exposure = models.DecimalField(
        default=Decimal("1.00"), help_text="Gross exposure as a fraction of equity", **FRACTION
    )
    max_net_exposure = models.DecimalField(null=True, blank=True, **FRACTION)
    max_sector_exposure = models.DecimalField(default=Decimal("0.30"), **FRACTION)
    max_order_notional = models.DecimalField(null=True, blank=True, **MONEY)
    stop_loss_percentage = models.DecimalField(default=Decimal("0.05"), **FRACTION)
    take_profit_percentage = models.DecimalField(default=Decimal("0.10"), **FRACTION)
    trailing_stop_percentage = models.DecimalField(
        default=Decimal("0"), help_text="0 turns the trailing stop off", **FRACTION
    )
    max_drawdown = models.DecimalField(default=Decimal("0.20"), **FRACTION)
    drawdown_action = models.CharField(max_length=16, choices=BreachAction.choices, default=BreachAction.REDUCE_ONLY)
    daily_loss_limit = models.DecimalField(default=Decimal("0.05"), **FRACTION)
    daily_loss_action = models.CharField(max_length=16, choices=BreachAction.choices, default=BreachAction.HALTED)
    reserve_buffer = models.DecimalField(
        default=Decimal("0.02"), help_text="Orders reserve notional x (1 + buffer) for slippage", **FRACTION
    )
    max_strategy_orders_per_minute = models.PositiveIntegerField(null=True, blank=True, default=60)
    max_account_orders_per_minute = models.PositiveIntegerField(null=True, blank=True, default=600)
    max_price_deviation = models.DecimalField(
        null=True, blank=True, default=Decimal("0.20"), help_text="Price band for limit prices", **FRACTION
    )
    reject_stale_prices = models.BooleanField(
        default=True, help_text="Refuse new orders on a symbol whose market data is stale while a feed runs"
    )
    market_hours = models.CharField(max_length=8, choices=MarketHours.choices, default=MarketHours.ANY)
    restricted_symbols = models.JSONField(default=list, blank=True)
    prevent_self_cross = models.BooleanField(default=True)
    margin_account = models.BooleanField(default=False, help_text="Applies the pattern-day-trader rule")
    check_actions = models.JSONField(default=dict, blank=True, help_text='{"check_code": "RESIZE" | "REJECT"}')
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "risk parameters"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False) ^ models.Q(strategy__isnull=False),
                name="risk_parameters_one_scope",
            )
        ]

    def __str__(self) -> str:
        return f"Risk parameters for {self.account or self.strategy}"


class RiskState(models.Model):
    """The engine's memory per account (strategy null) or per strategy: day start, high-water mark, state."""

    account = models.ForeignKey("trading.Account", on_delete=models.CASCADE, related_name="risk_states")
    strategy = models.OneToOneField(
        "strategies.Strategy", null=True, blank=True, on_delete=models.CASCADE, related_name="risk_state"
    )
    trading_day = models.DateField(null=True, blank=True, help_text="In the exchange's time zone")
    day_start_equity = models.DecimalField(null=True, blank=True, **MONEY)
    high_water_mark = models.DecimalField(null=True, blank=True, **MONEY)
    trading_state = models.CharField(
        max_length=16, default="ACTIVE", help_text="ACTIVE, REDUCE_ONLY or HALTED: the one record of the scope's state"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(strategy__isnull=True), name="risk_state_one_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"Risk state of {self.strategy or self.account}"


class KillSwitch(models.Model):
    """One engagement of the emergency stop; active until released_at is set."""

    class Scope(models.TextChoices):
        GLOBAL = "GLOBAL"
        ACCOUNT = "ACCOUNT"
        STRATEGY = "STRATEGY"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    account = models.ForeignKey(
        "trading.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="kill_switches"
    )
    strategy = models.ForeignKey(
        "strategies.Strategy", null=True, blank=True, on_delete=models.PROTECT, related_name="kill_switches"
    )
    flatten = models.BooleanField(default=False)
    engaged_by = models.CharField(max_length=150)
    engaged_at = models.DateTimeField()
    reason = models.CharField(max_length=500)
    released_by = models.CharField(max_length=150, blank=True)
    released_at = models.DateTimeField(null=True, blank=True, db_index=True)
    release_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "kill switches"

    def __str__(self) -> str:
        target = {"GLOBAL": "all accounts", "ACCOUNT": self.account, "STRATEGY": self.strategy}[self.scope]
        state = "released" if self.released_at else "ENGAGED"
        return f"Kill switch {self.scope} {target}: {state}"

    @property
    def is_engaged(self) -> bool:
        return self.released_at is None


class StopTrigger(models.Model):
    """A stop-loss / take-profit / trailing breach acted on; unique per position life, so it fires once."""

    class Kind(models.TextChoices):
        STOP_LOSS = "STOP_LOSS"
        TAKE_PROFIT = "TAKE_PROFIT"
        TRAILING_STOP = "TRAILING_STOP"

    position = models.ForeignKey("trading.Position", on_delete=models.CASCADE, related_name="stop_triggers")
    # Every stop kind closes the same position, so one breach per position life: the key is (position, opened_at).
    position_opened_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    trigger_price = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY)
    order = models.ForeignKey("trading.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    triggered_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["position", "position_opened_at"], name="stop_trigger_once_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.position_id} at {self.price}"
