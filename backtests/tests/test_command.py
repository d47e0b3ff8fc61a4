from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backtests.models import Backtest

pytestmark = pytest.mark.django_db


def test_the_command_runs_a_backtest_with_a_progress_bar_and_stores_it(demo):
    out = StringIO()
    call_command(
        "backtest",
        "--user=trader",
        "--type=SMA_CROSSOVER",
        "--param=fast_period=10",
        "--param=slow_period=20",
        "--param=allow_short=true",
        "--sample=GOOG",
        "--sizing=all_in",
        "--commission-model=percent",
        "--commission=0.2",
        stdout=out,
    )
    text = out.getvalue()
    assert "100 % 2,148/2,148 bars" in text
    assert "final equity: 56263.51" in text  # commissions rounded to the cent (the oracle: 56263.51934 unrounded)
    backtest = Backtest.objects.get()
    assert backtest.status == "completed" and len(backtest.trades) == 93


def test_the_command_refuses_bad_input_with_the_apis_errors(demo):
    with pytest.raises(CommandError, match="fast_period"):
        call_command("backtest", "--user=trader", "--type=SMA_CROSSOVER", "--param=fast_period=50", stdout=StringIO())
    assert not Backtest.objects.exists()
