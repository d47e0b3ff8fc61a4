"""The strategy manager's REST contract, answered by the browser tests themselves (Playwright's page.route).

The pages are tested against the contract's shapes before (and independently of) the backend: the
types come from the real ``STRATEGY_TYPES`` specs, the performance, equity and attribution from the
real pure cores over a made-up history, the allowed actions from the real lifecycle table.
"""

import json
import re
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import Page, Request, Route

from strategies.core.attribution import attribution
from strategies.core.generators import STRATEGY_TYPES
from strategies.core.lifecycle import TRANSITIONS, StrategyAction, StrategyStatus, needs_otp
from strategies.core.metrics import ClosedTrade, drawdown_series, performance
from trading.core.orders import Side

Answer = tuple[int, Any]


def types_answer() -> list[dict[str, Any]]:
    """GET strategies/types/ as the contract states it (type, label, generator, parameters: ParamSpec.as_dict)."""
    return [
        {
            "type": info.name,
            "label": info.label,
            "description": info.description,
            "generator": info.generator is not None,
            "parameters": [spec.as_dict() for spec in info.parameters],
        }
        for info in STRATEGY_TYPES.values()
    ]


def allowed_actions(status: str) -> list[str]:
    """What a person may do now, from the lifecycle table (auto_pause is the monitor's only)."""
    actions = [
        action.value
        for (state, action) in TRANSITIONS
        if state == StrategyStatus(status) and action != StrategyAction.AUTO_PAUSE
    ]
    if status in ("DRAFT", "STOPPED"):
        actions.append("delete")
    return actions


def strategy(
    strategy_id: int,
    name: str,
    status: str = "DRAFT",
    *,
    strategy_type: str = "EXTERNAL_AI",
    capital: str = "100000.00",
    version: int = 1,
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """GET strategies/{id}/ as the contract states it."""
    return {
        "id": strategy_id,
        "name": name,
        "strategy_type": strategy_type,
        "status": status,
        "capital": capital,
        "account_id": 1,
        "configuration": configuration if configuration is not None else {"parameters": {}},
        "version": version,
        "created_at": "2026-09-01T08:00:00+00:00",
        "deployed_at": None if status == "DRAFT" else "2026-09-01T09:00:00+00:00",
        "allowed_actions": allowed_actions(status),
        "otp_required_for": [a for a in allowed_actions(status) if a != "delete" and needs_otp(status, a)],
        "performance_metrics": {},
    }


# ---------- a made-up history run through the real cores ----------
START = date(2026, 9, 1)
STEPS = ["0.004", "-0.002", "0.006", "-0.011", "0.003", "0.0075", "-0.0042", "0.001", "-0.006", "0.0052"]


def equity_curve(days: int = 40) -> dict[date, Decimal]:
    value = Decimal("100000")
    curve = {}
    for i in range(days):
        value = (value * (1 + Decimal(STEPS[i % len(STEPS)]))).quantize(Decimal("0.01"))
        curve[START + timedelta(days=i)] = value
    return curve


def closed_trades() -> list[ClosedTrade]:
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 9, 1, hour, tzinfo=UTC) + timedelta(days=day)

    rows = [
        ("AAPL", Side.BUY, "40", 1, 2, "228.50", "231.125", "103.50", "2.00", "model-7", "0.82"),
        ("MSFT", Side.SELL, "10", 3, 5, "415.20", "418.00", "-29.00", "1.00", "model-7", "0.64"),
        ("NVDA", Side.BUY, "100", 6, 9, "135.40", "129.90", "-552.00", "2.00", "model-9", "0.55"),
        ("AAPL", Side.BUY, "25", 10, 12, "229.00", "240.00", "1273.50", "1.50", "model-9", "0.93"),
        ("KO", Side.BUY, "100", 14, 15, "62.10", "62.40", "29.00", "1.00", None, None),
    ]
    return [
        ClosedTrade(
            symbol=symbol,
            side=side,
            quantity=Decimal(qty),
            entry_time=at(opened, 14),
            exit_time=at(closed, 15),
            entry_price=Decimal(entry),
            exit_price=Decimal(exit_price),
            pnl=Decimal(pnl),
            commission=Decimal(commission),
            model=model,
            confidence=Decimal(confidence) if confidence else None,
        )
        for symbol, side, qty, opened, closed, entry, exit_price, pnl, commission, model, confidence in rows
    ]


def performance_answer() -> dict[str, Any]:
    curve = equity_curve()
    metrics = performance(curve, closed_trades())
    return {
        "metrics": metrics.as_dict(),
        "equity": [
            {"day": p.day.isoformat(), "equity": str(p.equity), "drawdown": str(p.drawdown)}
            for p in drawdown_series(curve)
        ],
        "updated_at": "2026-10-10T16:00:00+00:00",
        "version": 2,
    }


def trades_answer() -> dict[str, Any]:
    """GET strategies/{id}/trades/: ClosedTrade's figures, API names (entry_at, exit_at, return, duration)."""
    trades = [
        {
            "id": number,
            "version": 1,
            "symbol": t.symbol,
            "side": t.side.value,
            "quantity": str(t.quantity),
            "entry_at": t.entry_time.isoformat(),
            "exit_at": t.exit_time.isoformat(),
            "entry_price": str(t.entry_price),
            "exit_price": str(t.exit_price),
            "pnl": str(t.pnl),
            "return": str(t.return_fraction),
            "commission": str(t.commission),
            "duration": (t.exit_time - t.entry_time).total_seconds(),
            "model": t.model,
            "confidence": None if t.confidence is None else str(t.confidence),
        }
        for number, t in enumerate(closed_trades(), start=1)
    ]
    return {"count": len(trades), "next": None, "previous": None, "results": trades}


