"""Every machine-readable code the engine answers with, each defined once with what it means.

Five families, one table each in README.md (a test compares them with this file):
- ``ERRORS``: the ``code`` of an error answer ``{"code", "message", "errors"?}``, with its HTTP status;
- ``SIGNAL_REFUSALS``: a signal's ``violations[].code`` that is not a risk check (the signal was looked at
  before any order was sized);
- ``RISK_CHECKS``: the pre-trade risk checks (``risk/core/rules.py`` documents each formula);
- ``ORDER_REFUSALS``: the ``code`` of a 409 on an order or position command, and an order's ``reject_code``;
- ``STRATEGY_REFUSALS``: a strategy's lifecycle or parameters refused (``strategies/core``).
A code means one thing wherever it appears, so none is in two families.
"""

from accounts import otp
from risk.core import rules

# The error answers of the whole API. DRF's own codes keep their names (clients of DRF APIs know them).
INVALID = "invalid"
PARSE_ERROR = "parse_error"
NOT_AUTHENTICATED = "not_authenticated"
AUTHENTICATION_FAILED = "authentication_failed"
NO_KEY = "no_key"
INVALID_KEY = "invalid_key"
PERMISSION_DENIED = "permission_denied"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
NOT_ACCEPTABLE = "not_acceptable"
PAYLOAD_TOO_LARGE = "payload_too_large"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
THROTTLED = "throttled"
SERVER_ERROR = "server_error"
INVALID_OHLCV_DATA = "invalid_ohlcv_data"

ERRORS: dict[str, tuple[int, str]] = {
    INVALID: (400, "A field is missing, unknown, malformed or out of range; `errors` names each field and why."),
    PARSE_ERROR: (
        400,
        "The body is not one JSON document: malformed, not UTF-8, a key repeated in one object, NaN or "
        "Infinity, a lone surrogate or a NUL character, or nested deeper than 32 levels.",
    ),
    NOT_AUTHENTICATED: (401, "No API key and no session."),
    AUTHENTICATION_FAILED: (401, "The session or credentials were refused."),
    NO_KEY: (401, "`Authorization: Bearer` holds no key."),
    INVALID_KEY: (
        401,
        "The API key is unknown, revoked or expired, its user is inactive, or its strategy is not its user's.",
    ),
    PERMISSION_DENIED: (
        403,
        "Authenticated, but not allowed: a key naming another strategy, a key where only a person may act, "
        "a role that may not, or a session request without its CSRF token.",
    ),
    NOT_FOUND: (404, "No such path, or nothing of yours with that id."),
    METHOD_NOT_ALLOWED: (405, "The path does not take this HTTP method."),
    NOT_ACCEPTABLE: (406, "The `Accept` header asks for something other than JSON."),
    PAYLOAD_TOO_LARGE: (413, "The body is larger than the limit (2 MiB, `DATA_UPLOAD_MAX_MEMORY_SIZE`)."),
    UNSUPPORTED_MEDIA_TYPE: (415, "A body that is not `application/json`."),
    THROTTLED: (429, "Too many requests; `Retry-After` says when to try again."),
    SERVER_ERROR: (500, "The engine failed; nothing is said about why (it is logged), and the request may be retried."),
    otp.OTP_REQUIRED: (403, "The action needs the person's one-time password in the `otp` field."),
    otp.OTP_INVALID: (403, "The one-time password is wrong, already used or expired; send the current one."),
    otp.OTP_NOT_ENROLLED: (403, "The action needs a one-time password and the user has no confirmed device."),
    INVALID_OHLCV_DATA: (
        400,
        "Price data (an upload, a file) that fails validation; `errors` lists each problem and where.",
    ),
}

# Why a signal was refused before any risk check (it becomes no order).
UNKNOWN_SYMBOL = "unknown_symbol"
SIGNAL_EXPIRED = "signal_expired"
STRATEGY_NOT_RUNNING = "strategy_not_running"
STRATEGY_PAUSED = "strategy_paused"
QUANTITY_BELOW_LOT = "quantity_below_lot"
NOTHING_TO_CLOSE = "nothing_to_close"
INVALID_STOP_LOSS = "invalid_stop_loss"
INVALID_TAKE_PROFIT = "invalid_take_profit"

SIGNAL_REFUSALS: dict[str, str] = {
    UNKNOWN_SYMBOL: "The symbol is not a tradable instrument (an order's `reject_code` when the broker knows none).",
    SIGNAL_EXPIRED: "`expires_at` has passed (an order's `reject_code` when it expired before the broker took it).",
    STRATEGY_NOT_RUNNING: "The strategy is DRAFT or STOPPED (never deployed, or stopped), and the signal reduces "
    "none of its positions.",
    STRATEGY_PAUSED: "The strategy is PAUSED or AUTO_PAUSED: it takes no new entries, only signals that reduce one of "
    "its positions (the other side, at most what it holds).",
    QUANTITY_BELOW_LOT: "`position_size` of the strategy's capital buys less than one lot.",
    NOTHING_TO_CLOSE: "A built-in generator's exit, and the strategy holds no position in the symbol on the side "
    "the signal closes.",
    INVALID_STOP_LOSS: "The stop loss is not on the losing side of the entry price.",
    INVALID_TAKE_PROFIT: "The take profit is not on the winning side of the entry price.",
}

