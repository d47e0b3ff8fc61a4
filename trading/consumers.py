"""Live pushes to browsers: authenticate, join the user's groups, forward."""

import asyncio
import contextlib
import hashlib
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import Q
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from accounts.otp import otp_enrolled
from accounts.permissions import is_operations
from trading.bus import OPERATIONS_GROUP, account_group, group_push
from trading.models import Account

PRICES_GROUP = "prices"
# Application close code for "not authenticated" (4000-4999 are free for applications).
CLOSE_UNAUTHENTICATED = 4401


def session_group(session_key: str) -> str:
    """The group of every socket opened under one login session (hashed: the key itself is a secret)."""
    return "session-" + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def sessions_end_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """user_logged_out: close the sockets of that session, so no push reaches a browser that logged out."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        group_push(session_group(session_key), {"type": "session.ended"})


@database_sync_to_async
def session_alive(session_key: str) -> bool:
    """Is the login session still there: not logged out, not expired by the idle timeout?"""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    return SESSION_KEY in store.load()


@database_sync_to_async
def sign_in_complete(user: Any, session: Any) -> bool:
    """The sign-in rules hold for this socket's session: verified by the user's device when they have one, and
    an operations user has one (as accounts.middleware holds every request to them)."""
    if not otp_enrolled(user):
        return not is_operations(user)
    device_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(device_id) if device_id else None
    return device is not None and device.user_id == user.pk and device.confirmed


@database_sync_to_async
def _user_groups(user: Any) -> list[str]:
    # The user's own accounts and those granted to them (a viewer reads a granted account live too).
    account_ids = Account.objects.filter(Q(owner=user) | Q(grants__viewer=user)).distinct().values_list("id", flat=True)
    groups = [account_group(account_id) for account_id in account_ids]
    groups.append(PRICES_GROUP)
    if is_operations(user):
        groups.append(OPERATIONS_GROUP)
    return groups


class TradingConsumer(AsyncJsonWebsocketConsumer):
    """One socket per dashboard: the user's account events, operations events for ops, and prices."""

    joined: list[str]
    session_watch: asyncio.Task | None = None

    async def connect(self) -> None:
        self.joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await sign_in_complete(user, self.scope.get("session")):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await _user_groups(user)
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            groups.append(session_group(session_key))
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()
        if session_key:
            self.session_watch = asyncio.create_task(self._session_watch(session_key))

    async def _session_watch(self, session_key: str) -> None:
        # A socket is not a request: it does not renew the session, and it closes once the idle timeout ended it.
        while True:
            await asyncio.sleep(settings.SESSION_SOCKET_CHECK_SECONDS)
            if not await session_alive(session_key):
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return

    async def disconnect(self, code: int) -> None:
        if self.session_watch is not None:
            self.session_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.session_watch
            self.session_watch = None
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is push-only; the browser writes through the REST API.
        return

    async def event_message(self, message: dict[str, Any]) -> None:
        await self.send_json({"kind": "event", "event": message["event"]})

    async def events_message(self, message: dict[str, Any]) -> None:
        for event in message["events"]:
            await self.send_json({"kind": "event", "event": event})

    async def session_ended(self, message: dict[str, Any]) -> None:
        # The user logged out of this session: nothing more may reach this browser.
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def prices_message(self, message: dict[str, Any]) -> None:
        await self.send_json({"kind": "prices", "prices": message["prices"], "at": message.get("at")})
