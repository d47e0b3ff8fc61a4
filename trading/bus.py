"""The event bus: events are persisted first, then published after commit.

Subscribers are in-process handlers (risk stops, strategy generators) and
Channels groups (browsers). Publishing never runs inside the writing
transaction, so nobody sees a change that later rolls back; browser pushes are
batched per group by a background thread.
"""

import logging
import os
import queue
import threading
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
    """Deliver one serialized event to in-process subscribers now, and to Channels groups soon.

    Pushes to browsers go through one background thread per process that sends
    what has gathered in one message per group, so a transaction that wrote ten
    events costs its caller no network round trip.
    """
    for handler in [*_subscribers.get(message["type"], ()), *_subscribers.get(ALL_EVENTS, ())]:
        try:
            handler(message)
        except Exception:
            # One faulty subscriber must not starve the others; the event itself is already stored.
            logger.exception("event subscriber %r failed on %s", handler, message["type"])
    groups = [OPERATIONS_GROUP]
    if message.get("account_id"):
        groups.append(account_group(message["account_id"]))
    _pusher().put((groups, message))


class _Pusher:
    """Drains queued events and sends them to their groups in batches, on its own thread."""

    BATCH = 500

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[list[str], dict[str, Any]]] = queue.SimpleQueue()
        self.pid = os.getpid()
        threading.Thread(target=self._run, name="event-pusher", daemon=True).start()

    def put(self, item: tuple[list[str], dict[str, Any]]) -> None:
        self.queue.put(item)

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for groups, message in batch:
                for group in groups:
                    by_group[group].append(message)
            for group, events in by_group.items():
                group_send_many([group], {"type": "events.message", "events": events})


_pusher_instance: _Pusher | None = None
_pusher_lock = threading.Lock()


def _pusher() -> _Pusher:
    global _pusher_instance
    with _pusher_lock:
        # A forked worker process starts its own thread; the parent's did not come along.
        if _pusher_instance is None or _pusher_instance.pid != os.getpid():
            _pusher_instance = _Pusher()
        return _pusher_instance


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
