"""Trading states and the loss limits that move an account or strategy between them.

ACTIVE → REDUCE_ONLY → HALTED only ever tightens by itself; loosening takes a
person. Equity figures are ``Decimal``; the clock is passed in.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from risk.core.rules import (
    ACTIVE,
    DAILY_LOSS_LIMIT_EXCEEDED,
    HALTED,
    MAX_DRAWDOWN_EXCEEDED,
    REDUCING,
    daily_loss,
    drawdown,
)

EMERGENCY_STOP = "EMERGENCY_STOP"
SEVERITY = {ACTIVE: 0, REDUCING: 1, HALTED: 2}
EXCHANGE_TIME_ZONE = ZoneInfo("America/New_York")


def trading_day(now: datetime, zone: ZoneInfo = EXCHANGE_TIME_ZONE) -> date:
    """The trading day ``now`` belongs to, in the exchange's time zone."""
    if now.tzinfo is None:
        raise ValueError("The time must be timezone-aware.")
    return now.astimezone(zone).date()


@dataclass(frozen=True)
class EquityMarks:
    trading_day: date
    day_start_equity: Decimal
    high_water_mark: Decimal


def marks_observe(
    *, day: date | None, day_start: Decimal | None, high_water: Decimal | None, equity: Decimal, now: datetime
) -> EquityMarks:
    """Roll the day start over at the first look of a new trading day; raise the high-water mark."""
    today = trading_day(now)
    if day != today or day_start is None:
        day, day_start = today, equity
    high_water = equity if high_water is None or equity > high_water else high_water
    return EquityMarks(trading_day=day, day_start_equity=day_start, high_water_mark=high_water)


@dataclass(frozen=True)
class Breach:
    code: str
    limit: Decimal
    actual: Decimal
    action: str
    message: str


def breaches(
    *,
    scope: str,
    equity: Decimal,
    marks: EquityMarks,
    daily_loss_limit: Decimal | None,
    daily_loss_action: str,
    max_drawdown: Decimal | None,
    drawdown_action: str,
) -> list[Breach]:
    """Loss limits reached at ``equity``: the pre-trade checks' own definitions (``rules.daily_loss``, ``drawdown``)."""
    found = []
    daily = daily_loss(equity=equity, day_start=marks.day_start_equity, fraction=daily_loss_limit)
    if daily is not None and daily.reached:
        found.append(
            Breach(
                DAILY_LOSS_LIMIT_EXCEEDED,
                daily.limit,
                daily.loss,
                daily_loss_action,
                f"The {scope} lost {daily.loss} today, reaching its daily loss limit of {daily.limit}.",
            )
        )
    fall = drawdown(equity=equity, high_water_mark=marks.high_water_mark, fraction=max_drawdown)
    if fall is not None and fall.reached:
        found.append(
            Breach(
                MAX_DRAWDOWN_EXCEEDED,
                fall.limit,
                fall.loss,
                drawdown_action,
                f"The {scope} is {fall.loss} below its high-water mark {marks.high_water_mark}, "
                f"reaching its maximum drawdown of {fall.limit}.",
            )
        )
    return found


def state_after(current: str, action: str) -> str:
    """The tighter of the current state and the one a breach asks for (an emergency stop also halts)."""
    wanted = HALTED if action == EMERGENCY_STOP else action
    return wanted if SEVERITY.get(wanted, 0) > SEVERITY.get(current, 0) else current
