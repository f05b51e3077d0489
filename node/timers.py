"""Time for the consensus host: the clock it reads and the timers it arms.

The host never calls `time` or `asyncio` timers directly; it gets a `Scheduler`. In a running node
that is `LoopScheduler` (the event loop and the wall clock); in the in-process multi-validator tests
it is `ManualScheduler`, whose time moves only when the test says so, which makes a run of several
validators deterministic and fast.
"""

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

from openledger.node.p2p.clock import FakeClock


class TimerHandle(Protocol):
    """An armed timer."""

    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """A clock and timers."""

    def now(self) -> float:
        """Seconds since the Unix epoch (block timestamps come from here)."""
        ...

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        """Run `callback` after `delay_ms` milliseconds."""
        ...


class LoopScheduler:
    """The wall clock and the running event loop's timers."""

    def now(self) -> float:
        return time.time()

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(delay_ms / 1000, callback)


class _ManualTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Timers on a `FakeClock`: callbacks run when the test advances the clock past them."""

    def __init__(self, clock: FakeClock, epoch_seconds: float = 1_700_000_000.0) -> None:
        self.clock = clock
        self.epoch_seconds = epoch_seconds
        self._timers: list[tuple[int, int, _ManualTimer, Callable[[], None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.epoch_seconds + self.clock.now() / 1000

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        timer = _ManualTimer()
        heapq.heappush(
            self._timers, (self.clock.now() + max(0, delay_ms), next(self._order), timer, callback)
        )
        return timer

    def next_due_ms(self) -> int | None:
        """Fake time of the next live timer, or None."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def fire_due(self) -> int:
        """Run every timer due at the current fake time; returns how many ran."""
        fired = 0
        while self._timers and self._timers[0][0] <= self.clock.now():
            _, _, timer, callback = heapq.heappop(self._timers)
            if not timer.cancelled:
                callback()
                fired += 1
        return fired
