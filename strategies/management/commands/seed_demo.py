"""Load the demo: users, instruments, an account and a running AI strategy. Safe to run again."""

import os
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from risk.models import RiskParameters
from strategies.lifecycle import strategy_create
from strategies.models import Strategy
from trading.models import Account, Instrument
from trading.services.accounts import account_open

# symbol, name, exchange (MIC), sector, reference price, annual volatility
UNIVERSE = [
    ("AAPL", "Apple Inc.", "XNAS", "Information Technology", "228.50", "0.24"),
    ("MSFT", "Microsoft Corp.", "XNAS", "Information Technology", "415.20", "0.22"),
    ("NVDA", "NVIDIA Corp.", "XNAS", "Information Technology", "135.40", "0.50"),
    ("AVGO", "Broadcom Inc.", "XNAS", "Information Technology", "172.10", "0.40"),
    ("ORCL", "Oracle Corp.", "XNYS", "Information Technology", "168.30", "0.30"),
    ("CRM", "Salesforce Inc.", "XNYS", "Information Technology", "295.60", "0.32"),
    ("GOOGL", "Alphabet Inc. Class A", "XNAS", "Communication Services", "165.80", "0.28"),
    ("META", "Meta Platforms Inc.", "XNAS", "Communication Services", "560.30", "0.36"),
    ("NFLX", "Netflix Inc.", "XNAS", "Communication Services", "705.90", "0.38"),
    ("DIS", "Walt Disney Co.", "XNYS", "Communication Services", "95.40", "0.27"),
    ("AMZN", "Amazon.com Inc.", "XNAS", "Consumer Discretionary", "186.40", "0.31"),
    ("TSLA", "Tesla Inc.", "XNAS", "Consumer Discretionary", "250.10", "0.60"),
    ("HD", "Home Depot Inc.", "XNYS", "Consumer Discretionary", "390.70", "0.22"),
    ("MCD", "McDonald's Corp.", "XNYS", "Consumer Discretionary", "292.80", "0.17"),
    ("JPM", "JPMorgan Chase & Co.", "XNYS", "Financials", "210.20", "0.23"),
    ("BAC", "Bank of America Corp.", "XNYS", "Financials", "40.10", "0.27"),
    ("V", "Visa Inc. Class A", "XNYS", "Financials", "278.90", "0.19"),
    ("GS", "Goldman Sachs Group Inc.", "XNYS", "Financials", "505.60", "0.27"),
    ("JNJ", "Johnson & Johnson", "XNYS", "Health Care", "160.30", "0.16"),
    ("UNH", "UnitedHealth Group Inc.", "XNYS", "Health Care", "580.40", "0.24"),
    ("LLY", "Eli Lilly & Co.", "XNYS", "Health Care", "905.10", "0.33"),
    ("PFE", "Pfizer Inc.", "XNYS", "Health Care", "28.90", "0.24"),
    ("XOM", "Exxon Mobil Corp.", "XNYS", "Energy", "118.20", "0.24"),
    ("CVX", "Chevron Corp.", "XNYS", "Energy", "150.60", "0.24"),
    ("PG", "Procter & Gamble Co.", "XNYS", "Consumer Staples", "168.40", "0.15"),
    ("KO", "Coca-Cola Co.", "XNYS", "Consumer Staples", "70.20", "0.14"),
    ("WMT", "Walmart Inc.", "XNYS", "Consumer Staples", "80.30", "0.18"),
    ("CAT", "Caterpillar Inc.", "XNYS", "Industrials", "375.80", "0.28"),
    ("BA", "Boeing Co.", "XNYS", "Industrials", "155.20", "0.35"),
    ("NEE", "NextEra Energy Inc.", "XNYS", "Utilities", "78.60", "0.22"),
    ("SPY", "SPDR S&P 500 ETF Trust", "ARCX", "Index ETF", "565.40", "0.15"),
]

ROLES = ("trader", "operations", "viewer", "signal_producer")


class Command(BaseCommand):
    help = "Load the demo users, instruments, account and the RUNNING strategy demo-ai (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
        passwords = {
            "trader": os.environ.get("DEMO_TRADER_PASSWORD", "ql-trader-demo"),
            "ops": os.environ.get("DEMO_OPS_PASSWORD", "ql-ops-demo"),
        }
        users = {}
        for username, role, staff in (("trader", "trader", False), ("ops", "operations", True)):
            # Only what is missing: an existing user keeps its password (and so its sessions) and its flags.
            user, created = get_user_model().objects.get_or_create(
                username=username, defaults={"is_staff": staff, "is_superuser": staff}
            )
            if created:
                user.set_password(passwords[username])
                user.save(update_fields=["password"])
                user.groups.add(groups[role], *([groups["signal_producer"]] if role == "trader" else []))
            users[username] = user

        for symbol, name, exchange, sector, price, volatility in UNIVERSE:
            Instrument.objects.get_or_create(
                symbol=symbol,
                defaults={
                    "name": name,
                    "exchange": exchange,
                    "sector": sector,
                    "reference_price": Decimal(price),
                    "annual_volatility": Decimal(volatility),
                    "lot_size": Decimal(1),
                },
            )
        account = Account.objects.filter(owner=users["trader"], name="Paper account").first() or account_open(
            owner=users["trader"], name="Paper account", cash=Decimal("1000000"), actor="seed_demo"
        )
        RiskParameters.objects.get_or_create(account=account)
        # Through the strategy manager, so it has its version 1 and its creation event; only when missing.
        strategy = Strategy.objects.filter(owner=users["trader"], name="demo-ai", deleted_at__isnull=True).first()
        if strategy is None:
            strategy = strategy_create(
                owner=users["trader"],
                account=account,
                name="demo-ai",
                strategy_type=Strategy.StrategyType.EXTERNAL_AI,
                capital=Decimal("100000"),
                reason="the demo",
                deployed=True,
            )
        self.stdout.write(f"{len(UNIVERSE)} instruments, account '{account.name}' cash {account.cash}")
        self.stdout.write(f"strategy {strategy.name} ({strategy.status}, capital {strategy.capital})")
        for username, password in passwords.items():
            self.stdout.write(f"login: {username} / {password} (unless changed since)")
