"""The backtest pages' live socket: a person's own runs' progress, nothing else."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from backtests.push import owner_group
from trading.consumers import CLOSE_UNAUTHENTICATED, session_group


class BacktestConsumer(AsyncJsonWebsocketConsumer):
    joined: list[str]

    async def connect(self) -> None:
        self.joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = [owner_group(user.pk)]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            groups.append(session_group(session_key))  # logging out closes this socket too
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        return  # push only

    async def backtests_message(self, message: dict[str, Any]) -> None:
        await self.send_json({"kind": "event", "event": message["event"]})

    async def session_ended(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)
