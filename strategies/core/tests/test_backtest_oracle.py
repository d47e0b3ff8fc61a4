"""The acceptance test: our engine equals backtesting.py, run here, on the GOOG data it ships.

Conventions matched (backtesting.py 0.6.6, ``backtesting/backtesting.py``):
- SMA crossover 10/20 on the close: backtesting.py's ``SmaCross`` example with
  ``crossover(sma1, sma2)`` (``sma1[-2] < sma2[-2] and sma1[-1] > sma2[-1]``) then
  ``position.close(); buy()`` and the mirror with ``sell()``; ours is the live
  ``SMA_CROSSOVER`` generator with ``allow_short`` (a LONG/SHORT flip on each cross),
  on its fast path.
- Market orders at the next bar's open (``trade_on_close=False``; our ``NEXT_OPEN``).
- The close and the new entry are two orders, the close first (``Trade.close()`` puts
  its order at the head of the queue; ours closes, then sizes the entry).
- All-in whole shares: ``buy()``'s default size ``1 - eps`` is sized when it fills as
  ``int(margin_available * leverage * size // (price + commission(size, price) / size))``,
  i.e. ``floor(cash / (open * (1 + rate)))`` with no position left; ours ``AllIn`` (the
  largest ``q`` with ``q * open * (1 + rate) <= cash``, checked exactly).
- Commission a percent of each fill's value, charged on entry and on exit
  (``_open_trade`` and ``_close_trade``); ours ``PercentOfValue`` without rounding
  (backtesting.py does not round commissions to the cent).
- 10,000 starting cash; a trade still open at the end is not a trade (``finalize_trades=False``)
  and final equity marks it at the last close.

Prices, sizes and times are compared exactly: they come straight from the data
(backtesting.py reads the CSV into float64, whose shortest repr is the file's text).
Money is compared to the cent: backtesting.py keeps cash in float64 and adds each
trade's P&L and commission to it, so its figures carry float rounding (its final
equity for 0 % is 81812.37000000001); ours are exact ``Decimal``. Its sizing divides in
float too, so a cash that is an exact multiple of the price could size one share lower
there; on this data no trade is near that edge (the sizes match exactly).
"""

import warnings
from datetime import timedelta
from decimal import Decimal

import pytest

from strategies.core.backtest.data import sample_bars
from strategies.core.backtest.engine import BacktestConfig, run_backtest
from strategies.core.backtest.fills import FillTiming, PercentOfValue
from strategies.core.backtest.signals import strategy_generator
from strategies.core.backtest.sizing import ALL_IN
from trading.core.orders import Side

CENT = Decimal("0.01")


def _backtesting_py(commission: float):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover
        from backtesting.test import GOOG, SMA

        class SmaCross(Strategy):
            fast = 10
            slow = 20

            def init(self):
                self.sma1 = self.I(SMA, self.data.Close, self.fast)
                self.sma2 = self.I(SMA, self.data.Close, self.slow)

            def next(self):
                if crossover(self.sma1, self.sma2):
                    self.position.close()
                    self.buy()
                elif crossover(self.sma2, self.sma1):
                    self.position.close()
                    self.sell()

        return Backtest(
            GOOG,
            SmaCross,
            cash=10_000,
            commission=commission,
            trade_on_close=False,
            hedging=False,
            exclusive_orders=False,
            finalize_trades=False,
        ).run()


def _ours(percent: Decimal):
    generator = strategy_generator("SMA_CROSSOVER", {"fast_period": 10, "slow_period": 20, "allow_short": True})
    config = BacktestConfig(
        initial_cash=Decimal(10_000),
        fill_timing=FillTiming.NEXT_OPEN,
        commission=PercentOfValue(percent, quantum=None),
        sizing=ALL_IN,
        bar_interval=timedelta(days=1),
    )
    return run_backtest(sample_bars("GOOG"), generator, config)


def _money(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@pytest.mark.parametrize(("percent", "expected_trades"), [(Decimal(0), 93), (Decimal("0.2"), 93)])
def test_trades_and_final_equity_equal_backtesting_py(percent: Decimal, expected_trades: int) -> None:
    theirs = _backtesting_py(float(percent / 100))
    ours = _ours(percent)
    their_trades = theirs["_trades"]

    assert ours.status == "completed"
    assert ours.run_log == []  # wide-open risk limits refuse nothing
    assert len(ours.trades) == len(their_trades) == expected_trades
    for trade, (_, row) in zip(ours.trades, their_trades.iterrows(), strict=True):
        assert trade.entry_time.date() == row["EntryTime"].date()
        assert trade.exit_time.date() == row["ExitTime"].date()
        assert trade.entry_price == _money(row["EntryPrice"])
        assert trade.exit_price == _money(row["ExitPrice"])
        assert trade.quantity == abs(int(row["Size"]))
        assert trade.side is (Side.BUY if row["Size"] > 0 else Side.SELL)
        assert abs(trade.commission - _money(row["Commission"])) < CENT
        assert abs(trade.pnl - _money(row["PnL"])) < CENT

    their_equity = _money(theirs["Equity Final [$]"])
    assert abs(ours.final_equity - their_equity) < CENT
    # Every day's equity too (each GOOG bar is a day).
    curve = theirs["_equity_curve"]["Equity"]
    assert len(ours.equity_daily) == len(curve)
    for (day, equity), (stamp, value) in zip(sorted(ours.equity_daily.items()), curve.items(), strict=True):
        assert day == stamp.date()
        assert abs(equity - _money(value)) < CENT


def test_the_figures_quoted_in_the_report() -> None:
    # Exact Decimal figures (backtesting.py: 81812.37000000001 and 56263.51934000004).
    assert _ours(Decimal(0)).final_equity == Decimal("81812.37")
    assert _ours(Decimal("0.2")).final_equity == Decimal("56263.51934")
