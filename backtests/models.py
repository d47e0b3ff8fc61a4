"""Persistence of the backtester: uploaded price data, backtest runs and their results, optimizations.

A run's result is stored as the engine hands it out (``BacktestResult.as_dict`` and friends): decimals as
exact strings, times in ISO 8601. Rows belong to one person (``owner``); nobody else sees them.
"""

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    """An uploaded OHLCV series (CSV or Parquet), kept as uploaded once it passed validation."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        PARQUET = "parquet", "Parquet"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtest_datasets")
    name = models.CharField(max_length=100)
    symbol = models.CharField(max_length=16)
    file_format = models.CharField(max_length=8, choices=Format.choices)
    content = models.BinaryField()
    rows = models.PositiveIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    report = models.JSONField(default=dict, help_text="The validation report: frequency and gaps")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.symbol}, {self.rows} rows)"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"
    FAILED = "failed", "Failed"


FINISHED = (Status.COMPLETED, Status.CANCELED, Status.FAILED)


class Source(models.TextChoices):
    SAMPLE = "sample", "Sample data of the backtesting package"
    BARS = "bars", "Stored 1-minute bars"
    DATASET = "dataset", "An uploaded dataset"


class Backtest(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests")
    name = models.CharField(max_length=100, blank=True)
    strategy_type = models.CharField(max_length=20)
    parameters = models.JSONField(default=dict, blank=True)
    strategy = models.ForeignKey(
        "strategies.Strategy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="backtests",
        help_text="The live strategy: its recorded signals (EXTERNAL_AI) and its live fills to compare with",
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    sample = models.CharField(max_length=16, blank=True)
    symbol = models.CharField(max_length=16)
    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="backtests")
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    settings = models.JSONField(default=dict, help_text="Cash, fills, commission, slippage, sizing (as requested)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    bars_done = models.PositiveBigIntegerField(default=0)
    bars_total = models.PositiveBigIntegerField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="Figures, conventions, run log")
    trades = models.JSONField(default=list, blank=True)
    equity = models.JSONField(default=dict, blank=True, help_text="curve: [time, equity, drawdown]; daily curves")
    comparison = models.JSONField(null=True, blank=True, help_text="Live against backtest, when a strategy is named")
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"backtest {self.pk} {self.strategy_type} on {self.symbol} ({self.status})"

    @property
    def progress(self) -> float:
        if self.status == Status.COMPLETED:
            return 1.0
        if not self.bars_total:
            return 0.0
        return min(1.0, self.bars_done / self.bars_total)


class Optimization(models.Model):
    class Method(models.TextChoices):
        GRID = "grid", "Grid"
        RANDOM = "random", "Random"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="optimizations")
    name = models.CharField(max_length=100, blank=True)
    strategy_type = models.CharField(max_length=20)
    method = models.CharField(max_length=8, choices=Method.choices)
    space = models.JSONField(help_text="Each parameter and the values to try")
    fixed = models.JSONField(default=dict, blank=True)
    samples = models.PositiveIntegerField(null=True, blank=True, help_text="Random search: candidates drawn")
    seed = models.IntegerField(default=0)
    metric = models.CharField(max_length=40)
    maximize = models.BooleanField(default=True)
    walk_forward = models.JSONField(default=dict, blank=True, help_text="train, test, step, anchored (bars)")
    heatmap_x = models.CharField(max_length=40, blank=True)
    heatmap_y = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    sample = models.CharField(max_length=16, blank=True)
    symbol = models.CharField(max_length=16)
    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="optimizations")
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    settings = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    candidates_total = models.PositiveIntegerField(default=0)
    candidates_done = models.PositiveIntegerField(default=0)
    invalid = models.JSONField(default=list, blank=True, help_text="Combinations the strategy type refuses")
    ranking = models.JSONField(default=list, blank=True)
    walk_forward_result = models.JSONField(null=True, blank=True)
    heatmap = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"optimization {self.pk} {self.strategy_type} on {self.symbol} ({self.status})"

    @property
    def progress(self) -> float:
        if self.status == Status.COMPLETED:
            return 1.0
        return self.candidates_done / self.candidates_total if self.candidates_total else 0.0


class Candidate(models.Model):
    """One parameter combination of an optimization, evaluated by its own Celery task."""

    optimization = models.ForeignKey(Optimization, on_delete=models.CASCADE, related_name="candidates")
    index = models.PositiveIntegerField()
    parameters = models.JSONField()
    evaluation = models.JSONField(null=True, blank=True, help_text="Over the whole period")
    windows = models.JSONField(default=list, blank=True, help_text="In sample, one per walk-forward window")
    error = models.CharField(max_length=1000, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["optimization", "index"]
        constraints = [models.UniqueConstraint(fields=["optimization", "index"], name="candidate_unique_index")]

    def __str__(self) -> str:
        return f"candidate {self.index} of optimization {self.optimization_id}"
