"""Where a change comes from: the channel (session, key, admin, command, engine), the client's IP and the API key.

One context variable per request, task or command, read by the event log (``trading.events``) so that
every event records who, how and from where without each service passing it along. The request's
middleware sets it, API key authentication adds the key's prefix, management commands set
``command``; anything else (Celery tasks, background loops) is the engine itself.
"""

import getpass
import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import StrEnum

from django.http import HttpRequest


class Channel(StrEnum):
    SESSION = "session"  # a person signed in to the dashboard or the API
    KEY = "key"  # a program with an API key
    ADMIN = "admin"  # a person in the Django admin
    COMMAND = "command"  # a management command on the server
    ENGINE = "engine"  # the engine itself: tasks, monitors, reconciliation


@dataclass(frozen=True)
class Origin:
    channel: Channel = Channel.ENGINE
    ip: str | None = None
    user: str = ""
    api_key_prefix: str = ""


ENGINE = Origin()
_origin: ContextVar[Origin] = ContextVar("quantumleap_origin", default=ENGINE)


def origin_get() -> Origin:
    return _origin.get()


@contextmanager
def origin_set(origin: Origin) -> Iterator[Origin]:
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


def origin_key_used(*, user: str, prefix: str) -> None:
    """Called by API key authentication: the rest of the request acts with this key."""
    _origin.set(replace(_origin.get(), channel=Channel.KEY, user=user, api_key_prefix=prefix))


def request_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wrote unless a trusted proxy sets it.
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR") or ""))
    except ValueError:
        return None  # a unix socket, or nothing: an address the inet column would refuse is not recorded


class OriginMiddleware:
    """Sets the request's origin: admin or session (the user, once authenticated), and the client's IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        channel = Channel.ADMIN if request.path.startswith("/admin/") else Channel.SESSION
        user = getattr(request, "user", None)
        name = user.get_username() if user is not None and user.is_authenticated else ""
        with origin_set(Origin(channel=channel, ip=request_ip(request), user=name)):
            return self.get_response(request)


# Commands that serve requests or run the engine (the market feed and its stop monitor): what they record is
# the engine's, or the origin their requests set.
ENGINE_COMMANDS = frozenset({"runserver", "daphne", "runworker", "market_feed"})


def command_origin(argv: list[str]) -> Origin | None:
    """The origin of ``manage.py <command>`` (None for the commands that serve requests or run the engine)."""
    command = argv[1] if len(argv) > 1 else ""
    if not command or command in ENGINE_COMMANDS:
        return None
    return Origin(channel=Channel.COMMAND, user=f"{getpass.getuser()}@{socket.gethostname()}")


def command_origin_enter(argv: list[str]) -> None:
    """Called by manage.py: whatever the command changes is recorded as done by a command."""
    origin = command_origin(argv)
    if origin is not None:
        _origin.set(origin)
