"""Broker calls after the lock: cancel and modify are two-phase, like submission.

1. Under the account's lock, the order moves to PENDING_CANCEL or PENDING_MODIFY (with its event)
   and the call to the broker is queued.
2. Once the transaction that decided it is over, no lock held, the call goes to the broker: a slow
   broker never stalls the account's other orders, fills or intake.
3. Under the lock again, the answer is booked: canceled or modified, or the refusal, which returns
   the order to where it was without losing a fill.

A crash between the phases leaves the pending state, which reconciliation settles.

The services that queue calls run inside ``broker_calls_after()``: the outermost block runs what
was queued when it ends, in order, each call on its own (one failing never skips the others); a
call may queue more (a modified protective order makes its position's guards be checked again).
A call queued on a person's behalf (``raises=True``) hands its broker error back to them.
"""

import functools
import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Call:
    run: Callable[[], Any]
    raises: bool
    key: Hashable | None


_local = threading.local()


@contextmanager
def broker_calls_after() -> Iterator[None]:
    """Run the broker calls queued inside this block when it ends (the outermost block runs them)."""
    outermost = getattr(_local, "queue", None) is None
    if outermost:
        _local.queue, _local.next = [], 0
    try:
        yield
        if outermost:
            _run(_local.queue)
    finally:
        if outermost:
            _local.queue = None


def _run(queue: list[_Call]) -> None:
    first_error: BaseException | None = None
    while _local.next < len(queue):  # calls may queue more
        call = queue[_local.next]
        _local.next += 1
        try:
            call.run()
        except Exception as error:
            if call.raises:
                first_error = first_error or error
            else:
                logger.exception("a broker call after the lock failed; reconciliation settles its order")
    if first_error is not None:
        raise first_error


def broker_call_later(run: Callable[[], Any], *, raises: bool = False, key: Hashable | None = None) -> None:
    """Queue a broker call to run once the deciding transaction is over. A call whose key is queued
    already and not yet run is not queued twice. Outside ``broker_calls_after`` it runs on commit."""
    queue = getattr(_local, "queue", None)
    if queue is None:
        transaction.on_commit(run)
        return
    if key is not None and any(call.key == key for call in queue[_local.next :]):
        return
    queue.append(_Call(run, raises, key))


def broker_calls_run(service: Callable[P, R]) -> Callable[P, R]:
    """A service whose work may queue broker calls: they run when it returns, outside its transaction."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with broker_calls_after():
            return service(*args, **kwargs)

    return wrapper
