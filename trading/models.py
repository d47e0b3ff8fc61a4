"""Persistence for instruments, accounts, orders, fills, positions and the event log."""

import uuid

from django.conf import settings
from django.db import models

from trading.core.orders import OrderStatus, OrderType, Side

MONEY = {"max_digits": 20, "decimal_places": 6}
QUANTITY = {"max_digits": 20, "decimal_places": 6}


class Instrument(models.Model):
    symbol = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    exchange = models.CharField(max_length=16, default="XNYS", help_text="ISO MIC of the listing exchange")
    sector = models.CharField(max_length=64, db_index=True)
    currency = models.CharField(max_length=3, default="USD")
    lot_size = models.DecimalField(default=1, **QUANTITY)
    tick_size = models.DecimalField(max_digits=10, decimal_places=6, default="0.01")
    reference_price = models.DecimalField(**MONEY)
    annual_volatility = models.DecimalField(max_digits=6, decimal_places=4, default="0.25")
    shortable = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol


class Account(models.Model):
    """A trading account. Its trading state (ACTIVE, REDUCE_ONLY, HALTED) is the risk engine's record."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trading_accounts")
    name = models.CharField(max_length=64)
    broker = models.CharField(max_length=32, default="paper")
    currency = models.CharField(max_length=3, default="USD")
    cash = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="account_unique_name_per_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner})"


def new_client_order_id() -> str:
    return f"QL-{uuid.uuid4().hex[:20]}"


class Order(models.Model):
    Status = models.TextChoices("Status", [(s.value, s.value) for s in OrderStatus])
    SideChoices = models.TextChoices("SideChoices", [(s.value, s.value) for s in Side])
    TypeChoices = models.TextChoices("TypeChoices", [(t.value, t.value) for t in OrderType])

    class TimeInForce(models.TextChoices):
        DAY = "DAY"
        GTC = "GTC"
        IOC = "IOC"
        FOK = "FOK"

    # The id the broker sees: a retried submission carries the same one, so the broker can refuse a twin.
    client_order_id = models.CharField(max_length=64, unique=True, default=new_client_order_id)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="orders")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="orders")
    strategy = models.ForeignKey(
        "strategies.Strategy", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    signal = models.ForeignKey(
        "strategies.TradingSignal", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    # The strategy's configuration version in force when the order was placed.
    strategy_version = models.PositiveIntegerField(null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The entry order a protective order guards; it is sent once the entry fills.",
    )
    side = models.CharField(max_length=4, choices=SideChoices.choices)
    order_type = models.CharField(max_length=16, choices=TypeChoices.choices)
    time_in_force = models.CharField(max_length=3, choices=TimeInForce.choices, default=TimeInForce.DAY)
    quantity = models.DecimalField(**QUANTITY)
    price = models.DecimalField(null=True, blank=True, help_text="Limit price", **MONEY)
    stop_price = models.DecimalField(null=True, blank=True, **MONEY)
    trail_amount = models.DecimalField(null=True, blank=True, help_text="Trailing stop: trail in price", **MONEY)
    trail_percent = models.DecimalField(
        null=True, blank=True, max_digits=8, decimal_places=4, help_text="Trailing stop: trail in percent"
    )
    oco_group = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="Bracket exits: one cancels (or shrinks) the other"
    )
    reference_price = models.DecimalField(help_text="Price the risk check valued the order at", **MONEY)
    status = models.CharField(max_length=16, choices=Status.choices, default=OrderStatus.NEW, db_index=True)
    filled_quantity = models.DecimalField(default=0, **QUANTITY)
    # The exact sum of quantity x price over the fills: the state machine derives the average from it.
    filled_notional = models.DecimalField(default=0, max_digits=40, decimal_places=12)
    average_fill_price = models.DecimalField(null=True, blank=True, **MONEY)
    # While a cancel or modification is pending: the status it returns to if refused, and what was asked.
    previous_status = models.CharField(max_length=16, blank=True)
    pending_change = models.JSONField(null=True, blank=True)
    broker_order_id = models.CharField(max_length=64, blank=True)
    reject_code = models.CharField(max_length=64, blank=True)
    reject_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "status"]), models.Index(fields=["strategy", "status"])]

    def __str__(self) -> str:
        return f"{self.client_order_id} {self.side} {self.quantity} {self.instrument_id}"

    @property
    def remaining_quantity(self):
        return self.quantity - self.filled_quantity


class Execution(models.Model):
    """One fill reported by the broker; exec_id makes a re-delivered fill a no-op."""

    exec_id = models.CharField(max_length=64, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="executions")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="executions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="executions")
    strategy = models.ForeignKey(
        "strategies.Strategy", null=True, blank=True, on_delete=models.PROTECT, related_name="executions"
    )
    side = models.CharField(max_length=4, choices=Order.SideChoices.choices)
    quantity = models.DecimalField(**QUANTITY)
    price = models.DecimalField(**MONEY)
    commission = models.DecimalField(default=0, **MONEY)
    executed_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.exec_id} {self.side} {self.quantity}@{self.price}"


class Position(models.Model):
    """Net position of one strategy (or manual trading, strategy null) in one instrument."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="positions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="positions")
    strategy = models.ForeignKey(
        "strategies.Strategy", null=True, blank=True, on_delete=models.PROTECT, related_name="positions"
    )
    quantity = models.DecimalField(default=0, **QUANTITY)
    average_price = models.DecimalField(default=0, **MONEY)
    realized_pnl = models.DecimalField(default=0, **MONEY)
    commissions = models.DecimalField(default=0, **MONEY)
    current_price = models.DecimalField(default=0, **MONEY)
    unrealized_pnl = models.DecimalField(default=0, **MONEY)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument__symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "strategy", "instrument"], name="position_unique_per_strategy_instrument"
            ),
            models.UniqueConstraint(
                fields=["account", "instrument"],
                condition=models.Q(strategy__isnull=True),
                name="position_unique_manual_instrument",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.quantity}@{self.average_price}"