RISK_CHECKS: dict[str, str] = {
    rules.STRATEGY_CAPITAL_EXCEEDED: "The strategy's positions at cost and open orders would pass its capital.",
    rules.INSUFFICIENT_FUNDS: "Cash, less short collateral and what open orders reserve, does not cover the order.",
    rules.MAX_POSITION_SIZE_EXCEEDED: "The symbol's position would be worth more than `max_position_size` of equity.",
    rules.MAX_POSITION_QUANTITY_EXCEEDED: "The symbol's position would hold more than `max_position_quantity`.",
    rules.MAX_GROSS_EXPOSURE_EXCEEDED: "Gross exposure would pass `max_portfolio_exposure` of equity.",
    rules.MAX_NET_EXPOSURE_EXCEEDED: "Net exposure would pass `max_net_exposure` of equity, and grow.",
    rules.MAX_SECTOR_EXPOSURE_EXCEEDED: "The sector's gross exposure would pass `max_sector_exposure` of equity.",
    rules.MAX_ORDER_NOTIONAL_EXCEEDED: "The order is worth more than `max_order_notional`.",
    rules.DAILY_LOSS_LIMIT_EXCEEDED: "Today's loss has reached `daily_loss_limit` of the day's starting equity.",
    rules.MAX_DRAWDOWN_EXCEEDED: "The drawdown from the high-water mark has reached `max_drawdown`.",
    rules.ORDER_RATE_EXCEEDED: "The strategy or the account already sent its orders for this minute.",
    rules.PRICE_BAND_EXCEEDED: "The limit price is more than `max_price_deviation` away from the last price.",
    rules.STALE_MARKET_DATA: "A feed runs and the symbol has not ticked lately.",
    rules.MARKET_CLOSED: "The exchange's session is not one `market_hours` allows.",
    rules.RESTRICTED_SYMBOL: "The symbol is on `restricted_symbols` and the order opens.",
    rules.REDUCE_ONLY: "The account or strategy is REDUCE_ONLY and the order opens.",
    rules.TRADING_HALTED: "The account or strategy is HALTED.",
    rules.KILL_SWITCH_ENGAGED: "An emergency stop is engaged over the account or strategy.",
    rules.SELF_CROSS: "The order would trade against the account's own resting order.",
    rules.PATTERN_DAY_TRADER: "A margin account under 25,000 would make a fourth day trade in five days.",
    rules.NOT_EASY_TO_BORROW: "A short sale of an instrument that cannot be borrowed.",
}

# Refusals of order and position commands (409 `code`), and why the broker or the engine ended an order.
ORDER_REFUSALS: dict[str, str] = {
    "order_error": "The order state machine refuses the command; a more specific code says why when one applies.",
    "illegal_transition": "The order's state does not allow this (e.g. canceling a filled order).",
    "fill_exceeds_quantity": "A fill larger than what is left of the order: the order takes what fits, the rest is an "
    "overfill the engine books and alerts on (order.overfilled).",
    "quantity_below_filled": "A new quantity at or below what has already filled.",
    "modify_increases_exposure": "A larger quantity or a worse limit price: send a new order through the risk checks.",
    "not_a_limit_order": "A limit price for an order that has none.",
    "not_a_stop_order": "A stop price for an order that has none.",
    "position_flat": "The position is already flat.",
    "order_not_working": "The broker no longer works the order.",
    "unknown_order": "The broker has no order with this client order id.",
    "no_market": "The paper broker has no price for the symbol.",
    "invalid_trail": "The trailing stop's amount or percent is not valid.",
    "unknown_at_broker": "Reconciliation found that the broker never received the order.",
    "circuit_open": "Calls to the broker are suspended after repeated failures; it is tried again later.",
    "broker_disconnected": "The broker connection is down.",
    "broker_rate_limited": "The broker asked us to slow down.",
    "broker_not_authorized": "The broker refused our credentials or permissions.",
    "broker_rejected": "The broker rejected the order; the message says why.",
    "broker_error": "The broker answered with an error of no known kind.",
}

# Refusals of a strategy's lifecycle and parameters (strategies/core: lifecycle.py, params.py).
STRATEGY_REFUSALS: dict[str, str] = {
    "illegal_strategy_transition": "The strategy's state does not allow the action (e.g. resuming a stopped one).",
    "strategy_not_deletable": "Only a DRAFT or STOPPED strategy may be deleted.",
    "strategy_not_editable": "A RUNNING strategy's parameters do not change; pause it first.",
    "strategy_lifecycle_error": "Another lifecycle refusal; the message says why.",
    "invalid_strategy_parameters": "The strategy's parameters do not fit its type; the message names each.",
    "capital_exceeds_equity": "The strategies' capital (every one not STOPPED, this one included) would pass the "
    "account's equity now; `errors` holds the figures (capital, allocated, equity).",
}

FAMILIES = {
    "errors": ERRORS,
    "signal": SIGNAL_REFUSALS,
    "risk": RISK_CHECKS,
    "order": ORDER_REFUSALS,
    "strategy": STRATEGY_REFUSALS,
}


def meaning(code: str) -> str:
    """What a code means, from whichever family defines it."""
    for family in FAMILIES.values():
        if code in family:
            entry = family[code]
            return entry[1] if isinstance(entry, tuple) else entry
    raise KeyError(code)
