"""Trading's use cases (writes), one module per concept; the names other apps may call are listed here.

- ``locks``: the row locks (account first, then order), named once.
- ``moves``: an order's moves along the state machine, each with its event; dispatch after commit.
- ``placement``: the one place an order is created, for every cause, with the pre-trade risk gate.
- ``amendments``: cancel and modify (two-phase: ``brokercalls``), and the protective orders that
  follow their entry and position.
- ``executions``: fills into orders, positions and cash.
- ``submission``: orders to the broker exactly once, and what it answers.
- ``positions``: closing positions.
- ``venue``: the simulated venue's resting orders and DAY expiry.
- ``reconciliation``: repairing differences with the broker.

Every state change writes its Event in the same transaction; publishing and
task dispatch happen only after commit.
"""

from trading.services.amendments import order_cancel, order_modify
from trading.services.executions import execution_apply
from trading.services.locks import account_lock
from trading.services.moves import TradingError, order_dispatch
from trading.services.positions import position_close
from trading.services.reconciliation import ReconcileReport, broker_reconcile
from trading.services.submission import order_submission_failed, order_submit
from trading.services.venue import orders_expire_day, orders_trigger_on_prices

__all__ = [
    "ReconcileReport",
    "TradingError",
    "account_lock",
    "broker_reconcile",
    "execution_apply",
    "order_cancel",
    "order_dispatch",
    "order_modify",
    "order_submission_failed",
    "order_submit",
    "orders_expire_day",
    "orders_trigger_on_prices",
    "position_close",
]
