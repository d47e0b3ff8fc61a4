"""Signal intake: a producer's signal becomes an order, or a refusal that says why."""

import functools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from quantumleap import codes
from risk.core.rules import HALTED, TRADING_HALTED
from risk.selectors import position_size_raw, trading_state_get
from strategies.core.lifecycle import takes_entries, takes_reducing
from strategies.events import (
    signal_accepted_event,
    signal_executed_event,
    signal_failed_event,
    signal_received_event,
    signal_recorded_event,
    signal_rejected_event,
    strategy_updated_event,
)
from strategies.models import Strategy, TradingSignal
from trading.core.orders import OrderType, Side
from trading.core.sizing import round_to_lot
from trading.core.verdicts import Violation
from trading.events import EventType, events_batched
from trading.marketdata.prices import price_get
from trading.models import Account, Event, Instrument, Position
from trading.pretrade import Verdict
from trading.services.locks import account_lock
from trading.services.placement import Cause, OrderRequest, order_place


@dataclass(frozen=True)
class SignalData:
    external_id: str
    symbol: str
    signal_type: str
    confidence_score: Decimal
    position_size: Decimal
    expires_at: datetime
    target_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    producer_name: str = ""  # the API key's name or prefix it came through (blank: a session, a generator)
    closes_position: bool = False  # a generator's exit: sized to the position held, no bracket (never from REST)


def signal_receive(
    *, producer: AbstractBaseUser, strategy: Strategy, data: SignalData, now: datetime | None = None
) -> tuple[TradingSignal, bool]:
    """OrderExecutor.process_signal: record a signal and, when it passes every check, create its order(s).

    Returns (signal, created). A signal id the producer already used returns the
    stored signal and creates nothing, however often or concurrently it is re-posted.
    """
    with _intake_slots():
        return _signal_receive(producer=producer, strategy=strategy, data=data, now=now or timezone.now())


def signals_receive(
    *, producer: AbstractBaseUser, signals: list[tuple[Strategy, SignalData]]
) -> list[tuple[TradingSignal, bool]]:
    """Several signals of one producer, in the order given, each exactly as signal_receive takes it.

    Each is its own transaction, so one refused signal never undoes another, and a repeated id
    (within the batch or from an earlier post) returns the stored signal and creates nothing.
    """
    with _intake_slots():
        return [
            _signal_receive(producer=producer, strategy=strategy, data=data, now=timezone.now())
            for strategy, data in signals
        ]


@functools.cache
def _intake_slots() -> threading.BoundedSemaphore:
    """Signals this process validates at once (SIGNAL_INTAKE_CONCURRENCY); the rest wait their turn here.

    Each validation queues for its account's row lock. Unbounded, a burst of posts fills that
    queue with intake and starves the workers booking fills, whose orders then pile up unsent and
    make every later validation slower; bounded, a burst slows the producers' posts instead.
    """
    return threading.BoundedSemaphore(settings.SIGNAL_INTAKE_CONCURRENCY)


def _signal_receive(
    *, producer: AbstractBaseUser, strategy: Strategy, data: SignalData, now: datetime
) -> tuple[TradingSignal, bool]:
    # Read before the account lock: the instrument and its last price do not depend on the account's book.
    instrument = Instrument.objects.filter(symbol=data.symbol, is_active=True).first()
    last_price = price_get(instrument.symbol) if instrument is not None else None
    try:
        with transaction.atomic(), events_batched():
            # The signal row first: a re-post of an id fails on its unique key below (a concurrent one waits
            # for the first to commit), so a new signal pays no look-up for the rare re-post.
            signal = TradingSignal.objects.create(
                producer=producer,
                external_id=data.external_id,
                strategy=strategy,
                symbol=data.symbol,
                instrument=instrument,
                signal_type=data.signal_type,
                confidence_score=data.confidence_score,
                target_price=data.target_price,
                stop_loss=data.stop_loss,
                take_profit=data.take_profit,
                position_size=data.position_size,
                expires_at=data.expires_at,
                metadata=data.metadata,
                producer_name=data.producer_name,
                closes_position=data.closes_position,
            )
            # One lock per account, held from here to commit: validation and order creation see and
            # leave a consistent book.
            account = account_lock(strategy.account_id)
            strategy = Strategy.objects.get(pk=strategy.pk)
            # The configuration in force when the signal was decided (its status save below writes it).
            signal.strategy_version = strategy.version
            signal_received_event(signal=signal, account=account, strategy=strategy, actor=producer.get_username())
            _signal_decide(
                signal, account=account, strategy=strategy, instrument=instrument, last_price=last_price, now=now
            )
    except IntegrityError:
        # The id was posted before (or concurrently, and that post won); anything else is a real error.
        existing = TradingSignal.objects.filter(producer=producer, external_id=data.external_id).first()
        if existing is None:
            raise
        return existing, False
    return signal, True


