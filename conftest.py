"""Fixtures shared by the whole suite.

On the embedded default (no DATABASE_URL / REDIS_URL) tasks run in-process.
On the real stack, `celery_worker_process` runs a real Celery worker against
the test database, and `live_server_process` runs the real ASGI app.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent
REAL_STACK = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REAL_STACK:
        return
    if os.environ.get("QL_REQUIRE_REAL_STACK"):
        raise pytest.UsageError("QL_REQUIRE_REAL_STACK is set but DATABASE_URL and REDIS_URL are not.")
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (CI's second pass)")
    for item in items:
        if "realstack" in item.keywords:
            item.add_marker(skip)


def wait_for(predicate: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until predicate() is truthy; waiting on the system, never timing it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_for


@pytest.fixture(autouse=True)
def cache_forgotten() -> Iterator[None]:
    """Every test starts with no background loop's heartbeat or failure remembered and no last price or feed
    marker of the demo's instruments left by another test (they live in the cache, which tests share)."""
    from django.core.cache import cache

    from strategies.management.commands.seed_demo import UNIVERSE
    from trading.loops import loops_forget
    from trading.marketdata.prices import FEED_RUNNING_KEY, PRICE_AT_KEY, PRICE_KEY

    loops_forget()
    keys = [FEED_RUNNING_KEY, *(key.format(row[0]) for row in UNIVERSE for key in (PRICE_KEY, PRICE_AT_KEY))]
    cache.delete_many(keys)
    yield


@pytest.fixture(scope="session", autouse=True)
def rate_limits_lifted() -> Iterator[None]:
    """No API rate limit, here or in the servers tests start: the suite posts thousands of signals, with
    key and user ids that repeat from run to run. Tests of the limits set their own (``settings``)."""
    os.environ["API_RATE_PER_KEY"] = os.environ["API_RATE_PER_USER"] = "0"
    settings.API_RATE_PER_KEY = settings.API_RATE_PER_USER = 0
    yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> Iterator[None]:
    """pytest-django's test databases, with the connection pools closed before they are dropped.

    A connection a finished thread of this process still held out of its pool (asgiref's
    executor threads keep theirs) is ended too, so the test database drops cleanly.
    """
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None and connection.settings_dict.get("OPTIONS", {}).get("pool"):
                close_pool()
            if connection.vendor == "postgresql":
                _sessions_end(connection.settings_dict)


def _sessions_end(settings_dict: dict[str, Any]) -> None:
    import psycopg

    params = {"dbname": settings_dict["NAME"], "user": settings_dict["USER"], "host": settings_dict["HOST"]}
    params.update(port=settings_dict["PORT"] or None, password=settings_dict["PASSWORD"] or None)
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def tasks_in_process() -> Iterator[None]:
    """Celery tasks run in this process, after commit, on either stack (for tests of what services do)."""
    from quantumleap.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@dataclass
class Demo:
    trader: Any
    account: Any
    strategy: Any
    key: str

    def headers(self) -> dict[str, str]:
        """The producer's key (scoped to demo-ai): it may post signals and read them and their orders."""
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}

    def session(self, **client_options: Any) -> Any:
        """A test client signed in as the trader: everything else the API does is a person's."""
        from django.test import Client

        client = Client(**client_options)
        client.force_login(self.trader)
        return client


def _demo() -> Demo:
    from django.contrib.auth import get_user_model

    from accounts.services import api_key_create
    from strategies.models import Strategy

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    trader = get_user_model().objects.get(username="trader")
    strategy = Strategy.objects.get(owner=trader, name="demo-ai")
    return Demo(
        trader=trader, account=strategy.account, strategy=strategy, key=api_key_create(user=trader, strategy=strategy)
    )


@pytest.fixture
def demo(db) -> Demo:
    return _demo()


@pytest.fixture
def demo_committed(transactional_db) -> Demo:
    """The demo in committed rows, visible to workers and servers in other processes."""
    return _demo()


def _test_database_env() -> dict[str, str]:
    """Environment that points another process at the test database pytest-django made."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(db["NAME"])
        env.pop("DATABASE_URL", None)
    else:
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env["PYTHONUNBUFFERED"] = "1"
    # Workers and web processes started by the tests book fills as a group commit every time, not only
    # after a wait, so the multi-process and fault tests drive that path under real concurrency.
    env.setdefault("FILL_GROUP_COMMIT_WAIT_MS", "-1")
    # Servers the tests start run no beat schedule of their own: a test runs what it needs when it needs it.
    env.setdefault("HOUSEKEEPING_IN_PROCESS", "0")
    return env


def _redis_flush() -> None:
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[subprocess.Popen | None]:
    """A real Celery worker process consuming from Redis, writing to the test database."""
    if not REAL_STACK:
        yield None  # embedded default: tasks run in-process
        return
    _redis_flush()  # no task left over from an earlier run may reach this database
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "quantumleap", "worker", "-l", "info", "-c", "2", "-n", "test@%h"],
        cwd=ROOT,
        env=_test_database_env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    from quantumleap.celery import app

    try:
        wait_for(lambda: app.control.ping(timeout=0.5), timeout=60, interval=0.5)
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        if worker.returncode not in (0, -15):
            print(log.read_text()[-5000:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_post_signal(base_url: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST a signal over real HTTP, as a producer does; returns the status and the JSON answer."""
    import json
    import urllib.error

    request = urllib.request.Request(
        f"{base_url}/api/v1/signals/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def daphne_start(log: Path | None = None, *, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """The real ASGI app on a free loopback port, serving the test database; returns once /healthz answers.

    env: settings for this server (environment variables) over the test database's.
    """
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "quantumleap.asgi:application"],
        cwd=ROOT,
        env={**_test_database_env(), **(env or {})},
        stdout=log.open("w") if log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=60, interval=0.2)
    except AssertionError:
        server.kill()
        raise
    return server, url


@pytest.fixture(scope="session")
def _live_server(django_db_setup, celery_worker_process, tmp_path_factory) -> Iterator[str]:
    server, url = daphne_start(tmp_path_factory.mktemp("daphne") / "server.log")
    try:
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _celery_idle() -> bool:
    """No task queued, reserved or running: nothing can still touch the test database."""
    import redis

    from quantumleap.celery import app

    if redis.Redis.from_url(settings.REDIS_URL).llen("celery"):
        return False
    inspector = app.control.inspect(timeout=0.5)
    busy = [inspector.active() or {}, inspector.reserved() or {}, inspector.scheduled() or {}]
    return not any(tasks for found in busy for tasks in found.values())


@pytest.fixture
def celery_worker(transactional_db, celery_worker_process) -> Iterator[subprocess.Popen | None]:
    yield celery_worker_process
    if celery_worker_process is not None:
        # Tasks still in flight would race the database flush that ends the test (and deadlock with it).
        wait_for(_celery_idle, timeout=60, interval=0.2)


@pytest.fixture
def live_server_process(transactional_db, _live_server, celery_worker) -> str:
    """Base URL of the real ASGI app (daphne) serving the test database; a Celery worker runs on the real stack."""
    return _live_server
