"""Signal intake as a service: how many signals one process validates at once."""

import threading
import time

from strategies import services
from strategies.services import signal_receive


def test_a_process_validates_at_most_signal_intake_concurrency_signals_at_once(settings, monkeypatch):
    """A burst of posts waits in the web process instead of crowding the account's lock queue."""
    settings.SIGNAL_INTAKE_CONCURRENCY = 2
    services._intake_slots.cache_clear()
    inside, most = [0], [0]
    counting = threading.Lock()

    def validate(**kwargs):
        with counting:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        with counting:
            inside[0] -= 1
        return None, True

    monkeypatch.setattr(services, "_signal_receive", validate)
    try:
        threads = [
            threading.Thread(target=signal_receive, kwargs={"producer": None, "strategy": None, "data": None})
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        services._intake_slots.cache_clear()
    assert most[0] == 2