def _signal_decide(
    signal: TradingSignal,
    *,
    account: Account,
    strategy: Strategy,
    instrument: Instrument | None,
    last_price: Decimal | None,
    now: datetime,
) -> None:
    violations = _signal_violations(signal, strategy=strategy, account=account, instrument=instrument, now=now)
    if violations:
        _signal_reject(signal, account, violations)
    elif signal.signal_type == TradingSignal.SignalType.HOLD:
        signal.status = TradingSignal.Status.RECORDED
        signal.save(update_fields=["status", "strategy_version", "updated_at"])
        signal_recorded_event(signal=signal, account=account, strategy=strategy)
    else:
        _signal_to_orders(
            signal, account=account, strategy=strategy, instrument=instrument, last_price=last_price, now=now
        )


def _signal_violations(
    signal: TradingSignal, *, strategy: Strategy, account: Account, instrument: Instrument | None, now: datetime
) -> list[Violation]:
    violations = []
    if instrument is None:
        violations.append(Violation(codes.UNKNOWN_SYMBOL, f"{signal.symbol} is not a tradable instrument."))
    if signal.expires_at <= now:
        violations.append(Violation(codes.SIGNAL_EXPIRED, f"The signal expired at {signal.expires_at.isoformat()}."))
    if not takes_entries(strategy.status) and _reducible(signal, strategy=strategy, account=account) is None:
        violations.append(_not_taking(strategy))
    if trading_state_get(account=account) == HALTED:
        violations.append(Violation(TRADING_HALTED, "Trading is halted on this account."))
    return violations


def _not_taking(strategy: Strategy, why: str = "") -> Violation:
    """Why a strategy that takes no entries now refused a signal: paused (by a person or a rule), or not running."""
    if strategy.status in (Strategy.Status.PAUSED, Strategy.Status.AUTO_PAUSED):
        paused_by = "an auto-pause rule" if strategy.status == Strategy.Status.AUTO_PAUSED else "a person"
        message = (
            f"Strategy {strategy.name} is {strategy.status} (by {paused_by}): it takes no new entries, only "
            f"signals that reduce one of its positions{why}."
        )
        return Violation(codes.STRATEGY_PAUSED, message)
    return Violation(codes.STRATEGY_NOT_RUNNING, f"Strategy {strategy.name} is {strategy.status}, not RUNNING{why}.")


def _reducible(signal: TradingSignal, *, strategy: Strategy, account: Account) -> Decimal | None:
    """The strategy's position in the signal's symbol, when a status that takes only reducing signals
    (``takes_reducing``: paused, auto-paused, stopped) lets this signal through: a BUY or SELL on the other
    side of an open position. Its size is held to the position's once sized (``_signal_to_orders``)."""
    if signal.instrument_id is None or signal.signal_type == TradingSignal.SignalType.HOLD:
        return None
    if not takes_reducing(strategy.status):
        return None
    return _opposed_holding(signal, strategy=strategy, account=account)


def _opposed_holding(signal: TradingSignal, *, strategy: Strategy, account: Account) -> Decimal | None:
    """The size of the strategy's position in the signal's symbol when the signal trades against it, else None."""
    quantity = (
        Position.objects.filter(account=account, strategy=strategy, instrument_id=signal.instrument_id)
        .values_list("quantity", flat=True)
        .first()
    )
    if not quantity:
        return None
    reduces = (quantity > 0 and signal.signal_type == "SELL") or (quantity < 0 and signal.signal_type == "BUY")
    return abs(quantity) if reduces else None