class Event(models.Model):
    """The audit log and transactional outbox: written in the same transaction as the change it records."""

    class Severity(models.TextChoices):
        INFO = "INFO"
        WARNING = "WARNING"
        CRITICAL = "CRITICAL"

    type = models.CharField(max_length=64, db_index=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)
    occurred_at = models.DateTimeField(db_index=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    strategy = models.ForeignKey(
        "strategies.Strategy", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    signal = models.ForeignKey(
        "strategies.TradingSignal", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    actor = models.CharField(max_length=150, blank=True, help_text="Who or what caused it")
    # How and from where (accounts.origin): session, key, admin, command or engine; the client's IP; the key.
    channel = models.CharField(max_length=8, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    api_key_prefix = models.CharField(
        max_length=16, blank=True, help_text="The API key's visible prefix, never the key"
    )
    payload = models.JSONField(default=dict)
    # The hash chain (trading.audit): filled once, when the event is sealed, then never changed.
    chain_seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    chain_prev = models.CharField(max_length=64, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The sealer's queue: only the few events not sealed yet.
            models.Index(fields=["id"], condition=models.Q(chain_seq__isnull=True), name="event_unsealed"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type}"


class EventChainHead(models.Model):
    """The last sealed event's sequence number and hash: one row, the chain's writer lock.

    Sealing locks this row (SELECT ... FOR UPDATE), so one sealer at a time extends the chain;
    the head also shows whether the newest sealed events were deleted.
    """

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    sealed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"chain head {self.seq}"


class PaperVenueOrder(models.Model):
    """The paper broker's own book: what the simulated venue holds, keyed by our client order id."""

    client_order_id = models.CharField(max_length=64, unique=True)
    broker_order_id = models.CharField(max_length=64, unique=True)
    symbol = models.CharField(max_length=16, db_index=True)
    side = models.CharField(max_length=4)
    order_type = models.CharField(max_length=16)
    time_in_force = models.CharField(max_length=3, default="DAY")
    quantity = models.DecimalField(**QUANTITY)
    limit_price = models.DecimalField(null=True, blank=True, **MONEY)
    stop_price = models.DecimalField(null=True, blank=True, **MONEY)
    trail_amount = models.DecimalField(null=True, blank=True, **MONEY)
    trail_percent = models.DecimalField(null=True, blank=True, max_digits=8, decimal_places=4)
    best_price = models.DecimalField(null=True, blank=True, help_text="Trailing stop: best price so far", **MONEY)
    filled_quantity = models.DecimalField(default=0, **QUANTITY)
    is_open = models.BooleanField(default=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="DAY orders: the session close")
    closed_reason = models.CharField(max_length=16, blank=True, help_text="filled, canceled, expired, ioc, fok")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.client_order_id


class PaperVenueFill(models.Model):
    """A fill the paper venue made; what it reports when asked for an order's executions."""

    exec_id = models.CharField(max_length=80, unique=True)
    venue_order = models.ForeignKey(PaperVenueOrder, on_delete=models.CASCADE, related_name="fills")
    quantity = models.DecimalField(**QUANTITY)
    price = models.DecimalField(**MONEY)
    commission = models.DecimalField(**MONEY)
    executed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.exec_id


class Bar(models.Model):
    """One minute of trading in one symbol (OHLCV), built from ticks in memory and written in batches."""

    symbol = models.CharField(max_length=16)
    minute = models.DateTimeField(help_text="Start of the minute, UTC")
    open = models.DecimalField(**MONEY)
    high = models.DecimalField(**MONEY)
    low = models.DecimalField(**MONEY)
    close = models.DecimalField(**MONEY)
    volume = models.DecimalField(default=0, **QUANTITY)

    class Meta:
        ordering = ["symbol", "minute"]
        # The unique constraint is also the (symbol, minute) index that chart queries scan, in either direction.
        constraints = [models.UniqueConstraint(fields=["symbol", "minute"], name="bar_unique_symbol_minute")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.minute:%Y-%m-%d %H:%M} {self.close}"


class BrokerCredential(models.Model):
    """A secret a broker connection needs (a password, an API secret), stored only encrypted.

    ``token`` is a Fernet token (trading.brokers.credentials), never the secret; the secret is set
    and read only through trading.services.credentials. Account null: the deployment's own
    connection to that broker, shared by its accounts.
    """

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="broker_credentials"
    )
    broker = models.CharField(max_length=32)
    name = models.CharField(max_length=64, help_text="What the secret is, e.g. password, api_secret")
    token = models.TextField(help_text="The secret, encrypted (Fernet)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "broker", "name"], name="credential_unique_per_account"),
            models.UniqueConstraint(
                fields=["broker", "name"], condition=models.Q(account__isnull=True), name="credential_unique_shared"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.broker} {self.name} ({self.account or 'shared'})"