def attribution_answer() -> dict[str, Any]:
    found = attribution(closed_trades(), signal_counts={"model-7": 6, "model-9": 3}).as_dict()
    found["unconfident_trades"] = found.pop("unscored_trades")  # the contract's name for them
    return found


def versions_answer() -> list[dict[str, Any]]:
    return [
        {
            "number": 1,
            "created_by": "trader",
            "created_at": "2026-09-01T08:00:00+00:00",
            "reason": "created",
            "diff": {},
            "configuration": {"parameters": {}},
            "capital": "100000.00",
        },
        {
            "number": 2,
            "created_by": "trader",
            "created_at": "2026-10-02T09:30:00+00:00",
            "reason": "more capital, wider stop",
            "diff": {
                "capital": ["100000.00", "120000.00"],
                "parameters": {"stop_loss_pct": {"before": None, "after": "0.02"}},
            },
            "configuration": {"parameters": {"stop_loss_pct": "0.02"}},
            "capital": "120000.00",
        },
    ]


def signals_answer(strategy_id: int) -> list[dict[str, Any]]:
    common = {
        "strategy_id": strategy_id,
        "target_price": None,
        "stop_loss": None,
        "take_profit": None,
        "closes_position": False,
    }
    return [
        {
            **common,
            "id": "model-7/0001",
            "signal_id": 11,
            "status": "executed",
            "order_id": 31,
            "violations": [],
            "symbol": "AAPL",
            "signal_type": "BUY",
            "confidence_score": "0.820000",
            "position_size": "0.100000",
            "expires_at": "2026-10-03T14:05:00+00:00",
            "metadata": {"model": "model-7"},
            "created_at": "2026-10-03T14:00:00+00:00",
            "updated_at": "2026-10-03T14:00:01+00:00",
        },
        {
            **common,
            "id": "model-7/0002",
            "signal_id": 12,
            "status": "rejected",
            "order_id": None,
            "violations": [
                {
                    "code": "max_position_size_exceeded",
                    "message": "The position would be 12% of equity; the limit is 10%.",
                    "limit": "0.1",
                    "actual": "0.12",
                }
            ],
            "symbol": "MSFT",
            "signal_type": "BUY",
            "confidence_score": "0.910000",
            "position_size": "0.200000",
            "expires_at": "2026-10-03T14:10:00+00:00",
            "metadata": {"model": "model-7"},
            "created_at": "2026-10-03T14:05:00+00:00",
            "updated_at": "2026-10-03T14:05:00+00:00",
        },
    ]


# ---------- how the pages must show figures (the JS rounds to 6 places first, half away from zero) ----------
MINUS = "\u2212"  # the pages write negatives with a minus sign, not a hyphen


def _grouped(value: Decimal, places: int) -> str:
    text = f"{abs(value):,.{places}f}"
    return (MINUS if value < 0 else "") + text


def _six(value: str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def shown_percent(value: str) -> str:
    return _grouped((_six(value) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), 2) + "%"


def shown_ratio(value: str) -> str:
    return _grouped(_six(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), 2)


def shown_money(value: str, *, sign: bool = False) -> str:
    rounded = _six(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return ("+" if sign and rounded > 0 else "") + _grouped(rounded, 2)


class FakeStrategyApi:
    """Answers /api/v1/strategies/… for one page: queued answers first, else the contract's defaults.

    ``requests`` records (method, path, JSON body) of every call, path relative to /api/v1/.
    """

    def __init__(self, page: Page, strategies: list[dict[str, Any]]):
        self.page = page
        self.strategies = {s["id"]: s for s in strategies}
        self.requests: list[tuple[str, str, Any]] = []
        self.queued: dict[tuple[str, str], deque[Answer | Callable[[Any], Answer]]] = {}
        self.missing: set[str] = set()  # paths (regexes) that answer 404 as a page would, the API not being there
        self.details: dict[str, Callable[[int], Any]] = {
            "performance": lambda _id: performance_answer(),
            "trades": lambda _id: trades_answer(),
            "attribution": lambda _id: attribution_answer(),
            "versions": lambda _id: versions_answer(),
            "signals": signals_answer,
        }
        page.route(re.compile(r"/api/v1/strategies/"), self._handle)

    def queue(self, method: str, path: str, *answers: Answer | Callable[[Any], Answer]) -> None:
        self.queued.setdefault((method, path), deque()).extend(answers)

    def bodies(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.requests if m == method and p == path]

    def _default(self, method: str, path: str) -> Answer:
        if method == "GET" and path == "strategies/":
            results = sorted(self.strategies.values(), key=lambda s: s["name"])
            return 200, {"count": len(results), "next": None, "previous": None, "results": results}
        if method == "GET" and path == "strategies/types/":
            return 200, types_answer()
        match = re.fullmatch(r"strategies/(\d+)/(?:(\w+)/)?", path)
        if method == "GET" and match and int(match[1]) in self.strategies:
            if match[2] is None:
                return 200, self.strategies[int(match[1])]
            if match[2] in self.details:
                return 200, self.details[match[2]](int(match[1]))
        return 404, {"code": "not_found", "message": "Not found."}

    def _handle(self, route: Route, request: Request) -> None:
        path = urlparse(request.url).path.removeprefix("/api/v1/")
        body = request.post_data_json if request.post_data else None
        self.requests.append((request.method, path, body))
        if any(re.fullmatch(pattern, path) for pattern in self.missing):
            route.fulfill(status=404, content_type="text/html", body="<h1>Not Found</h1>")
            return
        pending = self.queued.get((request.method, path))
        answer = pending.popleft() if pending else self._default(request.method, path)
        status, payload = answer(body) if callable(answer) else answer
        if status == 204:
            route.fulfill(status=204, body="")
            return
        route.fulfill(status=status, content_type="application/json", body=json.dumps(payload))