def _signal_reject(
    signal: TradingSignal, account: Account, violations: list[Violation], verdict: Verdict | None = None
) -> None:
    signal.status = TradingSignal.Status.REJECTED
    signal.violations = [v.as_dict() for v in violations]
    signal.save(update_fields=["status", "violations", "strategy_version", "updated_at"])
    signal_rejected_event(signal=signal, account=account, verdict=verdict)


def _signal_to_orders(
    signal: TradingSignal,
    *,
    account: Account,
    strategy: Strategy,
    instrument: Instrument,
    last_price: Decimal | None,
    now: datetime,
) -> None:
    """Ask trading for the signal's order: it checks the bracket, asks risk for a verdict, creates the orders."""
    side = Side(signal.signal_type)
    reference_price = signal.target_price or last_price
    stop_loss, take_profit = signal.stop_loss, signal.take_profit
    if signal.closes_position:
        # A generator's exit closes exactly what the strategy holds, however the price moved since its entry.
        held = _opposed_holding(signal, strategy=strategy, account=account)
        if held is None:
            message = f"Strategy {strategy.name} holds no position in {instrument.symbol} that a {side} closes."
            _signal_reject(signal, account, [Violation(codes.NOTHING_TO_CLOSE, message)])
            return
        quantity, stop_loss, take_profit = held, None, None
    else:
        # The strategy's sizing method (fixed fraction of its capital unless configured), in whole lots.
        quantity = round_to_lot(
            position_size_raw(strategy=strategy, signal=signal, instrument=instrument, price=reference_price),
            instrument.lot_size,
        )
    if quantity <= 0:
        message = f"{signal.position_size} of {strategy.capital} buys less than one lot of {instrument.symbol}."
        _signal_reject(signal, account, [Violation(codes.QUANTITY_BELOW_LOT, message)])
        return
    if not takes_entries(strategy.status):
        # Only a reducing signal came this far: it may close the position, never open the other side.
        held = _reducible(signal, strategy=strategy, account=account)
        if held is None or quantity > held:
            _signal_reject(
                signal, account, [_not_taking(strategy, f" (this one is for {quantity}; it holds {held or 0})")]
            )
            return
    request = OrderRequest(
        symbol=instrument.symbol,
        side=side,
        quantity=quantity,
        reference_price=reference_price,
        cause=Cause.SIGNAL,
        strategy=strategy,
        signal=signal,
        order_type=OrderType.LIMIT if signal.target_price is not None else OrderType.MARKET,
        price=signal.target_price,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )
    placement = order_place(request, account=account, instrument=instrument, now=now)
    if not placement.accepted:
        _signal_reject(signal, account, list(placement.violations), placement.verdict)
        return
    signal.status = TradingSignal.Status.ACCEPTED
    signal.save(update_fields=["status", "strategy_version", "updated_at"])
    signal_accepted_event(signal=signal, account=account, strategy=strategy, order=placement.entry)


def signal_follow_order(event: Event) -> None:
    """A signal's status follows its entry order's events: filled is executed; refused before or at the
    broker is failed. Runs in the transaction that records the order's event (trading.events hook)."""
    order = event.order
    if order is None or order.signal_id is None or order.parent_id is not None:
        return
    if event.type == EventType.ORDER_FILLED:
        status = TradingSignal.Status.EXECUTED
    elif event.type == EventType.ORDER_REJECTED or (event.type == EventType.ORDER_CANCELED and order.reject_code):
        status = TradingSignal.Status.FAILED
    else:
        return
    signal = order.signal
    if signal.status == status:
        return
    signal.status = status
    signal.save(update_fields=["status", "updated_at"])
    record = signal_executed_event if status == TradingSignal.Status.EXECUTED else signal_failed_event
    record(signal=signal, order=order)


def strategy_change_record(*, strategy: Strategy, changes: dict[str, Any], actor: str, source: str) -> None:
    """Record a change to a strategy (its status included), in the caller's transaction."""
    strategy_updated_event(strategy=strategy, account=strategy.account, actor=actor, source=source, changes=changes)
