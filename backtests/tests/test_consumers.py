"""The backtests socket: only signed-in people, and only their own runs' progress."""

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from backtests.consumers import BacktestConsumer
from backtests.push import BACKTEST_PROGRESS, owner_group
from trading.consumers import CLOSE_UNAUTHENTICATED

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_anonymous_is_refused():
    communicator = WebsocketCommunicator(BacktestConsumer.as_asgi(), "/ws/backtests/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected and code == CLOSE_UNAUTHENTICATED


async def test_a_person_receives_only_their_own_runs_progress():
    from asgiref.sync import sync_to_async

    create = sync_to_async(get_user_model().objects.create_user)
    alice = await create(username="alice", password="not-used-here-42")
    bob = await create(username="bob", password="not-used-here-42")
    communicator = WebsocketCommunicator(BacktestConsumer.as_asgi(), "/ws/backtests/")
    communicator.scope["user"] = alice
    connected, _ = await communicator.connect()
    assert connected
    layer = get_channel_layer()
    theirs = {"type": BACKTEST_PROGRESS, "backtest_id": 1, "status": "running", "progress": 0.5}
    mine = {"type": BACKTEST_PROGRESS, "backtest_id": 2, "status": "running", "progress": 0.25}
    await layer.group_send(owner_group(bob.pk), {"type": "backtests.message", "event": theirs})
    await layer.group_send(owner_group(alice.pk), {"type": "backtests.message", "event": mine})
    assert await communicator.receive_json_from(timeout=5) == {"kind": "event", "event": mine}
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()
