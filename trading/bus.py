"""The event bus: events are persisted first, then published after commit.

Subscribers are in-process handlers (risk stops, strategy generators) and
Channels groups (browsers). Publishing never runs inside the writing
transaction, so nobody sees a change that later rolls back; browser pushes are
batched per group by a background thread.
"""

import asyncio
import logging
import os
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], None]
_subscribers: dict[str, list[EventHandler]] = defaultdict(list)
# observer(error or None) after each round of the pusher's thread (trading.loops: heartbeat and alerts).
PusherObserver = Callable[[str, BaseException | None], None]
_pusher_observers: list[PusherObserver] = []
# The pusher's thread wakes at least this often, to show it is alive even when nothing is published.
PUSHER_IDLE_SECONDS = 1.0

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
    _pusher().put((groups, message, True))


def pusher_observe(observer: PusherObserver) -> None:
    """Call observer("round", error or None) after each round of the pusher's thread (its heartbeat)."""
    _pusher_observers.append(observer)


def group_push(group: str, payload: dict[str, Any]) -> None:
    """Send one message to a Channels group soon, from the pusher's thread (the caller never waits on Redis)."""
    _pusher().put(([group], payload, False))


class _Pusher:
    """Drains queued pushes and sends them on its own thread: events in one message per group.

    The thread keeps one asyncio loop for its whole life, so the channel layer keeps its
    Redis connections (a loop per send would reconnect every time).
    """

    BATCH = 500

    def __init__(self) -> None:
        # (groups, message, is_event): events are gathered into one message per group, the rest sent as they are.
        self.queue: queue.SimpleQueue[tuple[list[str], dict[str, Any], bool]] = queue.SimpleQueue()
        self.pid = os.getpid()
        threading.Thread(target=self._run, name="event-pusher", daemon=True).start()

    def put(self, item: tuple[list[str], dict[str, Any], bool]) -> None:
        self.queue.put(item)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        while True:
            error: BaseException | None = None
            try:
                self._round(loop)
            except Exception as failure:
                # The thread outlives any one round: a lost push is in the event log, browsers reload it.
                logger.exception("the event pusher failed a round")
                error = failure
            for observer in _pusher_observers:
                try:
                    observer("round", error)
                except Exception:
                    logger.exception("event pusher observer %r failed", observer)

    def _round(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            batch = [self.queue.get(timeout=PUSHER_IDLE_SECONDS)]
        except queue.Empty:
            return
        while len(batch) < self.BATCH:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
        sends: list[tuple[str, dict[str, Any]]] = []
        by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for groups, message, is_event in batch:
            for group in groups:
                if is_event:
                    by_group[group].append(message)
                else:
                    sends.append((group, message))
        sends += [(group, {"type": "events.message", "events": events}) for group, events in by_group.items()]
        loop.run_until_complete(_groups_send(sends))


async def _groups_send(sends: list[tuple[str, dict[str, Any]]]) -> None:
    """Send each push; every group is tried, and the first failure is raised once all were tried."""
    layer = get_channel_layer()
    if layer is None:
        return
    failure: Exception | None = None
    for group, payload in sends:
        try:
            await layer.group_send(group, payload)
        except Exception as error:
            # Browsers miss a push but the event log keeps the truth; they reload it on reconnect.
            logger.warning("could not push to channel group %s: %s", group, error)
            failure = failure or error
    if failure is not None:
        raise failure


_pusher_instance: _Pusher | None = None
_pusher_lock = threading.Lock()


def _pusher() -> _Pusher:
    global _pusher_instance
    with _pusher_lock:
        # A forked worker process starts its own thread; the parent's did not come along.
        if _pusher_instance is None or _pusher_instance.pid != os.getpid():
            _pusher_instance = _Pusher()
        return _pusher_instance
