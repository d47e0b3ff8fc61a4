"""validate_order p50/p99 against an account with 1,000 positions and 100 open orders.

Run on the real stack (not a timed test):
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/risk_bench.py
Everything it writes is rolled back at the end. It times the database path (the
account row lock, the snapshot read, the rules) and the pure rules alone.
"""

import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from risk.core.rules import OrderIntent, validate_order  # noqa: E402
from risk.models import RiskParameters  # noqa: E402
from risk.selectors import order_validate, risk_parameters_for, risk_snapshot  # noqa: E402
from strategies.models import Strategy  # noqa: E402
from trading.core.orders import OrderStatus, OrderType, Side  # noqa: E402
from trading.marketdata import prices_set  # noqa: E402
from trading.models import Account, Instrument, Order, Position  # noqa: E402
from trading.selectors import book_read  # noqa: E402
from trading.services import account_lock  # noqa: E402

POSITIONS, OPEN_ORDERS, RUNS, GOAL_MS = 1000, 100, int(os.environ.get("RUNS", 500)), 5.0
SECTORS = ["Tech", "Energy", "Health", "Financials", "Utilities"]


class Rollback(Exception):
    pass


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, samples: list[float]) -> None:
    p50, p99 = percentile(samples, 0.50) * 1000, percentile(samples, 0.99) * 1000
    print(
        f"{name:<34} p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  mean {statistics.mean(samples) * 1000:7.3f} ms"
        f"  p99/goal {p99 / GOAL_MS:5.2f}  (design asks < 100 ms: {p99 / 100:5.3f})"
    )


def main() -> None:
    engine = django.db.connection.vendor
    print(f"database: {engine}; {POSITIONS} positions, {OPEN_ORDERS} open orders, {RUNS} validations")
    try:
        with transaction.atomic():
            user = get_user_model().objects.create(username=f"bench-{time.time_ns()}")
            account = Account.objects.create(owner=user, name="bench", cash=Decimal("100000000"))
            strategy = Strategy.objects.create(
                owner=user,
                account=account,
                name="bench",
                strategy_type="EXTERNAL_AI",
                capital=Decimal("50000000"),
                status="RUNNING",
            )
            RiskParameters.objects.create(
                account=account,
                max_position_size=Decimal("0.5"),
                max_sector_exposure=Decimal("0.5"),
                max_strategy_orders_per_minute=None,
                max_account_orders_per_minute=None,
                market_hours="ANY",
                prevent_self_cross=True,
            )
            instruments = Instrument.objects.bulk_create(
                Instrument(
                    symbol=f"BN{i:04d}",
                    name=f"Bench {i}",
                    sector=SECTORS[i % len(SECTORS)],
                    reference_price=Decimal(50 + i % 200),
                )
                for i in range(POSITIONS)
            )
            now = timezone.now()
            Position.objects.bulk_create(
                Position(
                    account=account,
                    strategy=strategy,
                    instrument=inst,
                    quantity=Decimal(10 + i % 50),
                    average_price=inst.reference_price,
                    opened_at=now,
                )
                for i, inst in enumerate(instruments)
            )
            Order.objects.bulk_create(
                Order(
                    account=account,
                    instrument=instruments[i],
                    strategy=strategy,
                    side="BUY",
                    order_type="LIMIT",
                    quantity=Decimal(5),
                    price=instruments[i].reference_price - 1,
                    reference_price=instruments[i].reference_price,
                    status=OrderStatus.ACCEPTED,
                )
                for i in range(OPEN_ORDERS)
            )
            prices_set({inst.symbol: inst.reference_price + 1 for inst in instruments})
            target = instruments[7]

            db_path: list[float] = []
            for _ in range(RUNS):
                started = time.perf_counter()
                with transaction.atomic():
                    locked = account_lock(account.pk)
                    result = order_validate(
                        account=locked,
                        strategy=strategy,
                        symbol=target.symbol,
                        side=Side.BUY,
                        order_type=OrderType.MARKET,
                        quantity=Decimal(10),
                        reference_price=target.reference_price,
                        lot_size=Decimal(1),
                        now=timezone.now(),
                        instrument=target,
                    )
                db_path.append(time.perf_counter() - started)
            assert result.is_valid, result.violations

            parameters = risk_parameters_for(account=account, strategy=strategy)
            snapshot = risk_snapshot(
                account=account,
                strategy=strategy,
                parameters=parameters,
                book=book_read(account=account, extra_symbols=[target.symbol]),
                symbol=target.symbol,
            )
            intent = OrderIntent(target.symbol, Side.BUY, Decimal(10), target.reference_price, sector=target.sector)
            pure: list[float] = []
            at = datetime.now(UTC)
            for _ in range(RUNS):
                started = time.perf_counter()
                validate_order(snapshot, intent, now=at)
                pure.append(time.perf_counter() - started)

            report("order_validate (lock + snapshot + rules)", db_path)
            report("rules only (pure core)", pure)
            print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
