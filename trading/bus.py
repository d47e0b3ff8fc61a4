"""The event bus: events are persisted first, then published after commit.

Subscribers are in-process handlers (risk stops, strategy generators) and
Channels groups (browsers). Publishing never runs inside the writing
transaction, so nobody sees a change that later rolls back.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], None]
_subscribers: dict[str, list[EventHandler]] = defaultdict(list)

ALL_EVENTS = "*"
OPERATIONS_GROUP = "operations"


def account_group(account_id: int) -> str:
    return f"account-{account_id}"


def subscribe(event_types: Iterable[str], handler: EventHandler) -> Callable[[], None]:
    """Call handler for each published event of these types ("*" for all); returns the unsubscribe."""
    types = list(event_types)
    for event_type in types:
        _subscribers[event_type].append(handler)

    def unsubscribe() -> None:
        for event_type in types:
            _subscribers[event_type].remove(handler)

    return unsubscribe


def publish(message: dict[str, Any]) -> None:
    """Deliver one serialized event to in-process subscribers and Channels groups."""
    for handler in [*_subscribers.get(message["type"], ()), *_subscribers.get(ALL_EVENTS, ())]:
        try:
            handler(message)
        except Exception:
            # One faulty subscriber must not starve the others; the event itself is already stored.
            logger.exception("event subscriber %r failed on %s", handler, message["type"])
    groups = [OPERATIONS_GROUP]
    if message.get("account_id"):
        groups.append(account_group(message["account_id"]))
    group_send_many(groups, {"type": "event.message", "event": message})


def group_send_many(groups: Iterable[str], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    for group in groups:
        try:
            send(group, payload)
        except Exception:
            # Browsers miss a push but the event log keeps the truth; they reload it on reconnect.
            logger.exception("could not push to channel group %s", group)
