"""The dashboard socket: who may connect, and which pushes reach whom."""

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.sessions.backends.db import SessionStore

from accounts.models import AccountGrant
from tests.otp import otp_client, otp_device
from trading.bus import OPERATIONS_GROUP, account_group
from trading.consumers import CLOSE_UNAUTHENTICATED, PRICES_GROUP, TradingConsumer
from trading.models import Account

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _user_with_account(username: str, **extra):
    user = get_user_model().objects.create_user(username=username, password="not-used-here-42", **extra)
    account = Account.objects.create(owner=user, name=f"{username}-main", cash=Decimal(1000000))
    return user, account


@pytest.fixture
def alice():
    return _user_with_account("alice")


@pytest.fixture
def bob():
    return _user_with_account("bob")


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(TradingConsumer.as_asgi(), "/ws/trading/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def _event(event_id: int, account_id: int | None, event_type: str = "order.filled") -> dict:
    return {
        "id": event_id,
        "type": event_type,
        "severity": "INFO",
        "occurred_at": "2025-01-02T15:04:05+00:00",
        "account_id": account_id,
        "strategy_id": None,
        "order_id": None,
        "signal_id": None,
        "actor": "test",
        "payload": {"symbol": "AAPL"},
    }


async def test_anonymous_is_refused():
    communicator = WebsocketCommunicator(TradingConsumer.as_asgi(), "/ws/trading/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_user_receives_own_account_events_only(alice, bob):
    user, account = alice
    _, other_account = bob
    communicator = await _connect(user)
    layer = get_channel_layer()
    # Sent first: if it leaked, it would arrive before the user's own event.
    await layer.group_send(
        account_group(other_account.id),
        {"type": "event.message", "event": _event(1, other_account.id)},
    )
    await layer.group_send(
        account_group(account.id),
        {"type": "event.message", "event": _event(2, account.id)},
    )
    received = await communicator.receive_json_from(timeout=5)
    assert received == {"kind": "event", "event": _event(2, account.id)}
    await communicator.disconnect()


async def test_a_viewer_receives_the_events_of_an_account_granted_to_them(alice, bob):
    viewer, _ = alice
    _, granted = bob
    _, other = await database_sync_to_async(_user_with_account)("carol")
    await database_sync_to_async(AccountGrant.objects.create)(account=granted, viewer=viewer)
    communicator = await _connect(viewer)
    layer = get_channel_layer()
    await layer.group_send(account_group(other.id), {"type": "event.message", "event": _event(1, other.id)})
    await layer.group_send(account_group(granted.id), {"type": "event.message", "event": _event(2, granted.id)})
    received = await communicator.receive_json_from(timeout=5)
    assert received == {"kind": "event", "event": _event(2, granted.id)}
    await communicator.disconnect()


async def test_user_receives_prices(alice):
    user, _ = alice
    communicator = await _connect(user)
    prices = {"AAPL": "190.12", "MSFT": "410.50"}
    await get_channel_layer().group_send(
        PRICES_GROUP,
        {"type": "prices.message", "prices": prices, "at": "2025-01-02T15:04:05+00:00"},
    )
    received = await communicator.receive_json_from(timeout=5)
    assert received == {
        "kind": "prices",
        "prices": prices,
        "at": "2025-01-02T15:04:05+00:00",
    }
    await communicator.disconnect()


async def test_operations_group_reaches_operations_role_only(alice):
    from channels.db import database_sync_to_async

    trader, trader_account = alice

    @database_sync_to_async
    def make_operator():
        operator = get_user_model().objects.create_user(username="olga", password="not-used-here-42")
        operator.groups.add(Group.objects.get_or_create(name="operations")[0])
        return operator, otp_client(operator).cookies["sessionid"].value  # operations sign in with a code

    operator, session_key = await make_operator()
    trader_socket = await _connect(trader)
    operator_socket = WebsocketCommunicator(TradingConsumer.as_asgi(), "/ws/trading/")
    operator_socket.scope.update(user=operator, session=SessionStore(session_key=session_key))
    assert (await operator_socket.connect())[0]
    layer = get_channel_layer()
    await layer.group_send(
        OPERATIONS_GROUP,
        {"type": "event.message", "event": _event(3, None, "risk.violation")},
    )
    await layer.group_send(
        account_group(trader_account.id),
        {"type": "event.message", "event": _event(4, trader_account.id)},
    )

    assert (await operator_socket.receive_json_from(timeout=5))["event"]["id"] == 3
    # The trader is not in operations: the first thing it gets is its own account's event.
    assert (await trader_socket.receive_json_from(timeout=5))["event"]["id"] == 4
    await trader_socket.disconnect()
    await operator_socket.disconnect()


async def test_disconnect_leaves_groups(alice):
    user, account = alice
    communicator = await _connect(user)
    await communicator.disconnect()
    layer = get_channel_layer()
    groups = getattr(layer, "groups", None)
    if groups is None:
        pytest.skip("only the in-memory layer exposes its groups")
    assert not groups.get(account_group(account.id))
    assert not groups.get(PRICES_GROUP)


async def test_logout_closes_the_sockets_of_that_session(alice, monkeypatch):
    from channels.db import database_sync_to_async
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    from trading import consumers

    user, _ = alice
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    session_key = client.cookies["sessionid"].value
    communicator = WebsocketCommunicator(TradingConsumer.as_asgi(), "/ws/trading/")
    communicator.scope["user"] = user
    communicator.scope["session"] = SessionStore(session_key=session_key)
    connected, _ = await communicator.connect()
    assert connected

    pushed = []
    monkeypatch.setattr(consumers, "group_push", lambda group, payload: pushed.append((group, payload)))
    await database_sync_to_async(client.post)("/accounts/logout/")
    assert pushed == [(consumers.session_group(session_key), {"type": "session.ended"})]

    # What the pusher delivers to that group closes the socket as signed out.
    await get_channel_layer().group_send(*pushed[0])
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_socket_closes_once_its_session_expires_idle(alice, settings):
    from channels.db import database_sync_to_async
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.test import Client

    settings.SESSION_SOCKET_CHECK_SECONDS = 0.2
    user, _ = alice
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    session_key = client.cookies["sessionid"].value
    communicator = WebsocketCommunicator(TradingConsumer.as_asgi(), "/ws/trading/")
    communicator.scope["user"] = user
    communicator.scope["session"] = SessionStore(session_key=session_key)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_nothing(timeout=0.6)  # the session lives: the socket stays open
    await database_sync_to_async(Session.objects.filter(session_key=session_key).update)(
        expire_date="2000-01-01T00:00:00Z"
    )
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_session_that_skipped_a_step_of_sign_in_gets_no_socket(alice):
    from channels.db import database_sync_to_async
    from django.test import Client

    user, _ = alice

    @database_sync_to_async
    def sessions():
        unverified = Client()
        unverified.force_login(user)
        otp_device(user)
        verified = otp_client(user)
        operator = get_user_model().objects.create_user(username="oleg", password="not-used-here-42")
        operator.groups.add(Group.objects.get_or_create(name="operations")[0])
        no_device = Client()
        no_device.force_login(operator)
        keys = [client.cookies["sessionid"].value for client in (unverified, verified, no_device)]
        return [SessionStore(session_key=key) for key in keys], operator

    (unverified, verified, no_device), operator = await sessions()
    for who, session, expected in ((user, unverified, False), (user, verified, True), (operator, no_device, False)):
        communicator = WebsocketCommunicator(TradingConsumer.as_asgi(), "/ws/trading/")
        communicator.scope.update(user=who, session=session)
        connected, code = await communicator.connect()
        assert connected is expected, (who, expected)
        if not expected:
            assert code == CLOSE_UNAUTHENTICATED
        await communicator.disconnect()
