"""Risk limits a trader sets, for a whole account or for one strategy."""

from decimal import Decimal

from django.db import models

FRACTION = {"max_digits": 7, "decimal_places": 6}


class RiskParameters(models.Model):
    """Fractions are of account equity (or of strategy capital at strategy level)."""

    account = models.OneToOneField(
        "trading.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="risk_parameters"
    )
    strategy = models.OneToOneField(
        "strategies.Strategy", null=True, blank=True, on_delete=models.CASCADE, related_name="risk_parameters"
    )
    max_position_size = models.DecimalField(default=Decimal("0.10"), **FRACTION)
    max_portfolio_exposure = models.DecimalField(default=Decimal("1.00"), **FRACTION)
    max_sector_exposure = models.DecimalField(default=Decimal("0.30"), **FRACTION)
    stop_loss_percentage = models.DecimalField(default=Decimal("0.05"), **FRACTION)
    take_profit_percentage = models.DecimalField(default=Decimal("0.10"), **FRACTION)
    max_drawdown = models.DecimalField(default=Decimal("0.20"), **FRACTION)
    daily_loss_limit = models.DecimalField(default=Decimal("0.05"), **FRACTION)
    reserve_buffer = models.DecimalField(
        default=Decimal("0.02"), help_text="Orders reserve notional x (1 + buffer) for slippage", **FRACTION
    )
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
